"""Snapshot loading: both formats, metadata, and a clear one-line error for every corrupt file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.ecosystem.snapshot import load_snapshot, write_snapshot
from modeldossier.errors import DossierError


def test_roundtrip_both_formats(tmp_path: Path, snapshot_rows: list[dict]) -> None:
    for suffix in ("jsonl", "parquet"):
        path = tmp_path / f"s.{suffix}"
        assert write_snapshot(snapshot_rows, path, snapshot_date="2025-08-31") == len(snapshot_rows)
        snap = load_snapshot(path)
        assert snap.format == suffix and snap.rows == len(snapshot_rows)
        assert len(snap.sha256) == 64
        bases = dict(snap.con.execute("SELECT id, base_model FROM models").fetchall())
        assert bases["anon/llama-merge"] == ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"]
    assert load_snapshot(tmp_path / "s.parquet").snapshot_date == "2025-08-31"
    jsonl = load_snapshot(tmp_path / "s.jsonl")
    assert jsonl.snapshot_date == "2025-03-20" and "lower bound" in jsonl.snapshot_date_source


def test_missing_author_falls_back_to_id_prefix(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text(json.dumps({"id": "Qwen/x", "created_at": "2025-01-01", "downloads": 3}) + "\n")
    snap = load_snapshot(path)
    assert snap.con.execute("SELECT author, base_model FROM models").fetchone() == ("Qwen", None)


def _write(path: Path, lines: list[str]) -> Path:
    path.write_text("\n".join(lines) + "\n")
    return path


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "a/b", "created_at": "2025-01-01", "downloads": 1}', "{not json"], "not a valid JSON Lines"),
        (['{"id": "a/b", "created_at": "2025-01-01", "downloads": "many"}'], "'downloads' is not an integer"),
        (['{"id": "a/b", "created_at": "yesterday", "downloads": 1}'], "not a valid JSON Lines"),
        (['{"id": "a/b", "created_at": "2025-01-01"}'], "without a usable 'downloads'"),
        (['{"created_at": "2025-01-01", "downloads": 1}'], "without an id"),
        (['{"id": "a/b", "created_at": "2025-01-01", "downloads": -4}'], "negative"),
        (['{"id": "a/b", "created_at": "2025-01-01", "downloads": 1}'] * 2, "duplicate id"),
        ([""], "holds no models"),
    ],
)
def test_corrupt_jsonl(tmp_path: Path, lines: list[str], message: str) -> None:
    with pytest.raises(DossierError, match=message) as info:
        load_snapshot(_write(tmp_path / "bad.jsonl", lines))
    assert "\n" not in str(info.value)


def test_corrupt_parquet(tmp_path: Path, snapshot_rows: list[dict]) -> None:
    good = tmp_path / "good.parquet"
    write_snapshot(snapshot_rows, good)
    data = good.read_bytes()
    truncated = tmp_path / "truncated.parquet"
    truncated.write_bytes(data[: len(data) // 2])
    with pytest.raises(DossierError, match="not a readable Parquet"):
        load_snapshot(truncated)


def test_parquet_missing_required_column(tmp_path: Path) -> None:
    import duckdb

    path = tmp_path / "nocol.parquet"
    duckdb.connect().execute(f"COPY (SELECT 'a/b' AS id, 3 AS downloads) TO '{path}' (FORMAT parquet)")
    with pytest.raises(DossierError, match="missing required column"):
        load_snapshot(path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    with pytest.raises(DossierError, match="not found"):
        load_snapshot(tmp_path / "nope.parquet")
    with pytest.raises(DossierError, match="directory"):
        load_snapshot(tmp_path)


@pytest.mark.parametrize("value", ["1.5", "\"12x\"", "1e3", "2.0"])
def test_fractional_or_text_downloads_in_jsonl_is_a_wrong_type(tmp_path, value):
    path = tmp_path / "s.jsonl"
    path.write_text('{"id": "a/b", "created_at": "2024-01-01", "downloads": 3}\n'
                    f'{{"id": "c/d", "created_at": "2024-01-01", "downloads": {value}}}\n')
    with pytest.raises(DossierError, match="'downloads' is not an integer"):
        load_snapshot(path)


def test_fractional_downloads_in_parquet_is_a_wrong_type(tmp_path):
    import duckdb

    path = tmp_path / "s.parquet"
    con = duckdb.connect()
    con.execute("COPY (SELECT 'a/b' AS id, TIMESTAMP '2024-01-01' AS created_at, 1.5::DOUBLE AS downloads) "
                f"TO '{path}' (FORMAT parquet)")
    with pytest.raises(DossierError, match="'downloads' is not an integer"):
        load_snapshot(path)
    con.execute("COPY (SELECT 'a/b' AS id, TIMESTAMP '2024-01-01' AS created_at, 2.0::DOUBLE AS downloads) "
                f"TO '{path}' (FORMAT parquet)")
    assert load_snapshot(path).rows == 1  # a whole number stored as a float is still a count
