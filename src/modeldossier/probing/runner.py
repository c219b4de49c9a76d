"""Run items x samples against a target: bounded concurrency, retries, transcript, cache, resume.

The public entry point is ``run_probes`` (sync) / ``arun_probes`` (async). Results come back in item order,
samples in order, one ``ProbeResponse`` per (item, sample): answers recorded earlier in the transcript,
cached answers, new answers, and for requests that failed for good, a response with ``error`` set.
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.probing.base import Target, TargetError
from modeldossier.probing.cache import ResponseCache, key_prefix, keyed, messages_text
from modeldossier.probing.models import ProbeItem, ProbeResponse
from modeldossier.probing.transcript import Transcript, rotate
from modeldossier.ui import progress

Key = tuple[str, int]


@dataclass(frozen=True)
class RetryPolicy:
    """Exponential backoff with jitter; ``Retry-After`` wins when the server sends it (capped)."""

    max_attempts: int = 6
    base_delay: float = 0.5
    max_delay: float = 30.0
    max_retry_after: float = 120.0
    unreachable_attempts: int = 3

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (attempt counts from 1)."""
        if retry_after is not None:
            return min(retry_after, self.max_retry_after) + rng.uniform(0, 0.1)
        cap = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
        return rng.uniform(cap / 2, cap)


@dataclass
class RunStats:
    """What a run did, for summaries and progress lines."""

    requested: int = 0
    resumed: int = 0
    cached: int = 0
    fetched: int = 0
    failed: int = 0
    retries: int = 0
    blocked: int = 0
    seconds: float = 0.0
    transcript: str = ""
    rotated_to: str | None = None
    notes: list[str] = field(default_factory=list)


def run_probes(
    items: list[ProbeItem],
    target: Target,
    *,
    samples: int = 1,
    params: dict[str, Any] | None = None,
    transcript: Path,
    cache: ResponseCache | None = None,
    max_connections: int = 8,
    limit: int | None = None,
    refresh: bool = False,
    quiet: bool = True,
    retry: RetryPolicy | None = None,
    stats: RunStats | None = None,
) -> list[ProbeResponse]:
    """Ask every item ``samples`` times; see the module doc. Sync wrapper over ``arun_probes``.

    ``limit`` keeps the first N items. ``refresh`` ignores cached answers and moves an existing transcript
    aside (renamed, never deleted) to start a new one. Raises DossierError on a fatal target error
    (wrong key, unknown model, unreachable) after recording what was collected; re-running resumes.
    """
    return asyncio.run(
        arun_probes(
            items, target, samples=samples, params=params, transcript=transcript, cache=cache,
            max_connections=max_connections, limit=limit, refresh=refresh, quiet=quiet, retry=retry, stats=stats,
        )
    )


def _validate(items: list[ProbeItem], samples: int, max_connections: int, limit: int | None) -> list[ProbeItem]:
    if samples < 1:
        raise DossierError(f"samples must be at least 1, got {samples}")
    if max_connections < 1:
        raise DossierError(f"max_connections must be at least 1, got {max_connections}")
    if limit is not None and limit < 0:
        raise DossierError(f"limit must not be negative, got {limit}")
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise DossierError(f"duplicate probe item id {item.id!r}: ids must be unique within a run")
        seen.add(item.id)
        if not item.messages:
            raise DossierError(f"probe item {item.id!r} has no messages")
    return items[:limit] if limit is not None else list(items)


async def arun_probes(
    items: list[ProbeItem],
    target: Target,
    *,
    samples: int = 1,
    params: dict[str, Any] | None = None,
    transcript: Path,
    cache: ResponseCache | None = None,
    max_connections: int = 8,
    limit: int | None = None,
    refresh: bool = False,
    quiet: bool = True,
    retry: RetryPolicy | None = None,
    stats: RunStats | None = None,
) -> list[ProbeResponse]:
    """The async core of ``run_probes`` (same arguments)."""
    started = time.perf_counter()
    items = _validate(items, samples, max_connections, limit)
    params = dict(params or {})
    stats = stats if stats is not None else RunStats()
    identity = target.describe()
    if refresh:
        moved = rotate(Path(transcript))
        stats.rotated_to = str(moved) if moved else None
    log, done = Transcript.open(Path(transcript), identity)
    stats.transcript = str(transcript)
    try:
        run = _Run(items, target, identity, samples, params, log, cache, refresh, retry or RetryPolicy(), stats)
        run.resume(done)
        run.use_cache()
        await run.fetch(max_connections, quiet)
    finally:
        if cache is not None:
            cache.flush()
        log.close()
        stats.seconds = time.perf_counter() - started
    return run.ordered()


class _Run:
    """State of one run: what is wanted, what is done, and the workers that fill the gap."""

    def __init__(self, items: list[ProbeItem], target: Target, identity: dict[str, Any], samples: int,
                 params: dict[str, Any], log: Transcript, cache: ResponseCache | None, refresh: bool,
                 policy: RetryPolicy, stats: RunStats) -> None:
        self.target, self.identity, self.params, self.log = target, identity, params, log
        self.cache, self.refresh, self.policy, self.stats = cache, refresh, policy, stats
        self.by_id = {item.id: item for item in items}
        self.wanted: list[Key] = [(item.id, s) for item in items for s in range(samples)]
        prefix = key_prefix(identity, params)
        # the resume check ignores target identity (the transcript header pins it) and the base URL,
        # so a model that moved to another port still resumes; the cache key includes both
        prompt_prefix = key_prefix({}, params)
        self.keys: dict[Key, str] = {}
        self.prompt_keys: dict[Key, str] = {}
        self.messages_json: dict[str, str] = {}
        for item in items:
            text = messages_text(item.messages)
            self.messages_json[item.id] = json.dumps([m.model_dump() for m in item.messages], ensure_ascii=False)
            for s in range(samples):
                self.keys[(item.id, s)] = keyed(prefix, text, s)
                self.prompt_keys[(item.id, s)] = keyed(prompt_prefix, text, s)
        self.results: dict[Key, ProbeResponse] = {}
        self.rng = random.Random()
        self.fatal: TargetError | None = None
        stats.requested = len(self.wanted)

    def _finish(self, key: Key, response: ProbeResponse) -> ProbeResponse:
        response.item_id, response.sample = key
        response.metadata = dict(self.by_id[key[0]].metadata)
        self.results[key] = response
        if response.blocked:
            self.stats.blocked += 1
        return response

    def resume(self, done: dict[Key, tuple[str, ProbeResponse]]) -> None:
        """Take answers already in the transcript; refuse one recorded for a different prompt or params."""
        for key in self.wanted:
            if key not in done:
                continue
            recorded_key, response = done[key]
            if recorded_key and recorded_key != self.prompt_keys[key]:
                raise DossierError(
                    f"transcript {self.log.path} holds an answer to item {key[0]!r} sample {key[1]} for a "
                    "different prompt or parameters: use another --out folder, or --refresh to start anew"
                )
            self._finish(key, response)
            self.stats.resumed += 1

    def use_cache(self) -> None:
        """Take cached answers (unless refreshing) and record them in the transcript."""
        if self.cache is None or self.refresh:
            return
        todo = [k for k in self.wanted if k not in self.results]
        hits = self.cache.get_many(self.keys[k] for k in todo)
        for key in todo:
            hit = hits.get(self.keys[key])
            if hit is None:
                continue
            hit.cached = True
            self._record(key, self._finish(key, hit))
            self.stats.cached += 1

    def _record(self, key: Key, response: ProbeResponse) -> None:
        self.log.response(self.keys[key], self.prompt_keys[key], self.messages_json[key[0]], response)

    def ordered(self) -> list[ProbeResponse]:
        return [self.results[k] for k in self.wanted if k in self.results]

    async def fetch(self, max_connections: int, quiet: bool) -> None:
        """Ask the target for everything still missing, ``max_connections`` at a time."""
        todo = [k for k in self.wanted if k not in self.results]
        if not todo:
            return
        queue: asyncio.Queue[Key] = asyncio.Queue()
        for key in todo:
            queue.put_nowait(key)
        await self.target.open(max_connections=max_connections)
        try:
            with progress(quiet) as bar:
                task = bar.add_task(f"probing {self.identity.get('id')}", total=len(todo))

                def advance() -> None:
                    bar.advance(task)

                workers = [asyncio.create_task(self._worker(queue, advance))
                           for _ in range(min(max_connections, len(todo)))]
                try:
                    await asyncio.gather(*workers)
                finally:
                    for worker in workers:
                        worker.cancel()
                    await asyncio.gather(*workers, return_exceptions=True)
        finally:
            await self.target.aclose()
        if self.fatal is not None:
            kept = len(self.results)
            raise DossierError(
                f"{self.target.redact(self.fatal.message)}; stopped: {kept} answer(s) are kept in "
                f"{self.log.path} and a re-run resumes from there"
            )

    async def _worker(self, queue: asyncio.Queue[Key], advance: Callable[[], None]) -> None:
        while self.fatal is None:
            try:
                key = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            response = await self._ask(key)
            if response is None:  # fatal: stop everyone
                return
            self._finish(key, response)
            if response.error is None:
                self._record(key, response)
                if self.cache is not None:
                    self.cache.put(self.keys[key], self.target.id, response)
                self.stats.fetched += 1
            else:
                self.stats.failed += 1
                self.log.error(key[0], key[1], error=self.target.redact(response.error),
                               status=response.http_status, attempt=response.attempts, final=True)
            advance()

    async def _ask(self, key: Key) -> ProbeResponse | None:
        """One answer with retries; an error response when retries run out; None on a fatal error."""
        item = self.by_id[key[0]]
        attempt = 0
        while True:
            attempt += 1
            try:
                response = await self.target.complete(item, params=self.params, sample=key[1])
            except TargetError as exc:
                message = self.target.redact(exc.message)
                unreachable = exc.kind == "unreachable"
                # before any answer, a refused connection means a wrong URL or a server that is not up: stop soon
                limit = self.policy.unreachable_attempts if unreachable and not self.stats.fetched \
                    else self.policy.max_attempts
                if exc.fatal or (unreachable and attempt >= limit):
                    self.log.error(key[0], key[1], error=message, status=exc.status, attempt=attempt, final=True)
                    if self.fatal is None:
                        self.fatal = exc
                    return None
                if not exc.retryable or attempt >= limit:
                    return ProbeResponse(item_id=key[0], sample=key[1], error=message, http_status=exc.status,
                                         attempts=attempt)
                wait = self.policy.delay(attempt, exc.retry_after, self.rng)
                self.stats.retries += 1
                self.log.error(key[0], key[1], error=message, status=exc.status, attempt=attempt, final=False,
                               retry_in=wait)
                await asyncio.sleep(wait)
                continue
            except Exception as exc:  # noqa: BLE001 - a target bug must not lose the run
                return ProbeResponse(item_id=key[0], sample=key[1], attempts=attempt,
                                     error=self.target.redact(f"{type(exc).__name__}: {exc}"))
            response.attempts = attempt
            if response.error is not None:
                response.error = self.target.redact(response.error)
            return response
