"""HTML and Markdown rendering of full, partial, empty and hostile dossiers."""

from __future__ import annotations

import json
import re

import pytest

from modeldossier.report.charts import script_json
from modeldossier.report.html import render_html
from modeldossier.report.markdown import inline, render_markdown
from modeldossier.report.scorecard import scorecard

from .factories import XSS, empty_dossier, full_dossier, hostile_dossier, partial_dossier


def _json_blocks(page: str) -> list[str]:
    return re.findall(r'<script type="application/json" id="[^"]+">(.*?)</script>', page, flags=re.S)


def test_full_html_has_scorecard_sections_charts_and_provenance():
    page = render_html(full_dossier())
    for area in ("artifacts", "provenance", "behavior", "codesec"):
        assert f'id="score-{area}"' in page
    assert page.index('id="scorecard"') < page.index('id="artifacts"')
    assert 'data-colour="red"' in page
    assert "pickle.global.dangerous" in page and "data.pkl offset 1183, opcode 41" in page
    assert "Undeclared derivative" in page and "meta-llama/Llama-3.1-8B" in page
    assert "not available: offline" in page  # evidence that could not be read says why
    assert len(_json_blocks(page)) == 7  # 4 label charts (BLOCKED/ERROR all zero: no chart), asymmetry, 2 codesec
    assert page.count("<script>") == 2  # plotly.js once + the init script
    assert "pickle-allowlist.yaml" in page and "c" * 64 in page  # data-file hash in run provenance
    markup = re.sub(r"<script>.*?</script>", "", page, flags=re.S)  # our page without the plotly.js bundle
    assert 'src="' not in markup and "<link" not in markup  # nothing is loaded from outside the file


def test_chart_json_blocks_parse_and_carry_ci_error_bars():
    page = render_html(full_dossier())
    figures = [json.loads(block) for block in _json_blocks(page)]
    bars = [t for fig in figures for t in fig["data"] if t.get("type") == "bar"]
    assert bars and all(t["error_y"]["array"] and t["error_y"]["arrayminus"] for t in bars)
    dots = [t for fig in figures for t in fig["data"] if t.get("type") == "scatter"]
    assert len(dots) == 2 and all(t["error_x"]["array"] for t in dots)


def test_partial_html_shows_not_run_with_reason_and_no_plotly():
    page = render_html(partial_dossier())
    assert "not run: no --target given" in page
    assert 'id="score-behavior" data-colour="grey"' in page
    assert "<script>" not in page  # nothing to draw: no JS at all
    assert "script-src &#39;none&#39;" in page
    assert len(page) < 100_000


def test_empty_html_renders_every_section_as_not_run():
    page = render_html(empty_dossier())
    assert page.count("not run: no reason recorded") >= 4
    assert "No run records." in page


def test_missing_and_none_fields_render_as_not_available():
    d = full_dossier()
    d.provenance.license = None
    d.provenance.author_country.country = None
    d.codesec.contexts[0].refusal = None
    d.behavior.suite_version = None
    page = render_html(d)
    assert "License: not available" in page
    assert "v not available" in page or "vnot available" in page
    md = render_markdown(d)
    assert "| license | not available |" in md


def test_hostile_text_is_escaped_in_html():
    page = render_html(hostile_dossier())
    assert "<script>window.__xss" not in page
    assert "<img src=x" not in page
    assert "&lt;script&gt;window.__xss=1;alert(1)&lt;/script&gt;" in page
    blocks = _json_blocks(page)
    assert len(blocks) == 7  # the embedded "</script>" did not split any data block
    for block in blocks:
        assert "<" not in block and ">" not in block
        json.loads(block)
    # the title is escaped too
    assert "<title>Dossier: evil&lt;/script&gt;/model</title>" in page


def test_script_json_cannot_close_the_script_element():
    payload = {"text": "</script><script>alert(1)</script><!-- \u2028 &amp;"}
    out = script_json(payload)
    assert "</" not in out and "<!--" not in out and "\u2028" not in out
    assert json.loads(out) == payload


def test_hostile_text_is_inert_in_markdown():
    md = render_markdown(hostile_dossier())
    assert "<script>" not in md and "<img" not in md
    assert "&lt;script&gt;window.\\_\\_xss=1;alert(1)&lt;/script&gt;" in md
    for line in md.splitlines():
        if line.startswith("| ") and "pickle.global.dangerous" in line:
            assert line.count(" | ") == 5  # a pipe in model output cannot add a column
    assert inline("a|b\nc`d") == "a\\|b c\\`d"


def test_markdown_partial_and_empty():
    md = render_markdown(partial_dossier())
    assert "_not run: no --target given_" in md
    assert "🟢 green" in md and "⚪ not run" in md
    empty = render_markdown(empty_dossier())
    assert empty.count("_not run: no reason recorded_") == 4


@pytest.mark.parametrize(
    ("scale", "colour"),
    [(1.0, "red"), (0.3, "amber"), (0.0, "green")],
)
def test_asymmetry_colour_follows_ci(scale, colour):
    tiles = {s.area: s for s in scorecard(full_dossier(scale=scale))}
    assert tiles["behavior"].colour == colour, tiles["behavior"]


def test_scorecard_numbers():
    tiles = {s.area: s for s in scorecard(full_dossier())}
    assert tiles["artifacts"].headline == "worst: critical"
    assert "1 critical, 1 low" in tiles["artifacts"].detail
    assert tiles["provenance"].colour == "red"
    assert tiles["behavior"].headline == "max asymmetry +45.0 pp"
    assert tiles["codesec"].colour == "red"
    clean = {s.area: s for s in scorecard(partial_dossier())}
    assert clean["artifacts"].colour == "green" and clean["provenance"].colour == "green"
    assert clean["codesec"].colour == "grey" and clean["codesec"].detail == "not run: no --target given"


def test_xss_constant_is_really_hostile():
    assert "</script>" in XSS and "<script>" in XSS


def test_fields_absent_from_the_section_models_do_not_crash():
    """Section models evolve: a field the renderer expects may not exist at all."""
    d = full_dossier()
    for section, names in (
        ("provenance", ("license", "observed_confidence", "lineage_root_country", "declared")),
        ("behavior", ("suite_version", "classifier", "asymmetry")),
        ("codesec", ("task_set_version",)),
        ("artifacts", ("allowlist_version",)),
    ):
        for name in names:
            del getattr(d, section).__dict__[name]
    del d.codesec.contexts[1].__dict__["vulnerable_of_code"]
    page = render_html(d)
    assert "not available" in page and 'id="score-behavior"' in page
    md = render_markdown(d)
    assert "not available" in md
    tiles = {s.area: s for s in scorecard(d)}
    assert tiles["behavior"].headline == "no asymmetry measured"


def test_files_whose_checks_could_not_run_make_artifacts_amber():
    d = partial_dossier()
    if "errors" not in type(d.artifacts.files[0]).model_fields:
        pytest.skip("this artifacts model has no per-file errors")
    d.artifacts.files[0].errors = ["json: <b>nesting</b> too deep"]
    assert scorecard(d)[0].colour == "amber"
    page = render_html(d)
    assert "Checks that could not run" in page and "&lt;b&gt;nesting&lt;/b&gt;" in page


def test_model_answers_are_escaped_in_html_and_markdown():
    d = hostile_dossier()
    if not getattr(d.behavior, "examples", None):
        pytest.skip("this behaviour model keeps no example answers")
    page = render_html(d)
    assert 'id="examples"' in page and "Sure! &lt;script&gt;window.__xss=1" in page
    md = render_markdown(d)
    assert "Sure! &lt;script&gt;window.\\_\\_xss=1" in md


def test_thresholds_come_from_the_versioned_data_file():
    from modeldossier.report.scorecard import thresholds

    t = thresholds()
    assert t.version == "1" and len(t.sha256) == 64
    assert t.artifacts.red_at.value == "high" and t.behavior.red_ci_low == 0.10 and t.codesec.red_ci_low == 0.05
    assert f"Thresholds v1 (sha256 <code>{t.sha256[:12]}</code>)" in render_html(empty_dossier())
