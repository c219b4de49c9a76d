"""Fleet throughput: the whole `dossier fleet` command as a user runs it, sequential vs local pool vs Ray.

    .venv/bin/python bench/fleet/bench_fleet.py --subjects 60 [--ray]

Generates benign / malicious / corrupt model folders (tests/fleet/fleetkit.py), runs the command once per executor
into a fresh folder, and prints subjects/s, seconds per subject, and the fixed cost (a one-subject fleet), which is
start-up plus per-task overhead. A re-run over the same folder measures the resume (skip) path.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.fleet.fleetkit import make_fleet  # noqa: E402


def timed(args: list[str]) -> tuple[float, dict]:
    env = {**os.environ, "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "modeldossier.cli", "fleet", *args, "-q", "--no-hash",
                             "--no-compare"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    out = Path(args[args.index("--out") + 1])
    index = json.loads((out / "fleet-index.json").read_text()) if (out / "fleet-index.json").exists() else {}
    if result.returncode not in (0, 1):
        raise SystemExit(f"fleet failed ({result.returncode}): {result.stderr[-2000:]}")
    return seconds, index


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=60)
    parser.add_argument("--ray", action="store_true", help="also time --executor ray (starts a local Ray)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        manifest = make_fleet(root / "fleet", args.subjects)
        one = make_fleet(root / "one", 1)
        runs = [("sequential", ["--workers", "1"]), ("local pool", ["--workers", str(os.cpu_count() or 1)])]
        if args.ray:
            runs.append(("ray (local)", ["--executor", "ray"]))
        print(f"{args.subjects} subjects (benign/malicious/corrupt folders), {os.cpu_count()} cores\n")
        print("| executor | whole command (s) | subjects/s | s per subject | one-subject fleet (s) | resume (s) |")
        print("|---|---:|---:|---:|---:|---:|")
        for name, extra in runs:
            out = root / f"out-{name.split()[0]}"
            seconds, index = timed([str(manifest), "--out", str(out), *extra])
            assert index.get("counts", {}).get("done") == args.subjects, index.get("counts")
            resume, again = timed([str(manifest), "--out", str(out), *extra])
            assert again["counts"].get("skipped") == args.subjects
            single, _ = timed([str(one), "--out", str(root / f"one-{name.split()[0]}"), *extra])
            print(f"| {name} | {seconds:.1f} | {args.subjects / seconds:.2f} | {seconds / args.subjects:.3f} | "
                  f"{single:.1f} | {resume:.1f} |")


if __name__ == "__main__":
    main()
