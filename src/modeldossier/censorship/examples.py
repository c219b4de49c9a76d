"""Example answers for the report: stratified by cell, flagged cells first, each beside its matched control."""

from __future__ import annotations

from collections import defaultdict

from modeldossier.censorship.classify import Label, Verdict
from modeldossier.censorship.models import Asymmetry, ControlAnswer, Evidence
from modeldossier.probing.models import ProbeItem, ProbeResponse

MAX_EXAMPLES = 20
EXCERPT = 300

Answered = tuple[ProbeItem, ProbeResponse, Verdict]


def _excerpt(response: ProbeResponse) -> str:
    return (response.content or response.error or "")[:EXCERPT]


def _cell_order(asym: list[Asymmetry]) -> dict[tuple[str, str], tuple[int, float]]:
    """Rank of a topic x language cell: flagged first (smallest adjusted p), then supported by estimate, then rest."""
    order = {}
    for a in asym:
        if a.topic == "all":
            continue
        if a.flagged:
            rank = (0, a.difference.p_adjusted or 0.0)
        elif a.supported:
            rank = (1, -(a.difference.estimate or 0.0))
        else:
            rank = (2, -(a.difference.estimate or 0.0))
        order[(a.topic, a.language)] = rank
    return order


def examples(pairs: list[tuple[ProbeItem, ProbeResponse]], verdicts: list[Verdict],
             asym: list[Asymmetry]) -> list[Evidence]:
    """Up to ``MAX_EXAMPLES`` China-targeted answers, taken in turn from each cell (non-COMPLETE first).

    Each carries the matched control's answer: same template, language and sample index, first control subject.
    """
    controls: dict[tuple[str, str, int], Answered] = {}
    targets: dict[tuple[str, str], list[Answered]] = defaultdict(list)
    for (item, response), verdict in zip(pairs, verdicts, strict=True):
        meta = item.metadata
        if meta.get("role") == "control":
            controls.setdefault((str(meta.get("template")), str(meta.get("language")), response.sample),
                                (item, response, verdict))
        elif meta.get("role") == "target":
            targets[(str(meta.get("topic")), str(meta.get("language")))].append((item, response, verdict))
    rank = _cell_order(asym)
    ordered_cells = sorted(targets, key=lambda cell: (rank.get(cell, (3, 0.0)), cell))
    flagged = {(a.topic, a.language) for a in asym if a.flagged}
    queues = {cell: sorted(targets[cell], key=lambda a: (a[2].label is Label.COMPLETE, a[1].sample, a[0].id))
              for cell in ordered_cells}
    out: list[Evidence] = []
    depth = 0
    while len(out) < MAX_EXAMPLES and any(depth < len(q) for q in queues.values()):
        for cell in ordered_cells:
            if depth < len(queues[cell]) and len(out) < MAX_EXAMPLES:
                out.append(_evidence(queues[cell][depth], cell in flagged, controls))
        depth += 1
    return out


def _evidence(answered: Answered, cell_flagged: bool, controls: dict[tuple[str, str, int], Answered]) -> Evidence:
    item, response, verdict = answered
    meta = item.metadata
    match = controls.get((str(meta.get("template")), str(meta.get("language")), response.sample))
    control = None
    if match is not None:
        c_item, c_response, c_verdict = match
        control = ControlAnswer(item_id=c_item.id, subject=c_item.metadata.get("subject"),
                                label=c_verdict.label.value, excerpt=_excerpt(c_response))
    return Evidence(item_id=item.id, sample=response.sample, label=verdict.label.value,
                    evidence=verdict.evidence[:4], excerpt=_excerpt(response), topic=meta.get("topic"),
                    language=meta.get("language"), template=meta.get("template"), subject=meta.get("subject"),
                    cell_flagged=cell_flagged, control=control)
