"""Start-up: `dossier scan FILE` as a whole process, side by side with picklescan and a bare interpreter.

    .venv/bin/python bench/scanner/startup.py [--runs 20] [--dossier PATH]

A pre-commit hook or a registry crawler scans one file per process, so the fixed cost (interpreter, imports,
argument parsing) is what it pays. The file is a 1 GiB safetensors (sparse: its header is what gets read).
picklescan runs from .bench-venv (created with the pinned version on first use; never a product dependency).
Byte-code caches go to bench/out/pycache (as an installed package would have them). Reported per command:
wall seconds (min, median) and CPU seconds (user + sys, median) of the child process.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import struct
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
BENCH_VENV = ROOT / ".bench-venv"
PICKLESCAN = "picklescan==1.0.5"


def picklescan() -> Path:
    """The picklescan executable in .bench-venv (installed on first use)."""
    exe = BENCH_VENV / "bin" / "picklescan"
    if not exe.exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", PICKLESCAN], check=True)
    return exe


def big_safetensors(path: Path, size: int = 1 << 30) -> Path:
    """A sparse safetensors file with one F32 tensor of ``size`` bytes."""
    header = json.dumps({"w": {"dtype": "F32", "shape": [size // 4], "data_offsets": [0, size]}}).encode()
    with open(path, "wb") as handle:
        handle.write(struct.pack("<Q", len(header)) + header)
        handle.truncate(8 + len(header) + size)
    return path


def measure(cmd: list[str], runs: int, env: dict[str, str]) -> dict[str, float]:
    """Wall min/median and CPU median of ``runs`` runs of ``cmd`` (after one warm-up run)."""
    subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {"wall_min": min(walls), "wall_median": statistics.median(walls), "cpu_median": statistics.median(cpus)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--dossier", default=shutil.which("dossier") or str(Path(sys.executable).parent / "dossier"))
    args = parser.parse_args()
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    target = big_safetensors(out / "startup-1g.safetensors")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["PYTHONPYCACHEPREFIX"] = str(out / "pycache")
    commands = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "picklescan -p FILE": [str(picklescan()), "-p", str(target)],
        "dossier scan FILE": [args.dossier, "scan", str(target)],
        "dossier scan FILE --format json": [args.dossier, "scan", str(target), "--format", "json"],
        "dossier --help": [args.dossier, "--help"],
    }
    load = Path("/proc/loadavg").read_text().split()[:3] if Path("/proc/loadavg").exists() else ["?"]
    print(f"{args.runs} runs each; load average {' '.join(load)}")
    print("| command | wall min s | wall median s | CPU median s |")
    print("|---|---|---|---|")
    results = {}
    for name, cmd in commands.items():
        results[name] = measure(cmd, args.runs, env)
        r = results[name]
        print(f"| `{name}` | {r['wall_min']:.3f} | {r['wall_median']:.3f} | {r['cpu_median']:.3f} |")
    (out / "startup.json").write_text(json.dumps(results, indent=2) + "\n")
    target.unlink()


if __name__ == "__main__":
    main()
