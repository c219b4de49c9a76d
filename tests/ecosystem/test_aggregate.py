"""Known answers on a hand-built snapshot (downloads in the window total 500; see conftest.ROWS).

uploader:     CN 100 (Qwen), US 280 (meta 200 + us-user 50 + 30), FR 100, unknown 20 (anon) + 0.
lineage-root: CN 180 (Qwen 100 + its US-uploaded fine-tune 50 + quantized 30 + r1-distill 0),
              US 220 (meta 200 + merge 20, first parent), FR 100.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modeldossier.ecosystem.aggregate import ecosystem_report, parse_month
from modeldossier.ecosystem.snapshot import load_snapshot
from modeldossier.errors import DossierError

COUNTRIES = {"Qwen": "CN", "deepseek-ai": "CN", "meta-llama": "US", "us-user": "US", "mistralai": "FR"}


def report(path: Path, rule: str, **kw):
    kw.setdefault("since", "2025-01")
    kw.setdefault("until", "2025-04")
    return ecosystem_report(load_snapshot(path), rule, COUNTRIES.get, attribution_source="test", **kw)


def shares(rep) -> dict[str, tuple[int, float]]:
    return {c.country: (c.downloads, round(c.downloads_share, 6)) for c in rep.by_country}


def test_uploader_shares(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "uploader")
    assert rep.window.models == 7
    assert shares(rep) == {"US": (280, 0.56), "CN": (100, 0.2), "FR": (100, 0.2), "unknown": (20, 0.04)}
    alltime = {c.country: c.downloads_all_time for c in rep.by_country}
    assert alltime == {"US": 2160, "CN": 1000, "FR": 200, "unknown": 40}
    us = next(c for c in rep.by_country if c.country == "US")
    assert us.models == 3 and us.models_share == pytest.approx(3 / 7)
    assert us.downloads_all_time_share == pytest.approx(2160 / 3400)


def test_lineage_root_flips_us_uploaded_qwen_finetune_to_cn(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "lineage-root")
    assert shares(rep) == {"US": (220, 0.44), "CN": (180, 0.36), "FR": (100, 0.2)}
    assert rep.rule == "lineage-root" and "lineage root" in rep.rule_description
    assert rep.snapshot.snapshot_date is not None


def test_months(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "lineage-root")
    months = {(m.month, m.country): (m.downloads, m.downloads_share) for m in rep.by_month}
    assert months[("2025-01", "CN")] == (100, pytest.approx(1 / 3))
    assert months[("2025-02", "CN")] == (80, pytest.approx(1.0))
    assert months[("2025-03", "FR")] == (100, pytest.approx(100 / 120))
    assert months[("2025-03", "CN")] == (0, pytest.approx(0.0))
    assert {m.month for m in rep.by_month} == {"2025-01", "2025-02", "2025-03"}


def test_families_and_derivatives(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "uploader")
    fams = {f.root: f for f in rep.top_families}
    qwen = fams["Qwen/Qwen2.5-7B"]
    assert (qwen.models, qwen.derivatives, qwen.downloads, qwen.country) == (3, 2, 180, "CN")
    assert qwen.by_relation == {"finetune": 1, "quantized": 1}
    assert fams["meta-llama/Llama-3.1-8B"].by_relation == {"merge": 1}
    r1 = fams["deepseek-ai/DeepSeek-R1"]
    assert (r1.in_snapshot, r1.country, r1.derivatives) == (False, "CN", 1)
    assert [f.root for f in rep.top_families][:2] == ["meta-llama/Llama-3.1-8B", "Qwen/Qwen2.5-7B"]
    assert rep.most_derived[0].root == "Qwen/Qwen2.5-7B"
    assert all(f.derivatives > 0 for f in rep.most_derived)


def test_cycles_and_depth_limit(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "lineage-root", since=None, until=None)
    assert rep.lineage.cycles == 2
    assert rep.lineage.with_parent == 6 and rep.lineage.multi_parent == 1
    assert rep.lineage.depth_limited == 0
    assert rep.window.models == 10 and rep.window.models_without_created_at == 1
    short = report(snapshot_file, "lineage-root", max_depth=1)
    assert short.lineage.depth_limited == 1
    fams = {f.root for f in short.top_families}
    assert "us-user/qwen-ft" in fams  # the quantized model stops one step short of Qwen
    cn = {c.country: c.downloads for c in short.by_country}
    assert cn["CN"] == 150 and cn["US"] == 250


def test_empty_window_is_reported(snapshot_file: Path) -> None:
    rep = report(snapshot_file, "uploader", since="2030-01", until="2030-02")
    assert rep.window.models == 0 and rep.by_country == []
    assert any("No model" in n for n in rep.notes)


@pytest.mark.parametrize("value", ["2024", "2024-13", "24-01", "last year"])
def test_bad_month(value: str) -> None:
    with pytest.raises(DossierError, match="month like"):
        parse_month(value, "--since")


def test_since_after_until(snapshot_file: Path) -> None:
    with pytest.raises(DossierError, match="before"):
        report(snapshot_file, "uploader", since="2025-05", until="2025-04")


def test_cycle_not_through_start_stops_before_repeat(tmp_path: Path) -> None:
    from modeldossier.ecosystem.snapshot import write_snapshot

    rows = [
        {"id": "o/x", "created_at": "2025-01-01", "downloads": 1, "base_model": ["o/a"]},
        {"id": "o/a", "created_at": "2025-01-01", "downloads": 1, "base_model": ["o/b"]},
        {"id": "o/b", "created_at": "2025-01-01", "downloads": 1, "base_model": ["o/c"]},
        {"id": "o/c", "created_at": "2025-01-01", "downloads": 1, "base_model": ["o/b"]},
        {"id": "o/s", "created_at": "2025-01-01", "downloads": 1, "base_model": ["o/s"]},
    ]
    path = tmp_path / "cyc.jsonl"
    write_snapshot(rows, path)
    snap = load_snapshot(path)
    rep = ecosystem_report(snap, "lineage-root", {}.get, attribution_source="t", max_depth=50)
    roots = dict(snap.con.execute("SELECT id, root FROM win").fetchall())
    assert roots == {"o/x": "o/c", "o/a": "o/c", "o/b": "o/c", "o/c": "o/b", "o/s": "o/s"}
    assert rep.lineage.cycles == 5 and rep.lineage.depth_limited == 0
    assert rep.by_country[0].country == "unknown"
