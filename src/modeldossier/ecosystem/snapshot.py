"""Load and write Hub snapshots: one row per model, as Parquet or JSON Lines, validated into DuckDB.

Schema (one row per Hub model; see docs/ecosystem.md):

| column | type | required | meaning |
|---|---|---|---|
| id | VARCHAR | yes | Hub id, ``org/name`` |
| author | VARCHAR | no | uploader (user or organization); the id prefix when missing |
| created_at | TIMESTAMP | yes (may be null) | repo creation time (UTC) |
| downloads | BIGINT | yes | downloads over the last 30 days when the snapshot was taken |
| downloads_all_time | BIGINT | no | downloads since creation |
| base_model | VARCHAR[] | no | declared parent models (Hub ``base_model`` relation) |
| base_model_relation | VARCHAR | no | finetune, quantized, adapter, merge, ... |
| pipeline_tag | VARCHAR | no | e.g. text-generation |
| library | VARCHAR | no | e.g. transformers, gguf |
| license | VARCHAR | no | e.g. apache-2.0 |

A Parquet snapshot may carry the key-value metadata ``snapshot_date`` (ISO date it was taken).
"""

# ruff: noqa: S608 - SQL here interpolates only constants and ints; user values are bound as parameters.

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb

from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file

COLUMNS: dict[str, str] = {
    "id": "VARCHAR",
    "author": "VARCHAR",
    "created_at": "TIMESTAMP",
    "downloads": "BIGINT",
    "downloads_all_time": "BIGINT",
    "base_model": "VARCHAR[]",
    "base_model_relation": "VARCHAR",
    "pipeline_tag": "VARCHAR",
    "library": "VARCHAR",
    "license": "VARCHAR",
}
REQUIRED = ("id", "created_at", "downloads")
SnapshotFormat = Literal["parquet", "jsonl"]


@dataclass(frozen=True)
class Snapshot:
    """A validated snapshot in table ``models`` (the schema's columns plus an integer row key ``k``)."""

    con: duckdb.DuckDBPyConnection
    path: Path
    format: SnapshotFormat
    sha256: str
    rows: int
    snapshot_date: str | None
    snapshot_date_source: str


def detect_format(path: Path) -> SnapshotFormat:
    """Parquet by its magic bytes, else JSON Lines (by content, not by extension)."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(4)
    except FileNotFoundError:
        raise DossierError(f"snapshot not found: {path}") from None
    except OSError as exc:
        raise DossierError(f"cannot read snapshot {path}: {exc.strerror or exc}") from None
    if head == b"PAR1":
        return "parquet"
    return "jsonl"


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


_JSON_COLUMNS = "{" + ", ".join(f"'{name}': '{kind}'" for name, kind in COLUMNS.items()) + "}"
_READ_JSONL = f"read_json(?, format='newline_delimited', columns={_JSON_COLUMNS}, maximum_object_size=1048576)"


def _source_sql(path: Path, fmt: SnapshotFormat, con: duckdb.DuckDBPyConnection) -> str:
    """A SELECT over the file (bound as parameter 1) giving every schema column typed; missing ones NULL."""
    if fmt == "jsonl":
        return f"SELECT * FROM {_READ_JSONL}"
    try:
        described = con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()
    except duckdb.Error as exc:
        raise DossierError(f"{path} is not a readable Parquet snapshot: {_one_line(exc)}") from None
    present = {row[0] for row in described}
    missing = [c for c in REQUIRED if c not in present]
    if missing:
        raise DossierError(
            f"{path} is missing required column(s) {', '.join(missing)}; see docs/ecosystem.md for the schema"
        )
    # Column names and types come from COLUMNS (constants), never from the file.
    exprs = [
        f"TRY_CAST({name} AS {kind}) AS {name}" if name in present else f"CAST(NULL AS {kind}) AS {name}"
        for name, kind in COLUMNS.items()
    ]
    return f"SELECT {', '.join(exprs)} FROM read_parquet(?)"


_INTEGER_COLUMNS = [name for name, kind in COLUMNS.items() if kind == "BIGINT"]
_RAW_JSON_COLUMNS = "{" + ", ".join(
    f"'{name}': '{'VARCHAR' if kind == 'BIGINT' else kind}'" for name, kind in COLUMNS.items()
) + "}"
_INTEGER_TYPES = {"TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT"}


def _check_integers(path: Path, fmt: SnapshotFormat, con: duckdb.DuckDBPyConnection) -> None:
    """A count column holding a fraction or text (``downloads: 1.5``) is a wrong type: DossierError, never rounded."""
    if fmt == "jsonl":
        source = (f"read_json(?, format='newline_delimited', columns={_RAW_JSON_COLUMNS}, "
                  "maximum_object_size=1048576)")
        tests = {name: f"{name} IS NOT NULL AND NOT regexp_full_match(trim({name}), '-?[0-9]+')"
                 for name in _INTEGER_COLUMNS}
    else:
        source = "read_parquet(?)"
        types = {row[0]: str(row[1]).upper() for row in
                 con.execute("DESCRIBE SELECT * FROM read_parquet(?)", [str(path)]).fetchall()}
        # Column names come from COLUMNS (constants), never from the file.
        tests = {name: f"{name} IS NOT NULL AND (TRY_CAST({name} AS DOUBLE) IS NULL "
                       f"OR TRY_CAST({name} AS DOUBLE) <> trunc(TRY_CAST({name} AS DOUBLE)))"
                 for name in _INTEGER_COLUMNS if name in types and types[name] not in _INTEGER_TYPES}
    if not tests:
        return
    counts = ", ".join(f"count(*) FILTER (WHERE {test})" for test in tests.values())
    try:
        found = con.execute(f"SELECT {counts} FROM {source}", [str(path)]).fetchone()  # noqa: S608 - constants
    except duckdb.Error:
        return  # the main read reports an unreadable file with its own message
    for name, bad in zip(tests, found or (), strict=False):
        if bad:
            raise DossierError(f"{path}: {bad} row(s) where '{name}' is not an integer (wrong type); "
                               "see docs/ecosystem.md for the schema")


def _snapshot_date(con: duckdb.DuckDBPyConnection, path: Path, fmt: SnapshotFormat) -> tuple[str | None, str]:
    if fmt == "parquet":
        rows = con.execute(
            "SELECT value::VARCHAR FROM parquet_kv_metadata(?) WHERE key::VARCHAR = 'snapshot_date'", [str(path)]
        ).fetchall()
        if rows and rows[0][0]:
            return rows[0][0], "parquet metadata"
    latest = con.execute("SELECT max(created_at)::DATE::VARCHAR FROM models").fetchone()
    return (latest[0] if latest else None), "latest created_at in the file (lower bound)"


def _validate(con: duckdb.DuckDBPyConnection, path: Path) -> int:
    """Row count, after checking ids, counts and types; DossierError naming the first problem."""
    rows, null_ids, negative, dup = con.execute(
        """
        SELECT count(*),
               count(*) FILTER (WHERE id IS NULL OR id = ''),
               count(*) FILTER (WHERE downloads < 0 OR downloads_all_time < 0),
               count(*) - count(DISTINCT hash(id))
        FROM models
        """
    ).fetchone()
    if rows == 0:
        raise DossierError(f"{path} holds no models")
    if null_ids:
        raise DossierError(f"{path}: {null_ids} row(s) without an id")
    if negative:
        raise DossierError(f"{path}: {negative} row(s) with negative download counts")
    if dup:  # distinct hashes imply distinct ids; on a hash collision, count exactly
        dup = con.execute("SELECT count(*) - count(DISTINCT id) FROM models").fetchone()[0]
    if dup:
        example = con.execute("SELECT id FROM models GROUP BY id HAVING count(*) > 1 LIMIT 1").fetchone()
        raise DossierError(f"{path}: {dup} duplicate id(s), e.g. {example[0]!r}")
    missing_downloads = con.execute("SELECT count(*) FROM models WHERE downloads IS NULL").fetchone()[0]
    if missing_downloads:
        raise DossierError(
            f"{path}: {missing_downloads} row(s) without a usable 'downloads' integer (missing or wrong type)"
        )
    return int(rows)


def load_snapshot(path: Path) -> Snapshot:
    """Read a Parquet or JSONL snapshot into DuckDB and validate it; DossierError (one line) when corrupt."""
    path = Path(path)
    if path.is_dir():
        raise DossierError(f"{path} is a directory; give a snapshot file (.parquet or .jsonl)")
    fmt = detect_format(path)
    con = duckdb.connect(database=":memory:")
    source = _source_sql(path, fmt, con)
    _check_integers(path, fmt, con)
    try:
        con.execute(
            "CREATE TABLE models AS SELECT row_number() OVER () AS k, * REPLACE (coalesce(author, CASE WHEN "
            f"contains(id, '/') THEN split_part(id, '/', 1) END) AS author) FROM ({source})",
            [str(path)],
        )
    except duckdb.Error as exc:
        kind = "Parquet" if fmt == "parquet" else "JSON Lines"
        raise DossierError(f"{path} is not a valid {kind} snapshot: {_one_line(exc)}") from None
    rows = _validate(con, path)
    snapshot_date, date_source = _snapshot_date(con, path, fmt)
    return Snapshot(
        con=con,
        path=path,
        format=fmt,
        sha256=sha256_file(path),
        rows=rows,
        snapshot_date=snapshot_date,
        snapshot_date_source=date_source,
    )


def _jsonable(record: dict[str, Any]) -> dict[str, Any]:
    row = {name: record.get(name) for name in COLUMNS}
    created = row["created_at"]
    if created is not None and not isinstance(created, str):
        row["created_at"] = created.isoformat()
    if isinstance(row["base_model"], str):
        row["base_model"] = [row["base_model"]]
    return row


def write_snapshot(records: Iterable[dict[str, Any]], path: Path, *, snapshot_date: date | str | None = None) -> int:
    """Write rows (dicts with the schema's keys) as JSONL or Parquet (by ``path`` suffix); returns the count.

    Parquet is written by DuckDB (no pyarrow needed) with ``snapshot_date`` as key-value metadata.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".jsonl", dir=path.parent)
    count = 0
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            for record in records:
                handle.write(json.dumps(_jsonable(record), ensure_ascii=False) + "\n")
                count += 1
        if path.suffix.lower() == ".parquet":
            stamp = date.fromisoformat(str(snapshot_date or date.today())[:10]).isoformat()
            out = Path(f"{path}.tmp")
            con = duckdb.connect(database=":memory:")
            con.execute(f"CREATE TABLE rows AS SELECT * FROM {_READ_JSONL}", [tmp])
            # COPY cannot bind parameters: the target is quoted, the stamp is a validated ISO date.
            target = str(out).replace("'", "''")
            con.execute(
                f"COPY rows TO '{target}' (FORMAT parquet, KV_METADATA {{snapshot_date: '{stamp}'}})"
            )
            con.close()
            os.replace(out, path)
            Path(tmp).unlink(missing_ok=True)
        else:
            os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return count
