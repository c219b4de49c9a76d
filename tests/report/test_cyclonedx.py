"""CycloneDX 1.6 ML-BOM rendering, validated with cyclonedx-python-lib's bundled 1.6 JSON schema."""

from __future__ import annotations

import json

import pytest

from modeldossier.artifacts.models import ArtifactsSection, FileReport, Finding
from modeldossier.common import Severity
from modeldossier.dossier import Subject, SubjectFile
from modeldossier.report.cyclonedx import render_cyclonedx

cdx_json = pytest.importorskip("cyclonedx.validation.json", reason="cyclonedx-python-lib[json-validation] (dev)")
from cyclonedx.schema import SchemaVersion  # noqa: E402


@pytest.fixture(scope="module")
def validate():
    validator = cdx_json.JsonStrictValidator(SchemaVersion.V1_6)

    def check(bom: dict) -> str | None:
        error = validator.validate_str(json.dumps(bom))
        return None if error is None else str(error.data.message)
    return check


def _section() -> ArtifactsSection:
    findings = [
        Finding(rule_id="keras.lambda.code", severity=Severity.CRITICAL, message="lambda", file="model.keras",
                location="member config.json $.config", evidence="4wEAAAAA"),
        Finding(rule_id="keras.lambda.code", severity=Severity.CRITICAL, message="lambda", file="model.keras",
                location="member config.json $.config", evidence="4wEAAAAA"),
        Finding(rule_id="safetensors.data.trailing", severity=Severity.INFO, message="t", file="w.safetensors"),
    ]
    return ArtifactsSection(files=[
        FileReport(path="model.keras", format="keras-zip", size=100, sha256="c" * 64, findings=findings[:2]),
        FileReport(path="w.safetensors", format="safetensors", size=50, findings=findings[2:]),
    ])


def test_bom_validates_and_carries_model_files_and_findings(validate):
    subject = Subject(kind="hub", ref="org/model", name="org/model", revision="abc123",
                      files=[SubjectFile(path="w.safetensors", size=50, sha256="d" * 64),
                             SubjectFile(path="config.json", size=10, sha256="e" * 64)])
    bom = render_cyclonedx(_section(), subject)
    assert validate(bom) is None
    assert bom["specVersion"] == "1.6"
    model = bom["metadata"]["component"]
    assert model["type"] == "machine-learning-model" and model["name"] == "org/model"
    files = {c["name"]: c for c in bom["components"]}
    assert set(files) == {"w.safetensors", "config.json", "model.keras"}
    assert files["w.safetensors"]["hashes"] == [{"alg": "SHA-256", "content": "d" * 64}]
    assert files["model.keras"]["hashes"] == [{"alg": "SHA-256", "content": "c" * 64}]
    assert set(bom["dependencies"][0]["dependsOn"]) == {c["bom-ref"] for c in bom["components"]}
    vulns = bom["vulnerabilities"]
    assert len(vulns) == 3  # identical findings stay distinct items
    assert [v["ratings"][0]["severity"] for v in vulns] == ["critical", "critical", "info"]
    assert vulns[0]["affects"] == [{"ref": files["model.keras"]["bom-ref"]}]
    assert vulns[0]["detail"] == "4wEAAAAA"


def test_bom_without_subject_or_findings_validates(validate):
    bom = render_cyclonedx(ArtifactsSection())
    assert validate(bom) is None
    assert "vulnerabilities" not in bom


def test_validator_catches_a_bad_bom(validate):
    bom = render_cyclonedx(_section())
    bom["vulnerabilities"][0]["ratings"][0]["severity"] = "catastrophic"
    assert validate(bom) is not None


def test_scanned_paths_merge_with_subject_files(validate, tmp_path):
    subject = Subject(kind="path", ref=str(tmp_path), name="m",
                      files=[SubjectFile(path="w.safetensors", size=50, sha256="d" * 64)])
    absolute = str(tmp_path / "w.safetensors")
    finding = Finding(rule_id="safetensors.tensor.overlap", severity=Severity.HIGH, message="o", file=absolute)
    section = ArtifactsSection(files=[
        FileReport(path=absolute, format="safetensors", size=50, findings=[finding]),
        FileReport(path=absolute + "!inner.pkl", format="pickle", size=3)])
    bom = render_cyclonedx(section, subject)
    assert validate(bom) is None
    names = [c["name"] for c in bom["components"]]
    assert names == ["w.safetensors", absolute + "!inner.pkl"]
    assert bom["vulnerabilities"][0]["affects"] == [{"ref": "file:w.safetensors"}]
