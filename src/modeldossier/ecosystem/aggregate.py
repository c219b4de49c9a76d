"""Shares by country over created-month windows, top families and derivative counts (DuckDB SQL)."""

# ruff: noqa: S608 - SQL here interpolates only constants and ints; user values are bound as parameters.

from __future__ import annotations

import re
from datetime import date

import duckdb

from modeldossier.ecosystem.attribution import RULES, CountryOf, attribute
from modeldossier.ecosystem.models import (
    AttributionRule,
    CountryShare,
    EcosystemReport,
    Family,
    MonthShare,
    SnapshotInfo,
    Window,
)
from modeldossier.ecosystem.snapshot import Snapshot
from modeldossier.errors import DossierError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(value: str | None, flag: str) -> date | None:
    """``YYYY-MM`` -> the first day of that month; DossierError when malformed."""
    if value is None:
        return None
    match = _MONTH.match(value.strip())
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise DossierError(f"{flag} must be a month like 2024-08, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _window_sql(since: date | None, until: date | None) -> str:
    parts = ["m.created_at IS NOT NULL"]
    if since:
        parts.append(f"m.created_at >= TIMESTAMP '{since.isoformat()}'")
    if until:
        parts.append(f"m.created_at < TIMESTAMP '{until.isoformat()}'")
    return " AND ".join(parts)


def _windowed(con: duckdb.DuckDBPyConnection, where: str) -> None:
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE win AS
        SELECT m.id, strftime(m.created_at, '%Y-%m') AS month, m.downloads,
               coalesce(m.downloads_all_time, 0) AS downloads_all_time,
               a.country, a.root, a.root_country, a.relation
        FROM models m JOIN attributed a USING (id)
        WHERE {where}
        """
    )


def by_country(con: duckdb.DuckDBPyConnection) -> list[CountryShare]:
    """Each country's models and downloads among windowed models, with shares of the totals."""
    rows = con.execute(
        """
        SELECT country, count(*) AS n, sum(downloads)::BIGINT AS d, sum(downloads_all_time)::BIGINT AS da,
               count(*) / sum(count(*)) OVER () AS n_share,
               sum(downloads) / nullif(sum(sum(downloads)) OVER (), 0) AS d_share,
               sum(downloads_all_time) / nullif(sum(sum(downloads_all_time)) OVER (), 0) AS da_share
        FROM win GROUP BY country ORDER BY d DESC, n DESC, country
        """
    ).fetchall()
    return [
        CountryShare(country=c, models=n, downloads=d, downloads_all_time=da, models_share=ns,
                     downloads_share=ds, downloads_all_time_share=das)
        for c, n, d, da, ns, ds, das in rows
    ]


def by_month(con: duckdb.DuckDBPyConnection) -> list[MonthShare]:
    """Each (created month, country) with its share of that month's downloads."""
    rows = con.execute(
        """
        SELECT month, country, count(*), sum(downloads)::BIGINT, sum(downloads_all_time)::BIGINT,
               sum(downloads) / nullif(sum(sum(downloads)) OVER (PARTITION BY month), 0),
               sum(downloads_all_time) / nullif(sum(sum(downloads_all_time)) OVER (PARTITION BY month), 0)
        FROM win GROUP BY month, country ORDER BY month, sum(downloads) DESC, country
        """
    ).fetchall()
    return [
        MonthShare(month=m, country=c, models=n, downloads=d, downloads_all_time=da, downloads_share=ds,
                   downloads_all_time_share=das)
        for m, c, n, d, da, ds, das in rows
    ]


def families(con: duckdb.DuckDBPyConnection, *, order: str, top: int) -> list[Family]:
    """Lineage-root families among windowed models, ordered by downloads or by derivative count."""
    order_sql = {"downloads": "d DESC, n DESC, root", "derivatives": "deriv DESC, d DESC, root"}[order]
    rows = con.execute(
        f"""
        WITH fam AS (
            SELECT root, any_value(root_country) AS country, count(*) AS n,
                   count(*) FILTER (WHERE id <> root) AS deriv,
                   sum(downloads)::BIGINT AS d, sum(downloads_all_time)::BIGINT AS da
            FROM win GROUP BY root
        ), rel AS (
            SELECT root, map(list(relation), list(k)) AS by_rel FROM (
                SELECT root, relation, count(*) AS k FROM win WHERE id <> root GROUP BY root, relation
                ORDER BY root, relation
            ) GROUP BY root
        )
        SELECT fam.root, country, n, deriv, d, da,
               EXISTS (SELECT 1 FROM models m WHERE m.id = fam.root) AS in_snapshot, rel.by_rel
        FROM fam LEFT JOIN rel USING (root)
        ORDER BY {order_sql} LIMIT {int(top)}
        """
    ).fetchall()
    return [
        Family(root=r, country=c, models=n, derivatives=dv, downloads=d, downloads_all_time=da,
               in_snapshot=bool(ins), by_relation=dict(rel or {}))
        for r, c, n, dv, d, da, ins, rel in rows
    ]


def ecosystem_report(
    snapshot: Snapshot,
    rule: AttributionRule,
    country_of: CountryOf,
    *,
    attribution_source: str,
    since: str | None = None,
    until: str | None = None,
    max_depth: int = 8,
    top: int = 20,
    source: str = "file",
) -> EcosystemReport:
    """Attribute, window and aggregate one snapshot into an EcosystemReport (no I/O beyond DuckDB)."""
    start, end = parse_month(since, "--since"), parse_month(until, "--until")
    if start and end and start >= end:
        raise DossierError(f"--since {since} must be before --until {until} (until is exclusive)")
    con = snapshot.con
    lineage = attribute(con, rule, country_of, max_depth=max_depth)
    _windowed(con, _window_sql(start, end))
    in_window = con.execute("SELECT count(*) FROM win").fetchone()[0]
    no_date = con.execute("SELECT count(*) FROM models WHERE created_at IS NULL").fetchone()[0]
    notes = [
        "downloads = the Hub's 30-day download count at snapshot time; downloads_all_time = since creation.",
        "Shares count models created in the window (by created_at month; --until is exclusive).",
    ]
    if rule == "lineage-root":
        notes.append(
            "Lineage follows declared base_model metadata only (first parent for merges); undeclared "
            "derivatives count under their uploader's lineage."
        )
    if no_date:
        notes.append(f"{no_date} model(s) have no created_at and are not counted.")
    if lineage.cycles or lineage.depth_limited:
        notes.append(
            f"base_model walk: {lineage.cycles} cycle(s) stopped, {lineage.depth_limited} walk(s) cut at "
            f"depth {max_depth}."
        )
    if in_window == 0:
        notes.append("No model in the snapshot was created in the window: every share is empty.")
    return EcosystemReport(
        rule=rule,
        rule_description=RULES[rule],
        attribution_source=attribution_source,
        snapshot=SnapshotInfo(
            path=str(snapshot.path), format=snapshot.format, sha256=snapshot.sha256, rows=snapshot.rows,
            snapshot_date=snapshot.snapshot_date, snapshot_date_source=snapshot.snapshot_date_source,
            source=source,
        ),
        window=Window(since=since, until=until, models=int(in_window), models_without_created_at=int(no_date)),
        lineage=lineage,
        by_country=by_country(con),
        by_month=by_month(con),
        top_families=families(con, order="downloads", top=top),
        most_derived=[f for f in families(con, order="derivatives", top=top) if f.derivatives > 0],
        notes=notes,
    )
