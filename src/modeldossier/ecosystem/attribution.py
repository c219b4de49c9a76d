"""Attribute each snapshot model to a country, by uploader or by lineage root (all in DuckDB SQL).

- ``uploader``: the uploading user or organization (``author``, else the id prefix) -> country.
- ``lineage-root``: follow ``base_model`` (first listed parent) inside the snapshot until a model without a
  parent, or a parent that is not in the snapshot; the root's organization -> country. A Qwen fine-tune
  uploaded by a US user counts as Chinese lineage. The walk is depth-limited and stops before a cycle.

Organization -> country comes from the provenance registry (injected as a function for tests);
no country is a valid answer and lands in the ``unknown`` bucket.
"""

# ruff: noqa: S608 - SQL here interpolates only constants and ints; user values are bound as parameters.

from __future__ import annotations

from collections.abc import Callable

import duckdb

from modeldossier.dossier import DataFile
from modeldossier.ecosystem.models import AttributionRule, LineageStats
from modeldossier.errors import DossierError

CountryOf = Callable[[str], "str | None"]
DEFAULT_MAX_DEPTH = 8
RULES: dict[str, str] = {
    "uploader": "country of the uploading user or organization (author, else the id prefix)",
    "lineage-root": (
        "country of the organization of the lineage root: base_model followed (first parent) inside the "
        "snapshot to a model without a parent or to a parent outside the snapshot"
    ),
}


def registry_country_of() -> tuple[CountryOf, str, list[DataFile]]:
    """The provenance registry's org -> ISO country function, a description of it, and its data files."""
    try:
        from modeldossier.provenance import registry
    except ImportError:
        raise DossierError(
            "the provenance registry (org -> country) is not part of this build; cannot attribute countries"
        ) from None

    def country_of(org: str) -> str | None:
        country = registry.lookup(org).country
        return country.upper() if country else None

    source = "modeldossier.provenance.registry"
    files: list[DataFile] = []
    loaded = getattr(registry, "default_registry", None)
    if callable(loaded):
        reg = loaded()
        version = getattr(reg, "version", None)
        source += f" (version {version})" if version else ""
        files = [f for f in getattr(reg, "files", ()) if isinstance(f, DataFile)]
    return country_of, source, files


def build_lineage(con: duckdb.DuckDBPyConnection, max_depth: int = DEFAULT_MAX_DEPTH) -> LineageStats:
    """Create table ``lineage(k, root_k, root_ext, depth)`` for every row of ``models`` that has a parent.

    ``root_k`` is the row key of a root inside the snapshot; ``root_ext`` the id of a root outside it.
    The walk runs on integer keys without paths; the few walks that end with a parent left (a cycle or
    the depth limit) are walked again with their path, to stop before the repeat and tell the two apart.
    """
    if max_depth < 1:
        raise DossierError("max depth must be at least 1")
    depth = int(max_depth)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE parents AS
        SELECT m.k, m.base_model[1] AS parent, len(m.base_model) AS n_parents, p.k AS pk
        FROM models m LEFT JOIN models p ON p.id = m.base_model[1]
        WHERE m.base_model IS NOT NULL AND len(m.base_model) > 0 AND m.base_model[1] IS NOT NULL
              AND m.base_model[1] <> ''
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE walk AS
        WITH RECURSIVE w(k, cur, depth) AS (
            SELECT k, pk, 1 FROM parents WHERE pk IS NOT NULL AND pk <> k
            UNION ALL
            SELECT w.k, p.pk, w.depth + 1 FROM w JOIN parents p ON p.k = w.cur
            WHERE p.pk IS NOT NULL AND p.pk <> w.k AND w.depth < {depth}
        )
        SELECT k, arg_max(cur, depth) AS cur, max(depth) AS depth FROM w GROUP BY k
        """
    )
    # Walks whose end still has an in-snapshot parent: redo them with their path (few rows).
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE rewalk AS
        WITH RECURSIVE todo AS (
            SELECT w.k FROM walk w JOIN parents p ON p.k = w.cur WHERE p.pk IS NOT NULL
        ), r(k, cur, depth, path) AS (
            SELECT p.k, p.pk, 1, [p.k, p.pk] FROM parents p JOIN todo USING (k)
            UNION ALL
            SELECT r.k, p.pk, r.depth + 1, list_append(r.path, p.pk) FROM r JOIN parents p ON p.k = r.cur
            WHERE p.pk IS NOT NULL AND r.depth < {depth} AND NOT list_contains(r.path, p.pk)
        )
        SELECT r.k, arg_max(r.cur, r.depth) AS cur, max(r.depth) AS depth, arg_max(r.path, r.depth) AS path
        FROM r GROUP BY r.k
        """
    )
    cycles, limited = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE list_contains(r.path, p.pk)),
               count(*) FILTER (WHERE NOT list_contains(r.path, p.pk) AND r.depth >= {depth})
        FROM rewalk r JOIN parents p ON p.k = r.cur WHERE p.pk IS NOT NULL
        """
    ).fetchone()
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE lineage AS
        WITH ends AS (
            SELECT p0.k, coalesce(rw.cur, w.cur, p0.k) AS end_k, coalesce(rw.depth, w.depth, 0) AS depth
            FROM parents p0 LEFT JOIN walk w ON w.k = p0.k LEFT JOIN rewalk rw ON rw.k = p0.k
        )
        SELECT e.k,
               CASE WHEN pe.k IS NOT NULL AND pe.pk IS NULL THEN NULL ELSE e.end_k END AS root_k,
               CASE WHEN pe.k IS NOT NULL AND pe.pk IS NULL THEN pe.parent END AS root_ext,
               e.depth + CASE WHEN pe.k IS NOT NULL AND pe.pk IS NULL THEN 1 ELSE 0 END AS depth
        FROM ends e LEFT JOIN parents pe ON pe.k = e.end_k
        """
    )
    with_parent, multi, self_loops = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE n_parents > 1), count(*) FILTER (WHERE pk = k) FROM parents"
    ).fetchone()
    return LineageStats(
        max_depth=max_depth,
        with_parent=int(with_parent),
        multi_parent=int(multi),
        depth_limited=int(limited),
        cycles=int(cycles) + int(self_loops),
    )


def attribute_window(
    con: duckdb.DuckDBPyConnection,
    rule: AttributionRule,
    country_of: CountryOf,
    where: str,
) -> None:
    """Create table ``win``: models matching ``where`` (SQL on alias ``m``) with root, org and country.

    ``country`` follows ``rule``; ``root_country`` is always the lineage root's (for family tables).
    Requires ``build_lineage`` first.
    """
    if rule not in RULES:
        raise DossierError(f"unknown attribution rule {rule!r}; choose one of: {', '.join(RULES)}")
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE win0 AS
        SELECT m.k, m.id, strftime(m.created_at, '%Y-%m') AS month, m.downloads,
               coalesce(m.downloads_all_time, 0) AS downloads_all_time,
               CASE WHEN l.k IS NOT NULL THEN coalesce(m.base_model_relation, 'unspecified') END AS relation,
               coalesce(l.depth, 0) AS depth,
               CASE WHEN l.k IS NULL THEN m.id ELSE coalesce(l.root_ext, r.id) END AS root,
               l.root_ext IS NULL AS root_in_snapshot,
               m.author AS uploader_org,
               CASE WHEN l.k IS NULL THEN m.author
                    WHEN l.root_ext IS NOT NULL THEN
                        CASE WHEN contains(l.root_ext, '/') THEN split_part(l.root_ext, '/', 1) END
                    ELSE r.author END AS root_org
        FROM models m LEFT JOIN lineage l ON l.k = m.k LEFT JOIN models r ON r.k = l.root_k
        WHERE {where}
        """
    )
    names = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT o FROM (SELECT uploader_org AS o FROM win0 UNION SELECT root_org FROM win0) "
            "WHERE o IS NOT NULL AND o <> '' ORDER BY o"
        ).fetchall()
    ]
    countries = [country_of(name) for name in names]
    con.execute(
        "CREATE OR REPLACE TEMP TABLE org_country AS "
        "SELECT unnest(?::VARCHAR[]) AS org, unnest(?::VARCHAR[]) AS country",
        [names, countries],
    )
    org_column = "uploader_org" if rule == "uploader" else "root_org"
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE win AS
        SELECT w.*, w.{org_column} AS org,
               coalesce(c.country, 'unknown') AS country,
               coalesce(rc.country, 'unknown') AS root_country
        FROM win0 w
        LEFT JOIN org_country c ON c.org = w.{org_column}
        LEFT JOIN org_country rc ON rc.org = w.root_org
        """
    )
