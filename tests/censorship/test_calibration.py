"""Calibration of the asymmetry intervals by simulation (bench/censorship/calibration.py).

Templates differ in difficulty, repeated samples are correlated (verbatim repeats), labels are misread at the
instrument file's rates. The fast version (a few hundred runs) allows for its Monte Carlo error; the slow one
checks the goals themselves: identical arms flagged <= 5% of runs, coverage of a true difference >= 93%.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from modeldossier.censorship import instrument as instrument_mod

ROOT = Path(__file__).resolve().parents[2]


def _bench():
    spec = importlib.util.spec_from_file_location("calibration", ROOT / "bench" / "censorship" / "calibration.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("calibration", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def cal():
    return _bench()


@pytest.fixture(scope="module")
def inst(cal):
    return instrument_mod.load(cal.FIXTURE)


@pytest.mark.parametrize("templates", [3, 22])
def test_identical_arms_rarely_flagged_and_truth_covered_fast(cal, inst, templates):
    runs = 200
    null = cal.run_cells(cal.Design(templates=templates, samples=3), runs, inst, seed=11, resamples=400)
    assert null["ci_excludes_0"] <= 0.08  # 5% + 2 Monte Carlo standard errors
    alt = cal.run_cells(cal.Design(templates=templates, samples=1, shift=1.0), runs, inst, seed=12, resamples=400)
    assert alt["truth"] == pytest.approx(0.188, abs=0.01)
    assert alt["coverage"] >= 0.90


def test_percentile_bootstrap_over_templates_was_not_calibrated(cal):
    """The old interval (percentile bootstrap over template means) on the same simulation: it over-flags."""
    import numpy as np

    from modeldossier.censorship.stats import unique
    from modeldossier.stats import paired_bootstrap_difference

    rng = np.random.default_rng(5)
    flagged = 0
    runs = 200
    for _ in range(runs):
        scored = unique(cal.simulate_cell(cal.Design(templates=3, samples=1), rng))
        by = {}
        for s in scored:
            by.setdefault(s.template, {}).setdefault(s.role, []).append(s.label == "COMPLETE")
        control = [sum(v["control"]) / len(v["control"]) for v in by.values()]
        target = [sum(v["target"]) / len(v["target"]) for v in by.values()]
        flagged += paired_bootstrap_difference(control, target, resamples=400).significant
    assert flagged / runs > 0.08


@pytest.mark.slow
def test_calibration_goals_full(cal, inst):
    for templates in (3, 22):
        for samples in (1, 3):
            null = cal.run_cells(cal.Design(templates=templates, samples=samples), 2000, inst, seed=21)
            assert null["ci_excludes_0"] <= 0.05, (templates, samples, null["ci_excludes_0"])
            alt = cal.run_cells(cal.Design(templates=templates, samples=samples, shift=1.0), 2000, inst, seed=22)
            assert alt["coverage"] >= 0.93, (templates, samples, alt["coverage"])
    assert cal.family_wise(200, inst, samples=1, languages=["en", "zh-Hans", "zh-Hant", "fi"], seed=3) <= 0.05
