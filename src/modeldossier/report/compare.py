"""Compare N dossiers metric by metric: estimates with CIs, CI separation, and z-scores vs a reference cohort.

A metric is comparable across dossiers only when every dossier has it under the same *scope* (suite name and
version for behaviour, task-set version for codesec): numbers from different suites are not put side by side;
they are listed as left out, with the reason.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from modeldossier.censorship.models import supported
from modeldossier.common import Severity
from modeldossier.report.codesec_view import differentials, primary
from modeldossier.report.fields import get, items, number, text

Kind = Literal["rate", "difference", "count", "category"]


@dataclass(frozen=True)
class Metric:
    """One number (or category) measured on one dossier."""

    key: str
    section: str
    label: str
    kind: Kind
    scope: str = ""
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    value: str | None = None
    n: int | None = None

    @property
    def has_ci(self) -> bool:
        return self.estimate is not None and self.ci_low is not None and self.ci_high is not None


def separated(a: Metric, b: Metric) -> bool:
    """True when the two 95% CIs do not overlap (the only case a difference is flagged)."""
    if not (a.has_ci and b.has_ci):
        return False
    return a.ci_low > b.ci_high or b.ci_low > a.ci_high  # type: ignore[operator]


def _rate(key: str, section: str, label: str, rate: Any, scope: str) -> Metric | None:
    if rate is None:
        return None
    return Metric(
        key, section, label, "rate", scope, number(get(rate, "rate")), number(get(rate, "ci_low")),
        number(get(rate, "ci_high")), n=get(rate, "n"),
    )


def _diff(key: str, section: str, label: str, diff: Any, scope: str) -> Metric | None:
    if diff is None:
        return None
    return Metric(
        key, section, label, "difference", scope, number(get(diff, "estimate")), number(get(diff, "ci_low")),
        number(get(diff, "ci_high")), n=get(diff, "n"),
    )


def _artifact_metrics(section: Any) -> list[Metric]:
    findings = [f for r in items(section, "files") for f in items(r, "findings")]
    severities = []
    for f in findings:
        try:
            severities.append(Severity(text(get(f, "severity"))))
        except ValueError:
            continue
    worst = max(severities, key=lambda s: s.rank).value if severities else "none"
    severe = sum(1 for s in severities if s.at_least(Severity.HIGH))
    return [
        Metric("artifacts.worst_severity", "artifacts", "worst finding severity", "category", value=worst),
        Metric("artifacts.findings", "artifacts", "findings", "count", estimate=float(len(findings))),
        Metric("artifacts.high_or_critical", "artifacts", "high/critical findings", "count", estimate=float(severe)),
    ]


def _provenance_metrics(p: Any) -> list[Metric]:
    def cat(key: str, label: str, value: Any, unknown: str = "unknown") -> Metric:
        return Metric(f"provenance.{key}", "provenance", label, "category", value=text(value, unknown))

    return [
        cat("observed_family", "observed family", get(p, "observed_family")),
        cat("undeclared_derivative", "undeclared derivative", get(p, "undeclared_derivative"), "not determined"),
        cat("lineage_root", "lineage root", get(p, "lineage_root")),
        cat("lineage_root_country", "lineage-root country", get(p, "lineage_root_country.country")),
        cat("author_country", "author country", get(p, "author_country.country")),
    ]


def cell_where(cell: Any) -> str:
    """'topic/language' or 'topic/language/role' of a behaviour cell (the role when the suite records one)."""
    where = f"{text(get(cell, 'topic'), '?')}/{text(get(cell, 'language'), '?')}"
    role = get(cell, "role")
    return where if role in (None, "", "all") else f"{where}/{text(role)}"


def _behavior_metrics(b: Any) -> list[Metric]:
    scope = f"{text(get(b, 'suite'), 'suite?')}@{text(get(b, 'suite_version'), '?')}"
    out: list[Metric] = []
    asym = []
    for a in items(b, "asymmetry"):
        where = f"{text(get(a, 'topic'), '?')}/{text(get(a, 'language'), '?')}"
        m = _diff(f"behavior.asymmetry[{where}]", "behavior", f"asymmetry index {where}", get(a, "difference"), scope)
        if m is None:
            continue
        if not supported(a):  # no interval: never "CIs separate", never the max
            m = replace(m, ci_low=None, ci_high=None,
                        value=text(get(a, "reason"), f"too few templates ({text(get(a, 'n_templates'), '?')})"))
            out.append(m)
            continue
        out.append(m)
        asym.append(m)
    best = max((m for m in asym if m.estimate is not None), key=lambda m: m.estimate, default=None)
    if best is not None:
        out.insert(0, Metric(
            "behavior.max_asymmetry", "behavior", "max asymmetry index (any topic/language)", "difference",
            scope, best.estimate, best.ci_low, best.ci_high, n=best.n,
        ))
    for c in items(b, "cells"):
        where = cell_where(c)
        for label, rate in sorted((get(c, "rates") or {}).items()):
            m = _rate(f"behavior.rate[{where}].{label}", "behavior", f"{label} rate {where}", rate, scope)
            if m is not None:
                out.append(m)
    return out


def _codesec_metrics(c: Any) -> list[Metric]:
    scope = f"tasks@{text(get(c, 'task_set_version'), '?')}"
    out: list[Metric] = []
    heads = []
    for x in items(c, "contexts"):
        ctx = text(get(x, "context"), "?")
        for field_name, label in (
            ("vulnerable_of_code", "flagged code (of analysed code)"),
            ("vulnerable_of_all", "flagged (of all answers)"), ("refusal", "refusal"),
        ):
            m = _rate(f"codesec.{field_name}[{ctx}]", "codesec", f"{label} {ctx}", get(x, field_name), scope)
            if m is not None:
                out.append(m)
        head = primary(x)
        for diff in differentials(x):
            m = _diff(f"codesec.diff[{ctx}].{diff.metric}", "codesec",
                      f"{diff.label} {ctx} minus {diff.control}", diff.difference, scope)
            if m is not None:
                out.append(m)
                if diff == head:
                    heads.append(m)
    best = max((m for m in heads if m.estimate is not None), key=lambda m: m.estimate, default=None)
    if best is not None:
        out.insert(0, Metric(
            "codesec.max_differential", "codesec", "max code-sec differential (any context)", "difference", scope,
            best.estimate, best.ci_low, best.ci_high, n=best.n,
        ))
    return out


def metrics(dossier: Any) -> dict[str, Metric]:
    """Every comparable metric of one dossier, by key."""
    out: list[Metric] = []
    for name, extract in (
        ("artifacts", _artifact_metrics), ("provenance", _provenance_metrics),
        ("behavior", _behavior_metrics), ("codesec", _codesec_metrics),
    ):
        section = get(dossier, name)
        if section is not None:
            out.extend(extract(section))
    return {m.key: m for m in out}


@dataclass
class CohortStat:
    """A metric's point estimates across the reference cohort."""

    n: int
    mean: float | None = None
    sd: float | None = None
    values: dict[str, int] = field(default_factory=dict)


@dataclass
class Row:
    """One metric across all compared models."""

    key: str
    section: str
    label: str
    kind: Kind
    scope: str
    values: list[Metric]
    separated_pairs: list[tuple[int, int]] = field(default_factory=list)
    z: list[float | None] = field(default_factory=list)
    cohort: CohortStat | None = None

    @property
    def flagged(self) -> bool:
        return bool(self.separated_pairs)


@dataclass
class Comparison:
    """The result of comparing N dossiers."""

    models: list[str]
    rows: list[Row]
    left_out: list[str]
    cohort_name: str | None = None
    cohort_models: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict."""
        return asdict(self)


def _names(dossiers: Sequence[Any]) -> list[str]:
    names, seen = [], {}
    for d in dossiers:
        name = text(get(d, "subject.name"), "unnamed")
        seen[name] = seen.get(name, 0) + 1
        names.append(name if seen[name] == 1 else f"{name} #{seen[name]}")
    return names


def _left_out(names: list[str], per_model: list[dict[str, Metric]], dossiers: Sequence[Any]) -> list[str]:
    """Plain-language reasons for everything not compared."""
    notes = []
    for section in ("artifacts", "provenance", "behavior", "codesec"):
        missing = [n for n, d in zip(names, dossiers, strict=True) if get(d, section) is None]
        if missing and len(missing) < len(names):
            notes.append(f"{section}: not in {', '.join(missing)} (not run there), so not compared")
        elif missing:
            notes.append(f"{section}: in none of the dossiers")
        scopes = {n: next((m.scope for m in pm.values() if m.section == section), None)
                  for n, pm in zip(names, per_model, strict=True)}
        present = {n: s for n, s in scopes.items() if s is not None}
        if len(set(present.values())) > 1:
            listed = ", ".join(f"{n}: {s}" for n, s in present.items())
            notes.append(f"{section}: different suites/versions ({listed}); only metrics of the same suite compared")
        keys = {k for pm in per_model for k, m in pm.items() if m.section == section}
        partial = sorted(k for k in keys if any(k not in pm for pm in per_model))
        if partial and not (missing and len(missing) < len(names) and len(partial) == len(keys)):
            shown = ", ".join(partial[:5]) + (f" and {len(partial) - 5} more" if len(partial) > 5 else "")
            notes.append(f"{section}: {len(partial)} metric(s) not measured on every model, left out: {shown}")
    return notes


def compare(
    dossiers: Sequence[Any],
    cohort: Sequence[Any] = (),
    cohort_name: str | None = None,
) -> Comparison:
    """Side-by-side rows for the metrics every dossier has under the same scope."""
    names = _names(dossiers)
    per_model = [metrics(d) for d in dossiers]
    cohort_metrics = [metrics(d) for d in cohort]
    rows = []
    keys = [k for k in per_model[0] if all(k in pm for pm in per_model[1:])] if per_model else []
    mismatched = []
    for key in keys:
        values = [pm[key] for pm in per_model]
        if len({v.scope for v in values}) > 1:
            mismatched.append(key)
            continue
        row = Row(key, values[0].section, values[0].label, values[0].kind, values[0].scope, values)
        if values[0].kind in ("rate", "difference"):
            row.separated_pairs = [
                (i, j) for i in range(len(values)) for j in range(i + 1, len(values)) if separated(values[i], values[j])
            ]
        if cohort_metrics and values[0].kind == "category":
            seen = [cm[key].value or "unknown" for cm in cohort_metrics if key in cm]
            row.cohort = CohortStat(n=len(seen), values=dict(Counter(seen).most_common()))
        elif cohort_metrics:
            ref = [
                cm[key].estimate for cm in cohort_metrics
                if key in cm and cm[key].scope == values[0].scope and cm[key].estimate is not None
            ]
            stat = CohortStat(n=len(ref))
            if len(ref) >= 2:
                stat.mean, stat.sd = statistics.fmean(ref), statistics.stdev(ref)
            row.cohort = stat
            row.z = [
                (v.estimate - stat.mean) / stat.sd
                if v.estimate is not None and stat.sd and stat.mean is not None else None
                for v in values
            ]
        rows.append(row)
    left_out = _left_out(names, per_model, dossiers)
    return Comparison(
        models=names, rows=rows, left_out=left_out, cohort_name=cohort_name if cohort else None,
        cohort_models=_names(cohort),
    )
