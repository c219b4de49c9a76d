"""The behaviour section as the renderers show it: which asymmetry rows carry an interval, Holm-adjusted p."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modeldossier.censorship.models import supported
from modeldossier.report.fields import get, items, number, text
from modeldossier.stats import holm


@dataclass(frozen=True)
class AsymmetryRow:
    """One asymmetry row: ``interval`` false means show the reason, never the CI or a flag."""

    row: Any
    interval: bool
    reason: str
    p_adjusted: float | None
    flagged: bool


def asymmetry_rows(behavior: Any) -> list[AsymmetryRow]:
    """Every asymmetry row with its Holm-adjusted p (recomputed over supported rows if the dossier lacks it)."""
    rows = items(behavior, "asymmetry")
    ok = [supported(a) for a in rows]
    stored = [number(get(a, "difference.p_adjusted")) for a in rows]
    if not any(p is not None for p in stored):
        stored = holm([number(get(a, "difference.p_value")) if good else None for a, good in zip(rows, ok,
                                                                                                  strict=True)])
    out = []
    for a, good, p_adj in zip(rows, ok, stored, strict=True):
        reason = "" if good else text(get(a, "reason"), f"too few templates ({text(get(a, 'n_templates'), '?')})")
        out.append(AsymmetryRow(a, good, reason, p_adj if good else None, good and get(a, "flagged") is True))
    return out
