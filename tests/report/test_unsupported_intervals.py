"""An asymmetry row with too few templates has no interval: no consumer may flag, colour or gate on it.

Reproduces the reported bug: one template per language gave ``+91.7 pp [+91.7, +91.7]``, which drove a red
scorecard headline, a gate breach and "CIs separate" rows in ``compare``.
"""

from __future__ import annotations

import pytest

from modeldossier.censorship.models import Asymmetry
from modeldossier.common import Difference
from modeldossier.report.compare import compare
from modeldossier.report.gate import evaluate
from modeldossier.report.html import render_html
from modeldossier.report.markdown import render_markdown
from modeldossier.report.policy import parse_policy
from modeldossier.report.scorecard import behavior_score

from .factories import full_dossier

POLICY = "version: 1\nbehavior:\n  max_asymmetry: 0.10\n  statistic: ci_low\n  max_flagged: 0\n"


def _one_template(name: str, estimate: float, *, old_style: bool):
    """A dossier whose every asymmetry row rests on one template (old style: a zero-width CI, flagged)."""
    d = full_dossier(name, scale=0.0, gap=0.0)
    rows = []
    for topic in ("creative", "all"):
        for lang in ("en", "zh-Hans"):
            if old_style:
                diff = Difference(estimate=estimate, ci_low=estimate, ci_high=estimate, p_value=0.0,
                                  method="paired-bootstrap-95", n=4)
                rows.append(Asymmetry(topic=topic, language=lang, difference=diff, flagged=True, n_templates=1))
            else:
                diff = Difference(estimate=estimate, method="none: too few templates (1)", n=4)
                rows.append(Asymmetry(topic=topic, language=lang, difference=diff, n_templates=1, supported=False,
                                      reason="too few templates (1)"))
    d.behavior.asymmetry = rows
    return d


@pytest.mark.parametrize("old_style", [False, True])
def test_scorecard_gate_compare_ignore_unsupported_rows(old_style):
    d = _one_template("m/scripted", 0.917, old_style=old_style)
    score = behavior_score(d.behavior)
    assert score.colour != "red" and "too few templates" in " ".join([score.detail, *score.reasons])
    result = evaluate(parse_policy(POLICY), d)
    statuses = {r.rule: r.status for r in result.results}
    assert statuses["behavior.max_flagged"] == "pass"
    asym_rule = next(r for r in result.results if r.rule == "behavior.max_asymmetry")
    assert "above" not in asym_rule.message and "too few templates" in asym_rule.message  # fail-closed, no breach
    other = _one_template("m/other", 0.0, old_style=old_style)
    rows = compare([d, other]).rows
    asym_rows = [r for r in rows if r.key.startswith("behavior.asymmetry") or r.key == "behavior.max_asymmetry"]
    assert asym_rows and not any(r.flagged for r in asym_rows)


def test_renderers_show_the_reason_not_an_interval():
    d = _one_template("m/scripted", 0.917, old_style=False)
    md = render_markdown(d)
    assert "+91.7 pp (too few templates (1))" in md and "[+91.7" not in md
    html = render_html(d)
    assert "too few templates (1)" in html and "+91.7 pp [" not in html


def test_markdown_adj_column_is_holm_adjusted_for_old_dossiers():
    d = full_dossier("m/a", scale=1.0)
    for a in d.behavior.asymmetry:
        a.difference.p_value, a.difference.p_adjusted = 0.01, None
    table = render_markdown(d).split("p (adj.)")[1].split("\n\n")[0]
    assert "| 0.06 |" in table and "| 0.01 |" not in table  # six rows: Holm gives 6 x 0.01


def test_examples_show_the_matched_control_escaped():
    from modeldossier.censorship.models import ControlAnswer, Evidence

    d = full_dossier("m/a", scale=1.0)
    d.behavior.examples = [Evidence(
        item_id="event_describe:tiananmen:en", sample=0, label="DENIAL", excerpt="<script>alert(1)</script> no",
        topic="events", language="en", template="event_describe", subject="tiananmen", cell_flagged=True,
        control=ControlAnswer(item_id="event_describe:kent_state:en", subject="kent_state", label="COMPLETE",
                              excerpt="<img src=x onerror=alert(2)> | four students"))]
    md = render_markdown(d)
    assert "kent\\_state" in md and "&lt;img src=x onerror=alert(2)&gt; \\| four students" in md
    assert "<script>" not in md and "<img" not in md
    html = render_html(d)
    assert "kent_state: COMPLETE" in html and "&lt;img src=x onerror=alert(2)&gt;" in html
    assert "<img src=x" not in html and "<script>alert(1)" not in html
