"""Calibration and power of the censorship asymmetry intervals, by simulation.

    .venv/bin/python bench/censorship/calibration.py [--runs 2000] [--power-runs 300] [--instrument PATH]

Each simulated run is one topic x language cell answered by one model:

- **templates differ in difficulty**: template j has a logit COMPLETE rate drawn from N(logit(base), 1.0);
- **subjects differ**: each subject (the target and 3 controls) adds its own N(0, 0.5) on the logit scale; under
  identical arms the target is just another subject, so the true asymmetry is exactly 0;
- **a real asymmetry** shifts the target's logit by ``-shift``; the true asymmetry is the expected control
  minus target rate over templates and subjects (computed by Monte Carlo, 400,000 templates);
- **repeated samples are correlated**: each sample after the first repeats an earlier answer word for word
  with probability 0.5 (a server that ignores the seed), else it is a fresh draw;
- **misclassification**: per run (one model) a COMPLETE sensitivity and false-positive rate are drawn from the
  instrument file's Beta(k + 1/2, n - k + 1/2) for the language, and every answer's label is read through them.

The analysis is the one ``dossier probe --suite censorship`` runs (``censorship.stats.asymmetry`` with the same
instrument file). Prints JSON: the share of identical-arm runs flagged (CI excludes 0), the coverage of the true
asymmetry, a whole-section family-wise check (default run shape, Holm), and the power table.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.special import expit, logit

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.censorship import instrument as instrument_mod  # noqa: E402
from modeldossier.censorship.instrument import Instrument  # noqa: E402
from modeldossier.censorship.stats import Scored, asymmetry  # noqa: E402

FIXTURE = ROOT / "tests" / "censorship" / "data" / "instrument.json"
TEMPLATE_SD = 1.0
SUBJECT_SD = 0.5
REPEAT = 0.5
CONTROLS = 3
# the default suite: templates per topic in each language (7 topics; the 'all' row pools them)
DEFAULT_TOPICS = {"government_criticism": 3, "satire": 3, "leaders": 3, "events": 3, "key_facts": 3,
                  "regions": 4, "creative": 3}


@dataclass(frozen=True)
class Design:
    """One simulated cell."""

    templates: int = 3
    samples: int = 1
    base: float = 0.75
    shift: float = 0.0
    language: str = "en"


def true_asymmetry(base: float, shift: float, *, n: int = 400_000, seed: int = 99) -> float:
    """Expected control minus target COMPLETE rate over templates and subjects."""
    rng = np.random.default_rng(seed)
    template = rng.normal(logit(base), TEMPLATE_SD, size=n)
    control = expit(template[:, None] + rng.normal(0, SUBJECT_SD, size=(n, CONTROLS))).mean(axis=1)
    target = expit(template + rng.normal(0, SUBJECT_SD, size=n) - shift)
    return float((control - target).mean())


def _misread(instrument: Instrument | None, language: str, rng: np.random.Generator) -> tuple[float, float]:
    """Per-run COMPLETE sensitivity and false-positive rate from the instrument file (perfect when absent)."""
    if instrument is None:
        return 1.0, 0.0
    raw = instrument.raw.get(instrument_mod.language_key(language)) or instrument.raw.get("all") or {}
    sens, fpr = raw.get("complete_sensitivity"), raw.get("complete_false_positive")
    s = rng.beta(sens["k"] + 0.5, sens["n"] - sens["k"] + 0.5) if sens else 1.0
    f = rng.beta(fpr["k"] + 0.5, fpr["n"] - fpr["k"] + 0.5) if fpr else 0.0
    return float(s), float(f)


def simulate_cell(design: Design, rng: np.random.Generator, *, topic: str = "t",
                  misread: tuple[float, float] = (1.0, 0.0)) -> list[Scored]:
    """Answers of one model to one cell: targets and controls, samples with repeats, labels misread."""
    sens, fpr = misread
    out: list[Scored] = []
    for j in range(design.templates):
        level = rng.normal(logit(design.base), TEMPLATE_SD)
        subjects = [("target", "china", expit(level + rng.normal(0, SUBJECT_SD) - design.shift))]
        subjects += [("control", f"c{c}", expit(level + rng.normal(0, SUBJECT_SD))) for c in range(CONTROLS)]
        for role, subject, p in subjects:
            item = f"{topic}{j}:{subject}"
            answers: list[tuple[str, str]] = []
            for s in range(design.samples):
                if answers and rng.random() < REPEAT:
                    answers.append(answers[rng.integers(0, len(answers))])
                    continue
                complete = rng.random() < p
                seen = rng.random() < (sens if complete else fpr)
                answers.append((f"{item}#{s}", "COMPLETE" if seen else "DENIAL"))
            out += [Scored(item, s, f"{topic}{j}", topic, design.language, role, subject, label, text)
                    for s, (text, label) in enumerate(answers)]
    return out


def run_cells(design: Design, runs: int, instrument: Instrument | None, *, seed: int,
              resamples: int = 1000) -> dict[str, float]:
    """Share of runs whose 95% CI excludes 0, coverage of the true asymmetry, mean width, p-values."""
    rng = np.random.default_rng(seed)
    truth = true_asymmetry(design.base, design.shift)
    excl = cover = 0
    widths, ps = [], []
    for r in range(runs):
        scored = simulate_cell(design, rng, misread=_misread(instrument, design.language, rng))
        row = next(a for a in asymmetry(scored, instrument=instrument, resamples=resamples, seed=r) if a.topic == "t")
        d = row.difference
        assert d.ci_low is not None and d.ci_high is not None and d.p_value is not None
        excl += d.significant
        cover += d.ci_low <= truth <= d.ci_high
        widths.append(d.ci_high - d.ci_low)
        ps.append(d.p_value)
    return {"truth": truth, "ci_excludes_0": excl / runs, "coverage": cover / runs,
            "mean_width": float(np.mean(widths)), "p": ps}  # type: ignore[dict-item]


def family_wise(runs: int, instrument: Instrument | None, *, samples: int, languages: list[str], seed: int,
                resamples: int = 500) -> float:
    """Identical arms in every cell of a default-shaped run: the share of runs with any row flagged (Holm)."""
    rng = np.random.default_rng(seed)
    flagged = 0
    for r in range(runs):
        scored: list[Scored] = []
        for lang in languages:
            misread = _misread(instrument, lang, rng)
            for topic, n in DEFAULT_TOPICS.items():
                scored += simulate_cell(Design(templates=n, samples=samples, language=lang), rng, topic=topic,
                                        misread=misread)
        flagged += any(a.flagged for a in asymmetry(scored, instrument=instrument, resamples=resamples, seed=r))
    return flagged / runs


def power_table(runs: int, instrument: Instrument | None, *, rows: int, seed: int) -> list[dict[str, object]]:
    """Smallest true asymmetry detected in >= 80% of runs, per cell size and --samples.

    Detected = CI excludes 0 (one row), and flagged = Holm-adjusted p < 0.05 with ``rows`` rows in the section
    (the smallest p is multiplied by ``rows``, so this is the strict case).
    """
    shifts = [0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 6.0]
    out = []
    for templates, label in ((3, "one topic (3 templates)"), (22, "all topics in one language (22 templates)")):
        for samples in (1, 3, 5):
            found = {"ci": None, "flag": None}
            for shift in shifts:
                res = run_cells(Design(templates=templates, samples=samples, shift=shift), runs, instrument,
                                seed=seed + int(shift * 100) + samples, resamples=600)
                p = np.asarray(res["p"])
                if found["ci"] is None and res["ci_excludes_0"] >= 0.8:
                    found["ci"] = round(100 * res["truth"], 1)
                if found["flag"] is None and float((p * rows < 0.05).mean()) >= 0.8:
                    found["flag"] = round(100 * res["truth"], 1)
                if found["flag"] is not None:
                    break
            out.append({"cell": label, "samples": samples, "ci_excludes_0_pp": found["ci"],
                        "flagged_pp": found["flag"]})
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=2000)
    parser.add_argument("--power-runs", type=int, default=300)
    parser.add_argument("--family-runs", type=int, default=200)
    parser.add_argument("--instrument", type=Path, default=None,
                        help="instrument file (default: the shipped one, else the test fixture)")
    parser.add_argument("--no-power", action="store_true")
    args = parser.parse_args()
    path = args.instrument or (instrument_mod.default_path() if instrument_mod.default_path().is_file() else FIXTURE)
    instrument = instrument_mod.load(path)
    result: dict[str, object] = {"instrument": str(path), "runs": args.runs}
    checks = {}
    for templates in (3, 22):
        for samples in (1, 3):
            for lang in ("en", "zh-Hans"):
                null = run_cells(Design(templates=templates, samples=samples, language=lang), args.runs, instrument,
                                 seed=1)
                alt = run_cells(Design(templates=templates, samples=samples, shift=1.0, language=lang), args.runs,
                                instrument, seed=2)
                checks[f"{templates} templates, samples {samples}, {lang}"] = {
                    "identical_arms_ci_excludes_0": null["ci_excludes_0"], "identical_arms_coverage": null["coverage"],
                    "true_difference_pp": round(100 * alt["truth"], 1), "coverage": alt["coverage"],
                    "power": alt["ci_excludes_0"], "mean_width_pp": round(100 * alt["mean_width"], 1)}
                print(json.dumps({k: checks[k] for k in list(checks)[-1:]}), file=sys.stderr)
    result["cells"] = checks
    result["family_wise_flagged"] = {
        "samples 1, en+zh-Hans+zh-Hant+fi": family_wise(args.family_runs, instrument, samples=1,
                                                         languages=["en", "zh-Hans", "zh-Hant", "fi"], seed=3)}
    if not args.no_power:
        result["power"] = power_table(args.power_runs, instrument, rows=40, seed=10)
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
