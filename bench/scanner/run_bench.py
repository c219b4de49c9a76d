"""Scanner benchmark: `dossier scan` vs picklescan, modelscan, fickling and ModelAudit, side by side.

    .venv/bin/python bench/scanner/run_bench.py                 # corpus + detection table + throughput
    .venv/bin/python bench/scanner/run_bench.py --no-big        # skip the ~1 GB throughput files
    .venv/bin/python bench/scanner/run_bench.py --hash          # also time `dossier scan --hash` vs sha256sum

Peer tools are installed (pinned) into .bench-venv on first use. Each tool's own default verdict counts as
"flagged": dossier exit-1 threshold (high), picklescan "dangerous import", modelscan any issue, fickling
non-zero `--check-safety`, ModelAudit an issue of severity warning or critical. Results go to
bench/out/results.json and bench/out/results.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(HERE))
from corpus_common import Sample  # noqa: E402

BENCH_VENV = ROOT / ".bench-venv"
PEERS = ["picklescan==1.0.5", "py7zr==1.1.4", "modelscan==0.8.8", "fickling==0.1.12", "modelaudit==0.2.54"]
DOSSIER = Path(os.environ.get("DOSSIER_BIN", ROOT / ".venv" / "bin" / "dossier"))  # DOSSIER_BIN: another install
TOOLS = ["dossier", "picklescan", "modelscan", "fickling", "modelaudit"]
QUIET_ENV = {**os.environ, "DO_NOT_TRACK": "1", "PROMPTFOO_DISABLE_TELEMETRY": "1", "HF_HUB_OFFLINE": "1",
             "MODELAUDIT_TELEMETRY": "0", "NO_COLOR": "1"}


@dataclass
class Verdict:
    flagged: bool = False
    error: bool = False
    detail: list[str] = field(default_factory=list)


def ensure_bench_venv() -> Path:
    """Create .bench-venv with the pinned peer tools when it is missing."""
    if not (BENCH_VENV / "bin" / "picklescan").exists():
        subprocess.run([sys.executable, "-m", "venv", str(BENCH_VENV)], check=True)
        subprocess.run([str(BENCH_VENV / "bin" / "pip"), "install", "-q", *PEERS], check=True)
    return BENCH_VENV / "bin"


def write_corpora(out: Path) -> list[Sample]:
    """Both corpora: the pickle family (here) and the other formats (skipped when its module is absent)."""
    import corpus_pickle

    samples = corpus_pickle.write_corpus(out)
    try:
        import corpus_formats
    except ImportError as exc:
        print(f"note: formats corpus skipped ({exc})")
    else:
        samples += corpus_formats.write_corpus(out)
    return samples


def _owner(location: str, paths: list[str]) -> str | None:
    """The sample a reported location belongs to (longest path prefix)."""
    for path in paths:
        if location == path or location.startswith((path + "/", path + "!", path + ":", path + " ")):
            return path
    return None


def _run(cmd: list[str], timeout: float) -> tuple[int, str, str, float]:
    start = time.perf_counter()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=QUIET_ENV, cwd=ROOT)
        return proc.returncode, proc.stdout, proc.stderr, time.perf_counter() - start
    except subprocess.TimeoutExpired as exc:
        out = exc.stdout.decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        return -9, out, "TIMEOUT", time.perf_counter() - start


# --- one adapter per tool: run on a folder (or file), return verdicts per sample path ----------------------------

def run_dossier(target: Path, paths: list[str], timeout: float) -> tuple[dict[str, Verdict], float, bool]:
    rc, out, err, secs = _run([str(DOSSIER), "scan", str(target), "--format", "json", "-q"], timeout)
    verdicts: dict[str, Verdict] = {}
    try:
        doc = json.loads(out)
    except json.JSONDecodeError:
        return {p: Verdict(error=True, detail=[err[-200:]]) for p in paths}, secs, False
    for f in doc["findings"]:
        owner = _owner(str(Path(f["file"].split("!")[0]).resolve()), paths) or _owner(f["file"], paths)
        if owner is None:
            continue
        v = verdicts.setdefault(owner, Verdict())
        if f["severity"] in ("critical", "high"):
            v.flagged = True
            v.detail.append(f"{f['severity']}:{f['rule_id']}")
        if f["rule_id"] in ("scan.checker_error", "scan.timeout"):
            v.error = True
    return verdicts, secs, rc in (0, 1)


def run_picklescan(bin_dir: Path, target: Path, paths: list[str], timeout: float):
    rc, out, err, secs = _run([str(bin_dir / "picklescan"), "-p", str(target)], timeout)
    text = out + "\n" + err
    verdicts: dict[str, Verdict] = {}
    for line in text.splitlines():
        m = re.match(r"^(.*?): dangerous import '(.*)' FOUND", line)
        if m:
            owner = _owner(m.group(1), paths)
            if owner:
                verdicts.setdefault(owner, Verdict(flagged=True)).flagged = True
                verdicts[owner].detail.append(m.group(2))
        m = re.match(r"^(?:ERROR: parsing pickle in|WARNING: could not parse) (.*?)(?::| as pickle)", line)
        if m:
            owner = _owner(m.group(1), paths)
            if owner:
                verdicts.setdefault(owner, Verdict()).error = True
    ok = "Traceback" not in text and rc in (0, 1)
    return verdicts, secs, ok


def run_modelscan(bin_dir: Path, target: Path, paths: list[str], timeout: float):
    report = ROOT / "bench" / "out" / "_modelscan.json"
    report.unlink(missing_ok=True)
    rc, out, err, secs = _run([str(bin_dir / "modelscan"), "-p", str(target), "-r", "json", "-o", str(report)],
                              timeout)
    verdicts: dict[str, Verdict] = {}
    try:
        doc = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return verdicts, secs, False
    base = Path(doc.get("summary", {}).get("absolute_path", str(target)))
    for key, flag in (("issues", True), ("errors", False)):
        for item in doc.get(key, []):
            src = str(item.get("source", ""))
            loc = src if src.startswith("/") else str(base / src)
            if target.is_file():
                loc = str(target) + (src[len(target.name):] if src.startswith(target.name) else "")
            owner = _owner(loc.split(":")[0], paths) or _owner(loc, paths)
            if owner:
                v = verdicts.setdefault(owner, Verdict())
                v.flagged |= flag
                v.error |= not flag
                v.detail.append(item.get("severity", item.get("category", "")) + ":" + str(item.get("operator", "")))
    return verdicts, secs, rc in (0, 1, 2, 3)


def run_modelaudit(bin_dir: Path, target: Path, paths: list[str], timeout: float):
    report = ROOT / "bench" / "out" / "_modelaudit.json"
    report.unlink(missing_ok=True)
    rc, out, err, secs = _run([str(bin_dir / "modelaudit"), "scan", str(target), "--format", "json", "-o",
                               str(report), "--no-cache"], timeout)
    verdicts: dict[str, Verdict] = {}
    try:
        doc = json.loads(report.read_text())
    except (OSError, json.JSONDecodeError):
        return verdicts, secs, False
    for issue in doc.get("issues", []):
        loc = str(issue.get("location") or (issue.get("details") or {}).get("path") or "")
        loc = str(Path(loc.split(" (")[0]).resolve()) if loc and not loc.startswith("/") else loc.split(" (")[0]
        owner = _owner(loc, paths)
        if owner:
            v = verdicts.setdefault(owner, Verdict())
            if issue.get("severity") in ("critical", "warning"):
                v.flagged = True
                v.detail.append(f"{issue.get('severity')}:{str(issue.get('message'))[:60]}")
            if issue.get("type") in ("error",) or "error" in str(issue.get("message", "")).lower()[:20]:
                v.error = True
    return verdicts, secs, rc in (0, 1, 2)


def run_fickling(bin_dir: Path, target: Path, paths: list[str], timeout: float):
    verdicts: dict[str, Verdict] = {}
    total = 0.0
    for path in paths:
        if Path(path).is_dir():
            continue
        rc, out, err, secs = _run([str(bin_dir / "fickling"), "--check-safety", path], min(timeout, 120))
        total += secs
        crashed = "Traceback" in err or rc == -9
        verdicts[path] = Verdict(flagged=rc != 0 and not crashed, error=crashed,
                                 detail=[(out + err).strip().splitlines()[-1][:80]] if (out + err).strip() else [])
    return verdicts, total, True


def evaluate(samples: list[Sample], out: Path, bin_dir: Path | None, timeout: float) -> dict:
    """Run every tool on each corpus folder; per-tool verdicts per sample and total seconds."""
    roots: dict[Path, list[str]] = {}
    for sample in samples:
        rel = sample.path.resolve().relative_to(out)
        roots.setdefault(out / rel.parts[0], []).append(str(sample.path.resolve()))
    results: dict[str, dict] = {}
    for tool in TOOLS:
        if tool != "dossier" and bin_dir is None:
            continue
        print(f"running {tool} ...", flush=True)
        merged: dict[str, Verdict] = {}
        total = 0.0
        for root, members in roots.items():
            verdicts, secs = _evaluate_root(tool, bin_dir, root, sorted(members, key=len, reverse=True), timeout)
            merged.update(verdicts)
            total += secs
        results[tool] = {"seconds": round(total, 2), "verdicts": {p: vars(v) for p, v in merged.items()}}
    return results


def _evaluate_root(tool: str, bin_dir: Path | None, out: Path, paths: list[str], timeout: float):
    if tool == "dossier":
        verdicts, secs, ok = run_dossier(out, paths, timeout)
    elif tool == "fickling":
        verdicts, secs, ok = run_fickling(bin_dir, out, paths, timeout)
    else:
        runner = {"picklescan": run_picklescan, "modelscan": run_modelscan, "modelaudit": run_modelaudit}[tool]
        verdicts, secs, ok = runner(bin_dir, out, paths, timeout)
        if not ok:  # the folder run died: fall back to one run per sample, so one crash costs one sample
            print(f"  {tool}: folder run on {out.name} failed, re-running per file", flush=True)
            verdicts, secs = {}, 0.0
            for path in paths:
                v, s, file_ok = runner(bin_dir, Path(path), [path], min(timeout, 120))
                secs += s
                verdicts[path] = v.get(path, Verdict())
                verdicts[path].error |= not file_ok
    return verdicts, secs


def summarise(samples: list[Sample], results: dict) -> tuple[str, dict]:
    by_label = {lab: [s for s in samples if s.label == lab] for lab in ("malicious", "benign", "malformed")}
    rows = []
    summary = {}
    union: set[str] = set()
    for tool, res in results.items():
        v = res["verdicts"]
        hit = {str(s.path.resolve()) for s in by_label["malicious"] if v.get(str(s.path.resolve()), {}).get("flagged")}
        if tool != "dossier":
            union |= hit
        fp = [s for s in by_label["benign"] if v.get(str(s.path.resolve()), {}).get("flagged")]
        errors = sum(1 for s in samples if v.get(str(s.path.resolve()), {}).get("error"))
        n_mal = len(by_label["malicious"])
        summary[tool] = {"detected": len(hit), "malicious": n_mal, "false_positives": len(fp),
                         "benign": len(by_label["benign"]), "errors": errors, "seconds": res["seconds"],
                         "fp_files": [s.path.name for s in fp]}
        rows.append(f"| {tool} | {len(hit)}/{n_mal} ({len(hit) / max(n_mal, 1):.0%}) | {len(fp)}/"
                    f"{len(by_label['benign'])} | {errors} | {res['seconds']:.1f} |")
    ours = {str(s.path.resolve()) for s in by_label["malicious"]
            if results.get("dossier", {}).get("verdicts", {}).get(str(s.path.resolve()), {}).get("flagged")}
    missed_by_us = sorted(Path(p).name for p in union - ours)
    table = ["| tool | malicious flagged | benign flagged (FP) | errors/crashes | seconds (whole corpus) |",
             "|---|---|---|---|---|", *rows, "",
             f"peers' union: {len(union)}; dossier catches {len(union & ours)} of them; "
             f"missed by dossier but caught by a peer: {missed_by_us or 'none'}"]
    per_sample = ["", "| sample | label | technique | " + " | ".join(results) + " |",
                  "|---|---|---|" + "---|" * len(results)]
    for s in samples:
        cells = []
        for tool in results:
            v = results[tool]["verdicts"].get(str(s.path.resolve()), {})
            cells.append(("X" if v.get("flagged") else "-") + ("!" if v.get("error") else ""))
        rel = s.path.resolve().relative_to(ROOT / "bench" / "out") if s.path.resolve().is_relative_to(
            ROOT / "bench" / "out") else s.path.name
        technique = s.technique.replace("|", "\\|")
        per_sample.append(f"| {rel} | {s.label} | {technique} | " + " | ".join(cells) + " |")
    summary["missed_by_dossier_caught_by_peer"] = missed_by_us
    return "\n".join(table + per_sample), summary


# --- throughput -----------------------------------------------------------------------------------------------------

def write_big_torch_zip(path: Path, gib: float) -> Path:
    """A torch.save-layout zip of ~gib GiB: data.pkl with 64 MiB tensors, storages written for real."""
    import corpus_pickle as cp

    chunk = 64 << 20
    n = max(1, int(gib * (1 << 30)) // chunk)
    tensors = {f"layers.{i}.weight": chunk // 4 for i in range(n)}
    block = os.urandom(chunk)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED, allowZip64=True) as z:
        z.writestr("archive/data.pkl", cp.state_dict_pickle(tensors))
        z.writestr("archive/byteorder", "little")
        for i in range(n):
            with z.open(f"archive/data/{i}", "w", force_zip64=True) as member:
                member.write(block)
        z.writestr("archive/version", "3\n")
    return path


def write_big_pickle(path: Path) -> Path:
    """A pickle-heavy file (~3 MB, ~1.1 M opcodes): what an opcode walker's speed shows on."""
    import pickle

    path.write_bytes(pickle.dumps([{"a": i, "b": float(i), "c": str(i)} for i in range(100_000)], protocol=4))
    return path


_REPEAT = ("w=[];c=[]\nfor _ in range(3):\n t=time.perf_counter();p=time.process_time();{call}\n"
           " w.append(time.perf_counter()-t);c.append(time.process_time()-p)\nprint(min(w), min(c))")


def _inproc(python: Path, setup: str, call: str) -> tuple[float, float]:
    """(best wall seconds, best CPU seconds) of three in-process runs (no CLI start-up)."""
    rc, out, err, _ = _run([str(python), "-c", setup + "\n" + _REPEAT.format(call=call)], 900)
    try:
        wall, cpu = out.strip().splitlines()[-1].split()
        return float(wall), float(cpu)
    except (ValueError, IndexError):
        return float("nan"), float("nan")


def _inproc_dossier(path: Path, hash_files: bool = False) -> tuple[float, float]:
    setup = ("import time;from pathlib import Path;from modeldossier.artifacts.scanner import scan_section;"
             "from modeldossier.artifacts.allowlist import load_allowlist;load_allowlist()")
    return _inproc(ROOT / ".venv" / "bin" / "python", setup,
                   f"scan_section([Path({str(path)!r})], hash_files={hash_files})")


def _inproc_picklescan(bin_dir: Path, path: Path) -> tuple[float, float]:
    return _inproc(bin_dir / "python", "import time;from picklescan.scanner import scan_file_path",
                   f"scan_file_path({str(path)!r})")


def throughput(out: Path, bin_dir: Path | None, gib: float, do_hash: bool, timeout: float) -> tuple[str, dict]:
    big = out / "big"
    big.mkdir(parents=True, exist_ok=True)
    files = {"torch zip": big / "big_checkpoint.pt", "pickle-heavy": big / "many_opcodes.pkl"}
    if not files["torch zip"].exists():
        write_big_torch_zip(files["torch zip"], gib)
    write_big_pickle(files["pickle-heavy"])
    try:
        import corpus_formats

        files["safetensors"] = big / "big.safetensors"
        if not files["safetensors"].exists():
            corpus_formats.write_big_safetensors(files["safetensors"], gib, sparse=False)
    except ImportError:
        pass
    rows = ["| file | size | tool | CLI wall s | in-process wall / CPU s (best of 3) | MB/s (CLI) |",
            "|---|---|---|---|---|---|"]
    data: dict = {}
    startup = {"dossier": [str(DOSSIER), "--version"]}
    if bin_dir is not None:
        startup.update({"picklescan": [str(bin_dir / "picklescan"), "--help"],
                        "modelscan": [str(bin_dir / "modelscan"), "--help"],
                        "fickling": [str(bin_dir / "fickling"), "--help"],
                        "modelaudit": [str(bin_dir / "modelaudit"), "--version"]})
    for tool, cmd in startup.items():
        best = min(_run(cmd, 120)[3] for _ in range(3))
        data.setdefault("startup", {})[tool] = best
        rows.append(f"| (CLI start-up only) | - | {tool} | {best:.2f} | | |")
    for label, path in files.items():
        size = path.stat().st_size
        subprocess.run(["cat", str(path)], stdout=subprocess.DEVNULL, check=False)  # warm the page cache
        cmds = {"dossier": [str(DOSSIER), "scan", str(path), "-q", "--format", "json"]}
        if bin_dir is not None:
            cmds.update({
                "picklescan": [str(bin_dir / "picklescan"), "-p", str(path)],
                "modelscan": [str(bin_dir / "modelscan"), "-p", str(path)],
                "fickling": [str(bin_dir / "fickling"), "--check-safety", str(path)],
                "modelaudit": [str(bin_dir / "modelaudit"), "scan", str(path), "--no-cache", "--format", "json"],
            })
        for tool, cmd in cmds.items():
            rc, _, err, secs = _run(cmd, timeout)
            inproc = (float("nan"), float("nan"))
            if tool == "dossier":
                inproc = _inproc_dossier(path)
            elif tool == "picklescan":
                inproc = _inproc_picklescan(bin_dir, path)
            status = "" if rc != -9 else " (timeout)"
            data.setdefault(label, {})[tool] = {"cli_seconds": round(secs, 3), "inproc_wall": inproc[0],
                                                "inproc_cpu": inproc[1], "rc": rc, "size": size}
            shown = "" if inproc[0] != inproc[0] else f"{inproc[0]:.3f} / {inproc[1]:.3f}"
            rows.append(f"| {label} | {size / 1e6:,.0f} MB | {tool} | {secs:.2f}{status} | {shown} | "
                        f"{size / 1e6 / secs:,.0f} |")
    if do_hash:
        for label in ("torch zip", "safetensors"):
            if label not in files:
                continue
            path = files[label]
            size = path.stat().st_size
            rc, _, _, plain = _run([str(DOSSIER), "scan", str(path), "-q", "--format", "json"], timeout)
            rc, _, _, hashed = _run([str(DOSSIER), "scan", str(path), "-q", "--format", "json", "--hash"], timeout)
            rc, _, _, sha = _run(["sha256sum", str(path)], timeout)
            inproc_plain = _inproc_dossier(path)
            inproc_hash = _inproc_dossier(path, hash_files=True)
            sha = min(sha, *(_run(["sha256sum", str(path)], timeout)[3] for _ in range(2)))
            data.setdefault("hash", {})[label] = {"scan": plain, "scan_hash": hashed, "sha256sum": sha,
                                                  "inproc_scan": inproc_plain, "inproc_scan_hash": inproc_hash}
            rows.append(f"| {label} --hash | {size / 1e6:,.0f} MB | dossier --hash vs sha256sum (best of 3) | "
                        f"{hashed:.2f} vs {sha:.2f} | {inproc_hash[0]:.3f} (scan only {inproc_plain[0]:.3f}) | "
                        f"{size / 1e6 / hashed:,.0f} vs {size / 1e6 / sha:,.0f}; in-process "
                        f"{size / 1e6 / inproc_hash[0]:,.0f} |")
    return "\n".join(rows), data


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    parser.add_argument("--no-peers", action="store_true", help="Only run dossier scan.")
    parser.add_argument("--no-big", action="store_true", help="Skip the ~1 GB throughput files.")
    parser.add_argument("--gib", type=float, default=1.0, help="Size of the throughput files in GiB.")
    parser.add_argument("--hash", action="store_true", help="Also time --hash against sha256sum.")
    parser.add_argument("--timeout", type=float, default=600.0, help="Seconds per tool run.")
    parser.add_argument("--only-big", action="store_true", help="Only the throughput part.")
    args = parser.parse_args(argv)
    out = args.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    bin_dir = None if args.no_peers else ensure_bench_venv()
    if args.only_big:
        big_table, big_data = throughput(out, bin_dir, args.gib, args.hash, args.timeout)
        print(big_table)
        (out / "throughput.md").write_text(big_table + "\n")
        (out / "throughput.json").write_text(json.dumps(big_data, indent=2, default=str))
        return 0
    for sub in ("pickle", "formats"):
        shutil.rmtree(out / sub, ignore_errors=True)
    samples = write_corpora(out)
    counts = {lab: sum(s.label == lab for s in samples) for lab in ("malicious", "benign", "malformed")}
    print(f"corpus: {counts}")
    corpus_root = out
    results = evaluate(samples, corpus_root, bin_dir, args.timeout)
    table, summary = summarise(samples, results)
    print(table.split("\n\n")[0])
    report = [f"# scanner benchmark ({time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())})", "",
              f"corpus: {counts}", "", table]
    big_data: dict = {}
    if not args.no_big:
        print("throughput ...", flush=True)
        big_table, big_data = throughput(out, bin_dir, args.gib, args.hash, args.timeout)
        print(big_table)
        report += ["", "## throughput", "", big_table]
    (out / "results.md").write_text("\n".join(report) + "\n")
    (out / "results.json").write_text(json.dumps({"corpus": counts, "summary": summary, "results": results,
                                                  "throughput": big_data}, indent=2, default=str))
    print(f"written: {out / 'results.md'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
