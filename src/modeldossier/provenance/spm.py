"""Vocabularies from tokenizer files other than tokenizer.json: SentencePiece `tokenizer.model` (a protobuf, read
with a minimal wire-format walker, no sentencepiece or protobuf import) and WordPiece `vocab.txt`."""

from __future__ import annotations

import struct
from pathlib import Path

from modeldossier.errors import DossierError

MAX_FILE = 64 * 1024 * 1024
MAX_PIECES = 4_000_000


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
