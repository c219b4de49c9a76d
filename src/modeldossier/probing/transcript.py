"""The transcript: append-only JSONL, one event per line, flushed per line.

Line 1 is a ``header`` naming the target; then ``session`` (one per run), ``response`` (one per usable answer,
with the prompt), and ``error`` (a failed attempt; ``final`` when retries are exhausted). A run holds an
exclusive lock on the file, so two runs never interleave. On reopen, a torn last line (killed mid-write) is
cut off, and the answers already present are handed back so the run resumes where it stopped.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from pydantic import ValidationError

from modeldossier import __version__
from modeldossier.errors import DossierError
from modeldossier.probing.models import ProbeResponse

FORMAT = "modeldossier.transcript/1"
Key = tuple[str, int]


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class Transcript:
    """An open transcript file; use ``Transcript.open``."""

    def __init__(self, path: Path, handle: BinaryIO) -> None:
        self.path = path
        self._handle = handle
        self.written = 0

    @classmethod
    def open(cls, path: Path, target: dict[str, Any]) -> tuple[Transcript, dict[Key, tuple[str, ProbeResponse]]]:
        """Open (or create) ``path`` for ``target``; returns it with the answers already recorded,
        as {(item id, sample): (prompt key, response)}.

        DossierError when the file belongs to another target, is not a transcript, or is in use.
        """
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            handle = open(path, "a+b")  # noqa: SIM115 - kept open for the run
        except OSError as exc:
            raise DossierError(f"cannot open transcript {path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.close()
            raise DossierError(f"transcript {path} is in use by another run") from None
        try:
            done = _read_existing(path, handle, target)
        except BaseException:
            handle.close()
            raise
        transcript = cls(path, handle)
        if handle.tell() == 0:
            transcript.append({"event": "header", "format": FORMAT, "tool_version": __version__,
                               "created": _now(), "target": target})
        return transcript, done

    def append(self, event: dict[str, Any]) -> None:
        """Write one event as one line and flush it to the OS (survives a kill -9 of this process)."""
        line = json.dumps(event, ensure_ascii=False, separators=(",", ":"), default=str) + "\n"
        self._handle.write(line.encode("utf-8"))
        self._handle.flush()
        self.written += 1

    def response(self, key: str, prompt_key: str, messages_json: str, response: ProbeResponse) -> None:
        """Record a usable answer with its prompt (``messages_json``: the messages as a JSON array).

        ``key`` is the cache key; ``prompt_key`` hashes only messages, params and sample (the resume check)."""
        line = (f'{{"event":"response","time":{time.time():.3f},"key":"{key}","prompt_key":"{prompt_key}",'
                f'"messages":{messages_json},"response":{response.model_dump_json()}}}\n')
        self._handle.write(line.encode("utf-8"))
        self._handle.flush()
        self.written += 1

    def error(self, item_id: str, sample: int, *, error: str, status: int | None, attempt: int,
              final: bool, retry_in: float | None = None) -> None:
        """Record a failed attempt."""
        self.append({"event": "error", "time": round(time.time(), 3), "item_id": item_id, "sample": sample,
                     "attempt": attempt, "http_status": status, "error": error, "final": final,
                     "retry_in": None if retry_in is None else round(retry_in, 3)})

    def close(self) -> None:
        """Flush, fsync and release the lock."""
        try:
            self._handle.flush()
            os.fsync(self._handle.fileno())
        finally:
            self._handle.close()


def _check_header(path: Path, line: bytes, target: dict[str, Any]) -> None:
    try:
        header = json.loads(line)
    except ValueError:
        header = None
    if not isinstance(header, dict) or header.get("event") != "header" or header.get("format") != FORMAT:
        raise DossierError(f"{path} is not a modeldossier transcript: choose another --out folder or file")
    recorded = header.get("target") or {}
    if (recorded.get("id"), recorded.get("revision")) != (target.get("id"), target.get("revision")):
        raise DossierError(
            f"transcript {path} was written for target {recorded.get('id')!r} "
            f"(revision {recorded.get('revision')!r}), not {target.get('id')!r} (revision "
            f"{target.get('revision')!r}): use another --out folder, or --refresh to start a new transcript"
        )


def _read_existing(path: Path, handle: BinaryIO, target: dict[str, Any]) -> dict[Key, tuple[str, ProbeResponse]]:
    """Check the header and collect recorded answers, line by line; cut a torn last line."""
    handle.seek(0)
    done: dict[Key, tuple[str, ProbeResponse]] = {}
    offset, number = 0, 0
    for line in iter(handle.readline, b""):
        if not line.endswith(b"\n"):  # killed mid-write: drop the partial line
            handle.truncate(offset)
            break
        number += 1
        offset += len(line)
        if number == 1:
            _check_header(path, line, target)
            continue
        if b'"event":"response"' not in line:
            continue
        try:
            event = json.loads(line)
            response = ProbeResponse.model_validate(event["response"])
        except (ValueError, KeyError, TypeError, ValidationError):
            raise DossierError(f"{path}:{number}: damaged transcript line; fix or remove it") from None
        response.cached = False
        done.setdefault((response.item_id, response.sample), (str(event.get("prompt_key", "")), response))
    handle.seek(0, os.SEEK_END)
    return done


def rotate(path: Path) -> Path | None:
    """Move an existing transcript aside (``name.<timestamp>.jsonl``) so a refresh starts a new one; nothing is
    deleted. Returns the new name, or None when there was nothing to move."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    moved = path.with_name(f"{path.stem}.{stamp}{path.suffix}")
    path.rename(moved)
    return moved
