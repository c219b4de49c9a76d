"""GGUF checker: a bounded reader of header, metadata and tensor infos, plus chat-template analysis.

Every count and length is checked against the bytes left in the file before anything is read, so a forged
header cannot make us allocate or loop beyond the file's size. Tensor data is never read.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from gguf.constants import GGML_QUANT_SIZES, GGMLQuantizationType

from modeldossier.artifacts.chat_template import check_template
from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

FORMAT = "gguf"
MAGIC = b"GGUF"
MAX_STRING = 64 * 1024 * 1024          # one metadata string (chat templates are kilobytes)
MAX_KEEP = 4 * 1024 * 1024             # longest string value we keep for analysis
MAX_ARRAY_DEPTH = 4
MAX_DIMS = 4                           # GGML_MAX_DIMS
DEFAULT_ALIGNMENT = 32
_CHUNK = 1 << 20
_MAX_PER_RULE = 20
# value type id -> (struct code, size); 8 = string, 9 = array
_SCALARS = {0: ("B", 1), 1: ("b", 1), 2: ("H", 2), 3: ("h", 2), 4: ("I", 4), 5: ("i", 4), 6: ("f", 4),
            7: ("?", 1), 10: ("Q", 8), 11: ("q", 8), 12: ("d", 8)}
STRING, ARRAY = 8, 9


class GGUFFormatError(Exception):
    """The file breaks the GGUF layout at a known offset (internal; becomes a finding)."""

    def __init__(self, rule: str, message: str, offset: int, severity: Severity = Severity.MEDIUM):
        super().__init__(message)
        self.rule, self.offset, self.severity = rule, offset, severity


class _Reader:
    """Buffered little/big-endian reader over a seekable stream that never reads past ``size``."""

    def __init__(self, stream: BinaryIO, size: int):
        self.stream, self.size = stream, size
        self.buf, self.buf_start, self.pos = b"", 0, 0
        self.order = "<"

    def remaining(self) -> int:
        return self.size - self.pos

    def read(self, n: int, what: str) -> bytes:
        if n > self.remaining():
            raise GGUFFormatError("malformed.gguf.truncated", f"file ends inside {what}", self.pos)
        rel = self.pos - self.buf_start
        if rel < 0 or rel + n > len(self.buf):
            self.stream.seek(self.pos)
            self.buf = self.stream.read(max(n, _CHUNK))
            self.buf_start, rel = self.pos, 0
            if len(self.buf) < n:
                raise GGUFFormatError("malformed.gguf.truncated", f"file ends inside {what}", self.pos)
        self.pos += n
        return self.buf[rel:rel + n]

    def skip(self, n: int, what: str) -> None:
        if n > self.remaining():
            raise GGUFFormatError("malformed.gguf.truncated", f"file ends inside {what}", self.pos)
        self.pos += n

    def skip_strings(self, count: int, len_size: int, max_len: int, key: str) -> None:
        """Skip ``count`` length-prefixed strings (the vocabulary arrays) without slicing each one."""
        code = self.order + ("I" if len_size == 4 else "Q")
        unpack_from = struct.unpack_from
        for _ in range(count):
            rel = self.pos - self.buf_start
            if rel < 0 or rel + len_size > len(self.buf):
                self.read(len_size, f"array {key}")
                self.pos -= len_size
                rel = 0
            length = unpack_from(code, self.buf, rel)[0]
            start = self.pos
            self.pos += len_size
            if length > self.remaining() or length > max_len:
                raise GGUFFormatError("gguf.string.out_of_bounds",
                                      f"string in array {key} claims {length:,} bytes but {self.remaining():,} "
                                      "remain (heap overflow class of GGUF parser bugs)", start, Severity.HIGH)
            self.pos += length

    def unpack(self, code: str, size: int, what: str) -> Any:
        return struct.unpack(self.order + code, self.read(size, what))[0]

    def u32(self, what: str) -> int:
        return self.unpack("I", 4, what)

    def u64(self, what: str) -> int:
        return self.unpack("Q", 8, what)


@dataclass
class GGUFInfo:
    """What the reader learnt: version, metadata kept for analysis, tensors, where data starts."""

    version: int = 0
    byte_order: str = "little"
    tensor_count: int = 0
    kv_count: int = 0
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: list[tuple[str, list[int], int, int, int]] = field(default_factory=list)  # name, dims, type, off, pos
    data_start: int = 0
    findings: list[Finding] = field(default_factory=list)


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for one GGUF file: structure bounds, metadata sanity, chat templates."""
    info = read_gguf(stream, name, size)
    findings = list(info.findings)
    for key, value in info.metadata.items():
        is_template = key == "tokenizer.chat_template" or key.startswith("tokenizer.chat_template.")
        if is_template and isinstance(value, str):
            findings.extend(check_template(value, name, f"key {key}"))
    return findings


def read_gguf(stream: BinaryIO, name: str, size: int) -> GGUFInfo:
    """Parse header, metadata and tensor infos with bounds checks; problems become ``info.findings``."""
    info = GGUFInfo()
    reader = _Reader(stream, size)
    try:
        _read_header(reader, info, name)
        _read_metadata(reader, info, name)
        _read_tensor_infos(reader, info, name)
        _check_tensor_layout(reader, info, name)
    except GGUFFormatError as exc:
        info.findings.append(Finding(rule_id=exc.rule, severity=exc.severity, message=str(exc), file=name,
                                     location=f"offset {exc.offset}"))
    except (OSError, struct.error, OverflowError, MemoryError) as exc:
        info.findings.append(Finding(rule_id="malformed.gguf.header", severity=Severity.MEDIUM,
                                     message=f"unreadable GGUF structure ({type(exc).__name__})", file=name,
                                     location=f"offset {reader.pos}"))
    return info


def _finding(info: GGUFInfo, rule: str, sev: Severity, msg: str, name: str, loc: str, ev: str | None = None) -> None:
    if sum(f.rule_id == rule for f in info.findings) < _MAX_PER_RULE:
        info.findings.append(Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev))


def _read_header(r: _Reader, info: GGUFInfo, name: str) -> None:
    if r.read(4, "the magic") != MAGIC:
        raise GGUFFormatError("malformed.gguf.header", "file does not start with the GGUF magic", 0)
    raw = r.read(4, "the version")
    version = struct.unpack("<I", raw)[0]
    if version > 0xFFFF and struct.unpack(">I", raw)[0] <= 0xFFFF:
        r.order, info.byte_order = ">", "big"
        version = struct.unpack(">I", raw)[0]
    info.version = version
    if version not in (2, 3):
        sev = Severity.LOW if version == 1 else Severity.MEDIUM
        _finding(info, "gguf.version.unsupported", sev, f"GGUF version {version} (readers support 2 and 3)", name,
                 "offset 4", str(version))
        if version != 1:
            raise GGUFFormatError("malformed.gguf.header", f"unknown GGUF version {version}", 4)
    count = r.u32 if version == 1 else r.u64
    info.tensor_count = count("the tensor count")
    info.kv_count = count("the metadata count")
    # smallest tensor info: name length + n_dims + type + offset; smallest key/value: key length + type + 1 byte
    len_size = 4 if version == 1 else 8
    if info.tensor_count * (len_size + 4 + 4 + 8) > r.remaining():
        raise GGUFFormatError("gguf.count.out_of_bounds",
                              f"tensor count {info.tensor_count:,} cannot fit in a {r.size:,}-byte file "
                              "(parser overflow / allocation attack)", 8, Severity.HIGH)
    if info.kv_count * (len_size + 4 + 1) > r.remaining():
        raise GGUFFormatError("gguf.count.out_of_bounds",
                              f"metadata count {info.kv_count:,} cannot fit in a {r.size:,}-byte file "
                              "(parser overflow / allocation attack)", 16, Severity.HIGH)


def _read_string(r: _Reader, info: GGUFInfo, what: str, keep: bool) -> str | None:
    start = r.pos
    length = r.u32(what) if info.version == 1 else r.u64(what)
    if length > r.remaining() or length > MAX_STRING:
        raise GGUFFormatError("gguf.string.out_of_bounds",
                              f"{what} claims {length:,} bytes but {r.remaining():,} remain (heap overflow class "
                              "of GGUF parser bugs)", start, Severity.HIGH)
    if not keep or length > MAX_KEEP:
        r.skip(length, what)
        return None
    raw = r.read(length, what)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("utf-8", errors="replace")


def _read_value(r: _Reader, info: GGUFInfo, vtype: int, key: str, keep: bool, depth: int) -> Any:
    if vtype in _SCALARS:
        code, size = _SCALARS[vtype]
        return r.unpack(code, size, f"value of {key}")
    if vtype == STRING:
        return _read_string(r, info, f"string value of {key}", keep)
    if vtype == ARRAY:
        if depth >= MAX_ARRAY_DEPTH:
            raise GGUFFormatError("gguf.array.nesting", f"arrays nested more than {MAX_ARRAY_DEPTH} deep in {key}",
                                  r.pos, Severity.HIGH)
        start = r.pos
        etype = r.u32(f"array type of {key}")
        count = r.u32(f"array length of {key}") if info.version == 1 else r.u64(f"array length of {key}")
        min_size = _SCALARS[etype][1] if etype in _SCALARS else 8 if etype in (STRING, ARRAY) else None
        if min_size is None:
            raise GGUFFormatError("malformed.gguf.metadata", f"unknown array element type {etype} in {key}", start)
        if count * min_size > r.remaining():
            raise GGUFFormatError("gguf.array.out_of_bounds",
                                  f"array {key} claims {count:,} elements, more than the file can hold", start,
                                  Severity.HIGH)
        if etype in _SCALARS:
            r.skip(count * min_size, f"array {key}")
            return None
        if etype == STRING:
            r.skip_strings(count, 4 if info.version == 1 else 8, MAX_STRING, key)
            return None
        for _ in range(count):
            _read_value(r, info, etype, key, False, depth + 1)
        return None
    raise GGUFFormatError("malformed.gguf.metadata", f"unknown value type {vtype} for key {key!r}", r.pos - 4)


def _read_metadata(r: _Reader, info: GGUFInfo, name: str) -> None:
    for _ in range(info.kv_count):
        offset = r.pos
        key = _read_string(r, info, "a metadata key", True)
        if key is None:
            raise GGUFFormatError("gguf.string.out_of_bounds", "metadata key longer than the keep limit", offset,
                                  Severity.HIGH)
        vtype = r.u32(f"the type of {key}")
        keep = vtype != ARRAY
        value = _read_value(r, info, vtype, key, keep, 0)
        if value is None and vtype == STRING and "chat_template" in key:
            _finding(info, "chat_template.too_large", Severity.HIGH,
                     f"chat template {key!r} is longer than {MAX_KEEP:,} bytes; not analysed (padding hides payloads)",
                     name, f"key {key}")
        if key in info.metadata:
            sev = Severity.HIGH if "chat_template" in key else Severity.MEDIUM
            _finding(info, "gguf.kv.duplicate", sev,
                     f"metadata key {key!r} appears twice: readers disagree on which value wins", name,
                     f"offset {offset}", key)
            if "chat_template" in key and isinstance(value, str):  # analyse both copies
                info.metadata[f"{key}.duplicate@{offset}"] = value
            continue
        info.metadata[key] = value


def _read_tensor_infos(r: _Reader, info: GGUFInfo, name: str) -> None:
    seen: set[str] = set()
    for _ in range(info.tensor_count):
        offset = r.pos
        tname = _read_string(r, info, "a tensor name", True) or ""
        n_dims = r.u32(f"dimension count of {tname}")
        if n_dims > MAX_DIMS:
            raise GGUFFormatError("gguf.tensor.dims", f"tensor {tname!r} has {n_dims} dimensions (max {MAX_DIMS})",
                                  offset, Severity.HIGH)
        dims = [r.u32("a dimension") if info.version == 1 else r.u64("a dimension") for _ in range(n_dims)]
        ttype = r.u32(f"type of {tname}")
        toff = r.u64(f"offset of {tname}")
        if tname in seen:
            _finding(info, "gguf.tensor.duplicate_name", Severity.MEDIUM, f"tensor name {tname!r} appears twice",
                     name, f"offset {offset}", tname)
        seen.add(tname)
        info.tensors.append((tname, dims, ttype, toff, offset))
    alignment = info.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    if not isinstance(alignment, int) or alignment <= 0 or alignment & (alignment - 1):
        _finding(info, "gguf.alignment.invalid", Severity.MEDIUM,
                 f"general.alignment {alignment!r} is not a positive power of two", name, "key general.alignment",
                 repr(alignment))
        alignment = DEFAULT_ALIGNMENT
    info.data_start = r.pos + (-r.pos % alignment)
    info.metadata.setdefault("general.alignment", alignment)


def _tensor_bytes(dims: list[int], ttype: int) -> int | None:
    try:
        block, type_size = GGML_QUANT_SIZES[GGMLQuantizationType(ttype)]
    except (ValueError, KeyError):
        return None
    count = 1
    for d in dims:
        count *= d
    if dims and count % block:
        return -1
    return count // block * type_size


def _check_tensor_layout(r: _Reader, info: GGUFInfo, name: str) -> None:
    alignment = info.metadata.get("general.alignment", DEFAULT_ALIGNMENT)
    data_size = r.size - info.data_start
    ranges: list[tuple[int, int, str]] = []
    for tname, dims, ttype, toff, pos in info.tensors:
        loc = f"tensor {tname} (offset {pos})"
        if any(d >= 1 << 63 for d in dims) or _product(dims) >= 1 << 63:
            _finding(info, "gguf.tensor.dims", Severity.HIGH,
                     f"tensor {tname!r} dimensions {dims} overflow 63 bits (integer overflow attack)", name, loc)
            continue
        nbytes = _tensor_bytes(dims, ttype)
        if nbytes is None:
            _finding(info, "gguf.tensor.type_unknown", Severity.MEDIUM, f"tensor {tname!r} has unknown type {ttype}",
                     name, loc, str(ttype))
            continue
        if nbytes < 0:
            _finding(info, "gguf.tensor.dims", Severity.MEDIUM,
                     f"tensor {tname!r} element count is not a multiple of its block size", name, loc, str(dims))
            continue
        if toff % alignment:
            _finding(info, "gguf.tensor.misaligned", Severity.MEDIUM,
                     f"tensor {tname!r} offset {toff} is not a multiple of the alignment {alignment}", name, loc)
        if toff + nbytes > data_size:
            _finding(info, "gguf.tensor.out_of_bounds", Severity.HIGH,
                     f"tensor {tname!r} bytes [{toff:,}, {toff + nbytes:,}) run past the {data_size:,}-byte data "
                     "area (out-of-bounds read)", name, loc)
        ranges.append((toff, toff + nbytes, tname))
    ranges.sort()
    end, end_name = 0, ""
    for begin, stop, tname in ranges:
        if begin < end and stop > begin:
            _finding(info, "gguf.tensor.overlap", Severity.HIGH,
                     f"tensor {tname!r} overlaps {end_name!r} (aliased tensor data)", name, f"tensor {tname}")
        if stop > end:
            end, end_name = stop, tname


def _product(dims: list[int]) -> int:
    total = 1
    for d in dims:
        total *= d
    return total
