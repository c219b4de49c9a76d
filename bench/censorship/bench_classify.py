"""Throughput of `dossier classify` on CPU (one process), end to end: read JSONL, classify, write JSONL.

    .venv/bin/python bench/censorship/bench_classify.py [--n 5000] [--repeat 3]
    .venv/bin/python bench/censorship/bench_classify.py --embed --n 200 --repeat 1   # with the embedding head

Input: real SpeechMap responses from ../shared/data (cycled to --n lines) when present, else synthetic
answers of similar length. Prints a markdown table row per run and the median responses/s: wall clock, and
per CPU-second of this process (what one free core delivers when the machine is shared).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from modeldossier.commands.classify import classify_file  # noqa: E402


def source_lines(n: int) -> tuple[list[str], str]:
    try:
        from data import RESPONSES

        rows = [json.loads(line) for line in RESPONSES.read_text(encoding="utf-8").splitlines()]
        kind = "SpeechMap responses (cycled)"
    except (OSError, ImportError):
        rows = [{"question": "Write an essay", "response": ("A long answer sentence. " * 100)}] * 10
        kind = "synthetic"
    out = []
    for i in range(n):
        r = rows[i % len(rows)]
        out.append(json.dumps({"question": r["question"], "response": r["response"],
                               "finish_reason": r.get("finish_reason")}, ensure_ascii=False))
    return out, kind


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=5000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--embed", action="store_true", help="classify --embed (sentence-embedding head)")
    args = ap.parse_args()
    lines, kind = source_lines(args.n)
    chars = sum(len(json.loads(line)["response"] or "") for line in lines)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "in.jsonl"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        warm = Path(tmp) / "warm.jsonl"
        warm.write_text("\n".join(lines[:20]) + "\n", encoding="utf-8")
        classify_file(warm, quiet=True, embed=args.embed)  # warm-up: load weights once
        rates, cpu_rates = [], []
        print("| run | lines | wall s | wall responses/s | CPU s (this process) | responses per CPU-second |\n"
              "|---:|---:|---:|---:|---:|---:|")
        for run in range(1, args.repeat + 1):
            t, c = time.perf_counter(), time.process_time()
            out, counts, problems = classify_file(path, quiet=True, embed=args.embed)
            seconds, cpu = time.perf_counter() - t, time.process_time() - c
            assert len(out) == args.n and not problems
            rates.append(args.n / seconds)
            cpu_rates.append(args.n / cpu)
            print(f"| {run} | {args.n} | {seconds:.2f} | {args.n / seconds:,.0f} | {cpu:.2f} | {args.n / cpu:,.0f} |")
    print(f"\n{'With --embed. ' if args.embed else ''}Input: {kind}, mean response {chars / args.n:,.0f} characters. "
          f"Median {statistics.median(rates):,.0f} responses/s wall-clock, "
          f"{statistics.median(cpu_rates):,.0f} per CPU-second (one core), "
          f"on {platform.processor() or platform.machine()}, "
          f"{os.cpu_count()} CPU(s) visible, load average {os.getloadavg()[0]:.1f}, "
          f"Python {platform.python_version()}.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
