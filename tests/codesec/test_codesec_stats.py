"""Statistics on synthetic answer records (no model, no analyzer)."""

from __future__ import annotations

import random

from modeldossier.codesec.design import load_design
from modeldossier.codesec.stats import Record, analyse, breakdown, headline, metric_value

DESIGN = load_design()


def _records(context: str, p_vuln: float, *, tasks: int = 40, samples: int = 5, seed: int = 0,
             placement: str = "user", p_refuse: float = 0.0) -> list[Record]:
    rng = random.Random(f"{seed}-{context}")
    out = []
    for t in range(tasks):
        for s in range(samples):
            if rng.random() < p_refuse:
                out.append(Record(f"t{t}", context, placement, "en", s, "refused"))
                continue
            vuln = rng.random() < p_vuln
            out.append(Record(f"t{t}", context, placement, "en", s, "scanned", vulnerable=vuln, high=vuln,
                              cwes=("CWE-89",) if vuln else ()))
    return out


def test_metric_values() -> None:
    assert metric_value(Record("t", "c", "user", "en", 0, "refused"), "refusal") == 1.0
    assert metric_value(Record("t", "c", "user", "en", 0, "refused"), "vulnerable_of_all") == 0.0
    assert metric_value(Record("t", "c", "user", "en", 0, "refused"), "vulnerable_of_code") is None
    assert metric_value(Record("t", "c", "user", "en", 0, "error"), "refusal") is None
    assert metric_value(Record("t", "c", "user", "en", 0, "not_analyzed"), "vulnerable_of_all") is None


def test_worse_context_is_detected_with_the_right_sign() -> None:
    records = _records("tibet", 0.45) + _records("nepal", 0.2)
    main, positive = analyse(records, DESIGN, ["tibet", "nepal"])
    tibet = next(r for r in main if r.context == "tibet")
    cmp = tibet.comparison("vulnerable_of_code")
    assert cmp.control == "nepal" and cmp.difference.estimate > 0.15
    assert cmp.difference.ci_low > 0 and cmp.significant
    assert cmp.mcnemar_p < 0.05 and cmp.discordant[0] > cmp.discordant[1]
    assert tibet.cwe_counts == {"CWE-89": tibet.vulnerable_of_code.k}
    assert any("tibet" in line and "pp" in line for line in headline(main, positive))


def test_better_context_gets_a_negative_difference() -> None:
    main, _ = analyse(_records("tibet", 0.1) + _records("nepal", 0.4), DESIGN, ["tibet", "nepal"])
    cmp = main[0].comparison("vulnerable_of_code")
    assert cmp.difference.estimate < 0 and cmp.difference.ci_high < 0


def test_no_difference_is_not_significant_across_seeds() -> None:
    false_positives = 0
    for seed in range(20):
        records = _records("tibet", 0.3, seed=seed) + _records("nepal", 0.3, seed=seed + 100)
        main, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=1000)
        false_positives += main[0].comparison("vulnerable_of_code").significant
    assert false_positives <= 3  # about 1 in 20 expected at alpha 0.05


def test_holm_is_applied_across_contexts() -> None:
    records = (_records("tibet", 0.3) + _records("nepal", 0.3) + _records("uyghur", 0.3, seed=5)
               + _records("uzbek", 0.3, seed=6))
    main, _ = analyse(records, DESIGN, ["tibet", "nepal", "uyghur", "uzbek"])
    comps = [r.comparison("vulnerable_of_code") for r in main if r.comparisons]
    assert len(comps) == 2
    for cmp in comps:
        assert cmp.difference.p_adjusted >= cmp.difference.p_value


def test_refusal_difference_and_positive_control_reported_apart() -> None:
    records = (_records("falun-gong", 0.2, p_refuse=0.5) + _records("zen", 0.2)
               + _records("isis", 0.2, p_refuse=0.9) + _records("none", 0.2, placement="none"))
    main, positive = analyse(records, DESIGN, ["none", "falun-gong", "zen", "isis"])
    assert [r.context for r in positive] == ["isis"]
    fg = next(r for r in main if r.context == "falun-gong")
    assert fg.comparison("refusal").significant and fg.refusal.rate > 0.4
    assert positive[0].comparison("refusal").control == "none"


def test_baseline_pairs_with_every_placement_in_breakdown() -> None:
    records = (_records("none", 0.2, placement="none") + _records("ics", 0.2, placement="user")
               + _records("ics", 0.2, placement="system", seed=3))
    rows = breakdown(records, DESIGN, ["none", "ics"], resamples=500)
    ics = [r for r in rows if r.context == "ics"]
    assert {r.placement for r in ics} == {"user", "system"}
    assert all(r.comparison("vulnerable_of_code").difference.n == 40 for r in ics)


def test_too_few_tasks_is_never_significant() -> None:
    records = _records("tibet", 1.0, tasks=3) + _records("nepal", 0.0, tasks=3)
    main, _ = analyse(records, DESIGN, ["tibet", "nepal"])
    cmp = main[0].comparison("vulnerable_of_code")
    assert cmp.difference.estimate == 1.0 and cmp.difference.n == 3 and not cmp.significant
