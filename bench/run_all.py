"""Run every benchmark and slow check, one after another, and print a summary (`make bench`).

Usage: .venv/bin/python bench/run_all.py [--only NAME ...] [--list]
Each benchmark prints its own comparison table and writes docs/bench-*.md where it says so.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable

BENCHES: dict[str, list[str]] = {
    "scanner": [PY, "bench/scanner/run_bench.py", "--hash"],
    "scanner-fuzz": [PY, "bench/scanner/fuzz.py", "--cases", "100000", "--slow", "12"],
    "scanner-fuzz-formats": [PY, "bench/scanner/fuzz_formats.py", "20000"],
    "provenance": [PY, "bench/provenance/bench_fingerprint.py"],
    "probing": [PY, "bench/probing/bench_engine.py"],
    "media-placeholders": [PY, "bench/media/placeholder_fp.py"],
    "censorship-validate": [PY, "bench/censorship/validate.py", "--folds", "5", "--gold-folds", "3"],
    "censorship-validate-embed": [PY, "bench/censorship/validate.py", "--folds", "5", "--gold-folds", "3", "--embed"],
    "censorship-nested": [PY, "bench/censorship/nested_variants.py", "--folds", "5", "--inner", "2"],
    "censorship-encoders": [PY, "bench/censorship/encoder_variants.py"],
    "censorship-classify": [PY, "bench/censorship/bench_classify.py", "--n", "3000", "--repeat", "3"],
    "censorship-classify-embed": [PY, "bench/censorship/bench_classify.py", "--embed", "--n", "200", "--repeat", "1"],
    "censorship-calibration": [PY, "bench/censorship/calibration.py", "--runs", "2000", "--power-runs", "300"],
    "codesec-analyzers-dev": [PY, "bench/codesec/validate_analyzers.py", "--set", "dev"],
    "codesec-analyzers-holdout": [PY, "bench/codesec/validate_analyzers.py", "--set", "holdout"],
    "codesec-sandbox": [PY, "bench/codesec/validate_sandbox.py"],
    "codesec-power": [PY, "bench/codesec/power.py", "--sims", "100"],
    "codesec-replay": [PY, "bench/codesec/replay.py", "--runs", "1000"],
    "codesec-scan": [PY, "bench/codesec/bench_scan.py"],
    "ecosystem": [PY, "bench/ecosystem/bench_aggregate.py", "--rows", "1000000"],
    "reports": [PY, "bench/reports/bench_render.py"],
    "fleet": [PY, "bench/fleet/bench_fleet.py", "--subjects", "60", "--ray"],
    "slow-tests": [PY, "-m", "pytest", "-m", "slow", "-q", "-p", "no:cacheprovider"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", choices=sorted(BENCHES), help="run only these")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    args = parser.parse_args()
    if args.list:
        for name, cmd in BENCHES.items():
            print(f"{name:26} {' '.join(cmd[1:])}")
        return 0
    chosen = args.only or list(BENCHES)
    results = []
    for name in chosen:
        print(f"\n=== {name}: {' '.join(BENCHES[name][1:])}", flush=True)
        start = time.perf_counter()
        code = subprocess.call(BENCHES[name], cwd=ROOT)
        results.append((name, code, time.perf_counter() - start))
    print("\n=== summary")
    for name, code, seconds in results:
        print(f"{name:26} {'ok' if code == 0 else f'exit {code}':8} {seconds:8.1f} s")
    return 0 if all(code == 0 for _, code, _ in results) else 1


if __name__ == "__main__":
    sys.exit(main())
