"""Build the packaged fingerprint data from llama.cpp's vocab GGUFs and tables (facts: hashes, ids, sizes).

Run:  python -m modeldossier.provenance.build_reference ../shared/data/provenance

Writes `data/provenance/chkhsh_table.json` (probe text + chkhsh -> pre-tokenizer table),
`vocab_references.json` (per reference vocab: family, sizes, hashes) and `vocab_sketches.npz` (compact hashed
samples of each vocabulary for overlap estimates; no token text is stored).
"""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path

import numpy as np

from modeldossier.fsutil import atomic_write_bytes, atomic_write_text
from modeldossier.provenance.fingerprint import CHKHSH_FILE, fingerprint_gguf, hash_ids
from modeldossier.provenance.gguf_meta import read_metadata
from modeldossier.provenance.vocab import REFERENCES_FILE, SKETCH_K, SKETCHES_FILE, positions_sample, token_hashes

OUT = Path(__file__).resolve().parents[1] / "data" / "provenance"
VERSION = "2026.11.1"
LLAMA_CPP = "ggml-org/llama.cpp (MIT), models/ggml-vocab-*.gguf at c392e5094deaf2d1a7c18683214f007fad3fe42b"

# name -> (family label, Hub author of the family's original publisher, name keys that declare the family)
FAMILIES = {
    "qwen2": ("Qwen2 (Alibaba)", "Qwen", ["qwen"]),
    "deepseek-llm": ("DeepSeek LLM", "deepseek-ai", ["deepseek"]),
    "deepseek-coder": ("DeepSeek Coder", "deepseek-ai", ["deepseek"]),
    "baichuan": ("Baichuan", "baichuan-inc", ["baichuan"]),
    "aquila": ("Aquila (BAAI)", "BAAI", ["aquila"]),
    "bert-bge": ("BERT WordPiece (bert-base-uncased vocab; bge-small-en)", "google", ["bert", "minilm", "bge"]),
    "llama-bpe": ("Llama 3 (Meta)", "meta-llama", ["llama"]),
    "llama-spm": ("Llama 2 (Meta)", "meta-llama", ["llama"]),
    "phi-3": ("Phi-3 (Microsoft)", "microsoft", ["phi3"]),
    "gpt-2": ("GPT-2 (OpenAI)", "openai-community", ["gpt2"]),
    "gpt-neox": ("GPT-NeoX-20B (EleutherAI)", "EleutherAI", ["neox", "pythia"]),
    "mpt": ("MPT (MosaicML)", "mosaicml", ["mpt"]),
    "starcoder": ("StarCoder (BigCode)", "bigcode", ["starcoder"]),
    "refact": ("Refact (Refact.ai)", "smallcloudai", ["refact"]),
    "falcon": ("Falcon (TII)", "tiiuae", ["falcon"]),
    "command-r": ("Command-R (Cohere)", "CohereForAI", ["commandr", "cohere", "aya"]),
}


def _rows(path: Path) -> list[dict[str, str]]:
    with open(path, encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def probe_from_fixtures(tests: Path) -> str:
    """llama.cpp's chktxt, taken from the tokenizer test fixture and checked against its recorded hash."""
    inp = (tests / "ggml-vocab-qwen2.gguf.inp").read_text(encoding="utf-8").split("\n__ggml_vocab_test__\n")
    out = (tests / "ggml-vocab-qwen2.gguf.out").read_text(encoding="utf-8").split("\n")
    for text, ids in zip(inp, out, strict=False):
        if text.startswith("\n \n\n \n\n\n \t") and "We'Ve a'lL" in text:
            digest = hash_ids([int(x) for x in ids.split()])
            if digest != "e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea":
                raise SystemExit(f"probe text found but its qwen2 hash is {digest}")
            return text
    raise SystemExit("probe text not found in the qwen2 fixture")


def chkhsh_table(shared: Path) -> dict:
    """The probe text and llama.cpp's chkhsh table as one JSON document."""
    derived = shared / "derived"
    table = [
        {"chkhsh": r["chkhsh"], "pre": r["tokenizer_ggml_pre"], "ref_repo": r["ref_hf_repo_url"],
         "hub_author": r["ref_hf_namespace"], "type": r["tokenizer_type_in_update_script"]}
        for r in _rows(derived / "llama_cpp_chkhsh_table.csv")
    ]
    known = {r["chkhsh"] for r in table}
    for r in _rows(derived / "chkhsh_special_token_variants.csv"):
        if r["sha256"] not in known:
            author = r["ref_hf_repo"].split("huggingface.co/")[-1].split("/")[0]
            table.append({"chkhsh": r["sha256"], "pre": r["llama_cpp_pre_name"].split(" ")[0],
                          "ref_repo": r["ref_hf_repo"].split(" ;")[0], "hub_author": author, "type": "BPE"})
            known.add(r["sha256"])
    return {
        "version": VERSION,
        "source": "llama.cpp convert_hf_to_gguf.py get_vocab_base_pre (MIT); probe text is llama.cpp's chktxt "
                  "test string, stored as data",
        "probe": {"text": probe_from_fixtures(shared / "llama_cpp_vocab" / "tokenizer_tests"),
                  "method": "sha256(str(tokenizer.encode(text)).encode()).hexdigest()"},
        "table": table,
    }


def references(shared: Path) -> tuple[dict, dict[str, np.ndarray]]:
    """Per-reference facts and the hashed samples used for overlap."""
    vocab_dir = shared / "llama_cpp_vocab"
    fixture_hashes = {}
    for r in _rows(shared / "derived" / "chkhsh_from_tokenizer_tests.csv"):
        fixture_hashes.setdefault(r["fixture"], {})[r["special_tokens_variant"]] = r["sha256_of_str_list"]
    refs, arrays = [], {}
    for name, (family, author, keys) in FAMILIES.items():
        path = vocab_dir / f"ggml-vocab-{name}.gguf"
        meta = read_metadata(path)
        fp, vocab = fingerprint_gguf(path, meta)
        tokens = [t or "" for t in vocab.tokens]
        hashes = token_hashes(tokens)
        positions = positions_sample(len(tokens))
        arrays[f"{name}.bottomk"] = np.sort(np.unique(hashes))[:SKETCH_K]
        arrays[f"{name}.pos_ids"] = positions.astype(np.uint32)
        arrays[f"{name}.pos_hashes"] = hashes[positions]
        refs.append({
            "name": name, "family": family, "hub_author": author, "name_keys": keys, "file": path.name,
            "gguf_architecture": meta.get("general.architecture"), "tokenizer_model": meta.get("tokenizer.ggml.model"),
            "tokenizer_pre": meta.get("tokenizer.ggml.pre"), "n_tokens": len(tokens),
            "n_unique_tokens": int(len(np.unique(hashes))),
            "tokens_hash": fp.tokens_hash, "bos_id": meta.get("tokenizer.ggml.bos_token_id"),
            "eos_id": meta.get("tokenizer.ggml.eos_token_id"),
            "upstream_chkhsh": fixture_hashes.get(name, {}),
            "rebuilt_chkhsh": fp.chkhsh, "rebuilt_raw_ids_hash": fp.raw_ids_hash,
        })
    doc = {"version": VERSION, "source": LLAMA_CPP, "sketch_k": SKETCH_K, "references": refs}
    return doc, arrays


def main(argv: list[str]) -> int:
    """Write the three data files from the shared provenance folder given as the only argument."""
    if len(argv) != 1:
        print(__doc__)
        return 2
    shared = Path(argv[0])
    atomic_write_text(OUT / CHKHSH_FILE, json.dumps(chkhsh_table(shared), indent=1, ensure_ascii=True) + "\n")
    from modeldossier.provenance import fingerprint

    fingerprint.chkhsh_data.cache_clear()
    doc, arrays = references(shared)
    atomic_write_text(OUT / REFERENCES_FILE, json.dumps(doc, indent=1) + "\n")
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    atomic_write_bytes(OUT / SKETCHES_FILE, buf.getvalue())
    print(f"wrote {OUT}: {len(doc['references'])} references, sketches {len(buf.getvalue())} bytes")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
