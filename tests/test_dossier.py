"""The dossier schema: round trip, merge, migration errors, and the committed JSON Schema."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from modeldossier import dossier as dio
from modeldossier.artifacts.models import ArtifactsSection, FileReport, Finding
from modeldossier.common import Severity
from modeldossier.dossier import Dossier, Subject
from modeldossier.errors import DossierError
from modeldossier.provenance.models import ProvenanceSection
from modeldossier.runinfo import finish, start_record

ROOT = Path(__file__).resolve().parents[1]


def _subject(name: str = "org/model") -> Subject:
    return Subject(kind="path", ref="/models/x", name=name)


def _artifacts(severity: Severity = Severity.CRITICAL) -> ArtifactsSection:
    finding = Finding(rule_id="pickle.global.dangerous", severity=severity, message="os.system", file="a.pkl",
                      location="opcode 3", evidence="GLOBAL os system")
    return ArtifactsSection(files=[FileReport(path="a.pkl", format="pickle", size=10, findings=[finding])])


def test_round_trip(tmp_path: Path) -> None:
    d = Dossier(subject=_subject(), artifacts=_artifacts())
    d.run.records.append(finish(start_record("scan", {"x": 1}), ["artifacts"]))
    path = dio.save(d, tmp_path / "a.dossier.json")
    again = dio.load(path)
    assert again == d
    assert again.artifacts.worst() is Severity.CRITICAL
    assert again.run.records[0].dependencies["pydantic"] != "not installed"


def test_merge_keeps_sections_from_both_and_accumulates_runs() -> None:
    a = Dossier(subject=_subject(), artifacts=_artifacts())
    a.run.not_run["provenance"] = "not asked"
    a.run.records.append(finish(start_record("scan"), ["artifacts"]))
    b = Dossier(subject=_subject(), provenance=ProvenanceSection(observed_family="qwen2"))
    b.run.records.append(finish(start_record("origin"), ["provenance"]))
    merged = dio.merge(a, b)
    assert merged.artifacts == a.artifacts
    assert merged.provenance.observed_family == "qwen2"
    assert [r.command for r in merged.run.records] == ["scan", "origin"]
    assert "provenance" not in merged.run.not_run


def test_merge_refuses_other_subject() -> None:
    with pytest.raises(DossierError, match="different subjects"):
        dio.merge(Dossier(subject=_subject("a/b")), Dossier(subject=_subject("c/d")))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not valid JSON"),
        ("[]", "expected a JSON object"),
        ("{}", "no schema_version"),
        ('{"schema_version": 99, "subject": {}}', "upgrade"),
        ('{"schema_version": 1, "subject": {"kind": "path"}}', "not a valid dossier"),
    ],
)
def test_load_rejects_bad_input_with_one_clear_message(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DossierError, match=message):
        dio.load(path)


def test_load_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match="not found"):
        dio.load(tmp_path / "none.json")


def test_save_is_atomic_and_keeps_the_old_file_on_failure(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "d.json"
    dio.save(Dossier(subject=_subject()), path)
    before = path.read_text()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("os.replace", boom)
    with pytest.raises(DossierError, match="disk full"):
        dio.save(Dossier(subject=_subject(), artifacts=_artifacts()), path)
    assert path.read_text() == before
    assert [p.name for p in tmp_path.iterdir()] == ["d.json"]


def test_committed_json_schema_is_in_sync() -> None:
    committed = json.loads((ROOT / "docs" / "dossier.schema.json").read_text())
    assert committed == json.loads(json.dumps(dio.json_schema())), (
        "docs/dossier.schema.json is stale: run `dossier schema --write docs/dossier.schema.json`"
    )


def test_dossier_validates_against_its_json_schema() -> None:
    d = Dossier(subject=_subject(), artifacts=_artifacts())
    d.run.records.append(finish(start_record("scan"), ["artifacts"]))
    jsonschema.validate(json.loads(d.to_json()), dio.json_schema())


def test_saved_files_are_world_readable(tmp_path: Path) -> None:
    path = dio.save(Dossier(subject=_subject()), tmp_path / "d.json")
    assert path.stat().st_mode & 0o777 == 0o644


def test_pre_v1_schema_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "old.json"
    path.write_text('{"schema_version": 0, "subject": {}}')
    with pytest.raises(DossierError, match="oldest schema this modeldossier can migrate"):
        dio.load(path)
