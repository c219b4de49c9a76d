"""The verdict line at the top of every report, and the flagged-difference summary of `compare`."""

from __future__ import annotations

import json

from modeldossier.cli import main
from modeldossier.report import compare_format as fmt
from modeldossier.report.compare import compare
from modeldossier.report.html import render_html
from modeldossier.report.markdown import render_markdown
from modeldossier.report.scorecard import behavior_score
from modeldossier.report.verdict import verdict

from .factories import artifacts, behavior, empty_dossier, full_dossier, partial_dossier


def test_verdict_picks_the_first_matching_rule_and_its_facts():
    v = verdict(full_dossier())
    assert (v.level, v.action) == ("red", "Do not load this model")
    assert [f.area for f in v.facts] == ["artifacts", "provenance"]  # two deciding facts, the rule's area first
    d = full_dossier()
    d.artifacts = artifacts(severity=None)
    v = verdict(d)
    assert v.action == "Do not deploy until its lineage is explained" and v.facts[0].area == "provenance"
    assert verdict(partial_dossier()).level == "green" and verdict(partial_dossier()).not_run == ["behavior", "codesec"]
    assert verdict(empty_dossier()).level == "grey"


def test_unsupported_interval_never_decides():
    section = behavior()
    assert behavior_score(section).colour == "red"
    for row in section.asymmetry:  # the hook: an interval marked unsupported by the analysis
        object.__setattr__(row, "__dict__", {**row.__dict__, "interval_supported": False})
    assert behavior_score(section).colour == "amber"  # no supported estimate left: look at it, not red


def test_verdict_is_the_first_thing_in_html_and_markdown():
    d = full_dossier()
    page = render_html(d)
    body = page.split("<body>", 1)[1]
    assert body.index('id="verdict"') < body.index('id="scorecard"') < body.index('id="artifacts"')
    assert 'href="#artifacts">evidence</a>' in page and 'href="#provenance">evidence</a>' in page
    md = render_markdown(d)
    assert md.index("**Verdict: Do not load this model.**") < md.index("## Scorecard")
    assert "(#artifact-safety)" in md


def test_evidence_values_render_as_fields_not_reprs():
    d = full_dossier()
    d.provenance.observed[0].value = {"reference": "qwen2", "set_overlap": 0.98}
    for out in (render_html(d), render_markdown(d)):
        assert "{'reference'" not in out and "{&#39;reference" not in out
        assert "reference: qwen2; set\\_overlap: 0.98" in out or "reference: qwen2; set_overlap: 0.98" in out


def test_gate_json_evidence_is_fields(tmp_path, capsys):
    d = full_dossier()
    d.provenance.observed[0].value = {"reference": "qwen2", "set_overlap": 0.98}
    path = tmp_path / "d.dossier.json"
    path.write_text(d.to_json())
    assert main(["gate", str(path), "--policy", "examples/policy-strict.yaml", "--format", "json"]) == 1
    out = capsys.readouterr().out
    assert "{'reference'" not in out and "reference: qwen2; set_overlap: 0.98" in out


def _pair(tmp_path):
    a, b = full_dossier("acme/a"), full_dossier("acme/b", scale=0.0, gap=0.0)
    paths = []
    for d in (a, b):
        p = tmp_path / f"{d.subject.name.split('/')[1]}.dossier.json"
        p.write_text(d.to_json())
        paths.append(str(p))
    return a, b, paths


def test_compare_only_flagged_json_returns_only_flagged_rows(tmp_path, capsys):
    a, b, paths = _pair(tmp_path)
    assert main(["compare", *paths, "--format", "json"]) == 0
    everything = json.loads(capsys.readouterr().out)
    assert main(["compare", *paths, "--format", "json", "--only-flagged"]) == 0
    flagged = json.loads(capsys.readouterr().out)
    assert 0 < len(flagged["rows"]) < len(everything["rows"])
    assert all(row["flagged"] for row in flagged["rows"])
    assert flagged["n_flagged"] == len(flagged["rows"]) == sum(r["flagged"] for r in everything["rows"])


def test_compare_summary_at_the_top(tmp_path, capsys):
    a, b, paths = _pair(tmp_path)
    result = compare([a, b], [], None)
    n = sum(1 for r in result.rows if r.flagged)
    page = fmt.render_html(result)
    assert page.index('id="flagged-summary"') < page.index('id="comparison"')
    assert f"{n} of {len(result.rows)} metric(s) differ" in page
    assert main(["compare", *paths]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first.startswith(f"{n} of {len(result.rows)} metric(s) differ")
    md = fmt.render_markdown(result)
    assert md.index("metric(s) differ") < md.index("| metric")


def test_compare_without_differences_says_so():
    a = full_dossier("acme/a")
    result = compare([a, full_dossier("acme/a2")], [], None)
    assert fmt.flagged_summary(result) == []
    assert fmt.summary_heading(result).startswith("No difference flagged")
