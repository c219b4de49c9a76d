"""The fleet driver: hands jobs to an executor, caps concurrent requests per endpoint provider, retries transient
failures with backoff, and reports every outcome as it arrives (for the progress bar and the index)."""

from __future__ import annotations

import hashlib
import re
import time
from collections import Counter, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from modeldossier.fleet.executors import Executor
from modeldossier.fleet.manifest import Entry
from modeldossier.fleet.work import Job, Outcome, Settings


@dataclass(frozen=True)
class Limits:
    """Retries for transient failures and the per-provider concurrency cap (across the whole cluster)."""

    retries: int = 2
    backoff: float = 1.0  # seconds before the first retry; doubles each time
    per_provider: int = 4


def slug(name: str) -> str:
    """A file-name-safe version of a subject name (org/name -> org__name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__")).strip("_.") or "subject"


def plan(entries: Sequence[Entry], out: Path, settings: Settings) -> list[Job]:
    """One job per subject; two names that slug alike get distinct files (a short hash of the name)."""
    counts = Counter(slug(e.name) for e in entries)
    jobs = []
    for entry in entries:
        stem = slug(entry.name)
        if counts[stem] > 1:
            stem = f"{stem}-{hashlib.sha256(entry.name.encode()).hexdigest()[:8]}"
        jobs.append(Job(entry=entry, dossier=str(out / f"{stem}.dossier.json"), work_dir=str(out / "work" / stem),
                        settings=settings))
    return jobs


def run(jobs: Sequence[Job], executor: Executor, limits: Limits,
        on_outcome: Callable[[Outcome, int], None] | None = None) -> list[Outcome]:
    """Run every job; the final outcome of each, in the order of ``jobs``. ``on_outcome(outcome, running)`` is
    told of each final outcome and of each retry scheduled (status ``failed`` with ``transient`` set)."""
    queue: deque[Job] = deque(jobs)
    delayed: list[tuple[float, Job]] = []
    running: dict[object, Job] = {}
    per_provider: Counter[str] = Counter()
    final: dict[str, Outcome] = {}

    def can_start(job: Job) -> bool:
        provider = job.entry.provider
        return provider is None or per_provider[provider] < limits.per_provider

    while queue or delayed or running:
        now = time.monotonic()
        for due, job in [d for d in delayed if d[0] <= now]:
            delayed.remove((due, job))
            queue.append(job)
        blocked: list[Job] = []
        while queue and len(running) < executor.slots:
            job = queue.popleft()
            if not can_start(job):
                blocked.append(job)
                continue
            if job.entry.provider:
                per_provider[job.entry.provider] += 1
            running[executor.submit(job)] = job
        queue.extendleft(reversed(blocked))
        if not running:
            time.sleep(max(0.0, min(d for d, _ in delayed) - time.monotonic()) if delayed else 0.0)
            continue
        for handle, outcome in executor.wait(list(running), timeout=0.5):
            job = running.pop(handle)
            if job.entry.provider:
                per_provider[job.entry.provider] -= 1
            if outcome.status == "failed" and outcome.transient and job.attempt <= limits.retries:
                wait = limits.backoff * 2 ** (job.attempt - 1)
                delayed.append((time.monotonic() + wait, replace(job, attempt=job.attempt + 1)))
                if on_outcome:
                    on_outcome(outcome, len(running))
                continue
            final[job.dossier] = outcome
            if on_outcome:
                on_outcome(outcome, len(running))
    return [final[j.dossier] for j in jobs]
