"""Tokenizer fingerprints: llama.cpp's chkhsh method plus raw-id, framing and vocabulary hashes.

llama.cpp identifies a BPE pre-tokenizer by `sha256(str(tokenizer.encode(chktxt)))` over a fixed probe text
(`convert_hf_to_gguf.py`, `get_vocab_base_pre`). We reproduce the method from `tokenizer.json` (via `tokenizers`)
and from a GGUF vocabulary (by rebuilding a tokenizer from its tokens and merges), and we also hash the ids
without special tokens and the special-token framing separately, so that one vocabulary with a different
BOS/EOS still matches.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.provenance.gguf_meta import read_metadata
from modeldossier.provenance.models import TokenizerFingerprint

CHKHSH_FILE = "chkhsh_table.json"
MAX_TOKENIZER_JSON = 256 * 1024 * 1024

# Pre-tokenizer split patterns for GGUF `tokenizer.ggml.pre` values, as written in the models' tokenizer.json.
# Used only to rebuild a tokenizer from a GGUF vocabulary; anything else falls back to GPT-2's byte-level split.
_SPLITS = {
    "llama-bpe": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*"
                 r"|\s*[\r\n]+|\s+(?!\S)|\s+",
    "qwen2": r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
             r"|\s*[\r\n]+|\s+(?!\S)|\s+",
}
_CONTROL, _USER_DEFINED = 3, 4


def _data_dir() -> Path:
    from modeldossier.provenance.registry import data_dir

    return data_dir()


@lru_cache(maxsize=1)
def chkhsh_data() -> dict[str, Any]:
    """The packaged probe text and chkhsh table (read once)."""
    path = _data_dir() / CHKHSH_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DossierError(f"cannot read {path}: {exc}") from None


def probe_text() -> str:
    """llama.cpp's fixed `chktxt` probe string."""
    return chkhsh_data()["probe"]["text"]


def hash_ids(ids: list[int]) -> str:
    """llama.cpp's hash of a token-id list: sha256 of Python's `str(list)`."""
    return hashlib.sha256(str(list(ids)).encode()).hexdigest()


def tokens_hash(tokens: list[str | None]) -> str:
    """sha256 of the newline-joined token list by id (gaps as empty strings)."""
    return hashlib.sha256("\n".join(t or "" for t in tokens).encode("utf-8")).hexdigest()


def framing_of(with_special: list[int], raw: list[int]) -> dict[str, list[int]]:
    """Special-token ids the tokenizer adds around the raw ids (prefix and suffix)."""
    n = len(raw)
    for start in range(len(with_special) - n + 1):
        if with_special[start:start + n] == raw:
            return {"prefix": with_special[:start], "suffix": with_special[start + n:]}
    return {"prefix": [], "suffix": [], "unaligned": with_special}


def lookup_chkhsh(digest: str | None) -> dict[str, Any] | None:
    """The llama.cpp table row for a chkhsh, or None."""
    if not digest:
        return None
    for row in chkhsh_data()["table"]:
        if row["chkhsh"] == digest:
            return row
    return None


@dataclass
class Vocab:
    """A tokenizer's vocabulary by id, with where it came from."""

    tokens: list[str | None]
    source: str
    origin: str
    model: str | None = None
    meta: dict[str, Any] | None = None


def _tokenizer_from_json(path: Path):
    from tokenizers import Tokenizer

    size = path.stat().st_size
    if size > MAX_TOKENIZER_JSON:
        raise DossierError(f"{path.name} is {size} bytes, above the {MAX_TOKENIZER_JSON}-byte limit")
    try:
        return Tokenizer.from_file(str(path))
    except Exception as exc:  # tokenizers raises bare Exception for any malformed file
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DossierError(f"{path.name} is not a readable tokenizer.json: {first[:200]}") from None


def vocab_from_tokenizer(tokenizer, source: str) -> Vocab:
    """Token list by id from a `tokenizers.Tokenizer` (added tokens included)."""
    mapping = tokenizer.get_vocab(with_added_tokens=True)
    size = max(mapping.values(), default=-1) + 1
    tokens: list[str | None] = [None] * size
    for token, idx in mapping.items():
        tokens[idx] = token
    return Vocab(tokens=tokens, source=source, origin="tokenizer.json", model=type(tokenizer.model).__name__)


def _fingerprint(tokenizer, vocab: Vocab, notes: list[str]) -> TokenizerFingerprint:
    text = probe_text()
    tokenizer.no_truncation()
    tokenizer.no_padding()
    with_special = tokenizer.encode(text, add_special_tokens=True).ids
    raw = tokenizer.encode(text, add_special_tokens=False).ids
    framing = framing_of(with_special, raw)
    digest = hash_ids(with_special)
    row = lookup_chkhsh(digest) or lookup_chkhsh(hash_ids(raw))
    return TokenizerFingerprint(
        source=vocab.source,
        origin=vocab.origin,  # type: ignore[arg-type]
        tokenizer_model=vocab.model,
        vocab_size=len(vocab.tokens),
        chkhsh=digest,
        raw_ids_hash=hash_ids(raw),
        framing=framing,
        framing_hash=hashlib.sha256(json.dumps(framing, sort_keys=True).encode()).hexdigest(),
        tokens_hash=tokens_hash(vocab.tokens),
        llama_cpp_pre=row["pre"] if row else None,
        notes=notes,
    )


def fingerprint_tokenizer_json(path: Path) -> tuple[TokenizerFingerprint, Vocab]:
    """Fingerprint and vocabulary of a Hugging Face `tokenizer.json`; DossierError when unreadable."""
    path = Path(path)
    tokenizer = _tokenizer_from_json(path)
    vocab = vocab_from_tokenizer(tokenizer, str(path))
    return _fingerprint(tokenizer, vocab, []), vocab


def gguf_vocab(path: Path, meta: dict[str, Any] | None = None) -> Vocab:
    """The vocabulary stored in a GGUF file; DossierError when it has none."""
    meta = meta if meta is not None else read_metadata(Path(path))
    tokens = meta.get("tokenizer.ggml.tokens")
    if not isinstance(tokens, list) or not tokens:
        raise DossierError(f"{Path(path).name} holds no tokenizer vocabulary (no tokenizer.ggml.tokens)")
    model = meta.get("tokenizer.ggml.model")
    tokens = [_unphantom(t) for t in tokens] if model == "bert" else list(tokens)
    return Vocab(tokens=tokens, source=str(path), origin="gguf", model=model, meta=meta)


def _unphantom(token: str) -> str:
    """Undo llama.cpp's WordPiece conversion ('##x' -> 'x', 'x' -> '▁x', '[X]' kept) to the Hugging Face form."""
    if token.startswith("[") and token.endswith("]"):
        return token
    return token[1:] if token.startswith("▁") else "##" + token


def tokenizer_from_gguf(vocab: Vocab):
    """Rebuild a `tokenizers.Tokenizer` from a GGUF vocabulary (gpt2 BPE, llama SPM or bert WordPiece).

    The BPE pre-tokenizer is known only for a few `tokenizer.ggml.pre` values; others use GPT-2's split, and SPM
    vocabularies become a Unigram model over the stored scores, so ids may differ from the original tokenizer.
    Returns (tokenizer, notes).
    """
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    meta = vocab.meta or {}
    tokens = [t or "" for t in vocab.tokens]
    types = meta.get("tokenizer.ggml.token_type") or []
    pre = meta.get("tokenizer.ggml.pre")
    notes: list[str] = []
    kind = vocab.model
    if kind == "gpt2":
        merges = [tuple(m.split(" ", 1)) for m in meta.get("tokenizer.ggml.merges") or [] if " " in m]
        ids = {t: i for i, t in enumerate(tokens)}
        tok = Tokenizer(models.BPE(vocab=ids, merges=merges, ignore_merges=pre in _SPLITS))
        if pre in _SPLITS:
            tok.pre_tokenizer = pre_tokenizers.Sequence([
                pre_tokenizers.Split(Regex(_SPLITS[pre]), behavior="isolated"),
                pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
            ])
        else:
            tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
            notes.append(f"pre-tokenizer {pre!r} not modelled: GPT-2 byte-level split used (ids may differ)")
        tok.decoder = decoders.ByteLevel()
    elif kind == "llama":
        scores = meta.get("tokenizer.ggml.scores") or [0.0] * len(tokens)
        unk = meta.get("tokenizer.ggml.unknown_token_id", 0)
        tok = Tokenizer(models.Unigram([(t, float(s)) for t, s in zip(tokens, scores, strict=False)],
                                       unk_id=unk, byte_fallback=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        notes.append("SPM vocabulary rebuilt as a Unigram model over its scores (ids may differ)")
    elif kind == "bert":
        ids = {t: i for i, t in enumerate(tokens)}
        tok = Tokenizer(models.WordPiece(vocab=ids, unk_token="[UNK]"))  # noqa: S106
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    else:
        raise DossierError(f"tokenizer model {kind!r} cannot be rebuilt from GGUF")
    special = [AddedToken(tokens[i], special=True, normalized=False)
               for i, t in enumerate(types) if t in (_CONTROL, _USER_DEFINED) and i < len(tokens) and tokens[i]]
    if special:
        tok.add_special_tokens(special)
    _add_framing(tok, tokens, meta, kind)
    return tok, notes


def _add_framing(tok, tokens: list[str], meta: dict[str, Any], kind: str | None) -> None:
    from tokenizers import processors

    bos, eos = meta.get("tokenizer.ggml.bos_token_id"), meta.get("tokenizer.ggml.eos_token_id")
    if kind == "bert":
        cls = meta.get("tokenizer.ggml.cls_token_id", tokens.index("[CLS]") if "[CLS]" in tokens else None)
        sep = meta.get("tokenizer.ggml.seperator_token_id", tokens.index("[SEP]") if "[SEP]" in tokens else None)
        if cls is not None and sep is not None:
            tok.post_processor = processors.BertProcessing((tokens[sep], sep), (tokens[cls], cls))
        return
    add_bos = meta.get("tokenizer.ggml.add_bos_token", kind == "llama")
    add_eos = meta.get("tokenizer.ggml.add_eos_token", False)
    pieces, special = [], []
    if add_bos and bos is not None and bos < len(tokens):
        pieces.append(tokens[bos])
        special.append((tokens[bos], bos))
    pieces.append("$A")
    if add_eos and eos is not None and eos < len(tokens):
        pieces.append(tokens[eos])
        special.append((tokens[eos], eos))
    if special:
        tok.post_processor = processors.TemplateProcessing(single=" ".join(pieces), special_tokens=special)


def fingerprint_gguf(path: Path, meta: dict[str, Any] | None = None) -> tuple[TokenizerFingerprint, Vocab]:
    """Fingerprint and vocabulary of a GGUF file's tokenizer; DossierError when it has no vocabulary."""
    vocab = gguf_vocab(path, meta)
    try:
        tokenizer, notes = tokenizer_from_gguf(vocab)
    except DossierError as exc:
        fp = TokenizerFingerprint(source=str(path), origin="gguf", tokenizer_model=vocab.model,
                                  vocab_size=len(vocab.tokens), tokens_hash=tokens_hash(vocab.tokens),
                                  notes=[str(exc)])
        return fp, vocab
    fp = _fingerprint(tokenizer, vocab, notes)
    declared_pre = (vocab.meta or {}).get("tokenizer.ggml.pre")
    if declared_pre:
        fp.notes.append(f"GGUF declares tokenizer.ggml.pre={declared_pre!r}")
    return fp, vocab


def fingerprint_vocab_file(path: Path) -> tuple[TokenizerFingerprint, Vocab]:
    """Vocabulary fingerprint of a SentencePiece `tokenizer.model` or WordPiece `vocab.txt` (no chkhsh: these
    files hold no pre-tokenizer, and llama.cpp does not hash SPM tokenizers)."""
    from modeldossier.provenance.spm import read_sentencepiece, read_vocab_txt

    path = Path(path)
    if path.name == "vocab.txt":
        tokens, model, origin = read_vocab_txt(path), "WordPiece", "vocab.txt"
    else:
        tokens, model, origin = read_sentencepiece(path)[0], "SentencePiece", "tokenizer.model"
    vocab = Vocab(tokens=list(tokens), source=str(path), origin=origin, model=model)
    fp = TokenizerFingerprint(source=str(path), origin=origin, tokenizer_model=model,  # type: ignore[arg-type]
                              vocab_size=len(tokens), tokens_hash=tokens_hash(vocab.tokens),
                              notes=[f"{origin}: vocabulary only, no chkhsh"])
    return fp, vocab
