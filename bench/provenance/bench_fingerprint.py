"""Provenance benchmark: fingerprint speed on a 150k-vocab tokenizer, the 16-vocab confusion matrix, and
undeclared-derivative detection on generated test models with lying / honest cards.

Run:  .venv/bin/python bench/provenance/bench_fingerprint.py [--shared ../shared/data] [--repeats 5]
Prints Markdown tables (paste into docs/bench-provenance.md / docs/provenance.md).
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

from modeldossier.provenance import fingerprint, vocab
from modeldossier.provenance.origin import origin_section

NAMES = ("qwen2", "deepseek-llm", "deepseek-coder", "baichuan", "aquila", "bert-bge", "llama-bpe", "llama-spm",
         "phi-3", "gpt-2", "gpt-neox", "mpt", "starcoder", "refact", "falcon", "command-r")
IDENTICAL = {"gpt-neox": {"gpt-neox", "mpt"}, "mpt": {"gpt-neox", "mpt"}}
# A lying card for each vocab: a base model of another family (Mistral uses none of the 16 vocabs).
LIE = "---\nbase_model: mistralai/Mistral-7B-v0.1\n---\n"
HONEST_BASE = {
    "qwen2": "Qwen/Qwen2.5-7B", "deepseek-llm": "deepseek-ai/deepseek-llm-7b-base",
    "deepseek-coder": "deepseek-ai/deepseek-coder-6.7b-base", "baichuan": "baichuan-inc/Baichuan-7B",
    "aquila": "BAAI/Aquila-7B", "bert-bge": "google-bert/bert-base-uncased", "llama-bpe": "meta-llama/Meta-Llama-3-8B",
    "llama-spm": "meta-llama/Llama-2-7b-hf", "phi-3": "microsoft/Phi-3-mini-4k-instruct",
    "gpt-2": "openai-community/gpt2", "gpt-neox": "EleutherAI/gpt-neox-20b", "mpt": "mosaicml/mpt-7b",
    "starcoder": "bigcode/starcoder2-7b", "refact": "smallcloudai/Refact-1_6B-fim", "falcon": "tiiuae/falcon-7b",
    "command-r": "CohereForAI/c4ai-command-r-v01",
}


def ref_of(family: str | None) -> set[str]:
    """Reference names whose family label appears in an observed family string."""
    if not family:
        return set()
    return {r.name for r in vocab.references() if r.info["family"] in family}


def timed(fn, repeats: int) -> tuple[float, float, float]:
    """(median wall, best wall, median process CPU) seconds of ``repeats`` calls.

    CPU time (user+sys of this process) is what the work costs on an idle core; wall time also counts waiting
    for a busy machine."""
    walls, cpus = [], []
    for _ in range(repeats):
        start, cpu = time.perf_counter(), time.process_time()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(time.process_time() - cpu)
    return statistics.median(walls), min(walls), statistics.median(cpus)


def speed(vocab_dir: Path, work: Path, repeats: int) -> None:
    gguf = vocab_dir / "ggml-vocab-qwen2.gguf"
    voc = fingerprint.gguf_vocab(gguf)
    tok, _ = fingerprint.tokenizer_from_gguf(voc)
    tj = work / "qwen2" / "tokenizer.json"
    tj.parent.mkdir(parents=True, exist_ok=True)
    tok.save(str(tj))
    vocab.references()

    def fp_json():
        fp, v = fingerprint.fingerprint_tokenizer_json(tj)
        vocab.compare_all(vocab.SubjectVocab.from_tokens(v.tokens, fp.tokens_hash))

    rows = [
        ("tokenizer.json (151,665 BPE tokens + added): load, chkhsh/raw/framing, token hashes",
         lambda: fingerprint.fingerprint_tokenizer_json(tj)),
        ("same + overlap vs 16 references", fp_json),
        ("GGUF qwen2 (151,936 tokens): read vocab + overlap vs 16 references",
         lambda: vocab.compare_all(vocab.SubjectVocab.from_tokens(fingerprint.gguf_vocab(gguf).tokens))),
        ("GGUF qwen2: rebuild tokenizer + chkhsh (fingerprint_gguf)", lambda: fingerprint.fingerprint_gguf(gguf)),
        ("origin_section on the tokenizer.json folder (everything, offline)",
         lambda: origin_section(tj.parent, None, online=False)),
    ]
    print(f"\n### Speed (median / best of {repeats}; tokenizer.json {tj.stat().st_size:,} bytes)\n")
    print(f"load average at start: {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs\n")
    print("| step | wall median s | wall best s | CPU median s | goal |")
    print("|---|---:|---:|---:|---|")
    for label, fn in rows:
        med, best, cpu = timed(fn, repeats)
        goal = "< 2 s" if label.startswith("same +") else ""
        print(f"| {label} | {med:.2f} | {best:.2f} | {cpu:.2f} | {goal} |")


def matrix(vocab_dir: Path) -> None:
    print("\n### Confusion matrix: 16 reference GGUFs -> observed family (vocabulary overlap)\n")
    correct = 0
    print("| vocab file | expected | observed family | confidence | top match (set / same-id) | runner-up |")
    print("|---|---|---|---:|---|---|")
    for name in NAMES:
        section = origin_section(vocab_dir / f"ggml-vocab-{name}.gguf", None, online=False)
        got = ref_of(section.observed_family)
        expected = IDENTICAL.get(name, {name})
        ok = got == expected
        correct += ok
        top, second = section.vocab_matches[0], section.vocab_matches[len(expected)]
        print(f"| {name} | {', '.join(sorted(expected))} | {section.observed_family} {'ok' if ok else 'WRONG'} | "
              f"{section.observed_confidence} | {top.reference} {top.relation} ({top.set_overlap:.3f} / "
              f"{top.positional_overlap:.3f}) | {second.reference} {second.relation} ({second.set_overlap:.3f} / "
              f"{second.positional_overlap:.3f}) |")
    print(f"\ncorrect: {correct}/{len(NAMES)}")


def derivatives(vocab_dir: Path, work: Path) -> None:
    print("\n### Undeclared-derivative flag on generated test models (tokenizer.json rebuilt from each GGUF)\n")
    print("| vocab | lying card -> flagged | honest card -> not flagged | tokenizer.json family |")
    print("|---|---|---|---|")
    tp = tn = 0
    for name in NAMES:
        voc = fingerprint.gguf_vocab(vocab_dir / f"ggml-vocab-{name}.gguf")
        tok, _ = fingerprint.tokenizer_from_gguf(voc)
        results = []
        for kind, card in (("lie", LIE), ("honest", f"---\nbase_model: {HONEST_BASE[name]}\n---\n")):
            folder = work / f"{name}-{kind}" / "chat-model"
            folder.mkdir(parents=True, exist_ok=True)
            tok.save(str(folder / "tokenizer.json"))
            (folder / "README.md").write_text(card)
            results.append(origin_section(folder, None, online=False))
        lie, honest = results
        tp += lie.undeclared_derivative is True
        tn += honest.undeclared_derivative is False
        print(f"| {name} | {lie.undeclared_derivative} | {honest.undeclared_derivative} | {lie.observed_family} |")
    print(f"\nlying cards flagged: {tp}/{len(NAMES)}; honest cards not flagged: {tn}/{len(NAMES)}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=Path(__file__).resolve().parents[2].parent / "shared" / "data")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip", nargs="*", default=[], choices=["speed", "matrix", "derivatives"])
    args = parser.parse_args()
    vocab_dir = args.shared / "provenance" / "llama_cpp_vocab"
    if not vocab_dir.is_dir():
        print(f"no vocab folder at {vocab_dir}")
        return 2
    with tempfile.TemporaryDirectory() as tmp:
        if "speed" not in args.skip:
            speed(vocab_dir, Path(tmp), args.repeats)
        if "matrix" not in args.skip:
            matrix(vocab_dir)
        if "derivatives" not in args.skip:
            derivatives(vocab_dir, Path(tmp))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
