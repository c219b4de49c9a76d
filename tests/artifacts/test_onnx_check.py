"""ONNX checks: external-data traversal/absolute paths, custom and Python ops, malformed protobuf."""

from __future__ import annotations

import io

import pytest
from onnx import TensorProto, helper

from modeldossier.artifacts import onnx_check
from modeldossier.artifacts.onnx_check import scan
from modeldossier.common import Severity


def model_bytes(location: str | None = None, extra_nodes=(), opsets=(), functions=(), subgraph_location=None) -> bytes:
    weight = helper.make_tensor("w", TensorProto.FLOAT, [2], [1.0, 2.0])
    if location is not None:
        weight = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[2], data_location=TensorProto.EXTERNAL)
        entry = weight.external_data.add()
        entry.key, entry.value = "location", location
    nodes = [helper.make_node("Add", ["x", "w"], ["y"]), *extra_nodes]
    if subgraph_location is not None:
        inner_w = TensorProto(name="iw", data_type=TensorProto.FLOAT, dims=[1], data_location=TensorProto.EXTERNAL)
        e = inner_w.external_data.add()
        e.key, e.value = "location", subgraph_location
        body = helper.make_graph([helper.make_node("Identity", ["iw"], ["o"])], "body", [],
                                 [helper.make_tensor_value_info("o", TensorProto.FLOAT, [1])], [inner_w])
        nodes.append(helper.make_node("If", ["c"], ["z"], then_branch=body, else_branch=body))
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2])], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), *opsets], functions=list(functions))
    return model.SerializeToString()


def run(blob: bytes) -> list:
    return scan(io.BytesIO(blob), "m.onnx", len(blob))


def test_plain_model_is_clean():
    assert run(model_bytes()) == []
    assert run(model_bytes(location="weights.bin")) == []
    assert run(model_bytes(location="data/weights.bin")) == []


@pytest.mark.parametrize("location, rule, severity", [
    ("../../../../etc/passwd", "onnx.external_data.path_traversal", Severity.CRITICAL),
    ("sub/../../secret.bin", "onnx.external_data.path_traversal", Severity.CRITICAL),
    ("..\\..\\windows\\win.ini", "onnx.external_data.path_traversal", Severity.CRITICAL),
    ("/etc/shadow", "onnx.external_data.absolute_path", Severity.CRITICAL),
    ("/tmp/weights.bin", "onnx.external_data.absolute_path", Severity.HIGH),
    ("C:/Users/x/weights.bin", "onnx.external_data.absolute_path", Severity.HIGH),
    (".ssh/id_rsa", "onnx.external_data.sensitive_path", Severity.HIGH),
])
def test_external_data_paths(location, rule, severity):
    found = run(model_bytes(location=location))
    assert [(f.rule_id, f.severity) for f in found] == [(rule, severity)]
    assert "initializer w" in found[0].location and location in found[0].evidence


def test_traversal_inside_a_subgraph_is_found():
    found = run(model_bytes(subgraph_location="../../etc/hosts"))
    assert found and all(f.rule_id == "onnx.external_data.path_traversal" for f in found)
    assert "then_branch" in found[0].location or "else_branch" in found[0].location


def test_custom_and_python_ops():
    custom = helper.make_node("MyOp", ["y"], ["z"], domain="com.example")
    pyop = helper.make_node("PyOp", ["y"], ["q"], domain="ai.onnx.contrib")
    found = run(model_bytes(extra_nodes=[custom, pyop], opsets=[helper.make_opsetid("com.example", 1),
                                                                helper.make_opsetid("ai.onnx.contrib", 1)]))
    rules = {(f.rule_id, f.severity) for f in found}
    assert ("onnx.op.custom", Severity.MEDIUM) in rules
    assert ("onnx.op.python", Severity.CRITICAL) in rules
    assert ("onnx.opset.custom_domain", Severity.MEDIUM) in rules
    assert run(model_bytes(extra_nodes=[helper.make_node("FusedMatMul", ["y", "y"], ["m"], domain="com.microsoft")],
                           opsets=[helper.make_opsetid("com.microsoft", 1)])) == []


def test_local_function_ops_are_info_only():
    fn = helper.make_function("local.fn", "Double", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                              [helper.make_opsetid("", 17)])
    node = helper.make_node("Double", ["y"], ["d"], domain="local.fn")
    found = run(model_bytes(extra_nodes=[node], functions=[fn], opsets=[helper.make_opsetid("local.fn", 1)]))
    assert {f.rule_id for f in found if f.severity.at_least(Severity.MEDIUM)} == {"onnx.opset.custom_domain"}
    assert any(f.rule_id == "onnx.function.local" for f in found)


def test_malformed_and_oversized(monkeypatch):
    assert [f.rule_id for f in run(b"\x08\x07\x12\xff\xff\xff\xff\x0f")] == ["malformed.onnx.protobuf"]
    assert [f.rule_id for f in run(b"")] == ["malformed.onnx.protobuf"]
    monkeypatch.setattr(onnx_check, "MAX_ONNX_BYTES", 0)
    found = run(model_bytes())
    assert [(f.rule_id, f.severity) for f in found] == [("onnx.streamed", Severity.INFO)]
    assert [f.rule_id for f in run(b"\x08\x07\x12\xff\xff\xff\xff\x0f")][-1] == "malformed.onnx.protobuf"
    assert [f.rule_id for f in run(b"\x3a\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01")][-1] == \
        "malformed.onnx.protobuf"


def _models() -> list[bytes]:
    fn = helper.make_function("local.fn", "Double", ["a"], ["b"], [helper.make_node("Add", ["a", "a"], ["b"])],
                              [helper.make_opsetid("", 17)])
    return [
        model_bytes(), model_bytes(location="../../etc/passwd"), model_bytes(location="/root/.ssh/id_rsa"),
        model_bytes(subgraph_location="../x.bin"),
        model_bytes(extra_nodes=[helper.make_node("PyOp", ["y"], ["q"], domain="ai.onnx.contrib")],
                    opsets=[helper.make_opsetid("ai.onnx.contrib", 1)]),
        model_bytes(extra_nodes=[helper.make_node("Double", ["y"], ["d"], domain="local.fn")], functions=[fn],
                    opsets=[helper.make_opsetid("local.fn", 1)]),
    ]


@pytest.mark.parametrize("index", range(6))
def test_streaming_walk_matches_direct_parse(monkeypatch, index):
    blob = _models()[index]
    direct = run(blob)
    monkeypatch.setattr(onnx_check, "MAX_ONNX_BYTES", 0)
    streamed = run(blob)
    assert streamed[0].rule_id == "onnx.streamed"
    assert streamed[1:] == direct


def test_streaming_walk_skips_weights(monkeypatch):
    """A model with 8 MiB of inline weights is checked after reading it once, keeping only the structure."""
    import numpy as np
    from onnx import numpy_helper

    weight = numpy_helper.from_array(np.zeros(2 << 20, dtype=np.float32), "big")
    graph = helper.make_graph([helper.make_node("Identity", ["big"], ["y"])], "g", [],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2 << 20])], [weight])
    blob = helper.make_model(graph).SerializeToString()
    skeleton = onnx_check._strip(onnx_check._Stream(io.BytesIO(blob), len(blob)), len(blob), onnx_check._MODEL, 0,
                                 [onnx_check._MAX_STRUCTURE])
    assert len(blob) > 8 << 20 and len(skeleton) < 4096
    monkeypatch.setattr(onnx_check, "MAX_ONNX_BYTES", 0)
    assert [f.rule_id for f in run(blob)] == ["onnx.streamed"]


def test_external_file_is_never_opened(tmp_path, monkeypatch):
    """The traversal target does not need to exist and is not read: only the path string is judged."""
    monkeypatch.chdir(tmp_path)
    found = run(model_bytes(location="../../no/such/file.bin"))
    assert found[0].rule_id == "onnx.external_data.path_traversal"


@pytest.mark.parametrize("streaming", [False, True])
def test_invalid_utf8_strings_are_reported_not_raised(monkeypatch, streaming):
    """protobuf returns bytes for a string field that is not UTF-8 (found by fuzzing): still a clean finding."""
    blob = model_bytes(location="/AAAA/x").replace(b"/AAAA/x", b"/\xf4\x8e3\xb0/x")
    if streaming:
        monkeypatch.setattr(onnx_check, "MAX_ONNX_BYTES", 0)
    found = [f for f in run(blob) if f.rule_id != "onnx.streamed"]
    assert [f.rule_id for f in found] == ["onnx.external_data.absolute_path"]


def _external_model(location: str) -> bytes:
    from onnx import TensorProto, helper

    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1], data_location=TensorProto.EXTERNAL)
    entry = w.external_data.add()
    entry.key, entry.value = "location", location
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [w])
    return helper.make_model(graph).SerializeToString()


@pytest.mark.parametrize("target, rule_sev", [
    ("/home/someone/.ssh/id_rsa", "critical"), ("../../outside/weights.bin", "high")])
def test_external_data_file_that_is_a_symlink_out_of_the_folder(tmp_path, target, rule_sev):
    import os

    from modeldossier.artifacts.scanner import scan_section

    (tmp_path / "model.onnx").write_bytes(_external_model("weights.bin"))
    os.symlink(target, tmp_path / "weights.bin")  # missing target: the verdict must not depend on it
    for scanned in ([tmp_path], [tmp_path / "model.onnx"]):
        found = [f for f in scan_section(scanned).findings if f.rule_id == "onnx.external_data.symlink"]
        assert found and found[0].severity.value == rule_sev and found[0].file.endswith("model.onnx")


def test_external_data_plain_file_is_fine(tmp_path):
    from modeldossier.artifacts.scanner import scan_section

    (tmp_path / "model.onnx").write_bytes(_external_model("weights.bin"))
    (tmp_path / "weights.bin").write_bytes(b"\0" * 4)
    assert not [f for f in scan_section([tmp_path]).findings if f.rule_id == "onnx.external_data.symlink"]
