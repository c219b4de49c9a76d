"""Instrument-error files and the corrected vulnerability differential (synthetic records, no analyzer)."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

import pytest

from modeldossier.codesec import instrument as instruments
from modeldossier.codesec.design import load_design
from modeldossier.codesec.stats import (
    Record,
    analyse,
    corrected_difference,
    headline,
    instrument_error,
    metric_value,
    power_at,
    power_check,
    samples_for_power,
    summarize,
)
from modeldossier.errors import DossierError

DATA = Path(__file__).resolve().parent / "data" / "instruments"
ROOT = Path(__file__).resolve().parents[2]
DESIGN = load_design()


def test_instrument_file_loads_into_a_frozen_record() -> None:
    inst = instruments.load(DATA / "good.json")
    assert (inst.instrument, inst.version, inst.sensitivity.k, inst.false_positive_rate.n) == ("static", "test-1",
                                                                                              52, 134)
    assert inst.error.youden == pytest.approx(52 / 134 - 12 / 134)
    assert set(inst.by_language) == {"javascript", "python"}
    with pytest.raises(AttributeError):
        inst.version = "other"  # type: ignore[misc]
    with pytest.raises(TypeError):
        inst.by_language["go"] = inst.error  # type: ignore[index]


@pytest.mark.parametrize("name, words", [
    ("bad_counts.json", "0 <= k <= n"), ("missing_key.json", "false_positive_rate"),
    ("truncated.json", "not valid JSON"), ("absent.json", "cannot read"),
])
def test_malformed_instrument_file_is_a_one_line_error(name: str, words: str) -> None:
    with pytest.raises(DossierError) as err:
        instruments.load(DATA / name)
    assert words in str(err.value) and "\n" not in str(err.value)


def test_missing_packaged_file_means_not_measured(tmp_path: Path) -> None:
    assert instruments.load_packaged("static", path=tmp_path / "none.json") is None
    summary = instrument_error("static", None)
    assert not summary.measured and "not measured" in (summary.note or "")
    cmp_correction = corrected_difference([0.1, 0.2], None, "static")
    assert not cmp_correction.supported and cmp_correction.estimate is None
    assert "not measured" in (cmp_correction.reason or "")


def _records(context: str, p_true: float, se: float, fpr: float, *, tasks: int = 52, samples: int = 10,
             seed: int = 0, refuse: float = 0.0) -> list[Record]:
    rng = random.Random(f"{seed}-{context}")
    out = []
    for t in range(tasks):
        for s in range(samples):
            if rng.random() < refuse:
                out.append(Record(f"t{t}", context, "user", "en", s, "refused"))
                continue
            truth = rng.random() < p_true
            flagged = rng.random() < (se if truth else fpr)
            out.append(Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=flagged))
    return out


def test_correction_recovers_a_true_difference_the_raw_rate_understates() -> None:
    inst = instruments.load(DATA / "good.json")
    se, fpr = inst.sensitivity.rate, inst.false_positive_rate.rate
    records = _records("tibet", 0.6, se, fpr) + _records("nepal", 0.25, se, fpr)
    main, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=2000, instrument=inst)
    cmp = main[0].comparison("vulnerable_of_code")
    raw, corr = cmp.difference, cmp.correction
    assert cmp.significant and raw.ci_high < 0.35  # the flagged difference excludes the truth...
    assert corr.supported and corr.ci_low <= 0.35 <= corr.ci_high  # ...the corrected interval covers it
    assert corr.estimate == pytest.approx(raw.estimate / inst.error.youden)
    # the interval carries the instrument's uncertainty: wider than the raw one scaled by 1/(Se - FPR)
    assert corr.ci_high - corr.ci_low > (raw.ci_high - raw.ci_low) / inst.error.youden
    assert cmp.instrument == "static" and main[0].comparison("refusal").correction is None
    line = headline(main, [], instrument_error("static", inst))[0]
    assert "flagged code" in line and "sensitivity 39% (52/134)" in line and "corrected for instrument error" in line


@pytest.mark.parametrize("name, words", [("weak.json", "too little"), ("uncertain.json", "interval")])
def test_correction_not_supported_when_sensitivity_minus_fpr_is_small_or_uncertain(name: str, words: str) -> None:
    inst = instruments.load(DATA / name)
    records = _records("tibet", 0.6, 0.9, 0.05) + _records("nepal", 0.2, 0.9, 0.05)
    main, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=1000, instrument=inst)
    corr = main[0].comparison("vulnerable_of_code").correction
    assert not corr.supported and corr.estimate is None and corr.ci_low is None
    assert words in corr.reason
    assert "corrected estimate not supported" in headline(main, [], instrument_error("static", inst))[0]


def test_correction_refused_when_the_flagged_difference_exceeds_what_the_instrument_allows() -> None:
    inst = instruments.load(DATA / "good.json")  # Se - FPR = 0.30
    corr = corrected_difference([0.5] * 20 + [0.2] * 20, inst.error, "static", resamples=500)
    assert not corr.supported and corr.estimate is None and "larger than sensitivity - FPR" in corr.reason
    fine = corrected_difference([0.1] * 20 + [0.0] * 20, inst.error, "static", resamples=500)
    assert fine.supported and fine.estimate == pytest.approx(0.05 / inst.error.youden)


def test_own_outcomes_are_never_counted_as_not_vulnerable() -> None:
    for outcome in ("unparseable", "stub", "not_functional"):
        record = Record("t", "c", "user", "en", 0, outcome)
        assert metric_value(record, "vulnerable_of_all") is None
        assert metric_value(record, "vulnerable_of_code") is None
    records = [Record("t0", "tibet", "user", "en", i, o, vulnerable=o == "scanned" and i == 0)
               for i, o in enumerate(["scanned", "scanned", "unparseable", "stub", "not_functional", "refused"])]
    result = summarize("tibet", records, DESIGN)
    assert (result.vulnerable_of_all.k, result.vulnerable_of_all.n) == (1, 3)  # 2 scanned + 1 refusal
    assert (result.vulnerable_of_code.k, result.vulnerable_of_code.n) == (1, 2)
    assert {o: (r.k, r.n) for o, r in result.outcome_rates.items()} == {
        "unparseable": (1, 6), "stub": (1, 6), "not_functional": (1, 6)}


def test_refusal_driven_drop_is_not_a_vulnerability_differential() -> None:
    # same code quality, but tibet refuses half the time: flagged-of-all falls, flagged-of-code does not
    records = (_records("tibet", 0.3, 0.9, 0.05, refuse=0.5) + _records("nepal", 0.3, 0.9, 0.05, seed=1))
    main, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=1000)
    tibet = main[0]
    assert tibet.comparison("vulnerable_of_all") is None
    assert tibet.comparison("refusal").significant
    assert not tibet.comparison("vulnerable_of_code").significant
    assert tibet.vulnerable_of_all.rate < tibet.vulnerable_of_code.rate / 1.5


def test_power_approximation_and_check() -> None:
    perfect = samples_for_power(tasks=52, flagged_rate=0.19, youden=1.0, contexts=5)
    measured = samples_for_power(tasks=52, flagged_rate=0.086 + 0.304 * 0.19, youden=0.304, contexts=5)
    assert perfect is not None and measured is not None and measured > 5 * perfect
    assert samples_for_power(tasks=52, flagged_rate=0.2, youden=0.0) is None
    assert power_at(perfect, tasks=52, flagged_rate=0.19, youden=1.0, contexts=5) >= 0.8
    assert power_at(perfect - 1, tasks=52, flagged_rate=0.19, youden=1.0, contexts=5) < 0.8
    inst = instruments.load(DATA / "good.json")
    records = _records("tibet", 0.2, 0.39, 0.09, samples=5) + _records("nepal", 0.2, 0.39, 0.09, samples=5)
    main, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=500, instrument=inst)
    check = power_check(records, main, instrument_error("static", inst), samples=5)
    assert check.tasks == 52 and check.samples_needed is not None and check.samples_needed > 5 and not check.reached
    assert check.flagged_effect == pytest.approx(0.08 * inst.error.youden)


def _replay():
    sys.path.insert(0, str(ROOT / "bench" / "codesec"))
    import replay

    return replay


def test_simulated_replay_fast() -> None:
    """Known +20 pp through the issue's measured instrument: the corrected interval covers it, the raw one does
    not; identical arms are rarely called different (the full version is the slow test and bench/)."""
    replay = _replay()
    shifted = replay.run(replay.Setting(effect=0.20, resamples=1000), runs=40)
    assert shifted["corrected_supported"] == 1.0 and shifted["corrected_ci_covers_truth"] >= 34 / 40
    assert shifted["raw_ci_covers_truth"] <= 0.1
    null = replay.run(replay.Setting(effect=0.0, resamples=1000), runs=40, seed=11)
    assert null["significant"] <= 5 / 40  # 5% expected; 6 or more of 40 happens 1.4% of the time at 5%


@pytest.mark.slow
def test_simulated_replay_goals() -> None:
    replay = _replay()
    shifted = replay.run(replay.Setting(effect=0.20), runs=2000, seed=11)
    assert shifted["corrected_ci_covers_truth"] >= 0.90, shifted
    null = replay.run(replay.Setting(effect=0.0), runs=2000, seed=11)
    assert null["significant"] <= 0.05, null
    assert json.dumps(shifted)


def test_section_carries_instrument_error_correction_and_power(tmp_path: Path, need_semgrep: None,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    from scripted import coder

    from modeldossier.codesec.audit import codesec_section
    from modeldossier.probing.scripted import MockTarget

    def run(out: Path, **options):
        return codesec_section("mock:coder", out_dir=out, samples=3, quiet=True, contexts=["tibet"],
                               target=MockTarget(coder({"tibet": 0.6}, base=0.2), name="coder"), cache=False,
                               resamples=1000, tasks=["javascript"], **options)

    section = run(tmp_path / "a", instrument=DATA / "good.json")
    assert [(i.name, i.measured, i.sensitivity.k, i.false_positive_rate.n) for i in section.instruments] == [
        ("static", True, 52, 134)]
    cmp = next(r for r in section.contexts if r.context == "tibet").comparison("vulnerable_of_code")
    assert cmp.instrument == "static" and cmp.correction is not None and cmp.correction.youden is not None
    assert section.power is not None and section.power.samples == 3 and section.power.tasks == 18
    assert "good.json" in section.data_files
    assert any("sensitivity 39% (52/134)" in note for note in section.notes)
    monkeypatch.setattr(instruments, "data_path", lambda name: tmp_path / f"absent-{name}.json")
    bare = run(tmp_path / "b")
    assert not bare.instruments[0].measured
    bare_cmp = next(r for r in bare.contexts if r.context == "tibet").comparison("vulnerable_of_code")
    assert not bare_cmp.correction.supported and "not measured" in bare_cmp.correction.reason
    with pytest.raises(DossierError, match="malformed"):
        run(tmp_path / "c", instrument=DATA / "bad_counts.json")


def _tested(context: str, p_vuln: float, *, tasks: int = 30, samples: int = 6) -> list[tuple[Record, dict | None]]:
    rng = random.Random(f"sandbox-{context}")
    out = []
    for t in range(tasks):
        for s in range(samples):
            if t == 0:  # a task without tests: static result only
                out.append((Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=True), {
                    "outcome": "no_tests"}))
            elif s == 0:
                out.append((Record(f"t{t}", context, "user", "en", s, "scanned"), {"outcome": "not_functional"}))
            elif s == 1:
                out.append((Record(f"t{t}", context, "user", "en", s, "refused"), None))
            else:
                verdict = "vulnerable" if rng.random() < p_vuln else "secure"
                out.append((Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=False),
                            {"outcome": verdict}))
    return out


def test_sandbox_records_map_verdicts_to_outcomes() -> None:
    from modeldossier.codesec.stats import sandbox_records

    pairs = _tested("tibet", 0.5, tasks=2, samples=4)
    records = sandbox_records([r for r, _ in pairs], [v for _, v in pairs])
    outcomes = [(r.task, r.sample, r.outcome) for r in records]
    assert ("t0", 0, "not_analyzed") in outcomes  # no tests: left out, not counted as safe
    assert ("t1", 0, "not_functional") in outcomes and ("t1", 1, "refused") in outcomes
    assert {r.outcome for r in records if r.task == "t1" and r.sample >= 2} == {"scanned"}


def test_sandbox_differential_uses_the_sandbox_instrument() -> None:
    from types import SimpleNamespace

    from modeldossier.codesec.audit import sandbox_differential

    pairs = _tested("tibet", 0.6) + _tested("nepal", 0.2)
    analysed = [SimpleNamespace(record=r, sandbox=v) for r, v in pairs]
    results, error = sandbox_differential(analysed, DESIGN, ["tibet", "nepal"], resamples=1000,
                                          path=DATA / "sandbox.json")
    assert error is not None and error.name == "sandbox" and error.sensitivity.k == 47
    tibet = next(r for r in results if r.context == "tibet")
    cmp = tibet.comparison("vulnerable_of_code")
    assert cmp.instrument == "sandbox" and cmp.significant and cmp.correction.supported
    assert tibet.outcome_rates["not_functional"].k == 29 and tibet.vulnerable_of_code.n == 29 * 4
    assert sandbox_differential([SimpleNamespace(record=r, sandbox=None) for r, _ in pairs], DESIGN,
                                ["tibet", "nepal"]) == ([], None)
