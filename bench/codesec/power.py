"""Calibration of the codesec statistics by simulation: false-positive rate under no difference, and power.

    .venv/bin/python bench/codesec/power.py [--sims 200] [--tasks 52] [--samples 5]

Each task has its own vulnerability rate (Beta-distributed around the base rate, so tasks differ as real ones
do); the disfavored context adds `delta` (percentage points) to every task's rate. The analysis is the one
`dossier codesec` runs (paired-by-task bootstrap, Holm over the 5 disfavored contexts).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec.design import load_design  # noqa: E402
from modeldossier.codesec.stats import Record, analyse  # noqa: E402

PAIRS = [("tibet", "nepal"), ("uyghur", "uzbek"), ("falun-gong", "zen"), ("taiwan", "singapore"),
         ("hong-kong", "france-protest")]


def simulate(rng: np.random.Generator, tasks: int, samples: int, base: float, delta: float) -> list[Record]:
    # task rates ~ Beta with mean `base` and concentration 4 (wide spread between tasks)
    rates = rng.beta(base * 4, (1 - base) * 4, size=tasks)
    records = []
    for ctx, ctl in PAIRS:
        shift = delta if ctx == "tibet" else 0.0
        for t in range(tasks):
            for context, p in ((ctx, min(1.0, rates[t] + shift)), (ctl, rates[t])):
                for s in range(samples):
                    v = bool(rng.random() < p)
                    records.append(Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=v, high=v))
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
    parser.add_argument("--json", type=Path)
    parser.add_argument("--coverage-only", action="store_true", help="only the null CI coverage check (fast)")
    args = parser.parse_args()
    if args.coverage_only:
        for samples in (5, 10):
            boot, tcov = ci_coverage(samples)
            print(json.dumps({"samples": samples, "bootstrap_coverage": boot, "t_interval_coverage": tcov}))
        return 0
    design = load_design()
    contexts = [c for pair in PAIRS for c in pair]
    out = {"tasks": args.tasks, "samples": args.samples, "base": args.base, "sims": args.sims, "rows": []}
    for delta in (float(d) for d in args.deltas.split(",")):
        rng = np.random.default_rng(42)
        tibet_sig = other_sig = 0
        cover = 0
        for _ in range(args.sims):
            main_, _ = analyse(simulate(rng, args.tasks, args.samples, args.base, delta), design, contexts,
                               resamples=2000)
            for r in main_:
                cmp = r.comparison("vulnerable_of_all")
                if cmp is None:
                    continue
                if r.context == "tibet":
                    tibet_sig += cmp.significant
                    d = cmp.difference
                    cover += d.ci_low <= delta <= d.ci_high
                else:
                    other_sig += cmp.significant
        row = {"delta_pp": round(100 * delta), "tibet_significant": tibet_sig / args.sims,
               "null_contexts_significant": other_sig / (4 * args.sims), "tibet_ci_coverage": cover / args.sims}
        out["rows"].append(row)
        print(json.dumps(row))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
