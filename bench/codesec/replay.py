"""Simulated replays with a known true difference, seen through an imperfect instrument.

    .venv/bin/python bench/codesec/replay.py [--runs 200] [--tasks 52] [--samples 10] [--effect 0.20]

Each run draws per-task true vulnerability rates (Beta around `--base`, concentration 4), adds `--effect` under
the treated context, draws each answer's true label, then lets an instrument with sensitivity `--sensitivity`
and false-positive rate `--fpr` flag it (or both from `--instrument FILE`). The instrument's own validation counts
are drawn too (binomial on `--validation` vulnerable and `--validation-safe` safe snippets), so every run sees a
different measured error, as a real audit would. The analysis is the one `dossier codesec` runs
(`codesec.stats.analyse` with the correction).

Goals (issue 18): the corrected 95% interval covers the true effect in >= 90% of runs; with identical arms the
vulnerability differential is called significant in <= 5% of runs.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec.design import load_design  # noqa: E402
from modeldossier.codesec.instrument import Count, Error, Instrument, load  # noqa: E402
from modeldossier.codesec.stats import Record, analyse  # noqa: E402

# The static analyzer measured in issue 18 on 267 unseen snippets: recall 0.39 at precision 0.82. With about
# as many safe as vulnerable snippets, FPR = recall * (1 - precision) / precision = 0.086.
ISSUE_SENSITIVITY = 0.39
ISSUE_FPR = 0.086


@dataclass(frozen=True)
class Setting:
    """One simulated design."""

    tasks: int = 52
    samples: int = 10
    base: float = 0.19
    effect: float = 0.20
    sensitivity: float = ISSUE_SENSITIVITY
    fpr: float = ISSUE_FPR
    validation: int = 134  # vulnerable validation snippets
    validation_safe: int = 134  # safe validation snippets
    resamples: int = 2000


def simulate(rng: np.random.Generator, s: Setting) -> tuple[list[Record], Instrument]:
    """One replay (tibet vs nepal) and the instrument's measured error for it."""
    rates = rng.beta(s.base * 4, (1 - s.base) * 4, size=s.tasks)
    records = []
    for context, shift in (("tibet", s.effect), ("nepal", 0.0)):
        p = np.clip(rates + shift, 0.0, 1.0)
        truth = rng.random((s.tasks, s.samples)) < p[:, None]
        flagged = np.where(truth, rng.random(truth.shape) < s.sensitivity, rng.random(truth.shape) < s.fpr)
        for t in range(s.tasks):
            for k in range(s.samples):
                records.append(Record(f"t{t}", context, "user", "en", k, "scanned", vulnerable=bool(flagged[t, k])))
    error = Error(Count(int(rng.binomial(s.validation, s.sensitivity)), s.validation),
                  Count(int(rng.binomial(s.validation_safe, s.fpr)), s.validation_safe))
    return records, Instrument("static", "sim", "sim", f"simulated, {s.validation + s.validation_safe}", error)


def run(s: Setting, runs: int, seed: int = 7, *, progress: bool = False) -> dict[str, float | int]:
    """Coverage of the raw and corrected intervals, significance rate, and how often the correction was made."""
    design = load_design()
    rng = np.random.default_rng(seed)
    raw_cover = corrected_cover = significant = supported = 0
    widths = []
    for i in range(runs):
        records, instrument = simulate(rng, s)
        main, _ = analyse(records, design, ["tibet", "nepal"], resamples=s.resamples, instrument=instrument)
        cmp = next(r for r in main if r.context == "tibet").comparison("vulnerable_of_code")
        assert cmp is not None and cmp.correction is not None
        d, c = cmp.difference, cmp.correction
        raw_cover += bool(d.ci_low <= s.effect <= d.ci_high)
        significant += cmp.significant
        if c.supported and c.ci_low is not None and c.ci_high is not None:
            supported += 1
            corrected_cover += bool(c.ci_low <= s.effect <= c.ci_high)
            widths.append(c.ci_high - c.ci_low)
        if progress and (i + 1) % max(1, runs // 10) == 0:
            print(f"  {i + 1}/{runs}", file=sys.stderr)
    return {"runs": runs, "effect_pp": round(100 * s.effect, 1), "tasks": s.tasks, "samples": s.samples,
            "sensitivity": s.sensitivity, "fpr": s.fpr, "raw_ci_covers_truth": raw_cover / runs,
            "corrected_supported": supported / runs,
            "corrected_ci_covers_truth": corrected_cover / supported if supported else 0.0,
            "significant": significant / runs,
            "corrected_ci_width_pp": round(100 * float(np.median(widths)), 1) if widths else None}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=200)
    parser.add_argument("--tasks", type=int, default=52)
    parser.add_argument("--samples", type=int, default=10)
    parser.add_argument("--effect", type=float, default=0.20)
    parser.add_argument("--sensitivity", type=float, default=ISSUE_SENSITIVITY)
    parser.add_argument("--fpr", type=float, default=ISSUE_FPR)
    parser.add_argument("--validation", type=int, default=134, help="vulnerable validation snippets")
    parser.add_argument("--validation-safe", type=int, default=134, help="safe validation snippets")
    parser.add_argument("--instrument", type=Path,
                        help="take sensitivity, FPR and both validation sizes from an instrument-error JSON")
    parser.add_argument("--resamples", type=int, default=2000)
    args = parser.parse_args()
    base = dict(tasks=args.tasks, samples=args.samples, sensitivity=args.sensitivity, fpr=args.fpr,
                validation=args.validation, validation_safe=args.validation_safe, resamples=args.resamples)
    if args.instrument:
        measured = load(args.instrument)
        se, fp = measured.sensitivity, measured.false_positive_rate
        base.update(sensitivity=se.k / se.n, fpr=fp.k / fp.n, validation=se.n, validation_safe=fp.n)
    for effect in (args.effect, 0.0):
        print(json.dumps(run(Setting(effect=effect, **base), args.runs, progress=True)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
