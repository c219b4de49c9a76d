"""`dossier report`: formats, output paths, and one-line errors (exit 2) for bad dossiers."""

from __future__ import annotations

import json

from modeldossier.cli import main
from modeldossier.dossier import load

from .factories import full_dossier, partial_dossier


def _write(tmp_path, dossier, name="m.dossier.json"):
    path = tmp_path / name
    path.write_text(dossier.to_json(), encoding="utf-8")
    return path


def test_html_default_beside_dossier(tmp_path, capsys):
    path = _write(tmp_path, partial_dossier())
    assert main(["report", str(path), "-q"]) == 0
    page = (tmp_path / "m.html").read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>") and "not run: no --target given" in page


def test_markdown_to_stdout_and_json_passthrough(tmp_path, capsys):
    path = _write(tmp_path, full_dossier())
    assert main(["report", str(path), "--format", "md"]) == 0
    assert capsys.readouterr().out.startswith("# Dossier: acme/chat-7b")
    out = tmp_path / "copy.dossier.json"
    assert main(["report", str(path), "--format", "json", "--out", str(out), "-q"]) == 0
    assert load(out) == load(path)
    assert main(["report", str(path), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["schema_version"] == 1


def test_invalid_dossiers_exit_2_with_one_line(tmp_path, capsys):
    cases = {
        "notjson.dossier.json": "{oops",
        "array.dossier.json": "[1, 2]",
        "future.dossier.json": json.dumps({"schema_version": 9, "subject": {}}),
        "old.dossier.json": json.dumps({"schema_version": 0, "subject": {"kind": "path", "ref": "x", "name": "x"}}),
        "typo.dossier.json": json.dumps({"schema_version": 1, "subject": {"kind": "path", "ref": "x", "name": "x"},
                                         "artifacts": {"filez": []}}),
    }
    expected = {
        "notjson": "not valid JSON", "array": "expected a JSON object", "future": "reads up to 1",
        "old": "schema_version 0, older than", "typo": "not a valid dossier",
    }
    for name, text in cases.items():
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        assert main(["report", str(path)]) == 2
        err = capsys.readouterr().err.strip()
        assert len(err.splitlines()) == 1 and "Traceback" not in err
        assert expected[name.split(".")[0]] in err, err
    assert main(["report", str(tmp_path / "missing.dossier.json")]) == 2
    assert "dossier not found" in capsys.readouterr().err
