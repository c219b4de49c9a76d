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
    """Create table ``lineage(id, root, depth, relation)`` for every row of ``models``."""
    if max_depth < 1:
        raise DossierError("max depth must be at least 1")
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE parents AS
        SELECT id, base_model[1] AS parent, len(base_model) AS n_parents FROM models
        WHERE base_model IS NOT NULL AND len(base_model) > 0 AND base_model[1] IS NOT NULL AND base_model[1] <> ''
        """
    )
    con.execute(
        f"""
        CREATE OR REPLACE TEMP TABLE walk AS
        WITH RECURSIVE w(id, cur, depth, path) AS (
            SELECT id, parent, 1, [id, parent] FROM parents WHERE parent <> id
            UNION ALL
            SELECT w.id, p.parent, w.depth + 1, list_append(w.path, p.parent)
            FROM w JOIN parents p ON p.id = w.cur
            WHERE w.depth < {int(max_depth)} AND NOT list_contains(w.path, p.parent)
        )
        SELECT id, arg_max(cur, depth) AS root, max(depth) AS depth, arg_max(path, depth) AS path
        FROM w GROUP BY id
        """
    )
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE lineage AS
        SELECT m.id, coalesce(w.root, m.id) AS root, coalesce(w.depth, 0) AS depth,
               CASE WHEN w.root IS NULL THEN NULL ELSE coalesce(m.base_model_relation, 'unspecified') END
                   AS relation
        FROM models m LEFT JOIN walk w USING (id)
        """
    )
    with_parent, multi = con.execute(
        "SELECT count(*), count(*) FILTER (WHERE n_parents > 1) FROM parents"
    ).fetchone()
    cycles, limited = con.execute(
        f"""
        SELECT count(*) FILTER (WHERE list_contains(w.path, p.parent) OR p.parent = p.id),
               count(*) FILTER (WHERE NOT list_contains(w.path, p.parent) AND w.depth >= {int(max_depth)})
        FROM walk w JOIN parents p ON p.id = w.root
        """
    ).fetchone()
    self_loops = con.execute("SELECT count(*) FROM parents WHERE parent = id").fetchone()[0]
    return LineageStats(
        max_depth=max_depth,
        with_parent=int(with_parent),
        multi_parent=int(multi),
        depth_limited=int(limited),
        cycles=int(cycles) + int(self_loops),
    )


def attribute(
    con: duckdb.DuckDBPyConnection,
    rule: AttributionRule,
    country_of: CountryOf,
    *,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> LineageStats:
    """Create table ``attributed(id, root, depth, relation, org, country, root_country)``.

    ``country`` follows ``rule``; ``root_country`` is always the lineage root's (for family tables).
    """
    if rule not in RULES:
        raise DossierError(f"unknown attribution rule {rule!r}; choose one of: {', '.join(RULES)}")
    stats = build_lineage(con, max_depth)
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE orgs AS
        SELECT l.id, l.root, l.depth, l.relation,
               m.author AS uploader_org,
               coalesce(r.author, CASE WHEN contains(l.root, '/') THEN split_part(l.root, '/', 1) END) AS root_org
        FROM lineage l JOIN models m USING (id) LEFT JOIN models r ON r.id = l.root
        """
    )
    names = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT o FROM (SELECT uploader_org AS o FROM orgs UNION SELECT root_org FROM orgs) "
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
        CREATE OR REPLACE TEMP TABLE attributed AS
        SELECT o.id, o.root, o.depth, o.relation, o.{org_column} AS org,
               coalesce(c.country, 'unknown') AS country,
               coalesce(rc.country, 'unknown') AS root_country
        FROM orgs o
        LEFT JOIN org_country c ON c.org = o.{org_column}
        LEFT JOIN org_country rc ON rc.org = o.root_org
        """
    )
    return stats
