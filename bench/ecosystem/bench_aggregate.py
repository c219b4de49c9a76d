"""Benchmark: generate an N-row synthetic Hub snapshot (Parquet, written by DuckDB) and aggregate it.

    .venv/bin/python bench/ecosystem/bench_aggregate.py --rows 1000000 --out /tmp/eco-bench

Prints the time to load + validate, attribute (both rules, with the packaged registry) and aggregate.
The snapshot is synthetic (random ids, dates, downloads and a DAG of base_model links); it is not the Hub.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path

import duckdb

from modeldossier.ecosystem import attribution
from modeldossier.ecosystem.aggregate import ecosystem_report
from modeldossier.ecosystem.snapshot import load_snapshot

ORGS = ["Qwen", "meta-llama", "deepseek-ai", "mistralai", "google", "microsoft", "THUDM", "01-ai",
        "tiiuae", "nvidia", "moonshotai", "baidu"]


def generate(path: Path, rows: int, n_orgs: int = 20000, seed: int = 7) -> float:
    """Write the synthetic snapshot; returns seconds taken. Parents always have a smaller index (a DAG)."""
    start = time.perf_counter()
    con = duckdb.connect()
    con.execute(f"SELECT setseed({seed / 100})")
    orgs = "[" + ", ".join(f"'{o}'" for o in ORGS) + "]"
    con.execute(
        f"""
        COPY (
          WITH base AS (
            SELECT i, (hash(i * 7919) % 2147483647)::BIGINT AS h1, (hash(i * 104729) % 2147483647)::BIGINT AS h2,
                   (hash(i * 1299709) % 2147483647)::BIGINT AS h3 FROM range({rows}) t(i)
          ), named AS (
            SELECT i, h1, h2, h3,
                   CASE WHEN i % {n_orgs} < {len(ORGS)} THEN {orgs}[i % {n_orgs} + 1]
                        ELSE 'user' || (i % {n_orgs}) END AS org
            FROM base
          )
          SELECT org || '/model-' || i AS id, org AS author,
                 TIMESTAMP '2022-06-01' + to_days((h1 % 1200)::INTEGER) + to_seconds((h2 % 86400)::BIGINT)
                     AS created_at,
                 CAST(pow(10, (h2 % 7000) / 1000.0) AS BIGINT) AS downloads,
                 CAST(pow(10, (h3 % 8000) / 1000.0) AS BIGINT) AS downloads_all_time,
                 CASE WHEN i > 100 AND h3 % 10 < 4 THEN
                     [CASE WHEN (h1 // 7) % {n_orgs} < {len(ORGS)}
                           THEN {orgs}[(h1 // 7) % {n_orgs} % {len(ORGS)} + 1]
                           ELSE 'user' || ((h1 // 7) % {n_orgs}) END
                      || '/model-' || ((h1 // 7) % i)]
                 END AS base_model,
                 CASE WHEN i > 100 AND h3 % 10 < 4 THEN ['finetune', 'quantized', 'adapter', 'merge'][h2 % 4 + 1]
                 END AS base_model_relation,
                 'text-generation' AS pipeline_tag, 'transformers' AS library, 'apache-2.0' AS license
          FROM named
        ) TO '{path}' (FORMAT parquet, KV_METADATA {{snapshot_date: '2025-08-31'}})
        """
    )
    con.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--out", type=Path, default=Path("/tmp/eco-bench"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"synthetic-{args.rows}.parquet"
    gen_s = generate(path, args.rows)
    country_of, source, _ = attribution.registry_country_of()
    results = {"rows": args.rows, "generate_s": round(gen_s, 2), "parquet_mb": round(path.stat().st_size / 1e6, 1),
               "machine": f"{platform.machine()} {platform.processor() or ''}".strip(), "cpus": os.cpu_count(),
               "loadavg_1m_before": round(os.getloadavg()[0], 1)}
    for rule in ("uploader", "lineage-root"):
        t0, c0 = time.perf_counter(), time.process_time()
        snap = load_snapshot(path)
        t1 = time.perf_counter()
        report = ecosystem_report(snap, rule, country_of, attribution_source=source,
                                  since="2024-08", until="2025-08")
        t2 = time.perf_counter()
        results[rule] = {
            "load_validate_s": round(t1 - t0, 2), "attribute_aggregate_s": round(t2 - t1, 2),
            "total_s": round(t2 - t0, 2), "cpu_s": round(time.process_time() - c0, 2),
            "models_in_window": report.window.models,
            "with_parent": report.lineage.with_parent, "depth_limited": report.lineage.depth_limited,
            "top_country": report.by_country[0].country if report.by_country else None,
        }
        snap.con.close()
    results["loadavg_1m_after"] = round(os.getloadavg()[0], 1)
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
