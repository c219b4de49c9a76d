"""tokenizer.model (SentencePiece protobuf) and vocab.txt (WordPiece) vocabularies."""

from __future__ import annotations

import shutil
import struct

import pytest

from modeldossier.errors import DossierError
from modeldossier.provenance.origin import origin_section
from modeldossier.provenance.spm import read_sentencepiece


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        byte = n & 0x7F
        n >>= 7
        out.append(byte | (0x80 if n else 0))
        if not n:
            return bytes(out)


def spm_model(pieces: list[str], scores: list[float]) -> bytes:
    """A SentencePiece ModelProto with pieces (field 1) and a dummy trainer_spec (field 2)."""
    out = bytearray(b"\x12" + varint(4) + b"\x08\x01\x10\x02")
    for piece, score in zip(pieces, scores, strict=True):
        text = piece.encode()
        body = b"\x0a" + varint(len(text)) + text + b"\x15" + struct.pack("<f", score) + b"\x18\x01"
        out += b"\x0a" + varint(len(body)) + body
    return bytes(out)


def test_sentencepiece_model_identifies_llama2(tmp_path, gguf_vocabs):
    vocab, _ = gguf_vocabs["llama-spm"]
    scores = vocab.meta["tokenizer.ggml.scores"]
    folder = tmp_path / "old-chat-ft"
    folder.mkdir()
    (folder / "tokenizer.model").write_bytes(spm_model(vocab.tokens, scores))
    (folder / "README.md").write_text("---\nlicense: mit\n---\n")
    pieces, read_scores = read_sentencepiece(folder / "tokenizer.model")
    assert pieces == vocab.tokens and read_scores[5] == pytest.approx(scores[5])
    section = origin_section(folder, None, online=False)
    assert section.fingerprints[0].origin == "tokenizer.model" and section.fingerprints[0].chkhsh is None
    assert section.observed_family == "Llama 2 (Meta)" and section.undeclared_derivative is True


def test_vocab_txt_identifies_bert(tmp_path, minilm_dir):
    folder = tmp_path / "bert-only-vocab"
    folder.mkdir()
    shutil.copy(minilm_dir / "vocab.txt", folder / "vocab.txt")
    section = origin_section(folder, None, online=False)
    assert section.observed_family.startswith("BERT WordPiece")
    assert section.vocab_matches[0].relation == "identical"


def test_corrupt_sentencepiece_is_unavailable(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "tokenizer.model").write_bytes(b"\x0a\xff\xff\xff\x0f garbage")
    with pytest.raises(DossierError, match="not a readable SentencePiece"):
        read_sentencepiece(folder / "tokenizer.model")
    section = origin_section(folder, None, online=False)
    assert any(e.kind == "tokenizer.fingerprint" and not e.available for e in section.observed)
