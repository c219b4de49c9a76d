"""Malformed dossiers and non-UTF-8 names: a one-line error or a clean, UTF-8 result, never an internal error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modeldossier import dossier as dio
from modeldossier.cli import main
from modeldossier.dossier import Dossier, Subject

EVIL_PICKLE = b"cos\nsystem\n(S'echo hi'\ntR."  # protocol 0: GLOBAL os.system, then REDUCE


def _valid(tmp_path: Path, name: str = "m") -> Path:
    path = tmp_path / f"{name}.dossier.json"
    path.write_text(Dossier(subject=Subject(kind="path", ref="./m", name=name)).to_json(), encoding="utf-8")
    return path


def _one_line_error(capsys, code: int) -> str:
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "internal error" not in err and "Traceback" not in err, err
    return err


def _odd_name_dir(tmp_path: Path, content: bytes) -> Path:
    folder = tmp_path / "d"
    folder.mkdir()
    try:
        (folder / os.fsdecode(b"\xff\xfebad.pkl")).write_bytes(content)
    except (OSError, UnicodeError):
        pytest.skip("this filesystem refuses non-UTF-8 file names")
    return folder


@pytest.mark.parametrize(
    "text, fragment",
    [("[" * 100_000 + "]" * 100_000, "nested too deeply"),
     ('{"schema_version": ' + "9" * 5000 + "}", "Exceeds the limit")],
    ids=["deep", "huge-int"],
)
@pytest.mark.parametrize("command", ["report", "compare", "gate", "scan", "origin"])
def test_deep_or_huge_int_json_is_a_one_line_error(tmp_path, capsys, minilm_dir, text, fragment, command) -> None:
    bad = tmp_path / "bad.dossier.json"
    bad.write_text(text, encoding="utf-8")
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrequired_sections: [artifacts]\n", encoding="utf-8")
    args = {
        "report": ["report", str(bad), "-f", "md"],
        "compare": ["compare", str(bad), str(_valid(tmp_path))],
        "gate": ["gate", str(bad), "-p", str(policy)],
        "scan": ["scan", str(minilm_dir / "config.json"), "--dossier", str(bad), "-q"],
        "origin": ["origin", str(minilm_dir), "--offline", "--dossier", str(bad), "-q"],
    }[command]
    err = _one_line_error(capsys, main(args))
    assert str(bad) in err and fragment in err


def test_dossier_too_deep_to_write_is_a_one_line_error(tmp_path, capsys) -> None:
    data = json.loads(_valid(tmp_path).read_text(encoding="utf-8"))
    data["run"]["records"] = [{"command": "x", "tool_version": "0", "python": "3", "started_at": "now",
                               "settings": {"deep": json.loads("[" * 300 + "]" * 300)}}]
    path = tmp_path / "deep.dossier.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    assert "cannot write the dossier" in _one_line_error(capsys, main(["report", str(path), "-f", "json"]))


def test_storable_escapes_file_name_bytes_and_replaces_other_surrogates() -> None:
    from modeldossier.fsutil import storable

    assert storable("a\udcff\udcfeb\ud800c") == "a\\xff\\xfeb\ufffdc"
    assert storable({"k\udcff": ["\ud800", 1]}) == {"k\\xff": ["\ufffd", 1]}
    same = "plain é"
    assert storable(same) is same


def test_to_json_makes_surrogates_storable() -> None:
    d = Dossier(subject=Subject(kind="path", ref="d/\udcff", name="\ud800"))
    data = json.loads(d.to_json())
    assert data["subject"]["ref"] == "d/\\xff" and data["subject"]["name"] == "\ufffd"


def test_scan_sarif_with_non_utf8_file_name(tmp_path, capsys) -> None:
    folder = _odd_name_dir(tmp_path, EVIL_PICKLE)
    assert main(["scan", str(folder), "-f", "sarif", "-q"]) in (0, 1)
    out = capsys.readouterr().out
    out.encode("utf-8")
    sarif = json.loads(out)
    uris = [loc["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]
            for loc in r["locations"]]
    assert uris and all("%FF%FEbad.pkl" in uri for uri in uris)
    assert "\\udc" not in out


def test_scan_dossier_and_audit_with_non_utf8_file_name(tmp_path, capsys) -> None:
    folder = _odd_name_dir(tmp_path, b"\x80\x02}q\x00.")
    target = tmp_path / "x.dossier.json"
    assert main(["scan", str(folder), "--dossier", str(target), "-q"]) == 0
    assert any(f.path == "\\xff\\xfebad.pkl" for f in dio.load(target).subject.files)
    out = tmp_path / "out"
    assert main(["audit", str(folder), "--offline", "--out", str(out), "-q"]) == 0
    assert "\\\\xff\\\\xfebad.pkl" in (out / "d.dossier.json").read_text(encoding="utf-8")
    assert "\\xff\\xfebad.pkl" in (out / "d.html").read_text(encoding="utf-8")


@pytest.fixture
def surrogate_dossier(tmp_path) -> Path:
    """A valid dossier whose subject name is a JSON-escaped lone surrogate."""
    path = tmp_path / "s.dossier.json"
    text = _valid(tmp_path, "SUBJ").read_text(encoding="utf-8").replace('"SUBJ"', '"\\ud800x"')
    path.write_text(text, encoding="utf-8")
    return path


def test_lone_surrogate_is_replaced_on_load(surrogate_dossier) -> None:
    assert dio.load(surrogate_dossier).subject.name == "\ufffdx"


@pytest.mark.parametrize(
    "args",
    [["report", "{d}", "-f", "md"], ["report", "{d}", "-f", "html", "-o", "{tmp}/r.html"],
     ["gate", "{d}", "-p", "{tmp}/p.yaml"], ["gate", "{d}", "-p", "{tmp}/p.yaml", "-f", "json"],
     ["compare", "{d}", "{other}"], ["compare", "{d}", "{other}", "-f", "md"],
     ["compare", "{d}", "{other}", "-f", "json"]],
    ids=["report-md", "report-html", "gate-text", "gate-json", "compare-text", "compare-md", "compare-json"],
)
def test_surrogate_subject_name_renders_as_utf8(tmp_path, capsys, surrogate_dossier, args) -> None:
    (tmp_path / "p.yaml").write_text("version: 1\nrequired_sections: [artifacts]\n", encoding="utf-8")
    values = {"d": str(surrogate_dossier), "tmp": str(tmp_path), "other": str(_valid(tmp_path, "other"))}
    code = main([a.format(**values) for a in args])
    captured = capsys.readouterr()
    assert code in (0, 1), captured.err
    captured.out.encode("utf-8")
    written = tmp_path / "r.html"
    shown = written.read_text(encoding="utf-8") if written.exists() else captured.out
    assert "\ufffdx" in shown or "\\ufffdx" in shown


def test_gate_with_non_utf8_policy_file_name(tmp_path, capsys) -> None:
    policy = tmp_path / os.fsdecode(b"\xffp.yaml")
    try:
        policy.write_text("version: 1\nrequired_sections: [artifacts]\n", encoding="utf-8")
    except (OSError, UnicodeError):
        pytest.skip("this filesystem refuses non-UTF-8 file names")
    dossier = _valid(tmp_path)
    assert main(["gate", str(dossier), "-p", str(policy)]) == 1
    out = capsys.readouterr().out
    out.encode("utf-8")
    assert "\\xffp.yaml" in out
    assert main(["gate", str(dossier), "-p", str(policy), "-f", "json"]) == 1
    assert "\\udc" not in capsys.readouterr().out


@pytest.mark.parametrize("kind", ["missing", "folder", "not-utf8"])
def test_unreadable_dossier_paths_are_one_line_errors(tmp_path, capsys, kind) -> None:
    path = {"missing": tmp_path / "nope.json", "folder": tmp_path, "not-utf8": tmp_path / "b.json"}[kind]
    if kind == "not-utf8":
        path.write_bytes(b"\xff\xfe{")
    policy = tmp_path / "p.yaml"
    policy.write_text("version: 1\nrequired_sections: [artifacts]\n", encoding="utf-8")
    for args in (["report", str(path)], ["compare", str(path), str(_valid(tmp_path))],
                 ["gate", str(path), "-p", str(policy)]):
        _one_line_error(capsys, main(args))


def test_rescan_of_non_utf8_folder_merges_into_its_dossier(tmp_path, capsys) -> None:
    folder = tmp_path / os.fsdecode(b"\xf0dir")
    try:
        folder.mkdir()
    except (OSError, UnicodeError):
        pytest.skip("this filesystem refuses non-UTF-8 file names")
    (folder / "a.pkl").write_bytes(b"\x80\x02}q\x00.")
    target = tmp_path / "y.dossier.json"
    for _ in range(2):
        assert main(["scan", str(folder), "--dossier", str(target), "-q"]) == 0, capsys.readouterr().err
    saved = dio.load(target)
    assert saved.subject.name == "\\xf0dir" and len(saved.run.records) == 2
