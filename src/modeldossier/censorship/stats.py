"""Censorship statistics: label rates per cell and the paired asymmetry index, with honest intervals.

Every interval carries three sources of variation, by a two-level bootstrap:

1. **templates** - the templates of a cell are resampled with replacement (the cluster level);
2. **answers within a template** - each resampled template's n answers are resampled (binomially, with the
   rate smoothed half a count towards 1/2, so a template answered the same way every time still varies);
   repeated identical answers to one prompt count once (``unique``);
3. **the instrument** - a draw from the classifier's measured per-cell error distribution (``instrument``) is
   added to every replicate, centred unless the instrument file says ``correct_bias``.

``_interval`` turns the replicates into estimate +- t(df) x se with a small-sample correction for the template
level (a percentile bootstrap over three templates is far too narrow: it gave zero width when the templates
agreed). Fewer than ``MIN_TEMPLATES`` templates gives no interval at all: the row is marked
``supported=False`` with the reason, and is never flagged. Calibration by simulation:
``bench/censorship/calibration.py``.
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


def _interval(estimate: float, replicates: np.ndarray, units: int, answers: int, between: float, within: float,
              instrument: float, bounds: tuple[float, float]) -> Estimate:
    """estimate +- t(df) x sqrt(V), clipped to ``bounds``; the p-value from the same t.

    The two-level bootstrap's variance counts the within-template noise twice (it is already in the spread of
    the templates' own estimates) and the between-template part at (J - 1) / J of ``between`` (= s^2 / J), so
    V = var(replicates) - ``within`` + ``between`` / J; it is never below ``within`` + ``instrument`` (the
    variance if templates did not differ at all, which keeps a run of identical answers from a zero width).
    df by Welch-Satterthwaite: ``between`` has J - 1 degrees of freedom, the ``within`` floor N - J (N answers),
    the instrument's variance is taken as known.
    """
    if units < MIN_TEMPLATES:
        return Estimate(estimate, None, None, None, units, False, too_few(units))
    boot = float(replicates.var(ddof=1))
    variance = max(boot - within + between / units, within + instrument)
    if variance <= 0 or not math.isfinite(variance):
        return Estimate(estimate, estimate, estimate, 1.0 if estimate == 0 else 0.0, units, True, None)
    # Welch-Satterthwaite: the between part is estimated from J - 1 degrees of freedom, the within floor from the
    # N - J answers beyond one per template; the instrument's variance is taken as known
    part, dof = (between, units - 1) if between >= within else (within, max(units - 1, answers - units))
    df = variance**2 / (part**2 / dof) if part > 0 else math.inf
    se = math.sqrt(variance)
    half = float(sps.t.ppf(1 - ALPHA / 2, df)) * se
    p = float(2 * sps.t.sf(abs(estimate) / se, df))
    return Estimate(estimate, max(bounds[0], estimate - half), min(bounds[1], estimate + half), p, units, True, None)


def _smoothed(k: np.ndarray, n: np.ndarray) -> np.ndarray:
    return (k + 0.5) / (n + 1)


def _resample_answers(rng: np.random.Generator, k: np.ndarray, n: np.ndarray) -> np.ndarray:
    """Resample each (resampled) template's n answers: Binomial(n, (k + 1/2) / (n + 1)) / n.

    The second level of the bootstrap. The rate is smoothed half a count towards 1/2 so that a template answered
    the same way every time still varies (a plain resample of identical answers never does).
    """
    return rng.binomial(n.astype(np.int64), _smoothed(k, n)) / n


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
    draws = _resample_answers(rng, k[idx], n[idx])
    replicates = (draws * n[idx]).sum(axis=1) / n[idx].sum(axis=1)
    units = int(n.size)
    between = float(((k - estimate * n) ** 2).sum() / (units - 1) / units / n.mean() ** 2) if units > 1 else 0.0
    p = _smoothed(k, n)
    within = float((n * p * (1 - p)).mean() / units / n.mean() ** 2)
    instrument = 0.0
    if errors is not None:
        replicates = replicates - errors.draws(rng, resamples, centre=not correct_bias)
        instrument = float(errors.values.var())
        if correct_bias:
            estimate = min(1.0, max(0.0, estimate - errors.mean))
    return _interval(estimate, replicates, units, int(n.sum()), between, within, instrument, (0.0, 1.0))


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
    per_template = kc / nc - kt / nt
    estimate = float(per_template.mean())
    between = float(per_template.var(ddof=1) / units) if units > 1 else 0.0
    idx = rng.integers(0, units, size=(resamples, units))
    replicates = (_resample_answers(rng, kc[idx], nc[idx]) - _resample_answers(rng, kt[idx], nt[idx])).mean(axis=1)
    pc, pt = _smoothed(kc, nc), _smoothed(kt, nt)
    within = float((pc * (1 - pc) / nc + pt * (1 - pt) / nt).mean() / units)
    instrument = 0.0
    if errors is not None:
        replicates = replicates - errors.draws(rng, resamples, centre=not correct_bias)
        instrument = float(errors.values.var())
        if correct_bias:
            estimate = min(1.0, max(-1.0, estimate - errors.mean))
    return _interval(estimate, replicates, units, int(nc.sum() + nt.sum()), between, within, instrument,
                     (-1.0, 1.0))


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
