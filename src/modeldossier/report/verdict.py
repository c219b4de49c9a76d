"""The one verdict line at the top of every report: what to do with the model, and the facts that decide it.

The rules are data (``verdict`` in data/report/scorecard.yaml): the first rule whose area has the colour wins.
The deciding facts are the reasons of the red tiles (else the amber ones), each with the anchor of its evidence.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from modeldossier.report.scorecard import Colour, Score, scorecard, thresholds

#: Where each area's evidence is, as the id of its section in the HTML report.
ANCHORS = {"artifacts": "artifacts", "provenance": "provenance", "behavior": "behavior", "codesec": "codesec"}


@dataclass(frozen=True)
class Fact:
    """One deciding fact and the area (section anchor) that holds its evidence."""

    area: str
    text: str

    @property
    def anchor(self) -> str:
        return ANCHORS.get(self.area, self.area)


@dataclass(frozen=True)
class Verdict:
    """The verdict: a level (colour), an action, up to ``max_facts`` deciding facts, and what did not run."""

    level: Colour
    action: str
    facts: list[Fact] = field(default_factory=list)
    not_run: list[str] = field(default_factory=list)

    def plain(self) -> str:
        """The verdict as one line of plain text (facts joined, sections not run named)."""
        line = f"{self.action}."
        if self.facts:
            line += " " + "; ".join(f.text for f in self.facts) + "."
        if self.not_run and self.level != "grey":
            line += f" Not run: {', '.join(self.not_run)}."
        return line


def _fact(score: Score) -> Fact:
    if score.reasons:
        text = score.reasons[0]
    else:
        text = f"{score.headline} ({score.detail})" if score.detail else score.headline
    return Fact(score.area, f"{score.title.lower()}: {text}")


def verdict(dossier: Any, scores: list[Score] | None = None) -> Verdict:
    """The verdict for a dossier (``scores``: its scorecard, when already computed)."""
    tiles = scorecard(dossier) if scores is None else scores
    rules = thresholds().verdict
    by_colour = {colour: [t for t in tiles if t.colour == colour] for colour in ("red", "amber", "green", "grey")}
    not_run = [t.area for t in by_colour["grey"]]
    ran = [t for t in tiles if t.colour != "grey"]
    for rule in rules.rules:
        if rule.colour == "grey" and ran:
            continue  # "nothing measured" only when no section ran
        matched = [t for t in tiles if t.colour == rule.colour and rule.area in ("any", t.area)]
        if not matched:
            continue
        deciding = sorted(by_colour["red"] or by_colour["amber"], key=lambda t: t.area != rule.area)
        facts = [_fact(t) for t in deciding[: rules.max_facts]]
        return Verdict(rule.level, rule.action, facts, not_run)
    return Verdict("grey", "Not enough evidence: nothing was measured", [], not_run)
