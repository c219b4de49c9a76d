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
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.provenance.gguf_meta import read_metadata
from modeldossier.provenance.models import TokenizerFingerprint

CHKHSH_FILE = "chkhsh_table.json"
MAX_TOKENIZER_JSON = 256 * 1024 * 1024
MAX_VOCAB_IDS = 10_000_000  # a token id above this (or far above the vocabulary's size) is not a real vocabulary

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


@contextmanager
def library_errors(what: str) -> Iterator[None]:
    """Turn any error raised inside the block (the `tokenizers` library raises bare Exception, TypeError or
    OverflowError for bad input, and PanicException when it panics) into a one-line DossierError starting with
    ``what``."""
    try:
        yield
    except (DossierError, KeyboardInterrupt, SystemExit, GeneratorExit):
        raise
    except BaseException as exc:  # also pyo3's PanicException (a BaseException) from a Rust panic in tokenizers
        first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise DossierError(f"{what}: {first}") from None


def _tokenizer_from_json(path: Path):
    from tokenizers import Tokenizer

    size = path.stat().st_size
    if size > MAX_TOKENIZER_JSON:
        raise DossierError(f"{path.name} is {size} bytes, above the {MAX_TOKENIZER_JSON}-byte limit")
    with library_errors(f"{path.name} is not a readable tokenizer.json"):
        return Tokenizer.from_file(str(path))


def _dense_tokens(tokenizer) -> list[str | None] | None:
    """The token list by id when ids 0..n-1 are all used and nothing lies beyond (the usual case: faster than
    building the token -> id dict); None otherwise."""
    n = tokenizer.get_vocab_size(with_added_tokens=True)
    if n > MAX_VOCAB_IDS:
        return None
    id_to_token = tokenizer.id_to_token
    tokens: list[str | None] = []
    for i in range(n):
        token = id_to_token(i)
        if token is None:  # a gap: sparse ids take the checked path
            return None
        tokens.append(token)
    return None if id_to_token(n) is not None else tokens


def vocab_from_tokenizer(tokenizer, source: str) -> Vocab:
    """Token list by id from a `tokenizers.Tokenizer` (added tokens included); DossierError when the ids are
    far beyond the number of tokens (a sparse id like 4e9 would need gigabytes)."""
    tokens = _dense_tokens(tokenizer)
    if tokens is not None:
        return Vocab(tokens=tokens, source=source, origin="tokenizer.json", model=type(tokenizer.model).__name__)
    mapping = tokenizer.get_vocab(with_added_tokens=True)
    size = max(mapping.values(), default=-1) + 1
    if size > min(MAX_VOCAB_IDS, 4 * len(mapping) + 1024):
        raise DossierError(f"{Path(source).name}: token id {size - 1} is far above the vocabulary's "
                           f"{len(mapping)} tokens")
    tokens: list[str | None] = [None] * size
    for token, idx in mapping.items():
        tokens[idx] = token
    return Vocab(tokens=tokens, source=source, origin="tokenizer.json", model=type(tokenizer.model).__name__)


def _check_templates(tokenizer) -> None:
    """DossierError when a TemplateProcessing step would make `tokenizers` panic on a single sequence (it names
    sequence B or an undefined special token): the panic is caught, but Rust prints a backtrace first."""
    processor = tokenizer.post_processor
    if processor is None:
        return
    with library_errors("unreadable post-processor"):
        stack = [json.loads(processor.__getstate__())]
    while stack:
        step = stack.pop()
        if not isinstance(step, dict):
            continue
        stack.extend(step.get("processors") or [])
        if step.get("type") != "TemplateProcessing":
            continue
        defined = step.get("special_tokens") or {}
        for piece in step.get("single") or []:
            seq, special = (piece.get("Sequence"), piece.get("SpecialToken")) if isinstance(piece, dict) else ({}, {})
            if (seq and seq.get("id") != "A") or (special and special.get("id") not in defined):
                raise DossierError(f"the tokenizer's post-processor template is broken ({str(piece)[:80]})")


def _fingerprint(tokenizer, vocab: Vocab, notes: list[str]) -> TokenizerFingerprint:
    text = probe_text()
    _check_templates(tokenizer)
    with library_errors("the tokenizer cannot encode the probe text"):
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


def _vocab_only(vocab: Vocab, note: str) -> TokenizerFingerprint:
    """A fingerprint of the vocabulary alone (no chkhsh), when the tokenizer cannot be built or run."""
    return TokenizerFingerprint(source=vocab.source, origin=vocab.origin,  # type: ignore[arg-type]
                                tokenizer_model=vocab.model, vocab_size=len(vocab.tokens),
                                tokens_hash=tokens_hash(vocab.tokens), notes=[note])


def fingerprint_tokenizer_json(path: Path) -> tuple[TokenizerFingerprint, Vocab]:
    """Fingerprint and vocabulary of a Hugging Face `tokenizer.json`; DossierError when unreadable. A tokenizer
    that loads but cannot encode (e.g. its unk token is missing) gets a vocabulary-only fingerprint."""
    path = Path(path)
    tokenizer = _tokenizer_from_json(path)
    with library_errors(f"{path.name} is not a readable tokenizer.json"):
        vocab = vocab_from_tokenizer(tokenizer, str(path))
    try:
        return _fingerprint(tokenizer, vocab, []), vocab
    except DossierError as exc:
        return _vocab_only(vocab, str(exc)), vocab


def gguf_vocab(path: Path, meta: dict[str, Any] | None = None) -> Vocab:
    """The vocabulary stored in a GGUF file; DossierError when it has none or it is not a list of strings.
    A `tokenizer.ggml.model` that is not a string is ignored."""
    meta = meta if meta is not None else read_metadata(Path(path))
    tokens = meta.get("tokenizer.ggml.tokens")
    if not isinstance(tokens, list) or not tokens:
        raise DossierError(f"{Path(path).name} holds no tokenizer vocabulary (no tokenizer.ggml.tokens)")
    if not all(isinstance(t, str) for t in tokens):
        raise DossierError(f"{Path(path).name}: tokenizer.ggml.tokens is not a list of strings")
    model = meta.get("tokenizer.ggml.model")
    model = model if isinstance(model, str) else None
    tokens = [_unphantom(t) for t in tokens] if model == "bert" else list(tokens)
    return Vocab(tokens=tokens, source=str(path), origin="gguf", model=model, meta=meta)


def _unphantom(token: str) -> str:
    """Undo llama.cpp's WordPiece conversion ('##x' -> 'x', 'x' -> '▁x', '[X]' kept) to the Hugging Face form."""
    if token.startswith("[") and token.endswith("]"):
        return token
    return token[1:] if token.startswith("▁") else "##" + token


def _typed_list(meta: dict[str, Any], key: str, kinds: type | tuple[type, ...], what: str) -> list[Any] | None:
    """``meta[key]`` when it is a list of ``kinds`` items, None when absent; DossierError for any other value."""
    value = meta.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(isinstance(v, kinds) for v in value):
        raise DossierError(f"{key} is not a list of {what}")
    return value


def _token_id(meta: dict[str, Any], key: str, n: int, notes: list[str]) -> int | None:
    """``meta[key]`` when it is an id in [0, n); None (with a note when present) otherwise."""
    value = meta.get(key)
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and 0 <= value < n:
        return value
    notes.append(f"{key}={str(value)[:40]!r} ignored: not a token id of this {n}-token vocabulary")
    return None


def tokenizer_from_gguf(vocab: Vocab):
    """Rebuild a `tokenizers.Tokenizer` from a GGUF vocabulary (gpt2 BPE, llama SPM or bert WordPiece).

    The BPE pre-tokenizer is known only for a few `tokenizer.ggml.pre` values; others use GPT-2's split, and SPM
    vocabularies become a Unigram model over the stored scores, so ids may differ from the original tokenizer.
    Returns (tokenizer, notes); DossierError when the metadata has the wrong types or the library refuses it.
    """
    with library_errors(f"tokenizer cannot be rebuilt from GGUF ({vocab.model})"):
        return _rebuild(vocab)


def _rebuild(vocab: Vocab):
    from tokenizers import AddedToken, Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers

    meta = vocab.meta or {}
    tokens = [t or "" for t in vocab.tokens]
    types = _typed_list(meta, "tokenizer.ggml.token_type", int, "integers") or []
    pre = meta.get("tokenizer.ggml.pre")
    pre = pre if isinstance(pre, str) else None
    notes: list[str] = []
    kind = vocab.model
    if kind == "gpt2":
        pairs = _typed_list(meta, "tokenizer.ggml.merges", str, "strings") or []
        merges = [tuple(m.split(" ", 1)) for m in pairs if " " in m]
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
        scores = _typed_list(meta, "tokenizer.ggml.scores", (int, float), "numbers") or [0.0] * len(tokens)
        unk = _token_id(meta, "tokenizer.ggml.unknown_token_id", len(tokens), notes) or 0
        tok = Tokenizer(models.Unigram([(t, float(s)) for t, s in zip(tokens, scores, strict=False)],
                                       unk_id=unk, byte_fallback=True))
        tok.normalizer = normalizers.Sequence([normalizers.Prepend("▁"), normalizers.Replace(" ", "▁")])
        notes.append("SPM vocabulary rebuilt as a Unigram model over its scores (ids may differ)")
    elif kind == "bert":
        ids = {t: i for i, t in enumerate(tokens)}
        tok = Tokenizer(models.WordPiece(vocab=ids, unk_token="[UNK]"))  # noqa: S106
        tok.normalizer = normalizers.BertNormalizer(lowercase=True)
        tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    elif kind is None:
        raise DossierError("tokenizer.ggml.model is missing or not a string: tokenizer not rebuilt")
    else:
        raise DossierError(f"tokenizer model {kind!r} cannot be rebuilt from GGUF")
    special = [AddedToken(tokens[i], special=True, normalized=False)
               for i, t in enumerate(types) if t in (_CONTROL, _USER_DEFINED) and i < len(tokens) and tokens[i]]
    if special:
        tok.add_special_tokens(special)
    _add_framing(tok, tokens, meta, kind, notes)
    return tok, notes


def _add_framing(tok, tokens: list[str], meta: dict[str, Any], kind: str | None, notes: list[str]) -> None:
    from tokenizers import processors

    def token_id(key: str, default: str | None = None) -> int | None:
        found = _token_id(meta, f"tokenizer.ggml.{key}", len(tokens), notes)
        return tokens.index(default) if found is None and default in tokens else found

    if kind == "bert":
        cls, sep = token_id("cls_token_id", "[CLS]"), token_id("seperator_token_id", "[SEP]")
        if cls is not None and sep is not None:
            tok.post_processor = processors.BertProcessing((tokens[sep], sep), (tokens[cls], cls))
        return
    bos, eos = token_id("bos_token_id"), token_id("eos_token_id")
    add_bos = meta.get("tokenizer.ggml.add_bos_token", kind == "llama")
    add_eos = meta.get("tokenizer.ggml.add_eos_token", False)
    # named BOS/EOS in the template: token text such as "$B" or "a b" would otherwise be parsed as template syntax
    pieces, special = [], []
    if add_bos and bos is not None:
        pieces.append("BOS")
        special.append({"id": "BOS", "ids": [bos], "tokens": [tokens[bos]]})
    pieces.append("$A")
    if add_eos and eos is not None:
        pieces.append("EOS")
        special.append({"id": "EOS", "ids": [eos], "tokens": [tokens[eos]]})
    if special:
        tok.post_processor = processors.TemplateProcessing(single=pieces, special_tokens=special)


def fingerprint_gguf(path: Path, meta: dict[str, Any] | None = None) -> tuple[TokenizerFingerprint, Vocab]:
    """Fingerprint and vocabulary of a GGUF file's tokenizer; DossierError when it has no vocabulary. When the
    tokenizer cannot be rebuilt or run from the metadata, the fingerprint covers the vocabulary only."""
    vocab = gguf_vocab(path, meta)
    try:
        tokenizer, notes = tokenizer_from_gguf(vocab)
        fp = _fingerprint(tokenizer, vocab, notes)
    except DossierError as exc:
        return _vocab_only(vocab, str(exc)), vocab
    declared_pre = (vocab.meta or {}).get("tokenizer.ggml.pre")
    if declared_pre:
        fp.notes.append(f"GGUF declares tokenizer.ggml.pre={str(declared_pre)[:80]!r}")
    return fp, vocab


def fingerprint_vocab_file(path: Path) -> tuple[TokenizerFingerprint, Vocab]:
    """Vocabulary fingerprint of a SentencePiece `tokenizer.model`, a tiktoken file (`*.tiktoken`, or a
    `tokenizer.model` that is tiktoken text, as Meta's native Llama 3 one) or a WordPiece `vocab.txt` (no chkhsh:
    these files hold no pre-tokenizer, and llama.cpp does not hash SPM tokenizers)."""
    from modeldossier.provenance.spm import looks_like_tiktoken, read_sentencepiece, read_tiktoken, read_vocab_txt

    path = Path(path)
    tokens: list[str | None]
    if path.name == "vocab.txt":
        tokens, model, origin = list(read_vocab_txt(path)), "WordPiece", "vocab.txt"
    elif path.suffix == ".tiktoken" or looks_like_tiktoken(path):
        tokens, model, origin = read_tiktoken(path), "BPE (tiktoken)", "tiktoken"
    else:
        tokens, model, origin = list(read_sentencepiece(path)[0]), "SentencePiece", "tokenizer.model"
    vocab = Vocab(tokens=tokens, source=str(path), origin=origin, model=model)
    fp = TokenizerFingerprint(source=str(path), origin=origin, tokenizer_model=model,  # type: ignore[arg-type]
                              vocab_size=len(tokens), tokens_hash=tokens_hash(vocab.tokens),
                              notes=[f"{origin}: vocabulary only, no chkhsh"])
    return fp, vocab
