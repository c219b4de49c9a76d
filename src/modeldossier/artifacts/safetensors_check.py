"""safetensors checker: validate the JSON header against the file size without reading tensor data (O(header))."""

from __future__ import annotations

import json
import math
import struct
from typing import Any, BinaryIO

from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

FORMAT = "safetensors"
MAX_HEADER = 100_000_000  # the reference implementation refuses larger headers
# bits per element of every dtype the safetensors format defines
DTYPE_BITS = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8, "F8_E8M0": 8,
    "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32, "F64": 64, "I64": 64,
    "U64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}
_MAX_PER_RULE = 20  # keep reports readable when every tensor of a broken file is wrong


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None = None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def _pairs_hook(dups: list[str]):
    def hook(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        seen: dict[str, Any] = {}
        for key, value in pairs:
            if key in seen:
                dups.append(key)
            seen[key] = value
        return seen
    return hook


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)



def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for one safetensors file; reads only the 8-byte length and the JSON header."""
    if size < 8:
        return [_finding("malformed.safetensors.header", Severity.MEDIUM,
                         f"file is {size} bytes, too short for the 8-byte header length", name, "offset 0")]
    stream.seek(0)
    (length,) = struct.unpack("<Q", stream.read(8))
    if length > MAX_HEADER:
        return [_finding("safetensors.header.too_large", Severity.HIGH,
                         f"header length {length:,} bytes exceeds the {MAX_HEADER:,}-byte limit loaders enforce "
                         "(memory exhaustion / parser differential)", name, "offset 0", f"header_length={length}")]
    if length > size - 8:
        return [_finding("malformed.safetensors.header", Severity.MEDIUM,
                         f"header length {length:,} runs past the end of the {size:,}-byte file", name,
                         "offset 0", f"header_length={length}")]
    raw = stream.read(length)
    if len(raw) != length:
        return [_finding("malformed.safetensors.header", Severity.MEDIUM, "file ended inside the header", name,
                         "offset 8")]
    return check_header(raw, name, size)


def check_header(raw: bytes, name: str, size: int) -> list[Finding]:
    """Validate decoded header bytes of a file of ``size`` bytes (public for tests and fuzzing)."""
    if not raw.lstrip().startswith(b"{"):
        return [_finding("malformed.safetensors.header", Severity.MEDIUM, "header does not start with '{'", name,
                         "offset 8", repr(raw[:40]))]
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        return [_finding("malformed.safetensors.header", Severity.MEDIUM, "header is not valid UTF-8", name,
                         f"offset {8 + exc.start}")]
    dups: list[str] = []
    try:
        header = json.loads(text, object_pairs_hook=_pairs_hook(dups))
    except json.JSONDecodeError as exc:
        return [_finding("malformed.safetensors.header", Severity.MEDIUM, f"header is not valid JSON: {exc.msg}",
                         name, f"offset {8 + exc.pos}")]
    except RecursionError:
        return [_finding("malformed.safetensors.header", Severity.HIGH, "header JSON nests too deeply", name,
                         "offset 8")]
    except ValueError as exc:  # e.g. an integer longer than Python's 4,300-digit conversion limit
        return [_finding("malformed.safetensors.header", Severity.MEDIUM,
                         f"header JSON cannot be read: {str(exc)[:120]}", name, "offset 8")]
    if not isinstance(header, dict):
        return [_finding("malformed.safetensors.header", Severity.MEDIUM, "header JSON is not an object", name,
                         "offset 8")]
    findings: list[Finding] = []
    for key in sorted(set(dups))[:_MAX_PER_RULE]:
        findings.append(_finding("safetensors.header.duplicate_key", Severity.HIGH,
                                 "duplicate key in the header: loaders disagree on which entry wins", name,
                                 f"key {key}", key))
    findings.extend(_check_metadata(header.get("__metadata__"), name))
    findings.extend(_check_tensors(header, name, size - 8 - len(raw)))
    return findings


def _check_metadata(meta: Any, name: str) -> list[Finding]:
    if meta is None:
        return []
    if not isinstance(meta, dict):
        return [_finding("safetensors.metadata.type", Severity.MEDIUM, "__metadata__ is not an object of strings",
                         name, "key __metadata__", type(meta).__name__)]
    bad = [k for k, v in meta.items() if not isinstance(v, str)]
    found = [_finding("safetensors.metadata.type", Severity.MEDIUM, "__metadata__ value is not a string", name,
                      f"key __metadata__.{k}", type(meta[k]).__name__) for k in bad[:_MAX_PER_RULE]]
    configs = [(k, v) for k, v in meta.items()
               if isinstance(v, str) and any(key in v for key in ("_target_", "_partial_", "_call_"))]
    if configs:  # a config stored in the metadata is instantiated by loaders that restore from it
        from modeldossier.artifacts import config_check

        for key, value in configs[:_MAX_PER_RULE]:
            found.extend(config_check.check_text(value.encode("utf-8", "replace"), name,
                                                 f"key __metadata__.{key}"))
    return found


def _check_tensors(header: dict[str, Any], name: str, data_size: int) -> list[Finding]:
    findings: list[Finding] = []
    counts: dict[str, int] = {}

    def add(rule: str, sev: Severity, msg: str, key: str, ev: str | None = None) -> None:
        counts[rule] = counts.get(rule, 0) + 1
        if counts[rule] <= _MAX_PER_RULE:
            findings.append(_finding(rule, sev, msg, name, f"key {key}", ev))

    ranges: list[tuple[int, int, str]] = []
    for key, info in header.items():
        if key == "__metadata__":
            continue
        if not isinstance(info, dict):
            add("malformed.safetensors.tensor", Severity.MEDIUM, "tensor entry is not an object", key)
            continue
        dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
        extra = sorted(set(info) - {"dtype", "shape", "data_offsets"})
        if extra:
            add("malformed.safetensors.tensor", Severity.LOW, "tensor entry has unknown fields", key, ",".join(extra))
        bits = DTYPE_BITS.get(dtype) if isinstance(dtype, str) else None
        if bits is None:
            add("safetensors.tensor.dtype", Severity.MEDIUM, "unknown dtype", key, repr(dtype)[:80])
        if not isinstance(shape, list) or not all(_is_int(d) and d >= 0 for d in shape):
            add("safetensors.tensor.shape", Severity.MEDIUM, "shape is not a list of non-negative integers", key,
                repr(shape)[:80])
            shape = None
        if (not isinstance(offsets, list) or len(offsets) != 2 or not all(_is_int(o) for o in offsets)
                or offsets[0] < 0 or offsets[1] < offsets[0]):
            add("safetensors.tensor.offsets", Severity.HIGH, "data_offsets is not [begin, end] with 0 <= begin <= end",
                key, repr(offsets)[:80])
            continue
        begin, end = offsets
        if end > data_size:
            add("safetensors.tensor.out_of_bounds", Severity.HIGH,
                f"data_offsets end {end:,} is past the {data_size:,}-byte data area (out-of-bounds read)", key,
                f"data_offsets={offsets}")
        if shape is not None and bits is not None:
            total_bits = math.prod(shape) * bits
            expected = total_bits // 8
            if total_bits % 8 or expected != end - begin:
                add("safetensors.tensor.size_mismatch", Severity.HIGH,
                    f"byte range holds {end - begin:,} bytes but dtype {dtype} x shape {shape} needs "
                    f"{_bytes_text(total_bits)}", key, f"data_offsets={offsets}")
        ranges.append((begin, end, key))
    findings.extend(_check_layout(ranges, data_size, name, counts))
    return findings


def _bytes_text(bits: int) -> str:
    """``bits / 8`` for a message, without float overflow on absurd shapes."""
    return f"{bits / 8:,.1f}" if bits < 2**80 else f"more than 2^{bits.bit_length() - 4} bytes"


def _check_layout(ranges: list[tuple[int, int, str]], data_size: int, name: str,
                  counts: dict[str, int]) -> list[Finding]:
    findings: list[Finding] = []
    ranges.sort()
    cursor, cursor_key, gaps = 0, "", 0
    for begin, end, key in ranges:
        if begin < cursor and end > begin:
            counts["overlap"] = counts.get("overlap", 0) + 1
            if counts["overlap"] <= _MAX_PER_RULE:
                findings.append(_finding("safetensors.tensor.overlap", Severity.HIGH,
                                         f"byte range of {key!r} overlaps {cursor_key!r} (aliased tensor data)",
                                         name, f"key {key}", f"[{begin}, {end}) vs end {cursor}"))
        elif begin > cursor:
            gaps += begin - cursor
        if end > cursor:
            cursor, cursor_key = end, key
    if gaps:
        findings.append(_finding("safetensors.data.gap", Severity.INFO,
                                 f"{gaps:,} bytes of the data area belong to no tensor (hidden payload room)", name,
                                 None, f"gap_bytes={gaps}"))
    if data_size > cursor:
        findings.append(_finding("safetensors.data.trailing", Severity.INFO,
                                 f"{data_size - cursor:,} bytes after the last tensor belong to no tensor", name,
                                 f"offset {cursor}", f"trailing_bytes={data_size - cursor}"))
    return findings
