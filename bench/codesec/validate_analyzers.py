"""Measure the static instrument (our Semgrep rules + Bandit, the `dossier codesec` counting policy).

    .venv/bin/python bench/codesec/validate_analyzers.py [--json OUT] [--write-instrument] [--misses]

Every labelled snippet is wrapped as a model answer and sent through the same path as `dossier codesec`
(extraction, analyzers, counting). Sensitivity = flagged vulnerable / vulnerable; false-positive rate = flagged
safe / safe; precision = flagged vulnerable / flagged; Wilson 95% intervals. Reported per slice:

- ``own``: our own pairs (tests/codesec/snippets = written with the rules, snippets_holdout = written after);
- ``independent``: other projects' test examples (bench/codesec/independent/snippets.yaml, NOTICE), split by
  source rule into ``dev`` (rules may be tuned on it) and ``holdout`` (never tuned on);
- ``bandit-examples`` is reported apart and left out of the independent totals (circular for Bandit).

``--write-instrument`` writes src/modeldossier/data/codesec/instrument-static.json from the independent
held-out numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec.analyzers import data_dir, load_policy  # noqa: E402
from modeldossier.codesec.validation import (  # noqa: E402
    Labelled,
    confusion,
    flag_answers,
    load_labelled,
    own_snippets,
)
from modeldossier.stats import wilson  # noqa: E402

INDEPENDENT = ROOT / "bench" / "codesec" / "independent" / "snippets.yaml"
CIRCULAR = {"bandit-examples"}


def _rate(k: int, n: int) -> dict[str, Any]:
    r = wilson(k, n)
    return {"k": k, "n": n, "rate": None if n == 0 else round(r.rate, 4),
            "ci": None if n == 0 else [round(r.ci_low, 4), round(r.ci_high, 4)]}


def metrics(snippets: list[Labelled], flags: dict) -> dict[str, Any]:
    """Sensitivity, false-positive rate and precision with Wilson intervals."""
    c = confusion(snippets, flags)
    return {"vulnerable": c["tp"] + c["fn"], "safe": c["fp"] + c["tn"], **c,
            "sensitivity": _rate(c["tp"], c["tp"] + c["fn"]),
            "false_positive_rate": _rate(c["fp"], c["fp"] + c["tn"]),
            "precision": _rate(c["tp"], c["tp"] + c["fp"])}


def breakdown(snippets: list[Labelled], flags: dict) -> dict[str, Any]:
    """Totals, per language and per CWE."""
    by_lang: dict[str, list[Labelled]] = defaultdict(list)
    by_cwe: dict[str, list[Labelled]] = defaultdict(list)
    by_source: dict[str, list[Labelled]] = defaultdict(list)
    for s in snippets:
        by_lang[s.language].append(s)
        by_cwe[f"{s.language}/{s.cwe}"].append(s)
        by_source[s.source].append(s)
    return {"total": metrics(snippets, flags),
            "by_language": {k: metrics(v, flags) for k, v in sorted(by_lang.items())},
            "by_source": {k: metrics(v, flags) for k, v in sorted(by_source.items())},
            "by_cwe": {k: metrics(v, flags) for k, v in sorted(by_cwe.items())}}


def _fmt(m: dict[str, Any]) -> str:
    def r(x: dict[str, Any]) -> str:
        return "   -" if x["rate"] is None else f"{x['rate']:.2f} [{x['ci'][0]:.2f}, {x['ci'][1]:.2f}]"
    return (f"vuln {m['vulnerable']:3d} safe {m['safe']:3d} | sens {r(m['sensitivity'])} | "
            f"FPR {r(m['false_positive_rate'])} | prec {r(m['precision'])} | not scanned {m['not_scanned']}")


def slices(own_dev: list[Labelled], own_hold: list[Labelled], indep: list[Labelled]) -> dict[str, list[Labelled]]:
    """The named slices reported."""
    clean = [s for s in indep if s.source not in CIRCULAR]
    return {
        "own/written-with-rules": own_dev, "own/written-after": own_hold,
        "independent/dev": [s for s in clean if s.split == "dev"],
        "independent/holdout": [s for s in clean if s.split == "holdout"],
        "independent/all": clean,
        "bandit-examples (circular, not in totals)": [s for s in indep if s.source in CIRCULAR],
    }


def instrument_file(report: dict[str, Any], n_desc: str) -> dict[str, Any]:
    """The contract file read by the correction statistics: held-out independent numbers only."""
    hold = report["slices"]["independent/holdout"]

    def kn(x: dict[str, Any]) -> dict[str, int]:
        return {"k": x["k"], "n": x["n"]}

    return {
        "instrument": "static", "version": load_policy().version, "measured": dt.date.today().isoformat(),
        "validation_set": n_desc,
        "sensitivity": kn(hold["total"]["sensitivity"]),
        "false_positive_rate": kn(hold["total"]["false_positive_rate"]),
        "by_language": {lang: {"sensitivity": kn(m["sensitivity"]), "false_positive_rate": kn(m["false_positive_rate"])}
                        for lang, m in hold["by_language"].items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", type=Path, help="write the full report here")
    parser.add_argument("--write-instrument", action="store_true",
                        help="write data/codesec/instrument-static.json from the independent held-out split")
    parser.add_argument("--misses", action="store_true", help="list every misclassified snippet")
    parser.add_argument("--slice", action="append", help="only these slices (default: all)")
    args = parser.parse_args()
    tests = ROOT / "tests" / "codesec"
    own_dev = own_snippets(tests / "snippets", "written-with-rules")
    own_hold = own_snippets(tests / "snippets_holdout", "written-after")
    indep = load_labelled(INDEPENDENT)
    named = slices(own_dev, own_hold, indep)
    if args.slice:
        named = {k: v for k, v in named.items() if k in args.slice}
    everything = {s.id: s for v in named.values() for s in v}
    t0 = time.perf_counter()
    flags = flag_answers(list(everything.values()))
    report: dict[str, Any] = {"rules_version": load_policy().version, "slices": {},
                              "seconds": round(time.perf_counter() - t0, 1)}
    for name, snippets in named.items():
        b = breakdown(snippets, flags)
        report["slices"][name] = b
        print(f"== {name}\n  TOTAL        {_fmt(b['total'])}")
        for lang, m in b["by_language"].items():
            print(f"  {lang:12} {_fmt(m)}")
        for source, m in b["by_source"].items():
            print(f"  source {source:25} {_fmt(m)}")
        for cwe, m in b["by_cwe"].items():
            print(f"    {cwe:22} {_fmt(m)}")
        if args.misses:
            for s in snippets:
                outcome, vulnerable, cwes = flags[s.id]
                if s.flagged(outcome, vulnerable, cwes) != s.vulnerable:
                    kind = "missed" if s.vulnerable else "false flag"
                    print(f"    {kind}: {s.id} ({s.cwe}) outcome={outcome} cwes={list(cwes)}")
    report["misclassified"] = sorted(s.id for s in everything.values() if s.flagged(*flags[s.id]) != s.vulnerable)
    print(f"({report['seconds']} s)")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    if args.write_instrument:
        hold = named["independent/holdout"]
        desc = (f"independent held-out split: {len(hold)} snippets from other projects' test examples "
                "(CodeShield, eslint-plugin-security, eslint-plugin-security-node), bench/codesec/independent")
        path = data_dir() / "instrument-static.json"
        path.write_text(json.dumps(instrument_file(report, desc), indent=2) + "\n")
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
