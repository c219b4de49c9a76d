"""A small snapshot whose shares can be computed by hand (see test_aggregate.py for the arithmetic)."""

from __future__ import annotations

from pathlib import Path

import pytest

COUNTRIES = {"Qwen": "CN", "deepseek-ai": "CN", "meta-llama": "US", "us-user": "US", "mistralai": "FR",
             "google": "US"}


def country_of(org: str) -> str | None:
    return COUNTRIES.get(org)


def row(id_: str, created: str | None, downloads: int, all_time: int, base: list[str] | None = None,
        relation: str | None = None, author: str | None = None) -> dict:
    return {
        "id": id_, "author": author or id_.split("/")[0], "created_at": created, "downloads": downloads,
        "downloads_all_time": all_time, "base_model": base, "base_model_relation": relation,
        "pipeline_tag": "text-generation", "library": "transformers", "license": "apache-2.0",
    }


ROWS = [
    row("Qwen/Qwen2.5-7B", "2025-01-10T08:00:00", 100, 1000),
    row("meta-llama/Llama-3.1-8B", "2025-01-15T08:00:00", 200, 2000),
    row("us-user/qwen-ft", "2025-02-01T08:00:00", 50, 100, ["Qwen/Qwen2.5-7B"], "finetune"),
    row("us-user/qwen-ft-gguf", "2025-02-20T08:00:00", 30, 60, ["us-user/qwen-ft"], "quantized"),
    row("anon/llama-merge", "2025-03-05T08:00:00", 20, 40, ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"],
        "merge"),
    row("mistralai/Mistral-7B", "2025-03-10T08:00:00", 100, 200),
    row("someone/r1-distill", "2025-03-20T08:00:00", 0, 0, ["deepseek-ai/DeepSeek-R1"], "finetune"),
    row("cycle/a", "2024-12-01T08:00:00", 5, 5, ["cycle/b"], "finetune"),
    row("cycle/b", "2024-12-02T08:00:00", 5, 5, ["cycle/a"], "finetune"),
    row("google/gemma-2b", "2024-06-01T08:00:00", 1000, 9000),
    row("x/nodate", None, 7, 7),
]


@pytest.fixture
def lookup():
    """Organization -> country for the test snapshot (independent of the provenance registry)."""
    return country_of


@pytest.fixture
def snapshot_rows() -> list[dict]:
    return [dict(r) for r in ROWS]


@pytest.fixture(params=["jsonl", "parquet"])
def snapshot_file(request, tmp_path: Path) -> Path:
    from modeldossier.ecosystem.snapshot import write_snapshot

    path = tmp_path / f"hub.{request.param}"
    write_snapshot(ROWS, path, snapshot_date="2025-08-31")
    return path
