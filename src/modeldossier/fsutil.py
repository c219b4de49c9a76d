"""File helpers: atomic writes and streaming hashes."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path
from typing import Any

from modeldossier.common import map_strings, scrub_surrogates
from modeldossier.errors import DossierError

_CHUNK = 4 * 1024 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_ESCAPED_BYTES = re.compile("[\udc80-\udcff]+")


def _readable_bytes(match: re.Match[str]) -> str:
    return match.group().encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")


def storable(value: Any) -> Any:
    """``value`` (a string, or lists and dicts of them) made fit for a UTF-8 file: no lone surrogates left.

    Bytes of a non-UTF-8 file name, which Python decodes as surrogate escapes, read as ``\\xff``; any other lone
    surrogate becomes U+FFFD. Values without surrogates come back as they are.
    """
    return map_strings(value, _storable_text)


def _storable_text(text: str) -> str:
    return scrub_surrogates(_ESCAPED_BYTES.sub(_readable_bytes, text)) if _SURROGATE.search(text) else text


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old file or the new one, never half of it.

    Lone surrogates (a non-UTF-8 file name in a report) are made storable first, see ``storable``.
    """
    atomic_write_bytes(path, storable(text).encode("utf-8"))


def check_output_dir(path: Path) -> Path:
    """Fail early (before any long work) when ``path`` cannot become an output folder; creates nothing."""
    path = Path(path)
    if path.exists() and not path.is_dir():
        raise DossierError(f"cannot use {path} as an output folder: a file of that name exists")
    return path


def ensure_dir(path: Path) -> Path:
    """Create an output folder (and parents); a clear DossierError when a file is in the way or it cannot be made."""
    path = Path(path)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise DossierError(f"cannot use {path} as an output folder: a file of that name exists") from None
    except OSError as exc:
        raise DossierError(f"cannot create output folder {path}: {exc.strerror or exc}") from None
    return path


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to a temporary file beside ``path``, fsync it, then rename it over ``path``.

    A new file gets mode 0644 (mkstemp's 0600 would hide reports from other users); a replaced file keeps its mode.
    """
    path = Path(path)
    if path.is_dir():
        raise DossierError(f"cannot write {path}: it is a folder (give a file name)")
    ensure_dir(path.parent)
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise DossierError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DossierError(f"cannot write {path}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def sha256_file(path: Path, chunk_size: int = _CHUNK) -> str:
    """Hex sha256 of a file, read in fixed-size chunks (bounded memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk_size):
            digest.update(block)
    return digest.hexdigest()


def sha256_text(text: str) -> str:
    """Hex sha256 of a UTF-8 string."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
