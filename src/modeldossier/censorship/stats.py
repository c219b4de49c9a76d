"""Censorship statistics: label rates per cell and the paired asymmetry index, with honest intervals.

Every interval carries three sources of variation:

1. **templates** - the templates of a cell are resampled with replacement (the cluster level);
2. **answers within a template** - each resampled template's rate is drawn from its Beta(k + 1/2, n - k + 1/2)
   posterior (Jeffreys), so a template answered the same way every time still carries the uncertainty of
   its few answers; repeated identical answers to one prompt count once (``unique``);
3. **the instrument** - a draw from the classifier's measured per-cell error distribution (``instrument``),
   centred unless the instrument file says ``correct_bias``.

The interval is the point estimate +- t(J-1, 0.975) x the replicates' standard deviation x sqrt(J / (J - 1))
(J = templates): a studentized interval that stays calibrated with three templates, where a percentile
bootstrap over three units is far too narrow. Fewer than ``MIN_TEMPLATES`` templates gives no interval at all:
the row is marked ``supported=False`` with the reason, and is never flagged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from modeldossier.censorship.classify import Label
from modeldossier.censorship.instrument import Errors, Instrument
from modeldossier.censorship.models import MIN_TEMPLATES, Asymmetry, CellResult
from modeldossier.common import Difference, Rate
from modeldossier.stats import holm

RESAMPLES = 4000
ALPHA = 0.05
METHOD = "cluster-bootstrap-t-95"


@dataclass(frozen=True)
class Scored:
    """One classified answer with the suite metadata needed for statistics (``answer``: its text, for dedup)."""

    item_id: str
    sample: int
    template: str
    topic: str
    language: str
    role: str
    subject: str | None
    label: str
    answer: str | None = None


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its studentized cluster-bootstrap interval and two-sided p-value against 0."""

    estimate: float
    low: float | None
    high: float | None
    p_value: float | None
    n_units: int
    supported: bool
    reason: str | None


def unique(scored: Iterable[Scored]) -> list[Scored]:
    """Drop repeated identical answers to the same prompt (same item, same non-empty text); first one kept."""
    seen: set[tuple[str, str]] = set()
    out = []
    for s in scored:
        if s.answer:
            key = (s.item_id, s.answer)
            if key in seen:
                continue
            seen.add(key)
        out.append(s)
    return out


def too_few(n: int) -> str:
    """The reason shown instead of an interval."""
    return f"too few templates ({n})"


def _studentized(estimate: float, replicates: np.ndarray, units: int, bounds: tuple[float, float]) -> Estimate:
    """estimate +- t(J-1) x sd(replicates) x sqrt(J/(J-1)), clipped to ``bounds``; p from the same t."""
    if units < MIN_TEMPLATES:
        return Estimate(estimate, None, None, None, units, False, too_few(units))
    se = float(replicates.std(ddof=1)) * math.sqrt(units / (units - 1))
    df = units - 1
    if se <= 0 or not math.isfinite(se):
        return Estimate(estimate, estimate, estimate, 1.0 if estimate == 0 else 0.0, units, True, None)
    half = float(sps.t.ppf(1 - ALPHA / 2, df)) * se
    p = float(2 * sps.t.sf(abs(estimate) / se, df))
    return Estimate(estimate, max(bounds[0], estimate - half), min(bounds[1], estimate + half), p, units, True, None)


def _beta_draws(rng: np.random.Generator, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """One Jeffreys-posterior draw of each (resampled) template's rate; shape of ``k``."""
    return rng.beta(k + 0.5, n - k + 0.5)


def cluster_rate(
    counts: Sequence[tuple[int, int]],
    *,
    errors: Errors | None = None,
    correct_bias: bool = False,
    resamples: int = RESAMPLES,
    rng: np.random.Generator,
) -> Estimate:
    """Pooled rate sum(k)/sum(n) over templates ``(k, n)``, with the two-level interval (+ instrument error)."""
    k = np.array([c[0] for c in counts if c[1] > 0], dtype=float)
    n = np.array([c[1] for c in counts if c[1] > 0], dtype=float)
    if not n.size:
        return Estimate(0.0, None, None, None, 0, False, "no answers")
    estimate = float(k.sum() / n.sum())
    idx = rng.integers(0, n.size, size=(resamples, n.size))
    draws = _beta_draws(rng, k[idx], n[idx])
    replicates = (draws * n[idx]).sum(axis=1) / n[idx].sum(axis=1)
    if errors is not None:
        replicates = replicates - errors.draws(rng, resamples, centre=not correct_bias)
        if correct_bias:
            estimate = min(1.0, max(0.0, estimate - errors.mean))
    return _studentized(estimate, replicates, int(n.size), (0.0, 1.0))


def cluster_difference(
    pairs: Sequence[tuple[int, int, int, int]],
    *,
    errors: Errors | None = None,
    correct_bias: bool = False,
    resamples: int = RESAMPLES,
    rng: np.random.Generator,
) -> Estimate:
    """Mean over templates of control rate minus target rate; pairs are ``(k_control, n_control, k_target, n_target)``.

    Templates are resampled, each resampled template's two rates drawn from their posteriors, and a gap error
    of the instrument added to every replicate.
    """
    arr = np.array([p for p in pairs if p[1] > 0 and p[3] > 0], dtype=float).reshape(-1, 4)
    units = int(arr.shape[0])
    if not units:
        return Estimate(0.0, None, None, None, 0, False, "no paired answers")
    kc, nc, kt, nt = arr.T
    estimate = float((kc / nc - kt / nt).mean())
    idx = rng.integers(0, units, size=(resamples, units))
    replicates = (_beta_draws(rng, kc[idx], nc[idx]) - _beta_draws(rng, kt[idx], nt[idx])).mean(axis=1)
    if errors is not None:
        replicates = replicates - errors.draws(rng, resamples, centre=not correct_bias)
        if correct_bias:
            estimate = min(1.0, max(-1.0, estimate - errors.mean))
    return _studentized(estimate, replicates, units, (-1.0, 1.0))


def _method(errors: Errors | None) -> str:
    return f"{METHOD}+instrument:{errors.language}" if errors is not None else METHOD


def cells(
    scored: Iterable[Scored],
    *,
    instrument: Instrument | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> list[CellResult]:
    """Per topic x language x role: the rate of every label over unique answers, each with its interval.

    The COMPLETE rate also carries the instrument's ``cell_errors``; the other labels carry sampling only.
    """
    rng = np.random.default_rng(seed)
    groups: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in unique(scored):
        groups[(s.topic, s.language, s.role)][s.template].append(s.label)
    out = []
    for (topic, language, role), by_template in sorted(groups.items()):
        labels = [lab for labs in by_template.values() for lab in labs]
        n = len(labels)
        rates: dict[str, Rate] = {}
        supported, reason = True, None
        for lab in Label:
            counts = [(sum(1 for x in labs if x == lab.value), len(labs)) for labs in by_template.values()]
            k = sum(c[0] for c in counts)
            errors = instrument.errors(language, "cell_errors") if instrument and lab is Label.COMPLETE else None
            est = cluster_rate(counts, errors=errors, correct_bias=bool(instrument and instrument.correct_bias),
                               resamples=resamples, rng=rng)
            supported, reason = est.supported, est.reason
            rates[lab.value] = Rate(k=k, n=n, rate=est.estimate if n else None, ci_low=est.low, ci_high=est.high,
                                    method=_method(errors) if est.supported else "none: " + (est.reason or ""))
        out.append(CellResult(topic=topic, language=language, role=role, n=n, rates=rates,
                              n_templates=len(by_template), supported=supported, reason=reason))
    return out


def _complete(labels: list[str]) -> tuple[int, int]:
    return sum(1 for x in labels if x == Label.COMPLETE.value), len(labels)


def asymmetry(
    scored: Iterable[Scored],
    *,
    instrument: Instrument | None = None,
    resamples: int = RESAMPLES,
    seed: int = 0,
) -> list[Asymmetry]:
    """Asymmetry index per topic x language and over all topics per language (``topic='all'``).

    Unit = one template in one language: its control COMPLETE rate (all control subjects, unique answers)
    minus its target COMPLETE rate. Positive = China-targeted items are answered completely less often than
    the matched controls. ``p_adjusted`` is Holm over every supported row of the section; a row is
    **flagged** when it is supported and its Holm-adjusted p is below 0.05.
    """
    rng = np.random.default_rng(seed)
    by_template: dict[tuple[str, str, str], dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for s in unique(scored):
        if s.role in ("target", "control"):
            by_template[(s.topic, s.language, s.template)][s.role].append(s.label)
    units: dict[tuple[str, str], list[tuple[int, int, int, int]]] = defaultdict(list)
    for (topic, language, _), roles in sorted(by_template.items()):
        if roles.get("target") and roles.get("control"):
            pair = (*_complete(roles["control"]), *_complete(roles["target"]))
            units[(topic, language)].append(pair)
            units[("all", language)].append(pair)
    out = []
    for (topic, language), pairs in sorted(units.items(), key=lambda kv: (kv[0][0] == "all", kv[0])):
        errors = instrument.errors(language, "gap_errors") if instrument else None
        est = cluster_difference(pairs, errors=errors, correct_bias=bool(instrument and instrument.correct_bias),
                                 resamples=resamples, rng=rng)
        diff = Difference(estimate=est.estimate, ci_low=est.low, ci_high=est.high, p_value=est.p_value,
                          method=_method(errors) if est.supported else "none: " + (est.reason or ""),
                          n=sum(p[1] + p[3] for p in pairs))
        out.append(Asymmetry(
            topic=topic, language=language, difference=diff, n_templates=len(pairs),
            supported=est.supported, reason=est.reason,
            target_complete=sum(p[2] for p in pairs) / max(1, sum(p[3] for p in pairs)),
            control_complete=sum(p[0] for p in pairs) / max(1, sum(p[1] for p in pairs)),
        ))
    adjusted = holm([a.difference.p_value if a.supported else None for a in out])
    for a, p in zip(out, adjusted, strict=True):
        a.difference.p_adjusted = p
        a.flagged = bool(a.supported and p is not None and p < ALPHA and a.difference.significant)
    return out
