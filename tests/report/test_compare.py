"""Comparison of N dossiers: CI separation, common metrics only, z-scores against a reference cohort."""

from __future__ import annotations

import json
import statistics

import pytest

from modeldossier.cli import main
from modeldossier.common import Rate
from modeldossier.report.compare import Metric, cell_where, compare, metrics, separated
from modeldossier.report.compare_format import render_html, render_markdown
from modeldossier.stats import wilson

from .factories import XSS, full_dossier, partial_dossier


def _m(est, lo, hi):
    return Metric("k", "behavior", "k", "rate", "s", est, lo, hi)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        (_m(0.5, 0.4, 0.6), _m(0.2, 0.1, 0.3), True),
        (_m(0.5, 0.4, 0.6), _m(0.35, 0.25, 0.45), False),  # overlap: not flagged even though estimates differ
        (_m(0.5, 0.4, 0.6), _m(0.3, 0.2, 0.4), False),  # touching ends count as overlap
        (_m(0.5, None, None), _m(0.1, 0.0, 0.2), False),  # no CI, no flag
    ],
)
def test_separation(a, b, expected):
    assert separated(a, b) is expected
    assert separated(b, a) is expected


def test_flags_follow_wilson_intervals():
    """Same rates, different n: the small sample overlaps, the large one separates."""
    small = [full_dossier("x/a"), full_dossier("x/b")]
    big = [full_dossier("y/a"), full_dossier("y/b")]
    for pair, n in ((small, 10), (big, 400)):
        for d, k in zip(pair, (int(0.6 * n), int(0.4 * n)), strict=True):
            d.behavior.cells[0].rates["COMPLETE"] = wilson(k, n)
    key = f"behavior.rate[{cell_where(small[0].behavior.cells[0])}].COMPLETE"
    rows = {r.key: r for r in compare(small).rows}
    assert not rows[key].flagged
    rows = {r.key: r for r in compare(big).rows}
    assert rows[key].separated_pairs == [(0, 1)]


def test_strong_vs_no_asymmetry_flagged():
    result = compare([full_dossier("m/a", scale=1.0), full_dossier("m/b", scale=0.0, gap=0.0)])
    rows = {r.key: r for r in result.rows}
    assert rows["behavior.max_asymmetry"].flagged
    assert not rows["behavior.asymmetry[taiwan/en]"].flagged  # tiny gap in both: CIs overlap
    assert rows["artifacts.findings"].separated_pairs == []  # counts carry no CI: never flagged


def test_different_suites_and_missing_sections_are_left_out():
    a, b, c = full_dossier("m/a"), full_dossier("m/b"), partial_dossier("m/c")
    b.behavior.suite_version = "2.0.0"
    result = compare([a, b])
    assert not any(r.section == "behavior" for r in result.rows)
    assert any("different suites" in note and "censorship@2.0.0" in note for note in result.left_out)
    assert any(r.section == "codesec" for r in result.rows)
    result = compare([a, c])
    assert {r.section for r in result.rows} == {"artifacts", "provenance"}
    assert any(note.startswith("behavior: not in m/c") for note in result.left_out)
    assert any(note.startswith("codesec: not in m/c") for note in result.left_out)


def test_topics_not_in_every_dossier_are_left_out():
    a, b = full_dossier("m/a"), full_dossier("m/b")
    b.behavior.asymmetry = b.behavior.asymmetry[:2]
    result = compare([a, b])
    keys = {r.key for r in result.rows}
    assert "behavior.asymmetry[tiananmen/en]" in keys and "behavior.asymmetry[taiwan/en]" not in keys
    assert any("not measured on every model" in note for note in result.left_out)


def test_z_score_against_cohort():
    cohort = [full_dossier(f"us/{i}", scale=s) for i, s in enumerate((0.1, 0.2, 0.4))]
    subject = full_dossier("cn/x", scale=1.0)
    result = compare([subject], cohort, "US open-weight")
    row = next(r for r in result.rows if r.key == "behavior.asymmetry[tiananmen/en]")
    ref = [metrics(d)[row.key].estimate for d in cohort]
    expected = (row.values[0].estimate - statistics.fmean(ref)) / statistics.stdev(ref)
    assert row.z[0] == pytest.approx(expected)
    assert row.z[0] > 2
    assert row.cohort.n == 3
    country = next(r for r in result.rows if r.key == "provenance.lineage_root_country")
    assert country.cohort.values == {"CN": 3}


def test_single_member_cohort_gives_no_z():
    result = compare([full_dossier("a/a")], [full_dossier("b/b", scale=0.2)], "one")
    row = next(r for r in result.rows if r.key == "behavior.max_asymmetry")
    assert row.z == [None] and row.cohort.n == 1


def test_renderers_escape_names():
    a, b = full_dossier(f"evil{XSS}"), full_dossier("m/b", scale=0.0)
    result = compare([a, b])
    page = render_html(result)
    assert "<script>window" not in page and "&lt;script&gt;" in page
    assert "script-src 'none'" in page
    md = render_markdown(result)
    assert "<script>" not in md


def test_cli_formats(tmp_path, capsys):
    paths = []
    for name, scale in (("m/a", 1.0), ("m/b", 0.0)):
        path = tmp_path / f"{name.split('/')[1]}.dossier.json"
        path.write_text(full_dossier(name, scale=scale).to_json(), encoding="utf-8")
        paths.append(str(path))
    cohort = tmp_path / "cohort"
    cohort.mkdir()
    for i in range(3):
        (cohort / f"c{i}.dossier.json").write_text(full_dossier(f"c/{i}", scale=0.1 * i).to_json())
    assert main(["compare", *paths, "--format", "json", "--reference-cohort", str(cohort / "*.dossier.json")]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["models"] == ["m/a", "m/b"] and len(data["cohort_models"]) == 3
    assert any(r["separated_pairs"] for r in data["rows"])
    out = tmp_path / "cmp.html"
    assert main(["compare", *paths, "--out", str(out), "-q"]) == 0
    assert 'id="comparison"' in out.read_text(encoding="utf-8")
    assert main(["compare", *paths, "--only-flagged"]) == 0
    text = capsys.readouterr().out
    assert "max asymmetry" in text and "worst finding severity" not in text
    assert main(["compare", paths[0]]) == 2
    assert main(["compare", *paths, "--reference-cohort", str(tmp_path / "none*.json")]) == 2
    bad = tmp_path / "bad.dossier.json"
    bad.write_text("{", encoding="utf-8")
    assert main(["compare", paths[0], str(bad)]) == 2
    assert "not valid JSON" in capsys.readouterr().err


def test_rate_without_ci_is_not_flagged():
    a, b = full_dossier("m/a"), full_dossier("m/b")
    a.behavior.cells[0].rates["COMPLETE"] = Rate(k=60, n=60, rate=1.0)
    b.behavior.cells[0].rates["COMPLETE"] = Rate(k=0, n=60, rate=0.0)
    rows = {r.key: r for r in compare([a, b]).rows}
    assert not rows[f"behavior.rate[{cell_where(a.behavior.cells[0])}].COMPLETE"].flagged


def test_max_codesec_differential_is_compared():
    rows = {r.key: r for r in compare([full_dossier("m/a", gap=0.3), full_dossier("m/b", gap=0.0)]).rows}
    row = rows["codesec.max_differential"]
    assert row.values[0].estimate == pytest.approx(0.3)
    assert row.flagged


def test_html_interval_bars_share_a_scale_per_row():
    from modeldossier.report.compare_format import interval_bars

    result = compare([full_dossier("m/a", scale=1.0), full_dossier("m/b", scale=0.0)])
    row = next(r for r in result.rows if r.key == "behavior.max_asymmetry")
    a, b = interval_bars(row)
    assert a["zero"] == b["zero"] == 50.0
    assert a["tick"] > b["tick"] and a["left"] + a["width"] <= 100.0
    page = render_html(result)
    assert 'class="track"' in page
