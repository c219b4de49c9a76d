"""Statistics used across sections: Wilson intervals, paired bootstrap, multiple-comparison correction."""

from __future__ import annotations

import math
from collections.abc import Sequence

from modeldossier.common import Difference, Rate

Z95 = 1.959963984540054


def wilson(k: int, n: int, z: float = Z95) -> Rate:
    """Proportion k/n with its Wilson score interval (well behaved at 0, 1 and small n)."""
    if n < 0 or k < 0 or k > n:
        raise ValueError(f"need 0 <= k <= n, got k={k}, n={n}")
    if n == 0:
        return Rate(k=0, n=0)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Rate(k=k, n=n, rate=p, ci_low=max(0.0, centre - half), ci_high=min(1.0, centre + half))


def newcombe_difference(a: Rate, b: Rate) -> Difference:
    """Unpaired difference a - b with Newcombe's hybrid score CI and a two-sided Fisher exact p-value."""
    if not a.n or not b.n or a.rate is None or b.rate is None:
        return Difference(estimate=None, method="newcombe-95", n=a.n + b.n)
    d = a.rate - b.rate
    la, ua = a.ci_low or 0.0, a.ci_high or 0.0
    lb, ub = b.ci_low or 0.0, b.ci_high or 0.0
    low = d - math.sqrt((a.rate - la) ** 2 + (ub - b.rate) ** 2)
    high = d + math.sqrt((ua - a.rate) ** 2 + (b.rate - lb) ** 2)
    table = [[a.k, a.n - a.k], [b.k, b.n - b.k]]
    from scipy import stats as sps  # start-up: scipy.stats costs ~0.6 s CPU; only this test needs it

    p = float(sps.fisher_exact(table).pvalue)
    return Difference(estimate=d, ci_low=low, ci_high=high, p_value=p, method="newcombe-95+fisher", n=a.n + b.n)


def paired_bootstrap_difference(
    treated: Sequence[float],
    control: Sequence[float],
    *,
    resamples: int = 5000,
    seed: int = 0,
) -> Difference:
    """Mean of (treated - control) over paired units with a percentile bootstrap 95% CI.

    Units (e.g. template items) are resampled with replacement; the two-sided p-value is the
    bootstrap share of resampled means on the far side of zero, doubled.
    """
    import numpy as np  # start-up: only the bootstrap needs numpy

    t = np.asarray(treated, dtype=float)
    c = np.asarray(control, dtype=float)
    if t.shape != c.shape:
        raise ValueError("treated and control must be paired (same length)")
    n = int(t.size)
    if n == 0:
        return Difference(estimate=None, method="paired-bootstrap-95", n=0)
    diffs = t - c
    estimate = float(diffs.mean())
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, n, size=(resamples, n))
    means = diffs[idx].mean(axis=1)
    low, high = np.percentile(means, [2.5, 97.5])
    if np.all(diffs == diffs[0]):
        p = 1.0 if estimate == 0 else 0.0
    else:
        p = float(min(1.0, 2 * min((means <= 0).mean(), (means >= 0).mean())))
    return Difference(
        estimate=estimate, ci_low=float(low), ci_high=float(high), p_value=p, method="paired-bootstrap-95", n=n
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm-Bonferroni adjusted p-values (None stays None), in the input order."""
    present = [(p, i) for i, p in enumerate(p_values) if p is not None]
    m = len(present)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(present)):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
