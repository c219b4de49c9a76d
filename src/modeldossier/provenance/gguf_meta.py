"""Read the key/value metadata of a GGUF file (never its tensors), fast and with hard bounds.

`gguf.GGUFReader` builds one numpy view per array element, which takes minutes on a 256k-token vocabulary;
this reader walks the header with `struct` over an mmap and stops cleanly at anything malformed.
"""

from __future__ import annotations

import mmap
import struct
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError

MAGIC = b"GGUF"
MAX_KV = 100_000
MAX_ARRAY = 4_000_000
MAX_NESTING = 4
MAX_STRING = 64 * 1024 * 1024

_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9


class GGUFFormatError(DossierError):
    """The file is not a readable GGUF header."""


class _Cursor:
    def __init__(self, buf: memoryview, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise GGUFFormatError(f"{self.path.name}: GGUF header truncated at byte {self.pos}")
        out = self.buf[self.pos:self.pos + n]
        self.pos += n
        return out

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.take(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        if n > MAX_STRING:
            raise GGUFFormatError(f"{self.path.name}: string of {n} bytes at byte {self.pos} exceeds the limit")
        return bytes(self.take(n)).decode("utf-8", errors="replace")

    def value(self, vtype: int, depth: int = 0) -> Any:
        if depth > MAX_NESTING:
            raise GGUFFormatError(f"{self.path.name}: arrays nested deeper than {MAX_NESTING} at byte {self.pos}")
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == _STRING:
            return self.string()
        if vtype == _ARRAY:
            etype, count = self.unpack("<I"), self.unpack("<Q")
            if count > MAX_ARRAY:
                raise GGUFFormatError(f"{self.path.name}: array of {count} items exceeds the limit")
            if etype == _STRING:
                return self._strings(count)
            if etype in _SCALARS:
                fmt = _SCALARS[etype]
                size = struct.calcsize(fmt)
                raw = self.take(size * count)
                return list(struct.unpack(f"<{count}{fmt[1]}", raw))
            if etype == _ARRAY:
                return [self.value(_ARRAY, depth + 1) for _ in range(count)]
            raise GGUFFormatError(f"{self.path.name}: unknown array element type {etype}")
        raise GGUFFormatError(f"{self.path.name}: unknown value type {vtype} at byte {self.pos}")

    def _strings(self, count: int) -> list[str]:
        buf, pos, end = self.buf, self.pos, len(self.buf)
        out = []
        unpack_q = struct.Struct("<Q").unpack_from
        for _ in range(count):
            if pos + 8 > end:
                raise GGUFFormatError(f"{self.path.name}: string array truncated at byte {pos}")
            (n,) = unpack_q(buf, pos)
            pos += 8
            if n > MAX_STRING or pos + n > end:
                raise GGUFFormatError(f"{self.path.name}: string array truncated at byte {pos}")
            out.append(bytes(buf[pos:pos + n]).decode("utf-8", errors="replace"))
            pos += n
        self.pos = pos
        return out


def read_metadata(path: Path, keys: frozenset[str] | None = None) -> dict[str, Any]:
    """All KV pairs (or only ``keys``) of a GGUF v2/v3 file, plus `GGUF.version` and `GGUF.tensor_count`."""
    path = Path(path)
    try:
        with open(path, "rb") as handle:
            if path.stat().st_size < 24:
                raise GGUFFormatError(f"{path.name}: too small to be a GGUF file")
            with mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ) as mapped:
                buf = memoryview(mapped)
                try:
                    return _parse(_Cursor(buf, path), keys)
                finally:
                    buf.release()
    except OSError as exc:
        raise DossierError(f"cannot read {path}: {exc.strerror or exc}") from None


def _parse(cur: _Cursor, keys: frozenset[str] | None) -> dict[str, Any]:
    if bytes(cur.take(4)) != MAGIC:
        raise GGUFFormatError(f"{cur.path.name}: not a GGUF file (bad magic)")
    version = cur.unpack("<I")
    if version not in (2, 3):
        raise GGUFFormatError(f"{cur.path.name}: GGUF version {version} is not supported (2 and 3 are)")
    tensors, kv_count = cur.unpack("<Q"), cur.unpack("<Q")
    if kv_count > MAX_KV:
        raise GGUFFormatError(f"{cur.path.name}: {kv_count} metadata keys exceeds the limit")
    meta: dict[str, Any] = {"GGUF.version": version, "GGUF.tensor_count": tensors}
    for _ in range(kv_count):
        key = cur.string()
        vtype = cur.unpack("<I")
        value = cur.value(vtype)
        if keys is None or key in keys:
            meta[key] = value
    return meta
