"""Walk pickle opcodes without unpickling: every global, every call, every stream, with bounded memory.

The walker keeps a small symbolic stack (constants, tuples, globals, call results) so that names built
through the memo (PUT/GET/MEMOIZE) and STACK_GLOBAL operands are resolved, and so that joblib's raw array
data (written between pickle opcodes) can be skipped. Nothing from the file is ever imported or called.
"""

from __future__ import annotations

import io
import struct
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

EmbeddedHandler = Callable[[bytes, str], list[Finding]]


class _Malformed(Exception):
    """The opcode stream is not a valid pickle at this point."""


class ScanTimeout(Exception):
    """The per-file time limit ran out while walking opcodes."""


class _Unknown:
    """A value the walker cannot know (persistent ids, EXT codes, out-of-band buffers, huge constants)."""

    __slots__ = ("why",)

    def __init__(self, why: str) -> None:
        self.why = why


@dataclass(eq=False)
class _Global:
    module: str
    name: str


@dataclass(eq=False)
class _Call:
    func: object
    args: object
    state: object = None


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


def _int_line(raw: bytes) -> int | bool:
    text = raw.strip()
    if text == b"00":
        return False
    if text == b"01":
        return True
    if text.endswith(b"L"):
        text = text[:-1]
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


def _is_name(text: str) -> bool:
    return bool(text) and all(part.isidentifier() for part in text.split("."))


class _Walker:
    """One pass over the pickle streams of one file."""

    def __init__(self, stream: BinaryIO, size: int, name: str, allowlist: Allowlist,
                 embedded: EmbeddedHandler | None, depth: int, base_offset: int = 0,
                 deadline: float | None = None, safe_prefixes: tuple[str, ...] = ()) -> None:
        self.f = stream
        self.size = size
        self.name = name
        self.allow = allowlist
        self.embedded = embedded
        self.depth = depth
        self.pos = 0
        self.base = base_offset
        self.result = PickleResult()
        self.memo: dict[object, object] = {}
        self.last_error = ""
        self.deadline = deadline
        self.safe_prefixes = safe_prefixes

    # --- low-level reads, all bounded by the declared size ---------------------------------------------------
    def read(self, n: int) -> bytes:
        if n < 0 or self.pos + n > self.size:
            raise _Malformed(f"argument of {n} bytes runs past the end of the data")
        data = self.f.read(n)
        if len(data) != n:
            raise _Malformed("unexpected end of data")
        self.pos += n
        return data

    def skip(self, n: int) -> None:
        if n < 0 or self.pos + n > self.size:
            raise _Malformed(f"argument of {n} bytes runs past the end of the data")
        try:
            self.f.seek(n, 1)
        except (OSError, ValueError):
            left = n
            while left:
                chunk = self.f.read(min(left, 1 << 20))
                if not chunk:
                    raise _Malformed("unexpected end of data") from None
                left -= len(chunk)
        self.pos += n

    def readline(self) -> bytes:
        line = self.f.readline(MAX_LINE + 1)
        self.pos += len(line)
        if self.pos > self.size:
            raise _Malformed("text argument runs past the end of the data")
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE:
                raise _Malformed(f"text argument longer than {MAX_LINE} bytes")
            raise _Malformed("unterminated text argument")
        return line[:-1]

    def counted(self, fmt: str, width: int) -> int:
        return struct.unpack(fmt, self.read(width))[0]

    def blob(self, n: int, *, text: bool) -> object:
        """A str/bytes argument of n bytes: kept when small, scanned when it holds an embedded artifact."""
        if n <= KEEP_CONST or self.embedded is not None and not text and n <= MAX_EMBEDDED:
            raw = self.read(n)
        else:
            self.skip(n)
            return _Unknown(f"{n}-byte constant")
        if text:
            return raw.decode("utf-8", errors="surrogatepass") if n <= KEEP_CONST else _Unknown("long text")
        if self.embedded is not None and len(raw) >= 8:
            self._check_embedded(raw)
        return raw if n <= KEEP_CONST else _Unknown(f"{n}-byte constant")

    def _check_embedded(self, raw: bytes) -> None:
        head = raw[:4]
        looks = (head[:1] == b"\x80" and 2 <= head[1] <= 5) or head == b"PK\x03\x04" or head[:6] == b"\x93NUMPY"
        if looks and self.embedded is not None:
            where = f"{self.name} @ bytes constant at offset {self.base + self.pos - len(raw)}"
            self.result.findings.extend(self.embedded(raw, where))

    # --- findings --------------------------------------------------------------------------------------------
    def finding(self, rule: str, severity: Severity, message: str, location: str, evidence: str | None) -> None:
        self.result.findings.append(
            Finding(rule_id=rule, severity=severity, message=message, file=self.name, location=location,
                    evidence=evidence)
        )

    # --- the walk --------------------------------------------------------------------------------------------
    def run(self, *, max_streams: int = MAX_STREAMS) -> PickleResult:
        while self.pos < self.size and self.result.streams < max_streams:
            start = self.pos
            try:
                status = self.walk_stream(stream_no=self.result.streams)
            except ScanTimeout as exc:
                self.finding("scan.timeout", Severity.MEDIUM, f"scan stopped at the time limit: {exc}; the rest of "
                             "this file was not checked", f"offset {self.base + self.pos}", None)
                break
            if status == "trailing":
                left = self.size - start
                self.finding("pickle.trailing_data", Severity.INFO,
                             f"{left} bytes after the last pickle stream are not pickle data (never unpickled)",
                             f"offset {self.base + start}", None)
                break
            if status != "ok":
                break
        return self.result

    def walk_stream(self, stream_no: int) -> str:
        """Walk one stream; 'ok' after STOP, 'trailing' when it is not a pickle at all, 'error' when malformed."""
        start = self.pos
        uses: dict[tuple[str, str], _GlobalUse] = {}
        table: list[_GlobalUse] = []
        stack: list[object] = []
        marks: list[int] = []
        self.memo = memo = {}
        index = 0
        opcode_name = "?"
        op_offset = start
        self.result.streams += 1
        tag = f"stream {stream_no} " if stream_no else ""

        def note_global(module: object, name: object, op: str) -> _Global | _Unknown:
            if not isinstance(module, str) or not isinstance(name, str):
                self.finding("pickle.global.unresolved", Severity.HIGH,
                             f"{op} takes its module/name from values the scanner cannot resolve statically",
                             f"{tag}offset {self.base + op_offset} / opcode #{index}",
                             f"{op} {type(module).__name__}.{type(name).__name__}")
                return _Unknown("unresolved global")
            key = (module, name)
            use = uses.get(key)
            if use is None:
                use = _GlobalUse(module, name, op, self.base + op_offset, index)
                uses[key] = use
                table.append(use)
                self.result.globals_seen.add(f"{module}.{name}")
            else:
                use.count += 1
            return _Global(module, name)

        def mark_called(func: object) -> None:
            if isinstance(func, _Global):
                uses[(func.module, func.name)].called = True
            elif isinstance(func, _Call | _Unknown):
                self.finding("pickle.call.indirect", Severity.HIGH,
                             "calls a value that is itself the result of a call or unknown (attribute walk)",
                             f"{tag}offset {self.base + op_offset} / opcode #{index}", f"{opcode_name}")

        def pop() -> object:
            if not stack or (marks and len(stack) <= marks[-1]):
                raise _Malformed(f"{opcode_name} on an empty stack")
            return stack.pop()

        def pop_mark() -> list[object]:
            if not marks:
                raise _Malformed(f"{opcode_name} without MARK")
            at = marks.pop()
            items = stack[at:]
            del stack[at:]
            return items

        def top() -> object:
            if not stack or (marks and len(stack) <= marks[-1]):
                raise _Malformed(f"{opcode_name} on an empty stack")
            return stack[-1]

        try:
            while True:
                op_offset = self.pos
                code = self.f.read(1)
                if not code:
                    if index == 0:
                        return "trailing"
                    raise _Malformed("no STOP opcode before the end of the data")
                self.pos += 1
                if self.pos > self.size:
                    raise _Malformed("no STOP opcode before the end of the data")
                c = code[0]
                opcode_name = _NAMES.get(c, f"0x{c:02x}")
                if c == 0x2E:  # STOP .
                    pop()
                    break
                if not index & 0xFFFF:
                    if len(stack) > MAX_STACK:
                        raise _Malformed(f"stack deeper than {MAX_STACK} items")
                    if self.deadline is not None and time.monotonic() > self.deadline:
                        self.report_uses(table, tag)
                        raise ScanTimeout(f"{self.name}: time limit reached after {index} opcodes")
                index += 1
                if c in _SIMPLE:
                    self.simple(c, stack, marks, memo, pop, pop_mark, top)
                elif c == 0x63 or c == 0x69:  # GLOBAL c / INST i
                    module = self.readline().decode("utf-8", "replace")
                    name = self.readline().decode("utf-8", "replace")
                    if not _is_name(module) or not _is_name(name):
                        raise _Malformed(f"{opcode_name} names {module[:60]!r} {name[:60]!r} are not identifiers")
                    ref = note_global(module, name, opcode_name)
                    if c == 0x63:
                        stack.append(ref)
                    else:
                        args = pop_mark()
                        mark_called(ref)
                        stack.append(_Call(ref, tuple(args)))
                elif c == 0x93:  # STACK_GLOBAL
                    name = pop()
                    module = pop()
                    stack.append(note_global(module, name, "STACK_GLOBAL"))
                elif c == 0x52:  # REDUCE R
                    args = pop()
                    func = pop()
                    mark_called(func)
                    stack.append(_Call(func, args))
                elif c == 0x81:  # NEWOBJ
                    args = pop()
                    cls = pop()
                    mark_called(cls)
                    stack.append(_Call(cls, args))
                elif c == 0x92:  # NEWOBJ_EX
                    pop()
                    args = pop()
                    cls = pop()
                    mark_called(cls)
                    stack.append(_Call(cls, args))
                elif c == 0x6F:  # OBJ o
                    items = pop_mark()
                    if not items:
                        raise _Malformed("OBJ without a class")
                    mark_called(items[0])
                    stack.append(_Call(items[0], tuple(items[1:])))
                elif c == 0x62:  # BUILD b
                    state = pop()
                    obj = top()
                    if isinstance(obj, _Call):
                        obj.state = state
                        if isinstance(obj.func, _Global):
                            uses[(obj.func.module, obj.func.name)].called = True
                            if obj.func.name in _JOBLIB_WRAPPERS:
                                self.joblib_array(state, stream_no)
                    elif isinstance(obj, _Global):
                        uses[(obj.module, obj.name)].called = True
                elif c in (0x82, 0x83, 0x84):  # EXT1/2/4
                    width = {0x82: 1, 0x83: 2, 0x84: 4}[c]
                    ext = int.from_bytes(self.read(width), "little")
                    self.finding("pickle.opcode.ext", Severity.HIGH,
                                 f"{opcode_name} loads a global through the copyreg extension registry (code {ext}); "
                                 "the target depends on the loading process and cannot be checked",
                                 f"{tag}offset {self.base + op_offset} / opcode #{index}", f"{opcode_name} {ext}")
                    stack.append(_Unknown(f"extension {ext}"))
                else:
                    self.argument_op(c, stack)
        except _Malformed as exc:
            self.last_error = str(exc)
            self.report_uses(table, tag)
            if index <= 1 and stream_no > 0:
                return "trailing"
            self.finding("pickle.malformed", Severity.MEDIUM,
                         f"invalid pickle data: {exc}; anything after this point is never unpickled, anything "
                         "before it may have run", f"{tag}offset {self.base + op_offset} / opcode #{index}",
                         opcode_name)
            self.result.opcodes += index
            return "error"
        self.result.opcodes += index
        self.report_uses(table, tag)
        return "ok"

    def simple(self, c: int, stack: list, marks: list, memo: dict, pop, pop_mark, top) -> None:  # noqa: C901
        """Opcodes whose arguments are fixed-width ints or stack items (the hot path)."""
        if c == 0x71:  # BINPUT q
            memo[self.read(1)[0]] = top()
        elif c == 0x94:  # MEMOIZE
            memo[len(memo)] = top()
        elif c == 0x68:  # BINGET h
            key = self.read(1)[0]
            if key not in memo:
                raise _Malformed(f"memo key {key} was never stored")
            stack.append(memo[key])
        elif c == 0x72:  # LONG_BINPUT r
            memo[self.counted("<I", 4)] = top()
        elif c == 0x6A:  # LONG_BINGET j
            key = self.counted("<I", 4)
            if key not in memo:
                raise _Malformed(f"memo key {key} was never stored")
            stack.append(memo[key])
        elif c == 0x4B:  # BININT1 K
            stack.append(self.read(1)[0])
        elif c == 0x4D:  # BININT2 M
            stack.append(self.counted("<H", 2))
        elif c == 0x4A:  # BININT J
            stack.append(self.counted("<i", 4))
        elif c == 0x28:  # MARK (
            marks.append(len(stack))
        elif c == 0x29:  # EMPTY_TUPLE )
            stack.append(())
        elif c == 0x85:  # TUPLE1
            stack.append((pop(),))
        elif c == 0x86:  # TUPLE2
            b = pop()
            a = pop()
            stack.append((a, b))
        elif c == 0x87:  # TUPLE3
            c3 = pop()
            b = pop()
            a = pop()
            stack.append((a, b, c3))
        elif c == 0x74:  # TUPLE t
            stack.append(tuple(pop_mark()))
        elif c == 0x5D:  # EMPTY_LIST ]
            stack.append([])
        elif c == 0x7D:  # EMPTY_DICT }
            stack.append({})
        elif c == 0x8F:  # EMPTY_SET
            stack.append(set())
        elif c == 0x6C:  # LIST l
            stack.append(pop_mark()[:MAX_TRACKED])
        elif c == 0x64:  # DICT d
            stack.append(_to_dict(pop_mark()))
        elif c == 0x61:  # APPEND a
            item = pop()
            target = top()
            if isinstance(target, list) and len(target) < MAX_TRACKED:
                target.append(item)
        elif c == 0x65:  # APPENDS e
            items = pop_mark()
            target = top()
            if isinstance(target, list) and len(target) < MAX_TRACKED:
                target.extend(items[: MAX_TRACKED - len(target)])
        elif c == 0x73:  # SETITEM s
            value = pop()
            key = pop()
            target = top()
            if isinstance(target, dict) and len(target) < MAX_TRACKED and _hashable(key):
                target[key] = value
        elif c == 0x75:  # SETITEMS u
            items = pop_mark()
            target = top()
            if len(items) % 2:
                raise _Malformed("SETITEMS with an odd number of items")
            if isinstance(target, dict):
                target.update(_to_dict(items))
        elif c == 0x90:  # ADDITEMS
            pop_mark()
            top()
        elif c == 0x91:  # FROZENSET
            pop_mark()
            stack.append(_UNKNOWN)
        elif c == 0x4E:  # NONE N
            stack.append(None)
        elif c == 0x88:  # NEWTRUE
            stack.append(True)
        elif c == 0x89:  # NEWFALSE
            stack.append(False)
        elif c == 0x47:  # BINFLOAT G
            stack.append(struct.unpack(">d", self.read(8))[0])
        elif c == 0x30:  # POP 0
            if marks and len(stack) == marks[-1]:
                marks.pop()
            else:
                pop()
        elif c == 0x31:  # POP_MARK 1
            pop_mark()
        elif c == 0x32:  # DUP 2
            stack.append(top())
        elif c == 0x51:  # BINPERSID Q
            pop()
            stack.append(_Unknown("persistent id"))
        elif c == 0x80:  # PROTO
            proto = self.read(1)[0]
            if proto > 5:
                raise _Malformed(f"unsupported pickle protocol {proto}")
        elif c == 0x95:  # FRAME
            length = self.counted("<Q", 8)
            if length > self.size - self.pos:
                raise _Malformed(f"FRAME of {length} bytes runs past the end of the data")
        elif c == 0x97:  # NEXT_BUFFER
            stack.append(_Unknown("out-of-band buffer"))
        elif c == 0x98:  # READONLY_BUFFER
            top()

    def argument_op(self, c: int, stack: list) -> None:
        """Opcodes with counted or text arguments."""
        if c == 0x8C:  # SHORT_BINUNICODE
            stack.append(self.blob(self.read(1)[0], text=True))
        elif c == 0x58:  # BINUNICODE X
            stack.append(self.blob(self.counted("<I", 4), text=True))
        elif c == 0x8D:  # BINUNICODE8
            stack.append(self.blob(self.counted("<Q", 8), text=True))
        elif c == 0x43:  # SHORT_BINBYTES C
            stack.append(self.blob(self.read(1)[0], text=False))
        elif c == 0x42:  # BINBYTES B
            stack.append(self.blob(self.counted("<I", 4), text=False))
        elif c == 0x8E or c == 0x96:  # BINBYTES8
            stack.append(self.blob(self.counted("<Q", 8), text=False))
        elif c == 0x55:  # SHORT_BINSTRING U
            raw = self.blob(self.read(1)[0], text=False)
            stack.append(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        elif c == 0x54:  # BINSTRING T
            n = self.counted("<i", 4)
            if n < 0:
                raise _Malformed("BINSTRING with a negative length")
            raw = self.blob(n, text=False)
            stack.append(raw.decode("latin-1") if isinstance(raw, bytes) else raw)
        elif c == 0x8A:  # LONG1
            n = self.read(1)[0]
            stack.append(int.from_bytes(self.read(n), "little", signed=True))
        elif c == 0x8B:  # LONG4
            n = self.counted("<i", 4)
            if n < 0:
                raise _Malformed("LONG4 with a negative length")
            if n > 4096:
                self.skip(n)
                stack.append(_Unknown("huge integer"))
            else:
                stack.append(int.from_bytes(self.read(n), "little", signed=True))
        elif c == 0x49 or c == 0x4C:  # INT I
            stack.append(_int_line(self.readline()))
        elif c == 0x46:  # FLOAT F
            line = self.readline()
            try:
                stack.append(float(line))
            except ValueError:
                raise _Malformed(f"bad float literal {line[:40]!r}") from None
        elif c == 0x53:  # STRING S
            stack.append(_string_line(self.readline()))
        elif c == 0x56:  # UNICODE V
            stack.append(self.readline().decode("raw_unicode_escape", errors="replace"))
        elif c == 0x70:  # PUT p
            key = _int_line(self.readline())
            if not stack:
                raise _Malformed("PUT on an empty stack")
            self.memo[key] = stack[-1]
        elif c == 0x67:  # GET g
            key = _int_line(self.readline())
            if key not in self.memo:
                raise _Malformed(f"memo key {key} was never stored")
            stack.append(self.memo[key])
        elif c == 0x50:  # PERSID P
            self.readline()
            stack.append(_Unknown("persistent id"))
        else:
            raise _Malformed(f"unknown opcode 0x{c:02x}")

    def joblib_array(self, state: object, stream_no: int) -> None:
        """Skip the raw array bytes joblib writes right after a NumpyArrayWrapper; walk nested object pickles."""
        if not isinstance(state, dict):
            raise _Malformed("joblib array wrapper without a readable state")
        dtype, shape = state.get("dtype"), state.get("shape")
        kind, itemsize = _dtype_size(dtype)
        if kind == "object":
            sub = _Walker(self.f, self.size - self.pos, self.name, self.allow, self.embedded, self.depth + 1,
                          base_offset=self.base + self.pos, deadline=self.deadline,
                          safe_prefixes=self.safe_prefixes)
            sub.result = self.result
            start = self.pos
            sub.walk_stream(stream_no=self.result.streams)
            self.pos = start + sub.pos
            return
        if itemsize is None or not isinstance(shape, tuple) or not all(isinstance(d, int) and d >= 0 for d in shape):
            raise _Malformed("joblib array wrapper with a dtype/shape the scanner cannot size")
        count = 1
        for d in shape:
            count *= d
        if state.get("numpy_array_alignment_bytes") is not None:  # joblib >= 1.2 pads to an alignment
            pad = self.read(1)[0]
            self.skip(pad)
        self.skip(count * itemsize)

    def report_uses(self, table: list[_GlobalUse], tag: str) -> None:
        for use in table:
            verdict, why = self.allow.classify(use.module, use.name)
            if verdict == "unknown" and use.module.startswith(self.safe_prefixes or ("\0",)):
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


_NAMES = {op.code.encode("latin-1")[0]: op.name for op in __import__("pickletools").opcodes}
_SIMPLE = frozenset(
    b"qh\x94rjKMJ()\x85\x86\x87t]}\x8fld\x61\x65su\x90\x91N\x88\x89G01\x32Q\x80\x95\x97\x98"
)
_JOBLIB_WRAPPERS = frozenset({"NumpyArrayWrapper"})
_DTYPE_SIZES = {"b": 1, "i": None, "u": None, "f": None, "c": None, "m": None, "M": None, "S": 1, "U": 4, "V": 1}


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
    if not digits.isdigit() or kind not in _DTYPE_SIZES:
        return "plain", None
    scale = _DTYPE_SIZES[kind] or 1
    return "plain", int(digits) * scale


def scan_pickle(stream: BinaryIO, name: str, size: int, *, allowlist: Allowlist | None = None,
                embedded: EmbeddedHandler | None = None, max_streams: int = MAX_STREAMS,
                depth: int = 0, deadline: float | None = None,
                safe_prefixes: tuple[str, ...] = (), base_offset: int = 0) -> PickleResult:
    """Walk every pickle stream in ``stream`` (positioned at its start, ``size`` bytes) and classify globals.

    ``embedded`` is called with bytes constants that look like pickles, zips or .npy files, so the caller can
    scan them too. Never unpickles anything.
    """
    walker = _Walker(stream, size, name, allowlist or load_allowlist(), embedded, depth, deadline=deadline,
                     safe_prefixes=safe_prefixes, base_offset=base_offset)
    return walker.run(max_streams=max_streams)


def probe_pickle(head: bytes, *, truncated: bool = False) -> bool:
    """True when ``head`` parses as a pickle up to STOP (or, when ``truncated``, to the end without error)."""
    walker = _Walker(io.BytesIO(head), len(head), "probe", load_allowlist(), None, 0)
    status = walker.walk_stream(stream_no=0)
    if status == "ok":
        return True
    ended = walker.last_error in ("unexpected end of data", "no STOP opcode before the end of the data",
                                  "unterminated text argument") or "runs past the end" in walker.last_error
    return truncated and ended and walker.result.opcodes >= 4


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """The checker protocol: findings for a plain pickle file."""
    return scan_pickle(stream, name, size).findings
