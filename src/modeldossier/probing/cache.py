"""Response cache: stdlib sqlite3 in WAL mode, keyed by what determines an answer.

key = sha256(target id + revision + base URL + messages + params + sample index). Only usable answers
(no error) are stored; sampled generations are cached per sample index, so samples stay distinct.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.probing.models import ChatMessage, ProbeResponse

_SCHEMA = "CREATE TABLE IF NOT EXISTS responses (key TEXT PRIMARY KEY, target TEXT, created REAL, body TEXT)"
_BATCH = 500


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def key_prefix(identity: dict[str, Any], params: dict[str, Any]) -> str:
    """The part of the key shared by every request of a run: target id, revision, base URL, params."""
    return _canonical([identity.get("id"), identity.get("revision"), identity.get("base_url"), params])


def messages_text(messages: list[ChatMessage]) -> str:
    """Canonical JSON of a conversation, as it enters the key."""
    return _canonical([[m.role, m.content] for m in messages])


def keyed(prefix: str, messages: str, sample: int) -> str:
    """Hex sha256 of prefix, messages and sample index."""
    return hashlib.sha256(f"{prefix}\n{messages}\n{sample}".encode()).hexdigest()


def request_key(
    identity: dict[str, Any], messages: list[ChatMessage], params: dict[str, Any], sample: int
) -> str:
    """The cache key of one request: sha256 over target id + revision + base URL + params, the messages,
    and the sample index (each canonical JSON)."""
    return keyed(key_prefix(identity, params), messages_text(messages), sample)


class ResponseCache:
    """A sqlite file of answers. Writes are committed in batches (and on ``flush``/``close``)."""

    def __init__(self, path: Path, *, commit_every: int = 200) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise DossierError(
                f"response cache {self.path} is not usable ({exc}): delete it or use --no-cache"
            ) from None
        self._pending: list[tuple[str, str, float, str]] = []
        self._commit_every = commit_every
        self.hits = 0
        self.misses = 0

    def get_many(self, keys: Iterable[str]) -> dict[str, ProbeResponse]:
        """Cached answers for the keys that have one."""
        keys = list(keys)
        found: dict[str, ProbeResponse] = {}
        for start in range(0, len(keys), _BATCH):
            chunk = keys[start : start + _BATCH]
            marks = ",".join("?" * len(chunk))
            query = f"SELECT key, body FROM responses WHERE key IN ({marks})"  # noqa: S608 - only placeholders
            for key, body in self._db.execute(query, chunk):
                try:
                    found[key] = ProbeResponse.model_validate_json(body)
                except ValueError:
                    continue  # a row from an older/corrupt version: treat as a miss
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def get(self, key: str) -> ProbeResponse | None:
        """One cached answer, or None."""
        return self.get_many([key]).get(key)

    def put(self, key: str, target_id: str, response: ProbeResponse) -> None:
        """Store a usable answer (errors are never cached)."""
        if response.error is not None:
            return
        body = response.model_dump_json(exclude={"cached", "metadata"})
        self._pending.append((key, target_id, time.time(), body))
        if len(self._pending) >= self._commit_every:
            self.flush()

    def flush(self) -> None:
        """Commit pending writes."""
        if not self._pending:
            return
        with self._db:
            self._db.execute("BEGIN")
            self._db.executemany("INSERT OR REPLACE INTO responses VALUES (?, ?, ?, ?)", self._pending)
        self._pending.clear()

    def __len__(self) -> int:
        self.flush()
        return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        """Commit and close."""
        self.flush()
        self._db.close()

    def __enter__(self) -> ResponseCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
