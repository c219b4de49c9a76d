"""Tell a file's format from its first bytes, never from its name."""

from __future__ import annotations

import ast
import io
import json
import os
import stat
import struct
from pathlib import Path
from typing import BinaryIO

HEAD_BYTES = 64 * 1024
TORCH_LEGACY_MAGIC = (0x1950A86A20F9469CFC6C).to_bytes(10, "little")

# format names the scanner dispatches on
PICKLE, TORCH_LEGACY, JOBLIB = "pickle", "torch-legacy", "joblib"
ZIP, TORCH_ZIP, TORCHSCRIPT, NPZ, KERAS_ZIP = "zip", "torch-zip", "torchscript", "npz", "keras-zip"
TAR, SEVEN_Z, GZIP, BZIP2, XZ, ZLIB = "tar", "7z", "gzip", "bzip2", "xz", "zlib"
SAFETENSORS, GGUF, ONNX, HDF5, NPY = "safetensors", "gguf", "onnx", "hdf5", "npy"
PYTHON, JSON, HF_CONFIG, TEXT, BINARY, EMPTY = "python-source", "json", "hf-config", "text", "binary", "empty"
CHAT_TEMPLATE = "chat-template"


def read_head(stream: BinaryIO, n: int = HEAD_BYTES) -> bytes:
    """The first ``n`` bytes of a seekable stream, leaving it positioned at 0."""
    stream.seek(0)
    head = stream.read(n)
    stream.seek(0)
    return head


def _is_text_pickle(head: bytes) -> bool:
    """A protocol 0/1 pickle parses cleanly up to its STOP opcode within the head."""
    if not head or head[:1] not in b"(cSVIFLNd}]l)KJMGUTXqhpg":
        return False
    from modeldossier.artifacts.pickle_scan import probe_pickle

    return probe_pickle(head, truncated=len(head) >= HEAD_BYTES)


def _zip_kind(stream: BinaryIO) -> str:
    """Refine a zip into torch-zip / torchscript / npz / keras-zip by its member names (central directory only)."""
    import zipfile

    try:
        with zipfile.ZipFile(stream) as archive:
            names = archive.namelist()[:100_000]
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError):
        return ZIP
    finally:
        stream.seek(0)
    lower = [n.lower() for n in names]
    if any(n.endswith("/constants.pkl") or n == "constants.pkl" for n in lower) and any(
        "/code/" in n or n.startswith("code/") for n in lower
    ):
        return TORCHSCRIPT
    if any(n.endswith("data.pkl") for n in lower):
        return TORCH_ZIP
    if names and all(n.endswith(".npy") for n in lower):
        return NPZ
    if "config.json" in lower and any(n.endswith(".weights.h5") for n in lower) or "metadata.json" in lower and (
        "config.json" in lower
    ):
        return KERAS_ZIP
    return ZIP


def _is_tar(head: bytes) -> bool:
    if len(head) < 512:
        return False
    if head[257:262] == b"ustar":
        return True
    try:  # old v7 tar: checksum field is octal and matches the header
        stored = int(head[148:156].split(b"\0")[0].strip() or b"-1", 8)
    except ValueError:
        return False
    block = bytearray(head[:512])
    block[148:156] = b" " * 8
    return stored == sum(block) and head[0] != 0


def _looks_like_safetensors(head: bytes, size: int) -> bool:
    if len(head) < 10:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return 2 <= n <= size - 8 and head[8:9] == b"{" and (
        head[9:10] in (b'"', b"}", b" ", b"\n", b"\r", b"\t")
    )


def _looks_like_onnx(head: bytes) -> bool:
    """ONNX ModelProto: field 1 (ir_version, varint) then fields 2..8 / 14 — a cheap protobuf heuristic."""
    if len(head) < 4 or head[0] != 0x08:
        return False
    i = 1
    while i < len(head) and head[i] & 0x80:
        i += 1
    i += 1
    if i >= len(head):
        return False
    # next key: ir_version is usually followed by opset_import (0x42), producer_name (0x12), graph (0x3a) ...
    return head[i] in (0x12, 0x1A, 0x22, 0x2A, 0x32, 0x3A, 0x42, 0x72, 0x7A)


def sniff(stream: BinaryIO, size: int, name: str = "") -> str:
    """The format of the data in ``stream`` (seekable, positioned anywhere; left at 0)."""
    head = read_head(stream)
    if not head:
        return EMPTY
    if head[:1] == b"\x80" and len(head) > 1 and head[1] <= 5:
        if head[2:4] == b"\x8a\x0a" and head[4:14] == TORCH_LEGACY_MAGIC:
            return TORCH_LEGACY
        if b"joblib.numpy_pickle" in head[:4096] or b"NumpyArrayWrapper" in head[:4096]:
            return JOBLIB
        return PICKLE
    if head[:4] in (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"):
        return _zip_kind(stream)
    if head[:6] == b"\x93NUMPY":
        return NPY
    if head[:4] == b"GGUF":
        return GGUF
    if head[:8] == b"\x89HDF\r\n\x1a\n":
        return HDF5
    if head[:6] == b"7z\xbc\xaf\x27\x1c":
        return SEVEN_Z
    if head[:2] == b"\x1f\x8b":
        return GZIP
    if head[:3] == b"BZh":
        return BZIP2
    if head[:6] == b"\xfd7zXZ\x00":
        return XZ
    if len(head) >= 2 and head[0] == 0x78 and head[1] in (0x01, 0x5E, 0x9C, 0xDA):
        return ZLIB
    if _is_tar(head):
        return TAR
    if _looks_like_safetensors(head, size):
        return SAFETENSORS
    if _is_text_pickle(head):
        return PICKLE
    if _looks_like_onnx(head):
        return ONNX
    kind = _text_kind(head, size, name)
    if kind in (BINARY, TEXT, JSON):  # content inconclusive: a file that claims a model format is checked as one,
        claimed = _CLAIMED_BY_SUFFIX.get(Path(name).suffix.lower())  # so a broken header becomes a finding
        if claimed:
            return claimed
    return kind


def _text_kind(head: bytes, size: int, name: str) -> str:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # a multi-byte char cut at the end of the head is fine
            return BINARY
        text = head[: exc.start].decode("utf-8")
    if "\x00" in text:
        return BINARY
    stripped = text.lstrip()
    if name.endswith((".jinja", ".j2")):
        return CHAT_TEMPLATE
    if stripped[:1] in ("{", "["):
        if "auto_map" in text or "chat_template" in text or Path(name).name.lower() in _HF_CONFIG_NAMES:
            return HF_CONFIG
        if size <= HEAD_BYTES:
            try:
                json.loads(text)
            except (ValueError, RecursionError):
                return TEXT
            return JSON
        return JSON if name.lower().endswith(".json") else TEXT
    if name.endswith(".py"):
        return PYTHON
    if not name.lower().endswith(_PROSE_SUFFIXES) and _looks_like_python(text):
        return PYTHON
    return TEXT


# When the content is not recognisable, a file named like a model format is checked as that format.
_CLAIMED_BY_SUFFIX = {".safetensors": SAFETENSORS, ".gguf": GGUF, ".onnx": ONNX, ".h5": HDF5, ".hdf5": HDF5,
                      ".npy": NPY}

# Hugging Face files that may carry auto_map / custom_pipelines / chat_template beyond the first 64 KiB
_HF_CONFIG_NAMES = frozenset({"config.json", "tokenizer_config.json", "chat_template.json", "processor_config.json",
                              "preprocessor_config.json", "model_index.json"})

_PROSE_SUFFIXES = (".md", ".markdown", ".txt", ".rst", ".yaml", ".yml", ".cfg", ".toml", ".csv", ".tsv", ".ini",
                   ".html", ".xml", ".gitattributes", ".gitignore")


def _looks_like_python(text: str) -> bool:
    """Python source without a .py name: import/def lines and the whole head parses as Python."""
    lines = [ln for ln in text.splitlines()[:200] if ln.strip() and not ln.lstrip().startswith("#")]
    if not lines:
        return False
    starts = ("import ", "from ", "def ", "class ", "async def ", "if __name__")
    hits = sum(1 for ln in lines if ln.startswith(starts))
    if not (hits >= 2 or (hits >= 1 and len(lines) <= 5)):
        return False
    try:
        ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return False
    return True


def is_gguf_file(path: Path) -> bool:
    """True when ``path`` is a regular file starting with the GGUF magic (reads 4 bytes; False when unreadable).

    Opened non-blocking and checked with fstat, so a FIFO or device named `*.gguf` is never read (no hang)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        return False
    with os.fdopen(fd, "rb") as handle:
        try:
            return stat.S_ISREG(os.fstat(fd).st_mode) and handle.read(4) == b"GGUF"
        except OSError:
            return False


def sniff_bytes(data: bytes, name: str = "") -> str:
    """``sniff`` for data already in memory."""
    return sniff(io.BytesIO(data), len(data), name)
