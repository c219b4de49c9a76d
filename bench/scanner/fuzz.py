"""Mutation fuzzing of the scanner: 100k+ mutated pickles, zips, npy, tar, gzip, safetensors and GGUF inputs.

    .venv/bin/python bench/scanner/fuzz.py                 # 100000 cases
    .venv/bin/python bench/scanner/fuzz.py --cases 5000 --seed 7

Every input goes through sniffing and dispatch exactly like a file would. A failure is a checker exception
(`scan.checker_error`, i.e. what would have been a traceback), a case slower than --slow seconds, or a Python
exception escaping the scanner. Failing inputs are saved under bench/out/fuzz_failures/.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import resource
import sys
import tarfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))


def seeds(out: Path) -> list[tuple[str, bytes]]:
    """Seed inputs: every pickle-family corpus sample under 4 MB, plus the formats corpus when present."""
    import corpus_pickle

    found: list[tuple[str, bytes]] = []
    samples = corpus_pickle.write_corpus(out)
    try:
        import corpus_formats

        samples += corpus_formats.write_corpus(out)
    except ImportError:
        pass
    for sample in samples:
        if sample.path.is_file() and sample.path.stat().st_size < 4 << 20:
            found.append((sample.path.name, sample.path.read_bytes()))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        info = tarfile.TarInfo("a/b.pkl")
        raw = found[0][1]
        info.size = len(raw)
        t.addfile(info, io.BytesIO(raw))
    found.append(("x.tar", buf.getvalue()))
    found.append(("x.gz", gzip.compress(found[0][1])))
    return found


def mutate(rng: random.Random, data: bytes) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 10)):
        if not out:
            out += rng.randbytes(rng.randint(1, 16))
            continue
        at = rng.randrange(len(out))
        op = rng.random()
        if op < 0.35:
            out[at] = rng.randrange(256)
        elif op < 0.5:
            out[at:at] = rng.randbytes(rng.randint(1, 8))
        elif op < 0.62:
            del out[at:at + rng.randint(1, 16)]
        elif op < 0.7:
            del out[at:]
        elif op < 0.8:
            out[at:at] = out[at:at + rng.randint(1, 64)] * rng.randint(1, 4)
        elif op < 0.9:  # interesting integers in length fields
            value = rng.choice([0, 1, 0x7F, 0x80, 0xFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 2**63 - 1, 2**64 - 1])
            width = rng.choice([1, 2, 4, 8])
            out[at:at + width] = (value & ((1 << (8 * width)) - 1)).to_bytes(width, "little")
        else:
            out[at:at] = rng.choice([b"\x93", b"\x94", b"(", b"R", b"b", b"\x81", b"\x82\x01", b"h\x00", b"q\x00",
                                     b"PK\x03\x04", b"\x93NUMPY", b"GGUF", b"\x80\x04", b".", b"\x95" + b"\xff" * 8])
    return bytes(out)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20261123)
    parser.add_argument("--slow", type=float, default=5.0, help="Seconds after which a case counts as a hang.")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--max-minutes", type=float, default=0.0, help="Stop early (and report) after this long.")
    args = parser.parse_args(argv)

    from modeldossier.artifacts.allowlist import load_allowlist
    from modeldossier.artifacts.scanner import ScanLimits, _Context, _hard_deadline

    allowlist = load_allowlist()
    limits = ScanLimits(seconds_per_file=args.slow, max_member_bytes=64 << 20, max_total_bytes=256 << 20)
    pool = seeds(args.out / "fuzz_seeds")
    rng = random.Random(args.seed)
    failures_dir = args.out / "fuzz_failures"
    failures = hangs = escaped = 0
    rules: dict[str, int] = {}
    started = time.perf_counter()
    slowest = 0.0
    done = 0
    for case in range(args.cases):
        if args.max_minutes and time.perf_counter() - started > args.max_minutes * 60:
            print(f"stopping early at the --max-minutes budget after {case} cases", flush=True)
            break
        done = case + 1
        name, seed = pool[rng.randrange(len(pool))]
        data = mutate(rng, seed)
        t0 = time.perf_counter()
        ctx = _Context(limits, allowlist)
        try:
            with _hard_deadline(args.slow + 5):
                ctx.scan_member(io.BytesIO(data), name, len(data), 0)
        except Exception as exc:  # noqa: BLE001 - that is what we are looking for
            escaped += 1
            failures_dir.mkdir(parents=True, exist_ok=True)
            (failures_dir / f"escaped_{case}_{name}").write_bytes(data)
            print(f"case {case}: exception escaped: {type(exc).__name__}: {exc}", flush=True)
            continue
        took = time.perf_counter() - t0
        slowest = max(slowest, took)
        bad = [f for r in ctx.reports for f in r.findings if f.rule_id in ("scan.checker_error",)]
        for report in ctx.reports:
            for f in report.findings:
                rules[f.rule_id] = rules.get(f.rule_id, 0) + 1
        if took > args.slow:
            hangs += 1
        if bad or took > args.slow:
            failures += 1
            failures_dir.mkdir(parents=True, exist_ok=True)
            (failures_dir / f"case_{case}_{name}").write_bytes(data)
            if failures <= 20:
                why = bad[0].message if bad else f"took {took:.1f}s"
                print(f"case {case} ({name}): {why}", flush=True)
        if case and case % 5_000 == 0:
            print(f"{case} cases, {failures} failures, {time.perf_counter() - started:.0f}s", flush=True)
    elapsed = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"cases: {done}  seeds: {len(pool)}  failures: {failures} (checker errors or > {args.slow}s: "
          f"{hangs} slow)  escaped exceptions: {escaped}  slowest case: {slowest:.2f}s  "
          f"elapsed: {elapsed:.0f}s  peak RSS: {peak_mb:.0f} MB")
    top = sorted(rules.items(), key=lambda kv: -kv[1])[:12]
    print("findings produced: " + ", ".join(f"{k}={v}" for k, v in top))
    return 1 if failures or escaped else 0


if __name__ == "__main__":
    raise SystemExit(main())
