"""The non-pickle benchmark corpus, judged by the format checkers directly (routing by file kind)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from modeldossier.artifacts import code_check, gguf_check, keras_check, onnx_check, safetensors_check
from modeldossier.common import Severity

BENCH = Path(__file__).resolve().parents[2] / "bench" / "scanner"
CHECKERS = {".safetensors": safetensors_check.scan, ".gguf": gguf_check.scan, ".onnx": onnx_check.scan,
            ".keras": keras_check.scan, ".h5": keras_check.scan, ".py": code_check.scan, ".json": code_check.scan,
            ".jinja": code_check.scan}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    sys.path.insert(0, str(BENCH))
    spec = importlib.util.spec_from_file_location("corpus_formats", BENCH / "corpus_formats.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, module.write_corpus(tmp_path_factory.mktemp("corpus"))


def worst(path: Path) -> int:
    files = [path] if path.is_file() else sorted(p for p in path.rglob("*") if p.is_file())
    ranks = [-1]
    for file in files:
        check = CHECKERS.get(file.suffix)
        if check is None:
            continue
        with open(file, "rb") as handle:
            ranks += [f.severity.rank for f in check(handle, file.name, file.stat().st_size)]
    return max(ranks)


def test_corpus_shape(corpus):
    _, samples = corpus
    labels = [s.label for s in samples]
    assert labels.count("malicious") >= 15 and labels.count("benign") >= 10 and labels.count("malformed") >= 5
    assert len({s.technique for s in samples}) == len(samples)


def test_every_malicious_sample_is_high_and_no_benign_one_is(corpus):
    _, samples = corpus
    missed = [s.technique for s in samples if s.label == "malicious" and worst(s.path) < Severity.HIGH.rank]
    false_alarms = [s.technique for s in samples if s.label == "benign" and worst(s.path) >= Severity.HIGH.rank]
    assert missed == [] and false_alarms == []
    assert not any(p.name == "PWNED_MARKER" for s in samples for p in s.path.parent.rglob("*"))


def test_big_safetensors_is_valid_and_sparse(corpus, tmp_path):
    module, _ = corpus
    path = module.write_big_safetensors(tmp_path / "big.safetensors", gib=0.25)
    assert path.stat().st_size > 0.25 * (1 << 30)
    with open(path, "rb") as handle:
        assert safetensors_check.scan(handle, path.name, path.stat().st_size) == []
