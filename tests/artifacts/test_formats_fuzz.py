"""Fuzzing the non-pickle checkers: mutated inputs give findings, never an exception or a hang.

A handful of examples run by default; the `slow` variants run FUZZ_EXAMPLES (default 20,000) cases per format,
e.g. ``FUZZ_EXAMPLES=20000 pytest -m slow tests/artifacts/test_formats_fuzz.py`` runs 7 x 20,000 = 140,000.
"""

from __future__ import annotations

import io
import json
import os
import struct
import time
from collections.abc import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper

from modeldossier.artifacts import code_check, gguf_check, keras_check, onnx_check, safetensors_check
from modeldossier.artifacts.chat_template import check_template

SLOW_EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "20000"))
PER_CASE_SECONDS = 5.0


def _st_seed() -> bytes:
    header = json.dumps({"__metadata__": {"f": "pt"}, "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
                         "b": {"dtype": "I8", "shape": [4], "data_offsets": [16, 20]}}).encode()
    return struct.pack("<Q", len(header)) + header + bytes(20)


def _gguf_seed() -> bytes:
    def s(text: str) -> bytes:
        return struct.pack("<Q", len(text)) + text.encode()
    kvs = [s("general.alignment") + struct.pack("<II", 4, 32),
           s("tokenizer.chat_template") + struct.pack("<I", 8)
           + s("{% for m in messages %}{{ m.content }}{% endfor %}"),
           s("tokenizer.ggml.tokens") + struct.pack("<IIQ", 9, 8, 3) + s("a") + s("bb") + s("ccc")]
    tensors = s("w") + struct.pack("<IQIQ", 1, 4, 0, 0)
    body = b"GGUF" + struct.pack("<IQQ", 3, 1, len(kvs)) + b"".join(kvs) + tensors
    return body + bytes(-len(body) % 32) + bytes(16)


def _onnx_seed() -> bytes:
    w = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[1], data_location=TensorProto.EXTERNAL)
    e = w.external_data.add()
    e.key, e.value = "location", "w.bin"
    graph = helper.make_graph([helper.make_node("Add", ["x", "w"], ["y"], domain="com.example")], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])], [w])
    return helper.make_model(graph).SerializeToString()


SEEDS = {"safetensors": _st_seed(), "gguf": _gguf_seed(), "onnx": _onnx_seed(), "onnx-stream": _onnx_seed()}
SCANNERS: dict[str, Callable] = {"safetensors": safetensors_check.scan, "gguf": gguf_check.scan,
                                 "onnx": onnx_check.scan, "onnx-stream": onnx_check._scan_streaming}

mutations = st.lists(st.tuples(st.integers(min_value=0, max_value=400), st.binary(min_size=1, max_size=9)),
                     max_size=6)


def _mutate(seed: bytes, edits: list[tuple[int, bytes]], cut: int) -> bytes:
    data = bytearray(seed)
    for pos, patch in edits:
        pos %= max(1, len(data))
        data[pos:pos + len(patch)] = patch
    return bytes(data[: max(0, len(data) - cut)])


def _timed(fn: Callable, *args) -> list:
    start = time.perf_counter()
    found = fn(*args)
    assert time.perf_counter() - start < PER_CASE_SECONDS
    for f in found:
        assert f.rule_id and f.severity
    return found


def _binary_case(fmt: str, edits: list[tuple[int, bytes]], cut: int) -> None:
    blob = _mutate(SEEDS[fmt], edits, cut)
    _timed(SCANNERS[fmt], io.BytesIO(blob), f"f.{fmt}", len(blob))


TEMPLATE_PIECES = ["{{", "}}", "{%", "%}", " for m in messages ", " endfor ", " if ", " endif ", "m.content", "'__",
                   "class__'", "cycler", ".__init__", "|attr(", ")", "(", "[", "]", " ~ ", " + ", "'x'", "namespace",
                   "ignore previous instructions", "http://x.example", "\u200b", "{#", "#}", " set a = ", "self",
                   "\n", "lipsum", "|join", "'<|im_start|>'", " in ", "'deploy'", "{% raw %}", "{% endraw %}"]
PY_PIECES = ["import os\n", "import base64 as b\n", "exec(", "eval(", "b.b64decode(", "'eA=='", ")", "(", "\n",
             "os.system(", "getattr(os, ", "'sys' + 'tem'", "open('/etc/passwd', 'w')", "def f(x):\n    ", "return x\n",
             "os.environ['HF_TOKEN']", "lambda: ", "[", "]", ",", "import subprocess\n", "subprocess.run(", "x = "]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.sampled_from(["Lambda", "__lambda__", "os", "keras.layers", "code",
                                                                  "TFOpLambda", "io.write_file", "exec", "builtins"]),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(
        ["class_name", "module", "config", "function", "function_type", "registered_name", "layers", "name",
         "auto_map", "chat_template", "code"]), c, max_size=5), max_leaves=25)


def _template_case(pieces: list[str]) -> None:
    _timed(check_template, "".join(pieces), "t", "k")


def _python_case(pieces: list[str]) -> None:
    blob = "".join(pieces).encode()
    _timed(code_check.scan, io.BytesIO(blob), "m.py", len(blob))


def _json_case(value) -> None:
    raw = json.dumps({"config": value, "auto_map": value, "chat_template": value if isinstance(value, str) else None})
    _timed(keras_check.check_config_text, raw.encode(), "m.keras", "member config.json")
    _timed(code_check.scan_json, io.BytesIO(raw.encode()), "config.json", len(raw))


def _fast(n: int):
    return settings(max_examples=n, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_seeds_are_valid(fmt):
    blob = SEEDS[fmt]
    found = SCANNERS[fmt](io.BytesIO(blob), "seed", len(blob))
    assert not any(f.rule_id.startswith("malformed") for f in found)


@_fast(150)
@given(st.sampled_from(sorted(SEEDS)), mutations, st.integers(min_value=0, max_value=64))
def test_fuzz_binary_formats(fmt, edits, cut):
    _binary_case(fmt, edits, cut)


@_fast(150)
@given(st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=30))
def test_fuzz_templates(pieces):
    _template_case(pieces)


@_fast(100)
@given(st.lists(st.sampled_from(PY_PIECES), max_size=25))
def test_fuzz_python(pieces):
    _python_case(pieces)


@_fast(100)
@given(json_values)
def test_fuzz_json_configs(value):
    _json_case(value)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", sorted(SEEDS))
def test_fuzz_binary_formats_many(fmt):
    @_fast(SLOW_EXAMPLES)
    @given(mutations, st.integers(min_value=0, max_value=64))
    def run(edits, cut):
        _binary_case(fmt, edits, cut)
    run()


@pytest.mark.slow
def test_fuzz_templates_many():
    _fast(SLOW_EXAMPLES)(given(st.lists(st.sampled_from(TEMPLATE_PIECES), max_size=40))(_template_case))()


@pytest.mark.slow
def test_fuzz_python_and_json_many():
    _fast(SLOW_EXAMPLES // 2)(given(st.lists(st.sampled_from(PY_PIECES), max_size=30))(_python_case))()
    _fast(SLOW_EXAMPLES // 2)(given(json_values)(_json_case))()
