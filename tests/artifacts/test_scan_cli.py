"""`dossier scan`: output formats and the 0/1/2 exit-code contract."""

from __future__ import annotations

import json
import pickle

import pytest

from modeldossier import dossier as dossier_io
from modeldossier.cli import main

EVIL = b"\x80\x04\x8c\x02os\x8c\x06system\x93(\x8c\x01xtR."


@pytest.fixture()
def folder(tmp_path):
    (tmp_path / "clean.pkl").write_bytes(pickle.dumps({"a": [1, 2]}))
    (tmp_path / "model.safetensors").write_bytes(EVIL)
    return tmp_path


def test_json_is_one_document_with_findings(folder, capsys):
    code = main(["scan", str(folder), "--format", "json", "--quiet"])
    assert code == 1
    doc = json.loads(capsys.readouterr().out)
    [f] = doc["findings"]
    assert {"severity", "rule_id", "file", "location", "evidence", "message"} <= f.keys()
    assert f["severity"] == "critical" and f["file"].endswith("model.safetensors")
    assert {x["format"] for x in doc["files"]} == {"pickle"}


def test_exit_codes(folder, capsys):
    assert main(["scan", str(folder / "clean.pkl"), "-q"]) == 0
    assert main(["scan", str(folder / "model.safetensors"), "-q"]) == 1
    assert main(["scan", str(folder / "missing.bin"), "-q"]) == 2
    assert main(["scan", str(folder), "--format", "nope"]) == 2
    (folder / "unknown.pkl").write_bytes(b"\x80\x04\x8c\x03lib\x8c\x01X\x93.")  # medium: unknown global
    assert main(["scan", str(folder / "unknown.pkl"), "-q"]) == 0
    assert main(["scan", str(folder / "unknown.pkl"), "-q", "--fail-on", "medium"]) == 1
    out = capsys.readouterr().out
    assert "pickle.global.dangerous" in out


def test_text_output_names_rule_file_and_location(folder, capsys):
    main(["scan", str(folder / "model.safetensors")])
    out = capsys.readouterr().out
    assert "CRITICAL" in out and "offset" in out and "STACK_GLOBAL os.system" in out


def test_dossier_merge_and_hash(folder, tmp_path, capsys):
    target = tmp_path / "out" / "d.dossier.json"
    assert main(["scan", str(folder), "--hash", "--dossier", str(target), "-q"]) == 1
    result = dossier_io.load(target)
    assert result.artifacts is not None and result.artifacts.worst().value == "critical"
    assert all(f.sha256 for f in result.subject.files)
    assert result.run.records[-1].command == "scan"
    assert any(d.name == "artifacts/pickle_allowlist.yaml" and d.version for d in result.run.records[-1].data_files)
    assert any(d.name == "artifacts/format_rules.yaml" for d in result.run.records[-1].data_files)
    main(["scan", str(folder), "--dossier", str(target), "-q"])
    assert len(dossier_io.load(target).run.records) == 2


@pytest.mark.parametrize("fmt, key", [("sarif", "runs"), ("cyclonedx", "bomFormat")])
def test_sarif_and_cyclonedx_when_available(folder, capsys, fmt, key):
    code = main(["scan", str(folder), "--format", fmt, "-q"])
    out = capsys.readouterr()
    if code == 2:
        assert "not available" in out.err
        return
    assert code == 1
    assert key in json.loads(out.out)
