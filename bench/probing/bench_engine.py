"""Probe engine benchmark: harness overhead, sustained HTTP throughput, cached re-run.

    .venv/bin/python bench/probing/bench_engine.py [--requests 5000] [--cached 10000] [--connections 64]

1. Harness overhead per request: the runner against an in-process mock target that answers instantly
   (transcript line + cache write + bookkeeping per request), wall time / requests.
2. Sustained requests/s: the production OpenAI-compatible client against the fake server
   (``modeldossier.probing.fakeserver``, raw asyncio HTTP/1.1) running in a separate process, N connections.
   Also the client process CPU time per request.
3. Cached re-run: a warm cache of N prompts, new transcript, wall time for the whole run.

Prints a markdown table and writes bench/out/probing-engine.json. The machine is shared: load is recorded.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from modeldossier.probing.cache import ResponseCache
from modeldossier.probing.models import ChatMessage, ProbeItem
from modeldossier.probing.runner import RunStats, run_probes
from modeldossier.probing.scripted import MockTarget
from modeldossier.probing.targets import parse_target

ROOT = Path(__file__).resolve().parents[2]


def items(n: int, prefix: str = "q") -> list[ProbeItem]:
    return [ProbeItem(id=f"{prefix}{i}", messages=[ChatMessage(role="user", content=f"benchmark question {i}")],
                      metadata={"language": "en"}) for i in range(n)]


def load() -> str:
    """The 1/5/15-minute load averages."""
    path = Path("/proc/loadavg")
    return " ".join(path.read_text().split()[:3]) if path.exists() else "?"


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def start_server() -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen([sys.executable, "-m", "modeldossier.probing.fakeserver", "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline() if proc.stdout else ""
    if not line.startswith("PORT "):
        proc.kill()
        raise SystemExit(f"fake server did not start: {line!r}")
    return proc, f"http://127.0.0.1:{int(line.split()[1])}/v1"


def bench_overhead(n: int, work: Path) -> dict:
    target = MockTarget(lambda item, s: "an answer of ordinary length for a benchmark")
    cache = ResponseCache(work / "overhead.sqlite")
    prompts = items(n)
    cpu, started = cpu_seconds(), time.perf_counter()
    run_probes(prompts, target, transcript=work / "overhead.jsonl", cache=cache, max_connections=64)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    cache.close()
    return {"requests": n, "wall_s": round(wall, 3), "ms_per_request": round(1000 * wall / n, 3),
            "cpu_ms_per_request": round(1000 * cpu / n, 3)}


def bench_http(n: int, connections: int, url: str, work: Path, client: str = "auto") -> dict:
    target = parse_target(f"openai:{url}/fake-model", environ={}, http_client=client)
    stats = RunStats()
    prompts = items(n, "h")
    cpu, started = cpu_seconds(), time.perf_counter()
    out = run_probes(prompts, target, transcript=work / "http.jsonl", cache=None,
                     max_connections=connections, stats=stats)
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    errors = sum(r.error is not None for r in out)
    return {"client": client, "requests": n, "connections": connections, "wall_s": round(wall, 3),
            "req_per_s": round(n / wall, 1),
            "client_cpu_ms_per_request": round(1000 * cpu / n, 3), "errors": errors, "retries": stats.retries}


def bench_cached(n: int, work: Path) -> dict:
    target = MockTarget(lambda item, s: "an answer of ordinary length for a benchmark", name="cached")
    cache = ResponseCache(work / "cached.sqlite")
    run_probes(items(n, "c"), target, transcript=work / "warm.jsonl", cache=cache, max_connections=64)
    cache.close()
    calls = target.calls
    prompts = items(n, "c")  # the same prompts, built before the clock starts
    stats = RunStats()
    cpu, started = cpu_seconds(), time.perf_counter()
    cache = ResponseCache(work / "cached.sqlite")
    run_probes(prompts, target, transcript=work / "rerun.jsonl", cache=cache, max_connections=64, stats=stats)
    cache.close()
    wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu
    assert target.calls == calls and stats.cached == n, "the re-run must be served from the cache"
    return {"prompts": n, "wall_s": round(wall, 3), "cpu_s": round(cpu, 3), "hits": stats.cached}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--cached", type=int, default=10000)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out" / "probing-engine.json")
    args = parser.parse_args()
    results: dict = {"cores": os.cpu_count(), "load_before": load(), "python": sys.version.split()[0]}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results["overhead"] = bench_overhead(args.requests, work)
        proc, url = start_server()
        try:
            bench_http(200, args.connections, url, work / "warmup")  # connections, imports
            results["http"] = bench_http(args.requests, args.connections, url, work)
            results["http_httpx"] = bench_http(args.requests // 5, args.connections, url, work / "httpx", "httpx")
        finally:
            proc.terminate()
            proc.wait(10)
        results["cached"] = bench_cached(args.cached, work)
    results["load_after"] = load()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    o, h, c = results["overhead"], results["http"], results["cached"]
    print(f"load (1/5/15 min) before {results['load_before']}, after {results['load_after']}; "
          f"{results['cores']} cores")
    print("| measure | goal | measured |")
    print("|---|---|---|")
    print(f"| harness overhead per request (mock target, {o['requests']} req) | < 1 ms | "
          f"{o['ms_per_request']} ms wall, {o['cpu_ms_per_request']} ms CPU |")
    print(f"| sustained HTTP requests/s ({h['connections']} connections, {h['requests']} req, fake server in "
          f"another process) | >= 500/s | {h['req_per_s']}/s ({h['client_cpu_ms_per_request']} ms client CPU/req, "
          f"{h['errors']} errors) |")
    x = results["http_httpx"]
    print(f"| same, httpx client instead of the lean one ({x['requests']} req) | (comparison) | "
          f"{x['req_per_s']}/s ({x['client_cpu_ms_per_request']} ms client CPU/req) |")
    print(f"| cached re-run of {c['prompts']} prompts (new transcript) | < 5 s | {c['wall_s']} s wall, "
          f"{c['cpu_s']} s CPU |")


if __name__ == "__main__":
    main()
