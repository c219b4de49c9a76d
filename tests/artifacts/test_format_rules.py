"""The format-rule catalogue lists exactly the rules the non-pickle checkers can emit."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from modeldossier.artifacts import format_rules
from modeldossier.artifacts.format_rules import load_catalogue

SOURCES = ["safetensors_check", "gguf_check", "chat_template", "onnx_check", "keras_check", "code_check",
           "config_check"]
RULE = re.compile(
    r'"((?:malformed|safetensors|gguf|chat_template|onnx|keras|hdf5|hf|python|config\.target)\.[a-z0-9_.]+)"')


def emitted() -> set[str]:
    base = Path(format_rules.__file__).parent
    return {m for name in SOURCES for m in RULE.findall((base / f"{name}.py").read_text())}


def test_catalogue_matches_the_checkers():
    catalogue = load_catalogue()
    assert catalogue.version
    found = emitted()
    assert len(found) > 80
    assert found - set(catalogue.rules) == set(), "rules emitted but not catalogued"
    assert set(catalogue.rules) - found == set(), "catalogued rules no checker emits"
    assert all(spec.description for spec in catalogue.rules.values())


def test_malformed_catalogue_is_rejected(tmp_path):
    bad = tmp_path / "rules.yaml"
    bad.write_text("version: '1'\nrules:\n  a.b: {severity: severe}\n")
    with pytest.raises(ValueError):
        load_catalogue(bad)
