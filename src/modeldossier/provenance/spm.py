"""Vocabularies from tokenizer files other than tokenizer.json: SentencePiece `tokenizer.model` (a protobuf, read
with a minimal wire-format walker, no sentencepiece or protobuf import), tiktoken files (`qwen.tiktoken`, Meta's
native Llama 3 `tokenizer.model`, GLM-4's and Kimi's: one `base64(token bytes) rank` per line) and WordPiece
`vocab.txt`."""

from __future__ import annotations

import base64
import binascii
import re
import struct
from functools import lru_cache
from pathlib import Path

from modeldossier.errors import DossierError

MAX_FILE = 64 * 1024 * 1024
MAX_PIECES = 4_000_000
_TIKTOKEN_LINE = re.compile(rb"^[A-Za-z0-9+/]+={0,2} [0-9]{1,9}\r?$")


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _fields(buf: bytes):
    """(field number, wire type, value) of one protobuf message; value is int, bytes or float."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            if pos + 8 > len(buf):
                raise ValueError("truncated fixed64")
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise ValueError("truncated length-delimited field")
            value, pos = buf[pos:pos + length], pos + length
        elif wire == 5:
            if pos + 4 > len(buf):
                raise ValueError("truncated fixed32")
            value, pos = struct.unpack("<f", buf[pos:pos + 4])[0], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        yield number, wire, value


def read_sentencepiece(path: Path) -> tuple[list[str], list[float]]:
    """Pieces and scores of a SentencePiece model file; DossierError when it is not one."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise DossierError(f"{path.name} is above the {MAX_FILE}-byte limit")
        data = path.read_bytes()
        pieces: list[str] = []
        scores: list[float] = []
        for number, wire, value in _fields(data):
            if number != 1 or wire != 2:
                continue
            piece, score = None, 0.0
            for sub_number, sub_wire, sub_value in _fields(value):
                if sub_number == 1 and sub_wire == 2:
                    piece = bytes(sub_value).decode("utf-8", errors="replace")
                elif sub_number == 2 and sub_wire == 5:
                    score = float(sub_value)
            if piece is None:
                raise ValueError("a piece without text")
            pieces.append(piece)
            scores.append(score)
            if len(pieces) > MAX_PIECES:
                raise ValueError("too many pieces")
    except OSError as exc:
        raise DossierError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    except (ValueError, struct.error) as exc:
        raise DossierError(f"{path.name} is not a readable SentencePiece model: {exc}") from None
    if not pieces:
        raise DossierError(f"{path.name} is not a readable SentencePiece model: no pieces")
    return pieces, scores


def read_vocab_txt(path: Path) -> list[str]:
    """Tokens of a WordPiece `vocab.txt` (one per line, id = line number)."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise DossierError(f"{path.name} is above the {MAX_FILE}-byte limit")
        tokens = path.read_text(encoding="utf-8", errors="replace").split("\n")
    except OSError as exc:
        raise DossierError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    if tokens and tokens[-1] == "":
        tokens.pop()
    if not tokens:
        raise DossierError(f"{path.name} is empty")
    return [t.rstrip("\r") for t in tokens]


@lru_cache(maxsize=1)
def _byte_chars() -> tuple[str, ...]:
    """The byte-level BPE alphabet (GPT-2's): printable Latin-1 bytes stand for themselves, the other bytes for
    the code points from 256 up, in byte order. GGUF and tokenizer.json vocabularies store tokens this way."""
    printable = [*range(ord("!"), ord("~") + 1), *range(0xA1, 0xAC + 1), *range(0xAE, 0xFF + 1)]
    chars: dict[int, str] = {b: chr(b) for b in printable}
    extra = 0
    for b in range(256):
        if b not in chars:
            chars[b] = chr(256 + extra)
            extra += 1
    return tuple(chars[b] for b in range(256))


@lru_cache(maxsize=1)
def byte_decoder() -> dict[str, int]:
    """Inverse of the byte-level alphabet: character -> byte."""
    return {ch: b for b, ch in enumerate(_byte_chars())}


def looks_like_tiktoken(path: Path) -> bool:
    """True when the file's first line is `base64 rank` (a tiktoken BPE file, whatever its name)."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(4096)
    except OSError:
        return False
    return bool(_TIKTOKEN_LINE.match(first.rstrip(b"\n")))


def read_tiktoken(path: Path) -> list[str | None]:
    """Tokens of a tiktoken BPE file by rank, in byte-level form (ranks not in the file are None);
    DossierError when a line is not `base64 rank` or ranks repeat."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_FILE:
            raise DossierError(f"{path.name} is above the {MAX_FILE}-byte limit")
        lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise DossierError(f"cannot read {path.name}: {exc.strerror or exc}") from None
    chars = _byte_chars()
    by_rank: dict[int, str] = {}
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if not _TIKTOKEN_LINE.match(line):
            raise DossierError(f"{path.name} line {number} is not a tiktoken 'base64 rank' line")
        encoded, rank_text = line.rsplit(b" ", 1)
        try:
            token = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError):
            raise DossierError(f"{path.name} line {number}: invalid base64") from None
        rank = int(rank_text)
        if rank in by_rank:
            raise DossierError(f"{path.name} line {number}: rank {rank} appears twice")
        by_rank[rank] = "".join(chars[b] for b in token)
        if len(by_rank) > MAX_PIECES:
            raise DossierError(f"{path.name} has too many tokens")
    if not by_rank:
        raise DossierError(f"{path.name} is empty")
    size = max(by_rank) + 1
    if size > 4 * len(by_rank) + 1024:
        raise DossierError(f"{path.name}: rank {size - 1} is far above its {len(by_rank)} tokens")
    tokens: list[str | None] = [None] * size
    for rank, token in by_rank.items():
        tokens[rank] = token
    return tokens
