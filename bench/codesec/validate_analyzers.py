"""Analyzer validation: precision / recall per CWE on labelled vulnerable-vs-fixed snippet pairs.

    .venv/bin/python bench/codesec/validate_analyzers.py [--json OUT]

A vulnerable snippet is a true positive when the analyzers count it as vulnerable (policy in
data/codesec/analyzers.yaml); a fixed snippet counted as vulnerable is a false positive.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec.validation import load_pairs, score_pairs  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--set", choices=["dev", "holdout"], default="dev",
                        help="dev: the pairs the rules were written against; holdout: pairs written after")
    args = parser.parse_args()
    folder = "snippets" if args.set == "dev" else "snippets_holdout"
    pairs = load_pairs(ROOT / "tests" / "codesec" / folder)
    t0 = time.perf_counter()
    report = score_pairs(pairs)
    report["seconds"] = round(time.perf_counter() - t0, 2)
    print(f"{'language':11} {'cwe':9} {'pairs':>5} {'TP':>3} {'FN':>3} {'FP':>3} {'recall':>7} {'precision':>9}")
    for row in report["rows"]:
        prec = "-" if row["precision"] is None else f"{row['precision']:.2f}"
        print(f"{row['language']:11} {row['cwe']:9} {row['pairs']:5d} {row['tp']:3d} {row['fn']:3d} {row['fp']:3d} "
              f"{row['recall']:7.2f} {prec:>9}")
    total = report["total"]
    print(f"TOTAL pairs={total['pairs']} recall={total['recall']:.3f} precision={total['precision']:.3f} "
          f"specificity={total['specificity']:.3f} cwe_match={total['cwe_match']:.3f} ({report['seconds']} s)")
    for miss in report["misses"]:
        print("  ", miss)
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
