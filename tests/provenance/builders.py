"""Build realistic tokenizer folders from the llama.cpp reference vocab GGUFs (and the MiniLM folder): honest
distill fine-tunes, GPT-4's cl100k, an extended Llama 2 vocabulary, tiktoken files, pruned and renumbered vocabs.
Nothing here is committed as a binary: every fixture is written to a temporary folder by the tests."""

from __future__ import annotations

import base64
import json
import random
import shutil
import struct
from functools import lru_cache
from pathlib import Path

from modeldossier.provenance import fingerprint

R1_QWEN_SPECIALS = ["<｜end▁of▁sentence｜>", "<｜User｜>", "<｜Assistant｜>", "<｜begin▁of▁sentence｜>", "<|EOT|>",
                    "<think>", "</think>", "<|quad_start|>", "<|quad_end|>", "<|vision_start|>", "<|vision_end|>",
                    "<|vision_pad|>", "<|image_pad|>", "<|video_pad|>", "<tool_call>", "</tool_call>",
                    "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>", "<|fim_pad|>", "<|repo_name|>",
                    "<|file_sep|>"]
CL100K = 100256
CL100K_SPECIALS = ["<|endoftext|>", "<|fim_prefix|>", "<|fim_middle|>", "<|fim_suffix|>"]


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """GPT-2's byte-level alphabet, inverted (written here independently of the reader under test)."""
    keep = [*range(33, 127), *range(161, 173), *range(174, 256)]
    mapping = {chr(b): b for b in keep}
    extra = 0
    for b in range(256):
        if b not in keep:
            mapping[chr(256 + extra)] = b
            extra += 1
    return mapping


def write_tokenizer(folder: Path, base: fingerprint.Vocab, tokens: list[str], n_regular: int, *,
                    bos: int | None = None, eos: int | None = None) -> Path:
    """tokenizer.json for a BPE vocabulary: ``tokens[:n_regular]`` are ordinary tokens (merges kept where all
    three pieces exist), the rest special."""
    folder.mkdir(parents=True, exist_ok=True)
    meta = dict(base.meta or {})
    known = set(tokens[:n_regular])
    merges = [m for m in meta.get("tokenizer.ggml.merges", [])
              if m.replace(" ", "", 1) in known and all(p in known for p in m.split(" ", 1))]
    meta.update({"tokenizer.ggml.tokens": tokens, "tokenizer.ggml.merges": merges,
                 "tokenizer.ggml.token_type": [1] * n_regular + [3] * (len(tokens) - n_regular),
                 "tokenizer.ggml.add_bos_token": bos is not None})
    for key, value in (("tokenizer.ggml.bos_token_id", bos), ("tokenizer.ggml.eos_token_id", eos)):
        if value is None:
            meta.pop(key, None)
        else:
            meta[key] = value
    vocab = fingerprint.Vocab(tokens=list(tokens), source="x", origin="gguf", model="gpt2", meta=meta)
    tok, _ = fingerprint.tokenizer_from_gguf(vocab)
    tok.save(str(folder / "tokenizer.json"))
    return folder


def card(folder: Path, front: str) -> None:
    (folder / "README.md").write_text(f"---\n{front}\n---\n# model\n", encoding="utf-8")


def r1_distill_qwen(folder: Path, qwen: fingerprint.Vocab, base_model: str | None) -> Path:
    """Qwen2's 151,643 tokens with DeepSeek-R1's specials (BOS 151646), as DeepSeek-R1-Distill-Qwen ships."""
    tokens = [*qwen.tokens[:151643], *R1_QWEN_SPECIALS]
    write_tokenizer(folder, qwen, tokens, 151643, bos=151646, eos=151643)
    if base_model:
        card(folder, f"base_model: {base_model}\nlicense: mit")
    return folder


def r1_distill_llama(folder: Path, llama: fingerprint.Vocab, base_model: str | None) -> Path:
    """Llama 3's 128,000 tokens with DeepSeek-R1's special-token names, as DeepSeek-R1-Distill-Llama ships."""
    specials = [f"<｜place▁holder▁no▁{i}｜>" for i in range(256)]
    specials[0:2] = ["<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>"]
    specials[11:15] = ["<｜User｜>", "<｜Assistant｜>", "<think>", "</think>"]
    write_tokenizer(folder, llama, [*llama.tokens[:128000], *specials], 128000, bos=128000, eos=128001)
    if base_model:
        card(folder, f"base_model: {base_model}\nlicense: mit")
    return folder


def cl100k(folder: Path, llama: fingerprint.Vocab) -> Path:
    """GPT-4's cl100k_base as DBRX ships it: Llama 3's first 100,256 tokens, then cl100k's specials, no BOS."""
    return write_tokenizer(folder, llama, [*llama.tokens[:CL100K], *CL100K_SPECIALS], CL100K, eos=CL100K)


def truncated_llama3(folder: Path, llama: fingerprint.Vocab, n: int) -> Path:
    return write_tokenizer(folder, llama, [*llama.tokens[:n], "<|end_of_text|>"], n, eos=n)


def pruned_renumbered(folder: Path, qwen: fingerprint.Vocab, keep: int = 126_000, seed: int = 7) -> Path:
    """``keep`` of Qwen2's ordinary tokens (all 256 byte tokens kept), shuffled to new ids."""
    regular = qwen.tokens[:151643]
    rng = random.Random(seed)
    rest = rng.sample(regular[256:], keep - 256)
    tokens = [*regular[:256], *rest]
    rng.shuffle(tokens)
    return write_tokenizer(folder, qwen, [*tokens, "<|endoftext|>"], len(tokens), eos=len(tokens))


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def write_spm(path: Path, pieces: list[str], scores: list[float]) -> Path:
    """A SentencePiece ModelProto (pieces + scores + a dummy trainer spec)."""
    out = bytearray(b"\x12" + _varint(4) + b"\x08\x01\x10\x02")
    for piece, score in zip(pieces, scores, strict=True):
        text = piece.encode()
        body = b"\x0a" + _varint(len(text)) + text + b"\x15" + struct.pack("<f", score) + b"\x18\x01"
        out += b"\x0a" + _varint(len(body)) + body
    path.write_bytes(bytes(out))
    return path


def _decoded(token: str) -> str | None:
    inverse = byte_decoder()
    if not all(ch in inverse for ch in token):
        return None
    try:
        return bytes(inverse[ch] for ch in token).decode("utf-8")
    except UnicodeDecodeError:
        return None


def cjk_pieces(vocabs: list[fingerprint.Vocab], exclude: set[str], limit: int) -> list[str]:
    """Chinese pieces (SentencePiece form, '▁' for a leading space) taken from real vocabularies, in order."""
    out: list[str] = []
    seen = set(exclude)
    for voc in vocabs:
        for token in voc.tokens:
            text = token if voc.model == "llama" else _decoded(token or "")
            if not text:
                continue
            text = text.replace(" ", "▁")
            if text in seen or not any("\u4e00" <= ch <= "\u9fff" for ch in text):
                continue
            seen.add(text)
            out.append(text)
            if len(out) >= limit:
                return out
    return out


def extended_llama2(folder: Path, llama2: fingerprint.Vocab, donors: list[fingerprint.Vocab],
                    extra: int, front: str | None = None) -> Path:
    """Yuan 2.0 / Chinese-LLaMA-2 shape: Llama 2's 32,000 pieces followed by ``extra`` Chinese pieces."""
    folder.mkdir(parents=True, exist_ok=True)
    added = cjk_pieces(donors, set(llama2.tokens), extra)
    scores = [*llama2.meta["tokenizer.ggml.scores"], *(-1000.0 - i for i in range(len(added)))]
    write_spm(folder / "tokenizer.model", [*llama2.tokens, *added], scores)
    if front:
        card(folder, front)
    return folder


def tiktoken_file(path: Path, tokens: list[str]) -> Path:
    """A tiktoken BPE file (base64 of the token's bytes, space, rank) from byte-level tokens."""
    inverse = byte_decoder()
    lines = [base64.b64encode(bytes(inverse[ch] for ch in token)).decode() + f" {rank}"
             for rank, token in enumerate(tokens)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def minilm_finetune(folder: Path, minilm: Path, base_model: str = "sentence-transformers/all-MiniLM-L6-v2") -> Path:
    """An honest fine-tune folder of all-MiniLM-L6-v2: its tokenizer and config, a card naming it as base."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json"):
        if (minilm / name).is_file():
            shutil.copy(minilm / name, folder / name)
    card(folder, f"base_model: {base_model}\nlicense: apache-2.0\nlibrary_name: sentence-transformers")
    return folder


def config(folder: Path, data: dict) -> None:
    (folder / "config.json").write_text(json.dumps(data), encoding="utf-8")
