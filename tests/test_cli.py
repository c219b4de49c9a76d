"""The CLI contract: exit codes 0/1/2, one-line errors, atomic output, the demo audit."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from modeldossier import dossier as dio
from modeldossier.cli import main


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modeldossier.cli", *args], capture_output=True, text=True,
                          timeout=300)


def test_help_lists_commands_with_examples() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    assert "audit" in result.stdout
    audit_help = run_cli("audit", "--help")
    assert "Example" in audit_help.stdout


def test_unknown_option_is_one_line_exit_2() -> None:
    result = run_cli("audit", ".", "--bogus")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_missing_path_exit_2(tmp_path: Path) -> None:
    result = run_cli("audit", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_folder_without_model_files_exit_2(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli("audit", str(tmp_path), "--out", str(tmp_path / "out"))
    assert result.returncode == 2
    assert "no model files" in result.stderr
    assert not (tmp_path / "out").exists()


def test_debug_shows_traceback(tmp_path: Path) -> None:
    result = run_cli("--debug", "audit", str(tmp_path / "nope"))
    assert result.returncode == 2
    assert "Traceback" in result.stderr


def test_audit_bundled_model_writes_dossier_and_html(minilm_dir: Path, tmp_path: Path) -> None:
    code = main(["audit", str(minilm_dir), "--name", "sentence-transformers/all-MiniLM-L6-v2",
                 "--out", str(tmp_path), "--quiet"])
    assert code in (0, 1)
    path = tmp_path / "sentence-transformers__all-MiniLM-L6-v2.dossier.json"
    d = dio.load(path)
    assert d.subject.name == "sentence-transformers/all-MiniLM-L6-v2"
    weights = next(f for f in d.subject.files if f.path == "model.safetensors")
    assert weights.size > 80_000_000 and len(weights.sha256) == 64
    assert d.run.records[0].command == "audit"
    for section in ("artifacts", "provenance", "behavior", "codesec"):
        assert (getattr(d, section) is not None) != (section in d.run.not_run), section
    assert "no --target" in d.run.not_run["behavior"]
    used = {f.name for f in d.run.records[0].data_files}
    assert {"artifacts/pickle_allowlist.yaml", "registry_curated.yaml"} <= used
    assert d.provenance.observed_family, "the bundled BERT tokenizer should be recognised"
    html = (tmp_path / "sentence-transformers__all-MiniLM-L6-v2.html").read_text()
    assert "sentence-transformers/all-MiniLM-L6-v2" in html
    json.loads(path.read_text())


def test_rich_markup_in_names_and_values_is_printed_as_text(minilm_dir: Path, tmp_path: Path) -> None:
    """A ``[/]`` in a path, a name or a model card is text, not a broken markup tag."""
    missing = run_cli("report", str(tmp_path / "x[/]y.json"))
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert "x[/]y.json" in missing.stderr and "internal error" not in missing.stderr

    model = tmp_path / "model"
    model.mkdir()
    (model / "config.json").write_text((minilm_dir / "config.json").read_text())
    (model / "README.md").write_text('---\nbase_model: "[/]evil"\n---\n')
    origin = run_cli("origin", str(model), "--offline")
    assert origin.returncode == 0, origin.stderr
    assert "[/]evil" in origin.stdout

    audit = run_cli("audit", str(minilm_dir), "--offline", "--name", "[/]x [bold]", "--out", str(tmp_path / "o[/]"))
    assert audit.returncode in (0, 1), audit.stderr
    assert "[/]x [bold]" in audit.stdout and "internal error" not in audit.stderr


def test_an_empty_path_is_an_error_not_the_working_directory() -> None:
    for command in ("scan", "origin", "audit"):
        result = run_cli(command, "")
        assert result.returncode == 2 and "empty path" in result.stderr, (command, result.stderr)


def test_scan_text_and_json_with_a_non_utf8_file_name(tmp_path: Path) -> None:
    import os

    folder = tmp_path / "m"
    folder.mkdir()
    with open(os.fsencode(folder) + b"/\xff\xfe.pkl", "wb") as fh:
        fh.write(b"cos\nsystem\n(S'id'\ntR.")  # a finding, so the text output names the file
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    for fmt in ("text", "json"):
        result = subprocess.run([sys.executable, "-m", "modeldossier.cli", "scan", str(folder), "-f", fmt],
                                capture_output=True, text=True, timeout=120, env=env)
        assert result.returncode == 1, result.stderr
        assert "\\xff\\xfe.pkl" in result.stdout or "\\\\xff\\\\xfe.pkl" in result.stdout, result.stdout
