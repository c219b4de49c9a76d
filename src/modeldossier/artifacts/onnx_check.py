"""ONNX checker: external-data paths (traversal, absolute), custom operator domains, local functions.

The protobuf is decoded with ``onnx.ModelProto.ParseFromString`` (no external-data loading), so no external file
is opened and no operator runs. Files above ``MAX_ONNX_BYTES`` are not parsed (protobuf cannot be walked without
loading the message), and say so as an info finding.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
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


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def scan(stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Findings for one ONNX model file."""
    if size > MAX_ONNX_BYTES:
        return [_finding("onnx.not_parsed.too_large", Severity.INFO,
                         f"{size:,}-byte ONNX file is above the {MAX_ONNX_BYTES:,}-byte parse limit: external-data "
                         "paths and custom ops were not checked", name, None)]
    import onnx
    from google.protobuf.message import DecodeError

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
    local_functions = {(fn.domain, fn.name) for fn in model.functions}
    for fn in model.functions:
        add(_finding("onnx.function.local", Severity.INFO,
                     f"model defines local function {fn.domain}:{fn.name} ({len(fn.node)} nodes)", name,
                     f"function {fn.domain}.{fn.name}"))
    for opset in model.opset_import:
        if opset.domain not in STANDARD_DOMAINS:
            add(_finding("onnx.opset.custom_domain", Severity.MEDIUM,
                         f"model imports operator set {opset.domain!r}: needs a custom-op library to run", name,
                         f"opset_import {opset.domain}", f"{opset.domain} v{opset.version}"))
    for where, node in _nodes(model):
        key = (node.domain, node.op_type)
        if key in CODE_OPS:
            add(_finding("onnx.op.python", Severity.CRITICAL,
                         f"operator {node.domain}:{node.op_type} runs Python code on the host", name, where,
                         node.name or node.op_type))
        elif node.domain not in STANDARD_DOMAINS and key not in local_functions:
            add(_finding("onnx.op.custom", Severity.MEDIUM,
                         f"custom operator {node.domain}:{node.op_type} is implemented by native code outside the "
                         "model", name, where, f"{node.domain}:{node.op_type}"))
    return findings


def _external_data(tensor: Any, where: str, name: str) -> Iterator[Finding]:
    entries = {e.key: e.value for e in tensor.external_data}
    if tensor.data_location != 1 and not entries:  # 1 = EXTERNAL
        return
    location = entries.get("location", "")
    ev = location[:300]
    if not location:
        yield _finding("onnx.external_data.missing_location", Severity.MEDIUM,
                       f"tensor {tensor.name!r} is external but names no file", name, where)
        return
    norm = location.replace("\\", "/")
    parts = [p for p in norm.split("/") if p]
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm) or norm.startswith("//") or "\x00" in location:
        sev = Severity.CRITICAL if _SENSITIVE_PATH.search(norm) else Severity.HIGH
        yield _finding("onnx.external_data.absolute_path", sev,
                       f"tensor {tensor.name!r} reads its data from an absolute path outside the model folder",
                       name, where, ev)
    elif ".." in parts:
        yield _finding("onnx.external_data.path_traversal", Severity.CRITICAL,
                       f"tensor {tensor.name!r} reads its data through '..' outside the model folder (file read "
                       "/ exfiltration)", name, where, ev)
    elif _SENSITIVE_PATH.search(norm):
        yield _finding("onnx.external_data.sensitive_path", Severity.HIGH,
                       f"tensor {tensor.name!r} external data names a sensitive-looking file", name, where, ev)
    for key in ("offset", "length"):
        value = entries.get(key)
        if value is not None and not value.isdigit():
            yield _finding("onnx.external_data.bad_range", Severity.MEDIUM,
                           f"tensor {tensor.name!r} external-data {key} is not a non-negative integer", name, where,
                           f"{key}={value!r}")


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
                    stack.append((f"{where}/{node.name or node.op_type}.{attr.name}", attr.g, depth + 1))
                stack.extend((f"{where}/{node.name or node.op_type}.{attr.name}[{i}]", sub, depth + 1)
                             for i, sub in enumerate(attr.graphs))


def _all_graphs(model: Any) -> Iterator[tuple[str, Any]]:
    if model.HasField("graph"):
        yield from _graphs(model.graph, "graph")


def _nodes(model: Any) -> Iterator[tuple[str, Any]]:
    for where, g in _all_graphs(model):
        for i, node in enumerate(g.node):
            yield f"{where} node {i} ({node.name or node.op_type})", node
    for fn in model.functions:
        for i, node in enumerate(fn.node):
            yield f"function {fn.domain}.{fn.name} node {i}", node


def _tensors(model: Any) -> Iterator[tuple[str, Any]]:
    for where, g in _all_graphs(model):
        for t in g.initializer:
            yield f"{where} initializer {t.name}", t
        for st in g.sparse_initializer:
            yield f"{where} sparse_initializer {st.values.name}", st.values
            yield f"{where} sparse_initializer {st.indices.name}", st.indices
        for node in g.node:
            for attr in node.attribute:
                if attr.HasField("t"):
                    yield f"{where} node {node.name or node.op_type} attribute {attr.name}", attr.t
                for t in attr.tensors:
                    yield f"{where} node {node.name or node.op_type} attribute {attr.name}", t
