"""Shares by country over created-month windows, top families and derivative counts (DuckDB SQL)."""

# ruff: noqa: S608 - SQL here interpolates only constants and ints; user values are bound as parameters.

from __future__ import annotations

import re
from datetime import date

import duckdb

from modeldossier.ecosystem.attribution import RULES, CountryOf, attribute_window, build_lineage
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
    if not match or not 1 <= int(match.group(2)) <= 12 or int(match.group(1)) < 1:
        raise DossierError(f"{flag} must be a month like 2024-08, got {value!r}")
    return date(int(match.group(1)), int(match.group(2)), 1)


def _window_sql(since: date | None, until: date | None) -> str:
    parts = ["m.created_at IS NOT NULL"]
    if since:
        parts.append(f"m.created_at >= TIMESTAMP '{since.isoformat()}'")
    if until:
        parts.append(f"m.created_at < TIMESTAMP '{until.isoformat()}'")
    return " AND ".join(parts)


def by_country(con: duckdb.DuckDBPyConnection) -> list[CountryShare]:
    """Each country's models and downloads among windowed models, with shares of the totals."""
    rows = con.execute(
        """
        SELECT country, count(*) AS n, sum(downloads)::HUGEINT AS d, sum(downloads_all_time)::HUGEINT AS da,
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
        SELECT month, country, count(*), sum(downloads)::HUGEINT, sum(downloads_all_time)::HUGEINT,
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


def build_families(con: duckdb.DuckDBPyConnection) -> None:
    """Create table ``fam``: one row per lineage root among windowed models."""
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE fam AS
        SELECT root, any_value(root_country) AS country, bool_and(root_in_snapshot) AS in_snapshot,
               count(*) AS n, count(*) FILTER (WHERE depth > 0) AS deriv,
               sum(downloads)::HUGEINT AS d, sum(downloads_all_time)::HUGEINT AS da
        FROM win GROUP BY root
        """
    )


def families(con: duckdb.DuckDBPyConnection, *, order: str, top: int) -> list[Family]:
    """Lineage-root families (from ``build_families``), ordered by downloads or by derivative count."""
    order_sql = {"downloads": "d DESC, n DESC, root", "derivatives": "deriv DESC, d DESC, root"}[order]
    rows = con.execute(
        f"SELECT root, country, n, deriv, d, da, in_snapshot FROM fam ORDER BY {order_sql} LIMIT {int(top)}"
    ).fetchall()
    relations: dict[str, dict[str, int]] = {}
    if rows:
        for root, relation, count in con.execute(
            "SELECT root, relation, count(*) FROM win WHERE depth > 0 AND list_contains(?, root) "
            "GROUP BY root, relation ORDER BY root, relation",
            [[r[0] for r in rows]],
        ).fetchall():
            relations.setdefault(root, {})[relation] = int(count)
    return [
        Family(root=r, country=c, models=n, derivatives=dv, downloads=d, downloads_all_time=da,
               in_snapshot=bool(ins), by_relation=relations.get(r, {}))
        for r, c, n, dv, d, da, ins in rows
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
    if rule not in RULES:
        raise DossierError(f"unknown attribution rule {rule!r}; choose one of: {', '.join(RULES)}")
    lineage = build_lineage(con, max_depth)
    attribute_window(con, rule, country_of, _window_sql(start, end))
    build_families(con)
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
