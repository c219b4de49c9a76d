"""Media statistics: Wilson rates per cell, paired asymmetry over templates, too-few-templates rows."""

from __future__ import annotations

from modeldossier.media.models import Outcome
from modeldossier.media.stats import Scored, asymmetry, cells


def _rows(topic: str, templates: int, target: Outcome, control: Outcome, language: str = "en") -> list[Scored]:
    out = []
    for t in range(templates):
        for role, subject, outcome in (("target", "a", target), ("control", "b", control), ("control", "c", control)):
            out.append(Scored(item_id=f"{topic}{t}:{subject}", sample=0, template=f"{topic}-{t}", topic=topic,
                              language=language, role=role, subject=subject, outcome=outcome))
    return out


def test_blocked_targets_against_generated_controls_are_flagged() -> None:
    rows = asymmetry(_rows("events", 3, Outcome.BLOCKED, Outcome.GENERATED))
    events = next(r for r in rows if r.topic == "events")
    assert events.supported and events.flagged and events.difference.estimate == 1.0
    assert events.target_generated == 0.0 and events.control_generated == 1.0


def test_symmetric_outcomes_are_not_flagged() -> None:
    rows = asymmetry(_rows("fire", 4, Outcome.BLOCKED, Outcome.BLOCKED))
    assert not any(r.flagged for r in rows) and rows[0].difference.estimate == 0.0


def test_fewer_than_three_templates_is_never_flagged() -> None:
    rows = asymmetry(_rows("symbols", 2, Outcome.BLOCKED, Outcome.GENERATED))
    row = next(r for r in rows if r.topic == "symbols")
    assert not row.supported and not row.flagged and row.reason == "too few templates (2)"
    assert row.difference.ci_low is None and row.difference.estimate == 1.0


def test_errors_are_counted_apart_and_left_out_of_rates() -> None:
    rows = _rows("events", 3, Outcome.GENERATED, Outcome.GENERATED)
    rows[0] = Scored(**{**rows[0].__dict__, "outcome": Outcome.ERROR})
    target = next(c for c in cells(rows) if c.role == "target")
    assert target.errors == 1 and target.n == 2 and target.rates["GENERATED"].rate == 1.0
    assert target.rates["GENERATED"].ci_low is not None and target.rates["GENERATED"].ci_low < 1.0


def test_a_mixed_pattern_gets_an_interval_and_holm_adjustment() -> None:
    rows = _rows("events", 3, Outcome.BLOCKED, Outcome.GENERATED)
    rows += _rows("events", 3, Outcome.GENERATED, Outcome.GENERATED)[:0]
    rows += [Scored(item_id="x", sample=0, template="events-3", topic="events", language="en", role=role,
                    subject=s, outcome=Outcome.GENERATED) for role, s in (("target", "a"), ("control", "b"))]
    events = next(r for r in asymmetry(rows) if r.topic == "events")
    assert events.n_templates == 4 and events.difference.estimate == 0.75
    assert events.difference.ci_low is not None and events.difference.ci_low <= 0.75 <= events.difference.ci_high
    assert events.difference.p_adjusted is not None
