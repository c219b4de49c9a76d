"""`dossier ecosystem` end to end: formats, the rule and snapshot date in the output, exit 2 on bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.ecosystem import attribution


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "modeldossier.cli", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def fake_registry(monkeypatch: pytest.MonkeyPatch, lookup) -> None:
    monkeypatch.setattr(attribution, "registry_country_of", lambda: (lookup, "test registry", []))


def test_json_uploader(snapshot_file: Path, fake_registry, capsys) -> None:
    code = main(["ecosystem", "--snapshot", str(snapshot_file), "--since", "2025-01", "--until", "2025-04",
                 "--format", "json", "--quiet"])
    assert code == 0
    data = json.loads(capsys.readouterr().out)
    assert data["rule"] == "uploader" and data["attribution_source"] == "test registry"
    assert data["snapshot"]["snapshot_date"]
    assert {c["country"]: c["downloads"] for c in data["by_country"]} == {"US": 280, "CN": 100, "FR": 100,
                                                                          "unknown": 20}
    assert data["run"]["command"] == "ecosystem"
    assert any(f["name"].startswith("snapshot:") for f in data["run"]["data_files"])


def test_real_registry_lineage_root(snapshot_file: Path, tmp_path: Path, capsys) -> None:
    """With the packaged registry: the US-uploaded Qwen fine-tune and its quantization count as CN lineage."""
    out = tmp_path / "eco"
    code = main(["ecosystem", "--snapshot", str(snapshot_file), "--attribution", "lineage-root",
                 "--since", "2025-01", "--until", "2025-04", "--out", str(out), "--quiet"])
    assert code == 0
    text = capsys.readouterr().out
    expected_date = "2025-08-31" if snapshot_file.suffix == ".parquet" else "2025-03-20"
    assert "lineage-root" in text and f"taken {expected_date}" in text
    data = json.loads((out / "ecosystem.json").read_text())
    shares = {c["country"]: c["downloads"] for c in data["by_country"]}
    assert shares["CN"] == 180 and shares["US"] == 220
    html = (out / "ecosystem.html").read_text()
    assert 'id="rule">lineage-root<' in html and "chart-month-data" in html
    assert "Content-Security-Policy" in html


def test_html_escapes_model_ids(tmp_path: Path, fake_registry, capsys) -> None:
    from modeldossier.ecosystem.snapshot import write_snapshot

    path = tmp_path / "evil.jsonl"
    write_snapshot([{"id": "x/<script>alert(1)</script>", "created_at": "2025-01-01", "downloads": 5}], path)
    assert main(["ecosystem", "--snapshot", str(path), "--format", "html", "--quiet"]) == 0
    html = capsys.readouterr().out
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_corrupt_snapshot_exit_2_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "hub.parquet"
    bad.write_bytes(b"PAR1" + b"\x00" * 64)
    result = run_cli("ecosystem", "--snapshot", str(bad))
    assert result.returncode == 2
    assert "not a readable Parquet" in result.stderr and "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_needs_exactly_one_source(tmp_path: Path, capsys) -> None:
    assert main(["ecosystem"]) == 2
    assert "exactly one" in capsys.readouterr().err
    assert main(["ecosystem", "--snapshot", str(tmp_path / "x.parquet"), "--live"]) == 2
    assert main(["ecosystem", "--snapshot", str(tmp_path / "x.parquet")]) == 2
    assert "not found" in capsys.readouterr().err


def test_bad_month_exit_2(snapshot_file: Path, fake_registry, capsys) -> None:
    assert main(["ecosystem", "--snapshot", str(snapshot_file), "--since", "2024-8"]) == 2
    assert "month like 2024-08" in capsys.readouterr().err


def test_live_network_down_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.setenv("MODELDOSSIER_CACHE", str(tmp_path))
    assert main(["ecosystem", "--live", "--limit", "5", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "--snapshot" in err and "Traceback" not in err


def test_help_has_example(capsys) -> None:
    assert main(["ecosystem", "--help"]) == 0
    assert "Example" in capsys.readouterr().out
