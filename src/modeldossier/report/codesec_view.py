"""Read code-security differentials from a codesec section, whichever shape its models have.

Newer sections carry `comparisons` (metric, control, difference, significant, correction) per context; older
ones a single `vs_control` difference of the vulnerable rate. Two kinds are kept apart: the **vulnerability
differential** (flagged code: `vulnerable_of_code`, or `vulnerable_of_all` in old dossiers) and the **refusal
differential**. The *primary* differential is `vulnerable_of_code` (as in docs/codesec.md), falling back to
`vulnerable_of_all`, then to the first comparison with a point estimate (e.g. when no answer contained code).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from modeldossier.report.fields import get, interval, items, number, pct, pp, text

PRIMARY_METRICS = ("vulnerable_of_code", "vulnerable_of_all")
VULNERABILITY_METRICS = PRIMARY_METRICS
#: Outcomes shown as their own rate in every table (never counted as not vulnerable).
OWN_OUTCOMES = ("unparseable", "stub", "not_functional")
METRIC_LABELS = {
    "vulnerable_of_code": "flagged code (of analysed code)",
    "vulnerable_of_all": "flagged code (of all answers; falls with refusals)",
    "refusal": "refusal",
    "high_severity": "high severity (no longer computed)",
}


@dataclass(frozen=True)
class Differential:
    """One metric of one context minus its matched control."""

    context: str
    metric: str
    control: str
    difference: Any
    significant: bool | None = None
    mcnemar_p: float | None = None
    correction: Any = None
    instrument: str | None = None

    @property
    def kind(self) -> str:
        """'vulnerability', 'refusal' or 'other'."""
        if self.metric in VULNERABILITY_METRICS:
            return "vulnerability"
        return "refusal" if self.metric == "refusal" else "other"

    @property
    def label(self) -> str:
        return METRIC_LABELS.get(self.metric, self.metric)

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
            get(comp, "correction"), get(comp, "instrument"),
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


def of_kind(ctx: Any, kind: str) -> list[Differential]:
    """A context's differentials of one kind ('vulnerability', 'refusal', 'other')."""
    return [d for d in differentials(ctx) if d.kind == kind]


def vulnerability_rows(contexts: Any) -> list[Differential]:
    """Every vulnerability differential over a list of contexts."""
    return [d for ctx in (contexts or []) for d in of_kind(ctx, "vulnerability")]


def refusal(ctx: Any) -> Differential | None:
    """The refusal differential of a context, or None."""
    return next(iter(of_kind(ctx, "refusal")), None)


def instrument_error(section: Any, name: str | None, correction: Any = None) -> Any:
    """The measured-error record for instrument ``name``: the section's (the first one when name is None), or
    the Se/FPR a differential's correction carries when the section has none for it."""
    found = items(section, "instruments")
    se, fp = get(correction, "sensitivity"), get(correction, "false_positive_rate")
    if se is not None and fp is not None and not any(get(i, "name") == name for i in found):
        return {"name": name, "measured": True, "sensitivity": se, "false_positive_rate": fp}
    return next((i for i in found if name is None or get(i, "name") == name), found[0] if found else None)


def _rate(rate: Any) -> str:
    k, n = get(rate, "k"), get(rate, "n")
    counts = f" ({k}/{n})" if k is not None and n is not None else ""
    return f"{pct(get(rate, 'rate'))}{counts}"


def error_text(record: Any, name: str | None = None) -> str:
    """'static: sensitivity 38.8% (52/134), FPR 9.0% (12/134)' or '<name>: instrument error not measured'."""
    label = text(get(record, "name"), name or "instrument")
    se, fp = get(record, "sensitivity"), get(record, "false_positive_rate")
    if record is None or get(record, "measured") is not True or se is None or fp is None:
        return f"{label}: instrument error not measured"
    return f"{label}: sensitivity {_rate(se)}, FPR {_rate(fp)}"


def correction_text(correction: Any) -> str:
    """'+20.3 pp [+3.0 pp, +38.1 pp]' or 'not supported: <reason>'."""
    if correction is None:
        return "not computed (older dossier)"
    estimate = number(get(correction, "estimate"))
    if get(correction, "supported") is not True or estimate is None:
        return f"not supported: {text(get(correction, 'reason'), 'no reason recorded')}"
    return f"{pp(estimate)} {interval(get(correction, 'ci_low'), get(correction, 'ci_high'), pp)}".strip()


def outcome_share(ctx: Any, outcome: str) -> str:
    """'2.0% (1/50)' for an outcome with its own rate; from the outcome counts in older dossiers."""
    rate = get(ctx, f"outcome_rates.{outcome}")
    if rate is not None:
        return _rate(rate)
    outcomes, n = get(ctx, "outcomes") or {}, get(ctx, "n")
    count = outcomes.get(outcome, 0) if isinstance(outcomes, dict) else None
    if outcomes and isinstance(count, int) and isinstance(n, int) and n:
        return f"{pct(count / n)} ({count}/{n})"
    return "—"


def cwe_mix(ctx: Any) -> str:
    """'CWE-89: 7, CWE-22: 3' (most frequent first) or '—'."""
    counts = get(ctx, "cwe_counts") or {}
    if not isinstance(counts, dict) or not counts:
        return "—"
    ranked = sorted(counts.items(), key=lambda kv: (-(kv[1] if isinstance(kv[1], int) else 0), str(kv[0])))
    return ", ".join(f"{cwe}: {count}" for cwe, count in ranked)


def power_text(power: Any) -> str | None:
    """One sentence on whether the run had the samples for 80% power at the checked effect, or None."""
    if power is None:
        return None
    if get(power, "note"):
        return f"Power: {text(get(power, 'note'))}."
    needed, samples = get(power, "samples_needed"), get(power, "samples")
    effect, seen = number(get(power, "effect")), number(get(power, "flagged_effect"))
    approx = number(get(power, "power"))
    head = (f"Power: a true {pp(effect, 0)} difference in vulnerable code shows as {pp(seen)} of flagged code "
            f"through {text(get(power, 'instrument'))}; at {text(get(power, 'tasks'))} task(s) x {text(samples)} "
            f"sample(s) the approximate power is {pct(approx, 0)}")
    if needed is None:
        return f"{head}; no number of samples reaches 80% power."
    verdict = "reached" if get(power, "reached") is True else "NOT reached by this run"
    return f"{head}; 80% power needs about {needed} sample(s) per task: {verdict}."
