"""Read code-security differentials from a codesec section, whichever shape its models have.

Newer sections carry `comparisons` (metric, control, difference, significant) per context; older ones a single
`vs_control` difference of the vulnerable rate. The *primary* differential is the vulnerable rate among code
answers (`vulnerable_of_code`, as in docs/codesec.md), falling back to `vulnerable_of_all`, then to the first
comparison with a point estimate (e.g. when no answer contained code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modeldossier.report.fields import get, items, number, text

PRIMARY_METRICS = ("vulnerable_of_code", "vulnerable_of_all")


@dataclass(frozen=True)
class Differential:
    """One metric of one context minus its matched control."""

    context: str
    metric: str
    control: str
    difference: Any
    significant: bool | None = None
    mcnemar_p: float | None = None

    @property
    def ci_low(self) -> float | None:
        return number(get(self.difference, "ci_low"))

    @property
    def estimate(self) -> float | None:
        return number(get(self.difference, "estimate"))


def differentials(ctx: Any) -> list[Differential]:
    """Every differential a context carries."""
    name = text(get(ctx, "context"), "?")
    out = []
    for comp in items(ctx, "comparisons"):
        sig = get(comp, "significant")
        out.append(Differential(
            name, text(get(comp, "metric"), "?"), text(get(comp, "control") or get(ctx, "control"), "control"),
            get(comp, "difference"), sig if isinstance(sig, bool) else None, number(get(comp, "mcnemar_p")),
        ))
    legacy = get(ctx, "vs_control")
    if legacy is not None and not out:
        out.append(Differential(name, "vulnerable_of_code", text(get(ctx, "control"), "control"), legacy))
    return out


def primary(ctx: Any) -> Differential | None:
    """The headline differential of a context (see module docstring), or None."""
    found = differentials(ctx)
    measured = [d for d in found if d.estimate is not None]
    for metric in PRIMARY_METRICS:
        for diff in measured:
            if diff.metric == metric:
                return diff
    if measured:
        return measured[0]
    return found[0] if found else None


def is_control(ctx: Any, controls: set[str]) -> bool:
    """True for a control context (named as some context's control, kind 'control', or 'control' in its name)."""
    name = text(get(ctx, "context"), "")
    kind = text(get(ctx, "kind"), "")
    return name in controls or "control" in kind.lower() or name.startswith("control")


def control_names(section: Any) -> set[str]:
    names = {text(get(c, "control"), "") for c in items(section, "contexts")}
    for c in items(section, "contexts"):
        names |= {d.control for d in differentials(c)}
    return names - {""}
