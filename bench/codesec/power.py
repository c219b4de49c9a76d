"""Calibration of the codesec statistics by simulation: false-positive rate under no difference, and power.

    .venv/bin/python bench/codesec/power.py [--sims 200] [--tasks 52] [--samples 5]
    .venv/bin/python bench/codesec/power.py --instrument src/modeldossier/data/codesec/instrument-static.json \
        --deltas 0.08 --sample-grid 5,10,20,30,40     # power through the measured instrument

Each task has its own vulnerability rate (Beta-distributed around the base rate, so tasks differ as real ones
do); the disfavored context adds `delta` (percentage points) to every task's rate. Each answer's true label is
then flagged by an instrument with the measured sensitivity and false-positive rate (`--instrument`, or
`--sensitivity`/`--fpr`; default a perfect instrument). The analysis is the one `dossier codesec` runs
(paired-by-task bootstrap and sign-flip test, Holm over the 5 disfavored contexts), and each row also gives
the normal approximation `dossier codesec` prints in its power check.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec import instrument as instruments  # noqa: E402
from modeldossier.codesec.design import load_design  # noqa: E402
from modeldossier.codesec.stats import Record, analyse, power_at  # noqa: E402

PAIRS = [("tibet", "nepal"), ("uyghur", "uzbek"), ("falun-gong", "zen"), ("taiwan", "singapore"),
         ("hong-kong", "france-protest")]


def simulate(rng: np.random.Generator, tasks: int, samples: int, base: float, delta: float,
             sensitivity: float = 1.0, fpr: float = 0.0) -> list[Record]:
    """Five context pairs; only tibet differs (by ``delta``); answers flagged through the instrument."""
    # task rates ~ Beta with mean `base` and concentration 4 (wide spread between tasks)
    rates = rng.beta(base * 4, (1 - base) * 4, size=tasks)
    records = []
    for ctx, ctl in PAIRS:
        shift = delta if ctx == "tibet" else 0.0
        for context, p in ((ctx, np.minimum(1.0, rates + shift)), (ctl, rates)):
            truth = rng.random((tasks, samples)) < p[:, None]
            flagged = np.where(truth, rng.random(truth.shape) < sensitivity, rng.random(truth.shape) < fpr)
            records += [Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=bool(flagged[t, s]))
                        for t in range(tasks) for s in range(samples)]
    return records


def ci_coverage(samples: int, sims: int = 1000, tasks: int = 52, seed: int = 1) -> tuple[float, float]:
    """Null coverage of the percentile bootstrap CI and of a t-interval for the mean per-task difference."""
    from scipy import stats as sps

    rng = np.random.default_rng(seed)
    boot = tcov = 0
    for _ in range(sims):
        rates = rng.beta(0.19 * 4, 0.81 * 4, size=tasks)
        d = rng.binomial(samples, rates) / samples - rng.binomial(samples, rates) / samples
        means = d[rng.integers(0, tasks, size=(2000, tasks))].mean(axis=1)
        low, high = np.percentile(means, [2.5, 97.5])
        boot += low <= 0 <= high
        tcov += abs(d.mean()) <= sps.t.ppf(0.975, tasks - 1) * d.std(ddof=1) / np.sqrt(tasks)
    return boot / sims, tcov / sims


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sims", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=52)
    parser.add_argument("--samples", type=int, default=5)
    parser.add_argument("--base", type=float, default=0.19)
    parser.add_argument("--deltas", default="0,0.05,0.08,0.13", help="comma list of differences (fractions)")
    parser.add_argument("--instrument", type=Path, help="instrument-error JSON (sensitivity and FPR to simulate)")
    parser.add_argument("--sensitivity", type=float, default=1.0)
    parser.add_argument("--fpr", type=float, default=0.0)
    parser.add_argument("--sample-grid", help="comma list of --samples values to run (overrides --samples)")
    parser.add_argument("--json", type=Path)
    parser.add_argument("--coverage-only", action="store_true", help="only the null CI coverage check (fast)")
    args = parser.parse_args()
    if args.coverage_only:
        for samples in (5, 10):
            boot, tcov = ci_coverage(samples)
            print(json.dumps({"samples": samples, "bootstrap_coverage": boot, "t_interval_coverage": tcov}))
        return 0
    sensitivity, fpr = args.sensitivity, args.fpr
    if args.instrument:
        measured = instruments.load(args.instrument)
        sensitivity, fpr = measured.sensitivity.rate or 0.0, measured.false_positive_rate.rate or 0.0
    design = load_design()
    contexts = [c for pair in PAIRS for c in pair]
    grid = [int(v) for v in args.sample_grid.split(",")] if args.sample_grid else [args.samples]
    out = {"tasks": args.tasks, "base": args.base, "sims": args.sims, "sensitivity": sensitivity, "fpr": fpr,
           "rows": []}
    for samples in grid:
        for delta in (float(d) for d in args.deltas.split(",")):
            rng = np.random.default_rng(42)
            tibet_sig = other_sig = 0
            cover = 0
            for _ in range(args.sims):
                records = simulate(rng, args.tasks, samples, args.base, delta, sensitivity, fpr)
                main_, _ = analyse(records, design, contexts, resamples=2000)
                for r in main_:
                    cmp = r.comparison("vulnerable_of_code")
                    if cmp is None:
                        continue
                    if r.context == "tibet":
                        tibet_sig += cmp.significant
                        d = cmp.difference
                        cover += d.ci_low <= (sensitivity - fpr) * delta <= d.ci_high
                    else:
                        other_sig += cmp.significant
            flagged_base = fpr + (sensitivity - fpr) * args.base
            row = {"samples": samples, "delta_pp": round(100 * delta, 1), "tibet_significant": tibet_sig / args.sims,
                   "approx_power": round(power_at(samples, tasks=args.tasks, flagged_rate=flagged_base,
                                                  youden=sensitivity - fpr, effect=delta, contexts=5), 3),
                   "null_contexts_significant": other_sig / (4 * args.sims),
                   "tibet_flagged_ci_coverage": cover / args.sims}
            out["rows"].append(row)
            print(json.dumps(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
