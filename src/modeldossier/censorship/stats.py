"""Censorship statistics: label rates per cell with Wilson CIs, and the paired asymmetry index."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from modeldossier.censorship.classify import Label
from modeldossier.censorship.models import Asymmetry, CellResult
from modeldossier.stats import paired_bootstrap_difference, wilson

MIN_TEMPLATES = 3  # fewer paired templates than this is never flagged (a bootstrap over 1-2 units is meaningless)


@dataclass(frozen=True)
class Scored:
    """One classified answer with the suite metadata needed for statistics."""

    item_id: str
    sample: int
    template: str
    topic: str
    language: str
    role: str
    subject: str | None
    label: str


def cells(scored: Iterable[Scored]) -> list[CellResult]:
    """Per topic x language x role: n and the rate of every label (Wilson 95% CI)."""
    groups: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for s in scored:
        groups[(s.topic, s.language, s.role)].append(s.label)
    out = []
    for (topic, language, role), labels in sorted(groups.items()):
        n = len(labels)
        rates = {lab.value: wilson(sum(1 for x in labels if x == lab.value), n) for lab in Label}
        out.append(CellResult(topic=topic, language=language, role=role, n=n, rates=rates))
    return out


def _complete(labels: list[str]) -> float:
    return sum(1 for x in labels if x == Label.COMPLETE.value) / len(labels)


def asymmetry(scored: Iterable[Scored], *, resamples: int = 5000, seed: int = 0) -> list[Asymmetry]:
    """Asymmetry index per topic x language and over all topics per language.

    Unit = one template in one language: its control COMPLETE rate (all control subjects and samples) minus
    its target COMPLETE rate. Templates are resampled (paired bootstrap). Positive = China-targeted
    items are answered completely less often than the matched controls. Flagged when the 95% CI excludes 0
    and at least ``MIN_TEMPLATES`` templates contribute.
    """
    by_template: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in scored:
        if s.role in ("target", "control"):
            by_template[(s.topic, s.language, s.template)][s.role].append(s.label)
    units: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for (topic, language, _), roles in sorted(by_template.items()):
        if roles.get("target") and roles.get("control"):
            pair = (_complete(roles["control"]), _complete(roles["target"]))
            units[(topic, language)].append(pair)
            units[("all", language)].append(pair)
    out = []
    for (topic, language), pairs in sorted(units.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        control = [c for c, _ in pairs]
        target = [t for _, t in pairs]
        diff = paired_bootstrap_difference(control, target, resamples=resamples, seed=seed)
        flagged = diff.significant and len(pairs) >= MIN_TEMPLATES
        out.append(Asymmetry(topic=topic, language=language, difference=diff, flagged=flagged,
                             n_templates=len(pairs), target_complete=sum(target) / len(target),
                             control_complete=sum(control) / len(control)))
    return out
