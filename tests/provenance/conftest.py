"""Shared fixtures for provenance tests: the llama.cpp vocab folder and cached fingerprints."""

from __future__ import annotations

from pathlib import Path

import pytest

from modeldossier.provenance import fingerprint

NAMES = ("qwen2", "deepseek-llm", "deepseek-coder", "baichuan", "aquila", "bert-bge", "llama-bpe", "llama-spm",
         "phi-3", "gpt-2", "gpt-neox", "mpt", "starcoder", "refact", "falcon", "command-r")


@pytest.fixture(scope="session")
def vocab_dir(shared_data) -> Path:
    path = shared_data / "provenance" / "llama_cpp_vocab"
    if not path.is_dir():
        pytest.skip(f"no vocab folder at {path}")
    return path


@pytest.fixture(scope="session")
def gguf_vocabs(vocab_dir):
    """name -> (Vocab, tokens_hash) for all 16 reference GGUFs (no tokenizer rebuild: fast)."""
    out = {}
    for name in NAMES:
        voc = fingerprint.gguf_vocab(vocab_dir / f"ggml-vocab-{name}.gguf")
        out[name] = (voc, fingerprint.tokens_hash(voc.tokens))
    return out
