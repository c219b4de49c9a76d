"""Sandbox instrument validation: sensitivity and false-positive rate on labelled answers, per slice.

    .venv/bin/python bench/codesec/validate_sandbox.py [--write] [--json OUT]

Runs every labelled answer (our reference answers next to the tests, and the static analyzers' vulnerable/fixed
pairs that implement a task with tests) inside the sandbox. --write updates
src/modeldossier/data/codesec/instrument-sandbox.json with the pooled numbers.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec.outcome import Instrument  # noqa: E402
from modeldossier.codesec.sandbox_validation import (  # noqa: E402
    instrument_record,
    measure,
    record_path,
    reference_answers,
    static_pair_answers,
)


def _rate(d: dict[str, int]) -> str:
    return f"{d['k']}/{d['n']} = {d['k'] / d['n']:.2f}" if d["n"] else f"{d['k']}/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="update instrument-sandbox.json")
    parser.add_argument("--json", type=Path, help="write the full result (per-answer rows too) here")
    args = parser.parse_args()
    instrument = Instrument()
    why = instrument.unusable("python")
    if why:
        print(f"sandbox not usable: {why}")
        return 2
    answers = reference_answers() + static_pair_answers(ROOT / "tests" / "codesec")
    t0 = time.perf_counter()
    result = measure(answers, instrument,
                     progress=lambda i: print(f"\r{i}/{len(answers)} answers", end="", file=sys.stderr))
    seconds = time.perf_counter() - t0
    print(file=sys.stderr)
    print(f"{'slice':13} {'answers':>7} {'sensitivity':>16} {'false positives':>16} {'broken caught':>14} "
          f"{'not run':>8}")
    for name, s in [*result["slices"].items(), ("ALL", result["all"])]:
        print(f"{name:13} {s['answers']:7d} {_rate(s['sensitivity']):>16} {_rate(s['false_positive_rate']):>16} "
              f"{_rate(s['broken_not_functional']):>14} {s['not_run']:8d}")
    print(f"\n{'task':22} {'name':44} {'label':10} outcome")
    for row in result["rows"]:
        mark = "" if (row["label"], row["outcome"]) in {("vulnerable", "vulnerable"), ("secure", "secure"),
                                                       ("broken", "not_functional")} else "   <-- "
        print(f"{row['task']:22} {row['name'][:44]:44} {row['label']:10} {row['outcome']}{mark}"
              f"{(row['reason'] or '')[:70] if mark else ''}")
    print(f"\n{len(answers)} answers in {seconds:.1f} s ({seconds / max(1, len(answers)):.2f} s per answer); "
          f"{result['tasks_with_tests']} tasks with tests")
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    if args.write:
        record = instrument_record(result, answers)
        record_path().write_text(json.dumps(record, indent=2) + "\n")
        print(f"wrote {record_path()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
