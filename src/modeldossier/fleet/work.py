"""One unit of fleet work: audit one subject into its own dossier. Runs in a worker process or a Ray task.

The dossier is the unit of work and of resumption: the worker writes it atomically with the key of its inputs
in the run record (``settings.fleet_inputs``); a later run whose key for that subject is the same skips it.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from modeldossier.errors import DossierError
from modeldossier.fleet.manifest import Entry

Status = Literal["done", "skipped", "failed"]
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_MAX_FINGERPRINT_FILES = 100_000


@dataclass(frozen=True)
class Settings:
    """What every subject of one fleet run shares (part of each subject's input key)."""

    online: bool | None = None
    hash_files: bool = True
    fail_on: str = "high"
    data: tuple[tuple[str, str], ...] = ()  # (data file name, sha256) behind the sections: rules, weights, suites


@dataclass(frozen=True)
class Job:
    """One subject to audit, where its dossier goes, and which attempt this is."""

    entry: Entry
    dossier: str
    work_dir: str
    settings: Settings
    attempt: int = 1


@dataclass
class Outcome:
    """What happened to one subject."""

    name: str
    status: Status
    dossier: str | None = None
    reason: str | None = None
    transient: bool = False
    seconds: float = 0.0
    attempts: int = 1
    worker: str = field(default_factory=lambda: where())


def where() -> str:
    """Where this job ran: ``host:pid``, or ``ray-node:<node id>:pid`` inside a Ray task."""
    import sys

    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        try:
            return f"ray-node:{ray.get_runtime_context().get_node_id()}:{os.getpid()}"
        except Exception:  # noqa: S110 - an old or partial Ray: fall back to the host name
            pass
    return f"{os.uname().nodename}:{os.getpid()}"


def _fingerprint(path: Path) -> list[Any] | None:
    """(relative path, size, mtime_ns) of every file under a local model; None for a Hub id or endpoint."""
    if not path.exists():
        return None
    if path.is_file():
        st = path.stat()
        return [[path.name, st.st_size, st.st_mtime_ns]]
    rows: list[Any] = []
    for dirpath, _dirs, files in os.walk(path):
        for name in files:
            full = Path(dirpath, name)
            try:
                st = full.lstat()
            except OSError:
                continue
            rows.append([str(full.relative_to(path)), st.st_size, st.st_mtime_ns])
            if len(rows) > _MAX_FINGERPRINT_FILES:
                return None  # too large to fingerprint cheaply: always re-audit
    return sorted(rows)


def inputs_key(entry: Entry, settings: Settings) -> str | None:
    """sha256 of everything the subject's dossier depends on; None when it cannot be known offline (a Hub id
    without a pinned commit, or a folder too large to fingerprint), so the subject is always redone."""
    from modeldossier import __version__

    files = None
    if entry.model is not None:
        files = _fingerprint(Path(entry.model))
        if files is None and not (entry.revision and _COMMIT.match(entry.revision)):
            return None
    blob = json.dumps({"entry": asdict(entry), "settings": asdict(settings), "tool": __version__, "files": files},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode()).hexdigest()


def recorded_key(dossier: Path) -> str | None:
    """The fleet input key stored in an existing dossier (None when absent or unreadable)."""
    try:
        if dossier.stat().st_size > 256 * 1024 * 1024:
            return None
        data = json.loads(dossier.read_text(encoding="utf-8"))
        records = data["run"]["records"]
        key = records[-1]["settings"].get("fleet_inputs")
    except (OSError, ValueError, KeyError, IndexError, TypeError, AttributeError):
        return None
    return key if isinstance(key, str) else None


def is_transient(exc: BaseException) -> bool:
    """Network trouble and lost workers are worth a retry; bad input and bugs are not."""
    import httpx

    from modeldossier.probing.base import TargetError

    if isinstance(exc, DossierError):
        return False
    if isinstance(exc, TargetError):
        return bool(getattr(exc, "retryable", False))
    return isinstance(exc, (ConnectionError, TimeoutError, httpx.TransportError))


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    if isinstance(exc, DossierError):
        return text or "bad input"
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _audit(job: Job, key: str | None) -> None:
    from modeldossier import dossier as dossier_io
    from modeldossier import runinfo
    from modeldossier.dossier import Dossier
    from modeldossier.pipeline import run_sections
    from modeldossier.subject import ResolvedSubject, resolve

    entry = job.entry
    settings = {"model": entry.model, "target": entry.target, "sections": list(entry.sections),
                "samples": entry.samples, "revision": entry.revision, "fleet_inputs": key}
    record = runinfo.start_record("fleet", settings)
    if entry.model is not None:
        resolved = resolve(entry.model, revision=entry.revision, name=entry.name,
                           hash_files=job.settings.hash_files)
    else:
        from modeldossier.commands.probe import endpoint_subject
        from modeldossier.probing.targets import parse_target

        assert entry.target is not None
        subject = endpoint_subject(entry.target, parse_target(entry.target).describe())
        resolved = ResolvedSubject(subject=subject.model_copy(update={"name": entry.name}), root=None)
    result = Dossier(subject=resolved.subject)
    work_dir = Path(job.work_dir)
    written = run_sections(result, resolved, target=entry.target, out_dir=work_dir, quiet=True, record=record,
                           online=job.settings.online, samples=entry.samples, sections=entry.sections)
    result.run.records.append(runinfo.finish(record, written))
    dossier_io.save(result, Path(job.dossier))


def run_job(job: Job) -> Outcome:
    """Audit one subject (or skip it when its dossier is up to date). Never raises: failures are outcomes."""
    start = time.monotonic()
    name = job.entry.name
    try:
        key = inputs_key(job.entry, job.settings)
        if key is not None and recorded_key(Path(job.dossier)) == key:
            return Outcome(name, "skipped", job.dossier, "up to date", attempts=job.attempt)
        _audit(job, key)
    except Exception as exc:  # a failing subject must never stop the fleet
        return Outcome(name, "failed", None, _reason(exc), transient=is_transient(exc),
                       seconds=time.monotonic() - start, attempts=job.attempt)
    return Outcome(name, "done", job.dossier, seconds=time.monotonic() - start, attempts=job.attempt)
