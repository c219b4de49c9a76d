"""ONNX checker: external-data paths (traversal, absolute), custom operator domains, local functions.

The protobuf is decoded with ``onnx.ModelProto.ParseFromString`` (no external-data loading), so no external file
is opened and no operator runs. Files above ``MAX_ONNX_BYTES`` are walked as a protobuf wire stream that skips
tensor payloads (raw_data and the typed data fields), so memory follows the graph's size, not the weights'.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

FORMAT = "onnx"
MAX_ONNX_BYTES = 1 << 30
STANDARD_DOMAINS = frozenset({
    "", "ai.onnx", "ai.onnx.ml", "ai.onnx.training", "ai.onnx.preview.training", "com.microsoft",
    "com.microsoft.nchwc", "com.microsoft.experimental", "org.pytorch.aten", "com.microsoft.dml",
})
# operators that run host code: onnxruntime-extensions Python ops
CODE_OPS = {("ai.onnx.contrib", "PyOp"), ("ai.onnx.contrib", "PythonOp"), ("com.microsoft", "PythonOp"),
            ("com.microsoft.extensions", "PyOp")}
_SENSITIVE_PATH = re.compile(r"(^|/)(etc|proc|dev|sys|root|home|var|usr|boot)/|\.ssh|\.aws|\.netrc|id_rsa|"
                             r"passwd|shadow|\.bashrc|\.env\b", re.I)
_MAX_PER_RULE = 20


def _text(value: Any) -> str:
    """protobuf hands back bytes for string fields that are not valid UTF-8: decode them for reporting."""
    return value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for one ONNX model file (files above MAX_ONNX_BYTES are walked as a stream)."""
    import onnx
    from google.protobuf.message import DecodeError

    if size > MAX_ONNX_BYTES:
        return _scan_streaming(stream, name, size)
    stream.seek(0)
    data = stream.read(size)
    try:
        model = onnx.ModelProto()
        model.ParseFromString(data)  # plain protobuf decode: no external file is opened
    except (DecodeError, ValueError, RuntimeError, RecursionError) as exc:
        return [_finding("malformed.onnx.protobuf", Severity.MEDIUM,
                         f"not a valid ONNX protobuf ({type(exc).__name__})", name, None, str(exc)[:200])]
    del data
    if not model.HasField("graph") and not model.functions:
        return [_finding("malformed.onnx.protobuf", Severity.MEDIUM, "ONNX model has no graph", name, None)]
    return check_model(model, name)


def check_model(model: Any, name: str) -> list[Finding]:
    """Findings for a parsed ``onnx.ModelProto``."""
    findings: list[Finding] = []
    counts: dict[str, int] = {}

    def add(f: Finding) -> None:
        counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
        if counts[f.rule_id] <= _MAX_PER_RULE:
            findings.append(f)

    for where, tensor in _tensors(model):
        for f in _external_data(tensor, where, name):
            add(f)
    local_functions = {(_text(fn.domain), _text(fn.name)) for fn in model.functions}
    for fn_domain, fn_name in sorted(local_functions):
        add(_finding("onnx.function.local", Severity.INFO, f"model defines local function {fn_domain}:{fn_name}",
                     name, f"function {fn_domain}.{fn_name}"))
    for opset in model.opset_import:
        domain = _text(opset.domain)
        if domain not in STANDARD_DOMAINS:
            add(_finding("onnx.opset.custom_domain", Severity.MEDIUM,
                         f"model imports operator set {domain!r}: needs a custom-op library to run", name,
                         f"opset_import {domain}", f"{domain} v{opset.version}"))
    for where, node in _nodes(model):
        key = (_text(node.domain), _text(node.op_type))
        if key in CODE_OPS:
            add(_finding("onnx.op.python", Severity.CRITICAL,
                         f"operator {key[0]}:{key[1]} runs Python code on the host", name, where, key[1]))
        elif key[0] not in STANDARD_DOMAINS and key not in local_functions:
            add(_finding("onnx.op.custom", Severity.MEDIUM,
                         f"custom operator {key[0]}:{key[1]} is implemented by native code outside the model", name,
                         where, f"{key[0]}:{key[1]}"))
    return findings


def _external_data(tensor: Any, where: str, name: str) -> Iterator[Finding]:
    entries = {_text(e.key): _text(e.value) for e in tensor.external_data}
    if tensor.data_location != 1 and not entries:  # 1 = EXTERNAL
        return
    location = entries.get("location", "")
    ev = location[:300]
    if not location:
        yield _finding("onnx.external_data.missing_location", Severity.MEDIUM,
                       f"tensor {_text(tensor.name)!r} is external but names no file", name, where)
        return
    norm = location.replace("\\", "/")
    parts = [p for p in norm.split("/") if p]
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or norm.startswith("//") or "\x00" in location:
        sev = Severity.CRITICAL if _SENSITIVE_PATH.search(norm) else Severity.HIGH
        yield _finding("onnx.external_data.absolute_path", sev,
                       f"tensor {_text(tensor.name)!r} reads its data from an absolute path outside the model folder",
                       name, where, ev)
    elif ".." in parts:
        yield _finding("onnx.external_data.path_traversal", Severity.CRITICAL,
                       f"tensor {_text(tensor.name)!r} reads its data through '..' outside the model folder (file read "
                       "/ exfiltration)", name, where, ev)
    elif _SENSITIVE_PATH.search(norm):
        yield _finding("onnx.external_data.sensitive_path", Severity.HIGH,
                       f"tensor {_text(tensor.name)!r} external data names a sensitive-looking file", name, where, ev)
    for key in ("offset", "length"):
        value = entries.get(key)
        if value is not None and not value.isdigit():
            yield _finding("onnx.external_data.bad_range", Severity.MEDIUM,
                           f"tensor {_text(tensor.name)!r} external-data {key} is not a non-negative integer", name,
                           where, f"{key}={value!r}")


def _graphs(graph: Any, path: str) -> Iterator[tuple[str, Any]]:
    """The graph and every subgraph (If/Loop/Scan bodies), with a readable path."""
    stack = [(path, graph, 0)]
    while stack:
        where, g, depth = stack.pop()
        yield where, g
        if depth > 64:
            continue
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("g"):
                    stack.append((f"{where}/{_text(node.name or node.op_type)}.{_text(attr.name)}", attr.g, depth + 1))
                stack.extend((f"{where}/{_text(node.name or node.op_type)}.{_text(attr.name)}[{i}]", sub, depth + 1)
                             for i, sub in enumerate(attr.graphs))


def _all_graphs(model: Any) -> Iterator[tuple[str, Any]]:
    if model.HasField("graph"):
        yield from _graphs(model.graph, "graph")


def _nodes(model: Any) -> Iterator[tuple[str, Any]]:
    for where, g in _all_graphs(model):
        for i, node in enumerate(g.node):
            yield f"{where} node {i} ({_text(node.name or node.op_type)})", node
    for fn in model.functions:
        for i, node in enumerate(fn.node):
            yield f"function {_text(fn.domain)}.{_text(fn.name)} node {i}", node


def _tensors(model: Any) -> Iterator[tuple[str, Any]]:
    for where, g in _all_graphs(model):
        for t in g.initializer:
            yield f"{where} initializer {_text(t.name)}", t
        for st in g.sparse_initializer:
            yield f"{where} sparse_initializer {_text(st.values.name)}", st.values
            yield f"{where} sparse_initializer {_text(st.indices.name)}", st.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield f"{where} node {_text(node.name or node.op_type)} attribute {_text(attr.name)}", attr.t
                for t in attr.tensors:
                    yield f"{where} node {_text(node.name or node.op_type)} attribute {_text(attr.name)}", t


# ---------------------------------------------------------------- streaming path for files above MAX_ONNX_BYTES
# Protobuf wire-format walk that copies the model's structure and drops tensor payloads, so a model of any size
# is checked with memory bounded by its graph (not its weights). Field numbers are those of onnx.proto3.
_TENSOR = {"skip": {4, 5, 6, 7, 9, 10, 11}, "children": {}}
_SPARSE = {"skip": set(), "children": {1: _TENSOR, 2: _TENSOR}}
_GRAPH: dict = {"skip": set(), "children": {5: _TENSOR, 15: _SPARSE}}
_ATTR = {"skip": set(), "children": {5: _TENSOR, 6: _GRAPH, 10: _TENSOR, 11: _GRAPH, 22: _SPARSE, 23: _SPARSE}}
_NODE = {"skip": set(), "children": {5: _ATTR}}
_GRAPH["children"][1] = _NODE
_FUNCTION = {"skip": set(), "children": {7: _NODE}}
_MODEL = {"skip": set(), "children": {7: _GRAPH, 25: _FUNCTION}}
_MAX_KEPT_FIELD = 16 * 1024 * 1024
_MAX_NESTING = 64
_MAX_STRUCTURE = 256 * 1024 * 1024


class _WireError(Exception):
    """The protobuf wire format is broken (internal; becomes a finding)."""


class _Stream:
    """Buffered forward reader with cheap skips over a seekable stream."""

    def __init__(self, stream: BinaryIO, size: int):
        self.stream, self.size, self.pos = stream, size, 0
        self.buf, self.start = b"", 0

    def read(self, n: int) -> bytes:
        if self.pos + n > self.size:
            raise _WireError("field runs past the end of the file")
        rel = self.pos - self.start
        if rel < 0 or rel + n > len(self.buf):
            self.stream.seek(self.pos)
            self.buf, self.start, rel = self.stream.read(max(n, 1 << 20)), self.pos, 0
        self.pos += n
        return self.buf[rel:rel + n]

    def varint(self) -> tuple[int, bytes]:
        value, shift, raw = 0, 0, bytearray()
        while True:
            byte = self.read(1)[0]
            raw.append(byte)
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value, bytes(raw)
            shift += 7
            if shift > 63:
                raise _WireError("varint longer than 10 bytes")


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _strip(reader: _Stream, end: int, schema: dict, depth: int, budget: list[int]) -> bytes:
    """The message between reader.pos and ``end``, re-encoded without the fields ``schema`` drops."""
    if depth > _MAX_NESTING:
        raise _WireError(f"messages nested more than {_MAX_NESTING} deep")
    out = bytearray()
    while reader.pos < end:
        key, raw_key = reader.varint()
        field, wire = key >> 3, key & 7
        drop = field in schema["skip"]
        if wire == 0:
            _, raw = reader.varint()
            chunk = raw_key + raw
        elif wire in (1, 5):
            chunk = raw_key + reader.read(8 if wire == 1 else 4)
        elif wire == 2:
            length, _ = reader.varint()
            if reader.pos + length > end:
                raise _WireError("length-delimited field runs past its message")
            child = schema["children"].get(field)
            if drop or (child is None and length > _MAX_KEPT_FIELD):
                reader.pos += length
                continue
            body = _strip(reader, reader.pos + length, child, depth + 1, budget) if child else reader.read(length)
            chunk = raw_key + _varint_bytes(len(body)) + body
        else:
            raise _WireError(f"unsupported wire type {wire}")
        if not drop:
            budget[0] -= len(chunk)
            if budget[0] < 0:
                raise _WireError("model structure (without weights) is larger than 256 MiB")
            out += chunk
    if reader.pos != end:
        raise _WireError("field runs past its message")
    return bytes(out)


def _scan_streaming(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    import onnx
    from google.protobuf.message import DecodeError

    note = _finding("onnx.streamed", Severity.INFO,
                    f"{size:,}-byte ONNX file checked by a streaming walk (tensor payloads skipped)", name, None)
    try:
        skeleton = _strip(_Stream(stream, size), size, _MODEL, 0, [_MAX_STRUCTURE])
        model = onnx.ModelProto()
        model.ParseFromString(skeleton)
    except (_WireError, DecodeError, ValueError, RecursionError) as exc:
        return [note, _finding("malformed.onnx.protobuf", Severity.MEDIUM, f"not a valid ONNX protobuf ({exc})",
                               name, None)]
    if not model.HasField("graph") and not model.functions:
        return [note, _finding("malformed.onnx.protobuf", Severity.MEDIUM, "ONNX model has no graph", name, None)]
    return [note, *check_model(model, name)]


def external_locations(stream: BinaryIO, size: int) -> list[tuple[str, str]]:
    """(tensor name, location) of every external-data tensor; empty for unparseable or over-large files."""
    import onnx
    from google.protobuf.message import DecodeError

    if size > MAX_ONNX_BYTES:
        return []
    stream.seek(0)
    model = onnx.ModelProto()
    try:
        model.ParseFromString(stream.read(size))
    except (DecodeError, ValueError, RuntimeError, RecursionError):
        return []
    out = []
    for _, tensor in _tensors(model):
        entries = {_text(e.key): _text(e.value) for e in tensor.external_data}
        if entries.get("location"):
            out.append((_text(tensor.name), entries["location"]))
    return out


def linked_external_data(path: Path, display: str) -> list[Finding]:
    """External-data files of the model at ``path`` that are symlinks pointing out of its folder: loading the
    model reads the link's target as tensor data. Judged by the link's text (see ``links``), not by its target."""
    from modeldossier.artifacts.links import judge_link

    folder = os.path.abspath(path.parent)
    try:
        with open(path, "rb") as handle:
            locations = external_locations(handle, os.fstat(handle.fileno()).st_size)
    except OSError:
        return []
    findings: list[Finding] = []
    for tensor, location in locations[:10_000]:
        parts = [p for p in location.replace("\\", "/").split("/") if p not in ("", ".")]
        if not parts or ".." in parts or location.startswith(("/", "\\")):
            continue  # absolute and '..' locations are reported by the model check itself
        current = folder
        for part in parts:
            current = os.path.join(current, part)
            if not os.path.islink(current):
                continue
            link = os.readlink(current)
            verdict = judge_link(link, os.path.dirname(current), (folder,))
            if not verdict.inside:
                sev = Severity.CRITICAL if verdict.secret else Severity.HIGH
                findings.append(_finding(
                    "onnx.external_data.symlink", sev,
                    f"tensor {tensor!r} reads its data from {location!r}, a symlink pointing outside the model folder "
                    "(loading the model reads that file)", display, f"tensor {tensor}", f"{location} -> {link}"))
            break
        if len(findings) >= _MAX_PER_RULE:
            break
    return findings
