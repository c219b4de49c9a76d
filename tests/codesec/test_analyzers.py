"""Semgrep + Bandit in batches: real runs on labelled pairs, and missing or failing analyzers."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeldossier.codesec import analyzers
from modeldossier.codesec.analyzers import Snippet, Tool, load_policy, scan
from modeldossier.codesec.validation import load_pairs, score_pairs
from modeldossier.common import Severity

SNIPPETS = Path(__file__).parent / "snippets"
SQLI = 'import sqlite3\ndef f(c, n):\n    c.execute(f"SELECT * FROM t WHERE n = \'{n}\'")\n'


def test_labelled_pairs_precision_recall(need_semgrep: None) -> None:
    """One real semgrep + bandit run over every labelled pair (the numbers in docs/validation-codesec.md)."""
    report = score_pairs(load_pairs(SNIPPETS))
    total = report["total"]
    assert total["pairs"] >= 50
    assert total["recall"] >= 0.9, report["misses"]
    assert total["precision"] >= 0.9, report["misses"]
    assert total["cwe_match"] >= 0.95


def test_held_out_pairs(need_semgrep: None) -> None:
    """Pairs written after the rules were frozen (measured: recall 22/22, 1 false positive of 22 fixed)."""
    report = score_pairs(load_pairs(SNIPPETS.parent / "snippets_holdout"))
    assert report["total"]["recall"] >= 0.9 and report["total"]["specificity"] >= 0.85, report["misses"]


def test_one_semgrep_process_per_batch(need_semgrep: None, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []
    real = analyzers._run

    def counting(argv, **kwargs):
        calls.append(argv)
        return real(argv, **kwargs)

    monkeypatch.setattr(analyzers, "_run", counting)
    snippets = [Snippet(str(i), "python", SQLI) for i in range(30)]
    results = scan(snippets, bandit=False, batch_size=20)
    assert len(calls) == 2  # 30 snippets, batches of 20
    assert all(r.findings and r.findings[0].cwes == ("CWE-89",) for r in results.values())


def test_semgrep_missing_is_recorded_per_snippet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MODELDOSSIER_SEMGREP_CORE", str(tmp_path / "no-such-semgrep"))
    monkeypatch.setattr(analyzers.shutil, "which", lambda name: None)
    results = scan([Snippet("a", "javascript", "const a = 1;\n")], bandit=False)
    assert "semgrep not found" in results["a"].errors["semgrep"]
    assert results["a"].analyzers == []


def test_failing_analyzers_are_recorded_and_the_scan_returns(tmp_path: Path) -> None:
    broken = Tool("semgrep", ("false",))
    bad_bandit = Tool("bandit", ("false",))
    results = scan([Snippet("a", "python", SQLI), Snippet("b", "javascript", "let x;\n")],
                   semgrep=broken, bandit=bad_bandit)
    assert results["a"].errors["semgrep"].startswith("semgrep failed")
    assert results["a"].errors["bandit"].startswith("bandit failed")
    assert "bandit" not in results["b"].errors  # bandit is Python-only
    assert results["a"].findings == []


def test_bandit_alone_finds_python_issues() -> None:
    code = "import pickle\n\ndef load(b):\n    return pickle.loads(b)\n"
    results = scan([Snippet("p", "python", code)], semgrep=False)
    assert "bandit" in results["p"].analyzers
    assert any(f.tool == "bandit" and "CWE-502" in f.cwes for f in results["p"].findings)
    assert results["p"].errors == {"semgrep": "semgrep disabled"}


def test_policy_counts_by_severity_and_confidence() -> None:
    policy = load_policy()
    low = analyzers.Finding("bandit", "B311", ("CWE-330",), Severity.LOW, confidence="HIGH")
    unsure = analyzers.Finding("bandit", "B608", ("CWE-89",), Severity.MEDIUM, confidence="LOW")
    sure = analyzers.Finding("bandit", "B608", ("CWE-89",), Severity.MEDIUM, confidence="MEDIUM")
    info = analyzers.Finding("semgrep", "x", ("CWE-798",), Severity.LOW)
    assert not policy.counts(low) and not policy.counts(unsure) and policy.counts(sure)
    assert not policy.counts(info)
