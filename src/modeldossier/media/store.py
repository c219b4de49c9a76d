"""Media files stored by content hash under one folder (OUT/media/<sha256>.<ext>), never inlined anywhere."""

from __future__ import annotations

import hashlib
from pathlib import Path

from modeldossier.fsutil import atomic_write_bytes

EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg", "image/gif": ".gif", "image/webp": ".webp",
              "video/mp4": ".mp4", "video/webm": ".webm"}


def file_name(sha256: str, mime: str | None) -> str:
    """``<sha256><ext>`` (``.bin`` for an unknown type)."""
    return sha256 + EXTENSIONS.get(mime or "", ".bin")


class MediaStore:
    """A folder of media files named by their sha256; writing the same bytes twice is a no-op."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def put(self, data: bytes, mime: str | None) -> str:
        """Store ``data``; returns its sha256."""
        digest = hashlib.sha256(data).hexdigest()
        path = self.root / file_name(digest, mime)
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            atomic_write_bytes(path, data)
        return digest

    def path(self, sha256: str, mime: str | None) -> Path | None:
        """The stored file of a hash, or None when it is not (or no longer) there or the hash is malformed."""
        if len(sha256) != 64 or any(c not in "0123456789abcdef" for c in sha256):
            return None
        path = self.root / file_name(sha256, mime)
        return path if path.is_file() else None
