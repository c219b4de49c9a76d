"""Keras checks: .keras archives and HDF5 model_config, Lambda bytecode, foreign modules; nothing is loaded."""

from __future__ import annotations

import base64
import io
import json
import marshal
import zipfile

import h5py
import pytest

from modeldossier.artifacts.keras_check import scan
from modeldossier.common import Severity

DENSE = {"module": "keras.layers", "class_name": "Dense", "config": {"name": "dense", "units": 2,
         "activation": "relu"}, "registered_name": None}
INPUT = {"module": "keras.layers", "class_name": "InputLayer", "config": {"batch_shape": [None, 4], "name": "in"},
         "registered_name": None}


def _code_b64() -> str:
    return base64.b64encode(marshal.dumps(compile("lambda x: x", "<lambda>", "eval"))).decode()


def sequential(*layers) -> dict:
    return {"module": "keras", "class_name": "Sequential", "config": {"name": "seq", "layers": [INPUT, *layers]},
            "registered_name": None}


def keras_zip(config: dict | bytes, extra: dict[str, bytes] | None = None) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("metadata.json", json.dumps({"keras_version": "3.6.0"}))
        archive.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        archive.writestr("model.weights.h5", b"")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buf.getvalue()


def h5_file(model_config: dict | None, external: bool = False) -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        if model_config is not None:
            h5.attrs["model_config"] = json.dumps(model_config)
        weights = h5.create_group("model_weights")
        weights.create_dataset("dense/kernel", data=[[1.0, 2.0]])
        if external:
            weights["leak"] = h5py.ExternalLink("/etc/passwd", "/data")
    return buf.getvalue()


def run(blob: bytes, name: str = "model.keras") -> list:
    return scan(io.BytesIO(blob), name, len(blob))


def test_plain_models_are_clean():
    assert run(keras_zip(sequential(DENSE))) == []
    assert run(h5_file(sequential(DENSE)), "model.h5") == []
    assert run(h5_file(None), "weights.h5") == []


def test_keras3_lambda_is_critical():
    lam = {"module": "keras.layers", "class_name": "Lambda", "registered_name": None,
           "config": {"name": "evil", "function": {"class_name": "__lambda__", "config": {
               "code": _code_b64(), "defaults": None, "closure": None}}}}
    found = run(keras_zip(sequential(DENSE, lam)))
    assert [(f.rule_id, f.severity) for f in found] == [("keras.lambda.code", Severity.CRITICAL)]
    assert found[0].location.startswith("member config.json $.config.layers[2]")


def test_legacy_h5_lambda_is_critical():
    lam = {"class_name": "Lambda", "config": {"name": "evil", "function": [_code_b64(), None, None],
                                              "function_type": "lambda"}}
    found = run(h5_file(sequential(lam)), "model.h5")
    assert [(f.rule_id, f.severity) for f in found] == [("keras.lambda.code", Severity.CRITICAL)]
    assert "evil" in found[0].message


def test_lambda_by_function_reference_is_high():
    lam = {"class_name": "Lambda", "config": {"name": "f", "function": "my_fn", "function_type": "function",
                                              "module": "helpers"}}
    found = run(h5_file(sequential(lam)), "model.h5")
    assert [(f.rule_id, f.severity) for f in found] == [("keras.lambda.function", Severity.HIGH)]


@pytest.mark.parametrize("obj, rule, severity", [
    ({"module": "os", "class_name": "system", "config": {}}, "keras.module.dangerous", Severity.CRITICAL),
    ({"module": "subprocess", "class_name": "Popen", "config": {}}, "keras.module.dangerous", Severity.CRITICAL),
    ({"module": "builtins", "class_name": "function", "config": "exec", "registered_name": "function"},
     "keras.module.dangerous", Severity.CRITICAL),
    ({"module": "my_package.layers", "class_name": "Fancy", "config": {}}, "keras.module.external", Severity.HIGH),
    ({"module": None, "class_name": "Custom", "registered_name": "Custom>Fancy", "config": {}},
     "keras.custom_object", Severity.MEDIUM),
    ({"class_name": "TFOpLambda", "config": {"name": "t", "function": "io.write_file"}}, "keras.tfoplambda",
     Severity.CRITICAL),
    ({"class_name": "TFOpLambda", "config": {"name": "t", "function": "math.add"}}, "keras.tfoplambda",
     Severity.MEDIUM),
    ({"module": "keras.config", "class_name": "function", "config": "enable_unsafe_deserialization"},
     "keras.unsafe_deserialization", Severity.CRITICAL),
])
def test_foreign_objects(obj, rule, severity):
    found = run(keras_zip(sequential(DENSE, obj)))
    assert (rule, severity) in {(f.rule_id, f.severity) for f in found}, found


def test_archive_member_tricks():
    found = run(keras_zip(sequential(DENSE), {"../../evil.py": b"x", "assets/vocab.txt": b"a", "hook.py": b"x"}))
    rules = {(f.rule_id, f.severity, f.location) for f in found}
    assert ("keras.zip.path_traversal", Severity.HIGH, "member ../../evil.py") in rules
    assert ("keras.zip.unexpected_member", Severity.HIGH, "member hook.py") in rules
    assert not any("assets" in (f.location or "") for f in found)


def test_external_link_in_h5():
    found = run(h5_file(sequential(DENSE), external=True), "model.h5")
    assert [(f.rule_id, f.evidence) for f in found] == [("hdf5.external_link", "/etc/passwd:/data")]


def test_malformed_inputs():
    assert run(b"PK\x03\x04garbage")[0].rule_id == "malformed.keras.zip"
    assert run(keras_zip(b"{not json"))[0].rule_id == "malformed.keras.config"
    assert run(b"\x89HDF\r\n\x1a\n" + b"\0" * 64, "x.h5")[0].rule_id == "malformed.hdf5"
    deep = b"[" * 100_000 + b"]" * 100_000
    assert run(keras_zip(deep))[0].rule_id == "malformed.keras.config"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as archive:
        archive.writestr("metadata.json", "{}")
    assert run(buf.getvalue())[0].rule_id == "malformed.keras.config"


def test_lambda_code_is_never_run(tmp_path):
    marker = tmp_path / "pwned"
    code = compile(f"lambda x: open({str(marker)!r}, 'w')", "<lambda>", "eval")
    lam = {"class_name": "Lambda", "config": {"name": "evil", "function": [
        base64.b64encode(marshal.dumps(code)).decode(), None, None], "function_type": "lambda"}}
    assert run(h5_file(sequential(lam)), "model.h5")
    assert not marker.exists()


def _sleep_forever(stream, name):
    import time

    time.sleep(60)
    return []


def test_hanging_hdf5_reader_is_killed(monkeypatch):
    """libhdf5 can spin forever on corrupted files (found by fuzzing): the child is killed and we report it."""
    import time

    from modeldossier.artifacts import keras_check

    monkeypatch.setattr(keras_check, "_read_hdf5", _sleep_forever)
    blob = h5_file(sequential(DENSE))
    start = time.perf_counter()
    found = keras_check.scan_hdf5(io.BytesIO(blob), "model.h5", len(blob), timeout=1)
    assert [f.rule_id for f in found] == ["hdf5.parser_hang"]
    assert time.perf_counter() - start < 10
