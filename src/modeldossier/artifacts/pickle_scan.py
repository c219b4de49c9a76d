"""Walk pickle opcodes without unpickling: every global, every call, every stream, with bounded memory.

The walker keeps a small symbolic stack (constants, tuples, globals, call results) so that names built
through the memo (PUT/GET/MEMOIZE) and STACK_GLOBAL operands are resolved, and so that joblib's raw array
data (written between pickle opcodes) can be skipped. Files are memory-mapped (the OS pages them in and out),
so a multi-gigabyte pickle costs address space, not RAM. Nothing from the file is ever imported or called.
"""

from __future__ import annotations

import io
import mmap
import pickletools
import shutil
import struct
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import BinaryIO

from modeldossier.artifacts.allowlist import Allowlist, load_allowlist
from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

MAX_LINE = 64 * 1024  # longest text argument we accept (GLOBAL lines, INT, STRING)
KEEP_CONST = 64 * 1024  # longer str/bytes constants are replaced by a placeholder
MAX_EMBEDDED = 64 * 1024 * 1024  # embedded pickles/archives in bytes constants are scanned up to this size
MAX_STACK = 1_000_000
MAX_TRACKED = 10_000  # items kept per list/dict (the rest is counted, not stored)
MAX_STREAMS = 10_000
READ_IN_MEMORY = 256 * 1024 * 1024  # non-file streams up to this size are read into memory, larger ones spooled

EmbeddedHandler = Callable[[bytes, str], list[Finding]]
_U16, _U32, _I32, _U64, _F64 = (struct.Struct(f).unpack_from for f in ("<H", "<I", "<i", "<Q", ">d"))


class _Malformed(Exception):
    """The opcode stream is not a valid pickle at this point."""


class ScanTimeout(Exception):
    """The per-file time limit ran out while walking opcodes."""


class _Unknown:
    """A value the walker cannot know (persistent ids, EXT codes, out-of-band buffers, huge constants)."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


class _Global:
    __slots__ = ("module", "name")

    def __init__(self, module: str, name: str) -> None:
        self.module = module
        self.name = name


class _Call:
    __slots__ = ("func", "args", "state")

    def __init__(self, func: object, args: object) -> None:
        self.func = func
        self.args = args
        self.state: object = None


@dataclass
class _GlobalUse:
    module: str
    name: str
    opcode: str
    offset: int
    index: int
    count: int = 1
    called: bool = False


@dataclass
class PickleResult:
    """What one walk over a pickle file found."""

    findings: list[Finding] = field(default_factory=list)
    streams: int = 0
    opcodes: int = 0
    globals_seen: set[str] = field(default_factory=set)


_UNKNOWN = _Unknown("value not tracked")
_NAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}
_JOBLIB_WRAPPERS = frozenset({"NumpyArrayWrapper"})
_DTYPE_SCALE = {"b": 1, "i": 1, "u": 1, "f": 1, "c": 1, "m": 1, "M": 1, "S": 1, "U": 4, "V": 1}


def _int_line(raw: bytes) -> int | bool:
    text = raw.strip()
    if text == b"00":
        return False
    if text == b"01":
        return True
    if text.endswith(b"L"):
        text = text[:-1]
    if len(text) > 4300:
        raise _Malformed("integer literal too long")
    try:
        return int(text)
    except ValueError:
        raise _Malformed(f"bad integer literal {raw[:40]!r}") from None


def _string_line(raw: bytes) -> str:
    raw = raw.rstrip(b"\r")
    if len(raw) >= 2 and raw[:1] == raw[-1:] and raw[:1] in (b"'", b'"'):
        raw = raw[1:-1]
    else:
        raise _Malformed("STRING argument is not quoted")
    try:
        return raw.decode("unicode_escape", errors="replace")
    except (UnicodeDecodeError, ValueError):
        return raw.decode("latin-1")


def _utf8(raw: bytes) -> str:
    try:
        return bytes(raw).decode("utf-8", errors="surrogatepass")
    except UnicodeDecodeError:
        raise _Malformed("text argument is not valid UTF-8") from None


def _is_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


def _hashable(value: object) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _to_dict(items: list[object]) -> dict:
    out: dict = {}
    for i in range(0, len(items) - 1, 2):
        if len(out) >= MAX_TRACKED:
            break
        if _hashable(items[i]):
            out[items[i]] = items[i + 1]
    return out


class _Walker:
    """One pass over the pickle streams in ``buf[start:end]``."""

    def __init__(self, buf: bytes | mmap.mmap, start: int, end: int, name: str, allowlist: Allowlist,
                 embedded: EmbeddedHandler | None, depth: int, deadline: float | None = None,
                 safe_prefixes: tuple[str, ...] = (), result: PickleResult | None = None) -> None:
        self.buf = buf
        self.pos = start
        self.end = end
        self.name = name
        self.allow = allowlist
        self.embedded = embedded
        self.depth = depth
        self.deadline = deadline
        self.safe_prefixes = safe_prefixes
        self.result = result if result is not None else PickleResult()
        self.last_error = ""
        self.last_status = ""

    # --- argument readers ----------------------------------------------------------------------------------------
    def take(self, n: int) -> bytes:
        pos = self.pos
        if n < 0 or pos + n > self.end:
            raise _Malformed(f"argument of {n} bytes runs past the end of the data")
        self.pos = pos + n
        return self.buf[pos:pos + n]

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.end:
            raise _Malformed(f"{n} bytes to skip run past the end of the data")
        self.pos += n

    def readline(self) -> bytes:
        pos = self.pos
        stop = self.buf.find(b"\n", pos, min(self.end, pos + MAX_LINE + 1))
        if stop < 0:
            raise _Malformed("unterminated text argument" if self.end - pos <= MAX_LINE
                             else f"text argument longer than {MAX_LINE} bytes")
        self.pos = stop + 1
        return self.buf[pos:stop]

    def blob(self, n: int, *, text: bool) -> object:
        """A str/bytes argument of n bytes: kept when small, scanned when it holds an embedded artifact."""
        if n < 0 or self.pos + n > self.end:
            raise _Malformed(f"argument of {n} bytes runs past the end of the data")
        start = self.pos
        self.pos += n
        if text:
            if n > KEEP_CONST:
                return _Unknown("long text")
            return _utf8(self.buf[start:start + n])
        if self.embedded is not None and n >= 8 and n <= MAX_EMBEDDED:
            head = self.buf[start:start + 6]
            if (head[:1] == b"\x80" and 2 <= head[1] <= 5) or head[:4] == b"PK\x03\x04" or head == b"\x93NUMPY":
                raw = bytes(self.buf[start:start + n])
                where = f"{self.name} @ bytes constant at offset {start}"
                self.result.findings.extend(self.embedded(raw, where))
        if n > KEEP_CONST:
            return _Unknown(f"{n}-byte constant")
        return bytes(self.buf[start:start + n])

    # --- findings ------------------------------------------------------------------------------------------------
    def finding(self, rule: str, severity: Severity, message: str, location: str, evidence: str | None) -> None:
        self.result.findings.append(
            Finding(rule_id=rule, severity=severity, message=message, file=self.name, location=location,
                    evidence=evidence)
        )

    # --- the walk ------------------------------------------------------------------------------------------------
    def run(self, *, max_streams: int = MAX_STREAMS) -> PickleResult:
        while self.pos < self.end and self.result.streams < max_streams:
            start = self.pos
            try:
                status = self.walk_stream(stream_no=self.result.streams)
            except ScanTimeout as exc:
                self.finding("scan.timeout", Severity.MEDIUM, f"scan stopped at the time limit: {exc}; the rest of "
                             "this file was not checked", f"offset {self.pos}", None)
                break
            if status == "trailing":
                self.result.streams -= 1
                self.finding("pickle.trailing_data", Severity.INFO,
                             f"{self.end - start} bytes after the last pickle stream are not pickle data "
                             "(a loader stops before them)", f"offset {start}", None)
                break
            if status != "ok":
                break
        return self.result

    def walk_stream(self, stream_no: int) -> str:  # noqa: C901 - one flat dispatch loop is the fast path
        """Walk one stream; 'ok' after STOP, 'trailing' when it is not a pickle at all, 'error' when malformed."""
        buf, end = self.buf, self.end
        pos = self.pos
        uses: dict[tuple[str, str], _GlobalUse] = {}
        table: list[_GlobalUse] = []
        stack: list[object] = []
        push = stack.append
        marks: list[int] = []
        floor = 0
        memo: dict[object, object] = {}
        index = 0
        op = 0
        op_offset = pos
        tag = f"stream {stream_no} " if stream_no else ""
        self.result.streams += 1
        deadline = self.deadline

        def where() -> str:
            return f"{tag}offset {op_offset} / opcode #{index}"

        def note_global(module: object, name: object, opname: str) -> object:
            if not isinstance(module, str) or not isinstance(name, str):
                self.finding("pickle.global.unresolved", Severity.HIGH,
                             f"{opname} takes its module/name from values the scanner cannot resolve statically",
                             where(), f"{opname} {type(module).__name__}.{type(name).__name__}")
                return _Unknown("unresolved global")
            key = (module, name)
            use = uses.get(key)
            if use is None:
                use = uses[key] = _GlobalUse(module, name, opname, op_offset, index)
                table.append(use)
                self.result.globals_seen.add(f"{module}.{name}")
            else:
                use.count += 1
            return _Global(module, name)

        def called(func: object) -> None:
            if isinstance(func, _Global):
                uses[(func.module, func.name)].called = True
            elif isinstance(func, _Call | _Unknown):
                self.finding("pickle.call.indirect", Severity.HIGH,
                             "calls a value that is itself the result of a call or unknown (attribute walk)",
                             where(), _NAMES.get(op, "?"))

        def underflow() -> _Malformed:
            return _Malformed(f"{_NAMES.get(op, '?')} on an empty stack")

        try:
            while True:
                if pos >= end:
                    if index == 0:
                        return "trailing"
                    raise _Malformed("no STOP opcode before the end of the data")
                op_offset = pos
                op = buf[pos]
                pos += 1
                index += 1
                if not index & 0xFFFF:
                    if len(stack) > MAX_STACK:
                        raise _Malformed(f"stack deeper than {MAX_STACK} items")
                    if deadline is not None and time.monotonic() > deadline:
                        self.pos = pos
                        self.report_uses(table, tag)
                        raise ScanTimeout(f"time limit reached after {index} opcodes")
                # ---- hot path: fixed-width arguments and stack shuffles
                if op == 0x71:  # BINPUT
                    if pos >= end:
                        raise _Malformed("argument runs past the end of the data")
                    if len(stack) <= floor:
                        raise underflow()
                    memo[buf[pos]] = stack[-1]
                    pos += 1
                elif op == 0x94:  # MEMOIZE
                    if len(stack) <= floor:
                        raise underflow()
                    memo[len(memo)] = stack[-1]
                elif op == 0x68:  # BINGET
                    if pos >= end:
                        raise _Malformed("argument runs past the end of the data")
                    key = buf[pos]
                    pos += 1
                    if key not in memo:
                        raise _Malformed(f"memo key {key} was never stored")
                    push(memo[key])
                elif op == 0x8C:  # SHORT_BINUNICODE
                    if pos >= end:
                        raise _Malformed("argument runs past the end of the data")
                    n = buf[pos]
                    if pos + 1 + n > end:
                        raise _Malformed(f"argument of {n} bytes runs past the end of the data")
                    push(_utf8(buf[pos + 1:pos + 1 + n]))
                    pos += 1 + n
                elif op == 0x4B:  # BININT1
                    if pos >= end:
                        raise _Malformed("argument runs past the end of the data")
                    push(buf[pos])
                    pos += 1
                elif op == 0x28:  # MARK
                    marks.append(len(stack))
                    floor = len(stack)
                elif op == 0x85:  # TUPLE1
                    if len(stack) <= floor:
                        raise underflow()
                    stack[-1] = (stack[-1],)
                elif op == 0x86:  # TUPLE2
                    if len(stack) < floor + 2:
                        raise underflow()
                    b = stack.pop()
                    stack[-1] = (stack[-1], b)
                elif op == 0x87:  # TUPLE3
                    if len(stack) < floor + 3:
                        raise underflow()
                    c3 = stack.pop()
                    b = stack.pop()
                    stack[-1] = (stack[-1], b, c3)
                elif op == 0x29:  # EMPTY_TUPLE
                    push(())
                elif op in (0x52, 0x81):  # REDUCE / NEWOBJ
                    if len(stack) < floor + 2:
                        raise underflow()
                    args = stack.pop()
                    func = stack[-1]
                    called(func)
                    stack[-1] = _Call(func, args)
                elif op == 0x51:  # BINPERSID
                    if len(stack) <= floor:
                        raise underflow()
                    stack[-1] = _Unknown("persistent id")
                elif op == 0x93:  # STACK_GLOBAL
                    if len(stack) < floor + 2:
                        raise underflow()
                    name = stack.pop()
                    stack[-1] = note_global(stack[-1], name, "STACK_GLOBAL")
                elif op == 0x75:  # SETITEMS
                    if not marks:
                        raise _Malformed("SETITEMS without MARK")
                    at = marks.pop()
                    floor = marks[-1] if marks else 0
                    items = stack[at:]
                    del stack[at:]
                    if len(items) % 2:
                        raise _Malformed("SETITEMS with an odd number of items")
                    if len(stack) <= floor:
                        raise underflow()
                    target = stack[-1]
                    if isinstance(target, dict) and len(target) < MAX_TRACKED:
                        target.update(_to_dict(items))
                elif op == 0x65:  # APPENDS
                    if not marks:
                        raise _Malformed("APPENDS without MARK")
                    at = marks.pop()
                    floor = marks[-1] if marks else 0
                    items = stack[at:]
                    del stack[at:]
                    if len(stack) <= floor:
                        raise underflow()
                    target = stack[-1]
                    if isinstance(target, list) and len(target) < MAX_TRACKED:
                        target.extend(items[: MAX_TRACKED - len(target)])
                elif op == 0x74 or op == 0x6C:  # TUPLE / LIST
                    if not marks:
                        raise _Malformed(f"{_NAMES[op]} without MARK")
                    at = marks.pop()
                    floor = marks[-1] if marks else 0
                    items = stack[at:]
                    del stack[at:]
                    push(tuple(items) if op == 0x74 else items[:MAX_TRACKED])
                elif op == 0x89:  # NEWFALSE
                    push(False)
                elif op == 0x88:  # NEWTRUE
                    push(True)
                elif op == 0x4E:  # NONE
                    push(None)
                elif op == 0x7D:  # EMPTY_DICT
                    push({})
                elif op == 0x5D:  # EMPTY_LIST
                    push([])
                elif op == 0x4A:  # BININT
                    if pos + 4 > end:
                        raise _Malformed("argument runs past the end of the data")
                    push(_I32(buf, pos)[0])
                    pos += 4
                elif op == 0x4D:  # BININT2
                    if pos + 2 > end:
                        raise _Malformed("argument runs past the end of the data")
                    push(_U16(buf, pos)[0])
                    pos += 2
                elif op == 0x72:  # LONG_BINPUT
                    if pos + 4 > end:
                        raise _Malformed("argument runs past the end of the data")
                    if len(stack) <= floor:
                        raise underflow()
                    memo[_U32(buf, pos)[0]] = stack[-1]
                    pos += 4
                elif op == 0x6A:  # LONG_BINGET
                    if pos + 4 > end:
                        raise _Malformed("argument runs past the end of the data")
                    key = _U32(buf, pos)[0]
                    pos += 4
                    if key not in memo:
                        raise _Malformed(f"memo key {key} was never stored")
                    push(memo[key])
                elif op == 0x47:  # BINFLOAT
                    if pos + 8 > end:
                        raise _Malformed("argument runs past the end of the data")
                    push(_F64(buf, pos)[0])
                    pos += 8
                elif op == 0x62:  # BUILD
                    if len(stack) < floor + 2:
                        raise underflow()
                    state = stack.pop()
                    obj = stack[-1]
                    if isinstance(obj, _Call):
                        obj.state = state
                        if isinstance(obj.func, _Global):
                            uses[(obj.func.module, obj.func.name)].called = True
                            if obj.func.name in _JOBLIB_WRAPPERS:
                                self.pos = pos
                                self.joblib_array(state)
                                pos = self.pos
                    elif isinstance(obj, _Global):
                        uses[(obj.module, obj.name)].called = True
                elif op == 0x2E:  # STOP
                    if len(stack) <= floor:
                        raise underflow()
                    break
                elif op == 0x95:  # FRAME
                    if pos + 8 > end:
                        raise _Malformed("argument runs past the end of the data")
                    length = _U64(buf, pos)[0]
                    pos += 8
                    if length > end - pos:
                        raise _Malformed(f"FRAME of {length} bytes runs past the end of the data")
                elif op == 0x80:  # PROTO
                    if pos >= end:
                        raise _Malformed("argument runs past the end of the data")
                    if buf[pos] > 5:
                        raise _Malformed(f"unsupported pickle protocol {buf[pos]}")
                    pos += 1
                # ---- cold path
                else:
                    self.pos = pos
                    floor = self.cold(op, stack, marks, memo, floor, note_global, called, underflow, where)
                    pos = self.pos
        except _Malformed as exc:
            self.pos = pos
            self.last_error = str(exc)
            self.report_uses(table, tag)
            self.result.opcodes += index
            if index <= 1 and stream_no > 0:
                return "trailing"
            self.finding("pickle.malformed", Severity.MEDIUM,
                         f"invalid pickle data: {exc}; anything after this point is never unpickled, anything "
                         "before it may have run", where(), _NAMES.get(op, f"0x{op:02x}"))
            return "error"
        self.pos = pos
        self.result.opcodes += index
        self.report_uses(table, tag)
        return "ok"

    def cold(self, op: int, stack: list, marks: list, memo: dict, floor: int, note_global, called, underflow,
             where) -> int:
        """Rarer opcodes; returns the (possibly changed) mark floor."""
        push = stack.append
        if op in (0x63, 0x69):  # GLOBAL / INST
            module = bytes(self.readline()).decode("utf-8", "replace")
            name = bytes(self.readline()).decode("utf-8", "replace")
            if not _is_name(module) or not _is_name(name):
                raise _Malformed(f"{_NAMES[op]} names {module[:60]!r} {name[:60]!r} are not identifiers")
            ref = note_global(module, name, _NAMES[op])
            if op == 0x63:
                push(ref)
            else:
                if not marks:
                    raise _Malformed("INST without MARK")
                at = marks.pop()
                args = tuple(stack[at:])
                del stack[at:]
                called(ref)
                push(_Call(ref, args))
                floor = marks[-1] if marks else 0
        elif op == 0x6F:  # OBJ
            if not marks:
                raise _Malformed("OBJ without MARK")
            at = marks.pop()
            items = stack[at:]
            del stack[at:]
            floor = marks[-1] if marks else 0
            if not items:
                raise _Malformed("OBJ without a class")
            called(items[0])
            push(_Call(items[0], tuple(items[1:])))
        elif op == 0x92:  # NEWOBJ_EX
            if len(stack) < floor + 3:
                raise underflow()
            stack.pop()
            args = stack.pop()
            cls = stack[-1]
            called(cls)
            stack[-1] = _Call(cls, args)
        elif op in (0x82, 0x83, 0x84):  # EXT1/2/4
            width = {0x82: 1, 0x83: 2, 0x84: 4}[op]
            ext = int.from_bytes(self.take(width), "little")
            self.finding("pickle.opcode.ext", Severity.HIGH,
                         f"{_NAMES[op]} loads a global through the copyreg extension registry (code {ext}); "
                         "the target depends on the loading process and cannot be checked", where(),
                         f"{_NAMES[op]} {ext}")
            push(_Unknown(f"extension {ext}"))
        elif op == 0x58:  # BINUNICODE
            push(self.blob(_U32(self.take(4), 0)[0], text=True))
        elif op == 0x8D:  # BINUNICODE8
            push(self.blob(_U64(self.take(8), 0)[0], text=True))
        elif op == 0x43:  # SHORT_BINBYTES
            push(self.blob(self.take(1)[0], text=False))
        elif op == 0x42:  # BINBYTES
            push(self.blob(_U32(self.take(4), 0)[0], text=False))
        elif op in (0x8E, 0x96):  # BINBYTES8 / BYTEARRAY8
            push(self.blob(_U64(self.take(8), 0)[0], text=False))
        elif op in (0x55, 0x54):  # SHORT_BINSTRING / BINSTRING
            n = self.take(1)[0] if op == 0x55 else _I32(self.take(4), 0)[0]
            raw = self.blob(n, text=False)
            push(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        elif op == 0x8A:  # LONG1
            n = self.take(1)[0]
            push(int.from_bytes(self.take(n), "little", signed=True))
        elif op == 0x8B:  # LONG4
            n = _I32(self.take(4), 0)[0]
            if n > 4096:
                self.skip(n)
                push(_Unknown("huge integer"))
            else:
                push(int.from_bytes(self.take(n), "little", signed=True))
        elif op in (0x49, 0x4C):  # INT / LONG
            push(_int_line(bytes(self.readline())))
        elif op == 0x46:  # FLOAT
            line = bytes(self.readline())
            try:
                push(float(line))
            except ValueError:
                raise _Malformed(f"bad float literal {line[:40]!r}") from None
        elif op == 0x53:  # STRING
            push(_string_line(bytes(self.readline())))
        elif op == 0x56:  # UNICODE
            push(bytes(self.readline()).decode("raw_unicode_escape", errors="replace"))
        elif op == 0x70:  # PUT
            key = _int_line(bytes(self.readline()))
            if len(stack) <= floor:
                raise underflow()
            memo[key] = stack[-1]
        elif op == 0x67:  # GET
            key = _int_line(bytes(self.readline()))
            if key not in memo:
                raise _Malformed(f"memo key {key} was never stored")
            push(memo[key])
        elif op == 0x50:  # PERSID
            self.readline()
            push(_Unknown("persistent id"))
        elif op == 0x64:  # DICT
            if not marks:
                raise _Malformed("DICT without MARK")
            at = marks.pop()
            items = stack[at:]
            del stack[at:]
            floor = marks[-1] if marks else 0
            push(_to_dict(items))
        elif op == 0x61:  # APPEND
            if len(stack) < floor + 2:
                raise underflow()
            item = stack.pop()
            if isinstance(stack[-1], list) and len(stack[-1]) < MAX_TRACKED:
                stack[-1].append(item)
        elif op == 0x73:  # SETITEM
            if len(stack) < floor + 3:
                raise underflow()
            value = stack.pop()
            key = stack.pop()
            target = stack[-1]
            if isinstance(target, dict) and len(target) < MAX_TRACKED and _hashable(key):
                target[key] = value
        elif op == 0x8F:  # EMPTY_SET
            push(set())
        elif op in (0x90, 0x91):  # ADDITEMS / FROZENSET
            if not marks:
                raise _Malformed(f"{_NAMES[op]} without MARK")
            at = marks.pop()
            del stack[at:]
            floor = marks[-1] if marks else 0
            if op == 0x91:
                push(_UNKNOWN)
            elif len(stack) <= floor:
                raise underflow()
        elif op == 0x30:  # POP
            if marks and len(stack) == marks[-1]:
                marks.pop()
                floor = marks[-1] if marks else 0
            elif len(stack) <= floor:
                raise underflow()
            else:
                stack.pop()
        elif op == 0x31:  # POP_MARK
            if not marks:
                raise _Malformed("POP_MARK without MARK")
            del stack[marks.pop():]
            floor = marks[-1] if marks else 0
        elif op == 0x32:  # DUP
            if len(stack) <= floor:
                raise underflow()
            push(stack[-1])
        elif op == 0x97:  # NEXT_BUFFER
            push(_Unknown("out-of-band buffer"))
        elif op == 0x98:  # READONLY_BUFFER
            if len(stack) <= floor:
                raise underflow()
        else:
            raise _Malformed(f"unknown opcode 0x{op:02x}")
        return floor

    def joblib_array(self, state: object) -> None:
        """Skip the raw array bytes joblib writes right after a NumpyArrayWrapper; walk nested object pickles."""
        if not isinstance(state, dict):
            raise _Malformed("joblib array wrapper without a readable state")
        kind, itemsize = _dtype_size(state.get("dtype"))
        shape = state.get("shape")
        if kind == "object":
            sub = _Walker(self.buf, self.pos, self.end, self.name, self.allow, self.embedded, self.depth + 1,
                          deadline=self.deadline, safe_prefixes=self.safe_prefixes, result=self.result)
            sub.walk_stream(stream_no=self.result.streams)
            self.pos = sub.pos
            return
        if itemsize is None or not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _Malformed("joblib array wrapper with a dtype/shape the scanner cannot size")
        count = 1
        for d in shape:
            count *= d
        if state.get("numpy_array_alignment_bytes") is not None:  # joblib >= 1.2 pads to an alignment
            self.skip(self.take(1)[0])
        self.skip(count * itemsize)

    def report_uses(self, table: list[_GlobalUse], tag: str) -> None:
        for use in table:
            verdict, why = self.allow.classify(use.module, use.name)
            if verdict == "unknown" and self.safe_prefixes and use.module.startswith(self.safe_prefixes):
                continue
            where = f"{tag}offset {use.offset} / opcode #{use.index}"
            evidence = f"{use.opcode} {use.module}.{use.name}" + (f" (x{use.count})" if use.count > 1 else "")
            if verdict == "dangerous":
                self.finding("pickle.global.dangerous", Severity.CRITICAL,
                             f"imports {use.module}.{use.name} ({why}); loading this file can run code",
                             where, evidence)
            elif verdict == "unknown":
                sev = Severity.HIGH if use.called else Severity.MEDIUM
                what = "calls" if use.called else "imports"
                self.finding("pickle.global.unknown", sev,
                             f"{what} {use.module}.{use.name}, which is not on the allowlist of data-only globals",
                             where, evidence)


def _dtype_size(dtype: object) -> tuple[str, int | None]:
    """('object'|'plain', itemsize) from a symbolic numpy.dtype(...) call."""
    if not isinstance(dtype, _Call) or not isinstance(dtype.func, _Global) or dtype.func.name != "dtype":
        return "plain", None
    args = dtype.args if isinstance(dtype.args, tuple) else ()
    spec = args[0] if args else None
    if not isinstance(spec, str) or not spec:
        return "plain", None
    spec = spec.lstrip("<>|=")
    kind, digits = spec[:1], spec[1:]
    if kind == "O":
        return "object", None
    state = dtype.state
    if kind == "V" and isinstance(state, tuple) and len(state) > 5 and isinstance(state[5], int) and state[5] > 0:
        return "plain", state[5]
    if not digits.isdigit() or kind not in _DTYPE_SCALE:
        return "plain", None
    return "plain", int(digits) * _DTYPE_SCALE[kind]


class _Buffer:
    """The bytes of a stream region as something indexable: the stream's own bytes, a memory map, or a spool."""

    def __init__(self, stream: BinaryIO, size: int) -> None:
        self.map: mmap.mmap | None = None
        self.spool = None
        self.start = 0
        if isinstance(stream, io.BytesIO):
            self.start = stream.tell()
            self.data: bytes | mmap.mmap = stream.getvalue()
            self.end = min(len(self.data), self.start + size)
            return
        try:
            fileno = stream.fileno()
            self.start = stream.tell()
            self.map = mmap.mmap(fileno, 0, access=mmap.ACCESS_READ)
            self.data = self.map
            self.end = min(len(self.map), self.start + size)
            return
        except (OSError, AttributeError, ValueError, io.UnsupportedOperation):
            pass
        if size <= READ_IN_MEMORY:
            self.data = stream.read(size)
        else:
            self.spool = tempfile.TemporaryFile()  # noqa: SIM115 - closed in close()
            shutil.copyfileobj(stream, self.spool, 1 << 20)
            self.spool.flush()
            self.map = mmap.mmap(self.spool.fileno(), 0, access=mmap.ACCESS_READ)
            self.data = self.map
        self.end = len(self.data)

    def close(self) -> None:
        if self.map is not None:
            self.map.close()
        if self.spool is not None:
            self.spool.close()


def scan_pickle(stream: BinaryIO, name: str, size: int, *, allowlist: Allowlist | None = None,
                embedded: EmbeddedHandler | None = None, max_streams: int = MAX_STREAMS,
                depth: int = 0, deadline: float | None = None,
                safe_prefixes: tuple[str, ...] = ()) -> PickleResult:
    """Walk every pickle stream in the next ``size`` bytes of ``stream`` and classify their globals.

    ``embedded`` is called with bytes constants that look like pickles, zips or .npy files, so the caller can
    scan them too. Offsets in findings are positions in the underlying file. Never unpickles anything.
    """
    if size <= 0:
        return PickleResult()
    buffer = _Buffer(stream, size)
    try:
        walker = _Walker(buffer.data, buffer.start, buffer.end, name, allowlist or load_allowlist(), embedded,
                         depth, deadline=deadline, safe_prefixes=safe_prefixes)
        return walker.run(max_streams=max_streams)
    finally:
        buffer.close()


def probe_pickle(head: bytes, *, truncated: bool = False) -> bool:
    """True when ``head`` parses as a pickle up to STOP, or names a global before failing, or (when
    ``truncated``) runs to the end without error."""
    walker = _Walker(head, 0, len(head), "probe", load_allowlist(), None, 0)
    status = walker.walk_stream(stream_no=0)
    if status == "ok" or walker.result.globals_seen:
        return True
    ended = "end of the data" in walker.last_error or walker.last_error.startswith("unterminated")
    return truncated and ended and walker.result.opcodes >= 4


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """The checker protocol: findings for a plain pickle file."""
    return scan_pickle(stream, name, size).findings
