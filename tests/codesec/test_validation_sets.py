"""The labelled validation sets and the instrument file measured from them (bench/codesec/validate_analyzers.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
import yaml

from modeldossier.codesec.analyzers import data_dir, load_policy
from modeldossier.codesec.validation import Labelled, as_answer, confusion, load_labelled

ROOT = Path(__file__).resolve().parents[2]
INDEPENDENT = ROOT / "bench" / "codesec" / "independent" / "snippets.yaml"
RESERVED = ("cweval", "sven", "codeql")


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / "codesec" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def test_independent_set_is_attributed_and_free_of_reserved_sources() -> None:
    rows = yaml.safe_load(INDEPENDENT.read_text(encoding="utf-8"))["snippets"]
    assert len(rows) >= 200
    assert len({r["id"] for r in rows}) == len(rows)
    for r in rows:
        assert r["repo"] and r["path"] and r["license"] in ("MIT", "Apache-2.0", "ISC") and r["package"]
        assert r["label"] in ("vulnerable", "safe") and r["split"] in ("dev", "holdout")
        assert not any(word in (r["repo"] + r["path"]).lower() for word in RESERVED)
    # the split is by source rule, never by row: no rule has snippets on both sides
    sides: dict[str, set[str]] = {}
    for r in rows:
        sides.setdefault(f"{r['source']}/{r['rule']}", set()).add(r["split"])
    assert all(len(s) == 1 for s in sides.values())
    assert (ROOT / "bench" / "codesec" / "independent" / "NOTICE").is_file()


def test_instrument_file_contract() -> None:
    data = json.loads((data_dir() / "instrument-static.json").read_text(encoding="utf-8"))
    assert data["instrument"] == "static" and data["version"] == load_policy().version
    assert "held-out" in data["validation_set"]
    for part in [data, *data["by_language"].values()]:
        for key in ("sensitivity", "false_positive_rate"):
            assert 0 <= part[key]["k"] <= part[key]["n"] and part[key]["n"] > 0
    assert set(data["by_language"]) == {"python", "javascript"}
    assert sum(v["sensitivity"]["n"] for v in data["by_language"].values()) == data["sensitivity"]["n"]


def test_context_cwes_neither_hit_nor_false_flag() -> None:
    safe = Labelled("s", "python", "CWE-89", False, "", context_cwes=("CWE-798",))
    vuln = Labelled("v", "python", "CWE-89", True, "", context_cwes=("CWE-798",))
    flags = {"s": ("scanned", True, ("CWE-798",)), "v": ("scanned", True, ("CWE-798",))}
    assert confusion([safe, vuln], flags) == {"tp": 0, "fn": 1, "fp": 0, "tn": 1, "not_scanned": 0}
    flags["v"] = ("unparseable", False, ())
    assert confusion([vuln], flags)["not_scanned"] == 1
    assert "```python" in as_answer(vuln)


def test_annotated_cases_and_one_case_files() -> None:
    build = _bench("build_independent_set")
    text = ("import subprocess\n\ndef f(p):\n    # ruleid: x\n    subprocess.run(p, shell=True)\n"
            "    # ok: x\n    subprocess.run(['ls'])\n")
    cases = build.annotated_cases(text, "python")
    assert [(label, span) for label, _, span in cases] == [("vulnerable", (5, 5)), ("safe", (7, 7))]
    one = build.one_case_file(text, "python", cases[0][2], [c[2] for c in cases])
    assert "shell=True" in one and "['ls']" not in one and "ruleid" not in one
    js = "function f(p) {\n  // ruleid: x\n  var g = eval;\n  g(p);\n\n  // ok: x\n  g('1');\n}\n"
    spans = [span for _, _, span in build.annotated_cases(js, "javascript")]
    assert spans == [(3, 4), (7, 7)]
    assert build.split_of("a/b") == build.split_of("a/b")


def test_measurement_reproduces_the_instrument_file(need_semgrep: None) -> None:
    """Re-measure the held-out split and compare with the shipped file (no hard-coded numbers)."""
    validate = _bench("validate_analyzers")
    hold = [s for s in load_labelled(INDEPENDENT) if s.split == "holdout" and s.source not in validate.CIRCULAR]
    from modeldossier.codesec.validation import flag_answers

    report = {"slices": {"independent/holdout": validate.breakdown(hold, flag_answers(hold))}}
    fresh = validate.instrument_file(report, "x")
    shipped = json.loads((data_dir() / "instrument-static.json").read_text(encoding="utf-8"))
    assert fresh["sensitivity"] == shipped["sensitivity"]
    assert fresh["false_positive_rate"] == shipped["false_positive_rate"]
    assert fresh["by_language"] == shipped["by_language"]


@pytest.mark.parametrize("folder", ["snippets", "snippets_holdout"])
def test_own_pairs_keep_their_language_in_the_id(folder: str) -> None:
    from modeldossier.codesec.validation import own_snippets

    snippets = own_snippets(Path(__file__).parent / folder, folder)
    assert len({s.id for s in snippets}) == len(snippets)
