"""`dossier probe` cached re-run, whole process, against the engine alone on the same prompts.

    .venv/bin/python bench/probing/bench_cli_cached.py [--prompts 10000] [--repeats 3]

The CLI run is timed as a child process (wall and CPU from rusage), so it includes interpreter start-up,
command import, parsing the suite YAML and building every prompt object. Before each timed run the transcript
is deleted, so all answers come from the response cache (as in the engine benchmark's "new transcript").
The engine figure is `bench_engine.bench_cached` (prompt objects built before its clock starts).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench_engine import bench_cached  # noqa: E402


def write_suite(path: Path, n: int) -> None:
    """A suite of ``n`` single-language items (ordinary prompts of a few words)."""
    lines = ["name: bench", 'version: "1"', "items:"]
    lines += [f"  - id: q{i}\n    prompt: {{en: benchmark question number {i} about an ordinary topic}}"
              for i in range(n)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run_cli(dossier: str, suite: Path, out: Path) -> tuple[float, float]:
    """(wall, cpu) seconds of one `dossier probe` child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    proc = subprocess.run([dossier, "probe", "-t", "mock:echo", "-s", str(suite), "-o", str(out), "--quiet",
                           "--format", "json"], capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit(f"dossier probe failed: {proc.stderr[-500:]}")
    return wall, after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--dossier", default=shutil.which("dossier") or str(Path(sys.executable).parent / "dossier"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="dossier-bench-") as tmp:
        work = Path(tmp)
        suite = work / "bench.yaml"
        write_suite(suite, args.prompts)
        out = work / "out"
        run_cli(args.dossier, suite, out)  # fills the cache
        cli = []
        for _ in range(args.repeats):
            for transcript in out.glob("*.transcript*.jsonl"):
                transcript.unlink()
            cli.append(run_cli(args.dossier, suite, out))
        engine = []
        for i in range(args.repeats):
            (work / f"engine{i}").mkdir()
            engine.append(bench_cached(args.prompts, work / f"engine{i}"))
    cli_wall = statistics.median(w for w, _ in cli)
    cli_cpu = statistics.median(c for _, c in cli)
    eng_wall = statistics.median(e["wall_s"] for e in engine)
    eng_cpu = statistics.median(e["cpu_s"] for e in engine)
    print(f"| cached re-run, {args.prompts} prompts | wall s (median of {args.repeats}) | CPU s |")
    print("|---|---|---|")
    print(f"| `dossier probe` whole process | {cli_wall:.2f} | {cli_cpu:.2f} |")
    print(f"| engine alone (run_probes) | {eng_wall:.2f} | {eng_cpu:.2f} |")
    print(f"| ratio CLI / engine | {cli_wall / eng_wall:.2f}x | {cli_cpu / eng_cpu:.2f}x |")


if __name__ == "__main__":
    main()
