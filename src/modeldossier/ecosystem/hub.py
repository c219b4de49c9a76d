"""Live Hub query: the most-downloaded models via ``HfApi.list_models``, paged, paced, cached on disk.

The listing endpoint cannot expand ``baseModels`` (the Hub only allows it on a single model), so base
models, their relation and the license are read from the tags the Hub computes:
``base_model:<id>``, ``base_model:<relation>:<id>`` and ``license:<id>``.

Rows are cached in SQLite under ``~/.cache/modeldossier/hub/`` (key = endpoint + query) and written as a
snapshot file, so every later run can be reproduced offline with ``--snapshot``.
"""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from modeldossier.ecosystem.snapshot import write_snapshot
from modeldossier.errors import DossierError

EXPAND = ["author", "createdAt", "downloads", "downloadsAllTime", "library_name", "pipeline_tag", "tags"]
RELATIONS = frozenset({"finetune", "quantized", "adapter", "merge"})
DEFAULT_ENDPOINT = "https://huggingface.co"
DEFAULT_MAX_AGE_S = 24 * 3600


def default_cache_dir() -> Path:
    """``$MODELDOSSIER_CACHE/hub`` or ``~/.cache/modeldossier/hub``."""
    base = os.environ.get("MODELDOSSIER_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "modeldossier") / "hub"


def endpoint() -> str:
    """The Hub endpoint, honouring ``HF_ENDPOINT`` at call time (huggingface_hub reads it only at import)."""
    return (os.environ.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/")


def parse_tags(tags: Iterable[str] | None) -> tuple[list[str], str | None, str | None]:
    """(base models in order, their relation, license) from Hub tags."""
    bases: list[str] = []
    relation = None
    license_ = None
    for tag in tags or []:
        if not isinstance(tag, str):
            continue
        if tag.startswith("license:") and license_ is None:
            license_ = tag.removeprefix("license:") or None
        elif tag.startswith("base_model:"):
            rest = tag.removeprefix("base_model:")
            head, sep, tail = rest.partition(":")
            if sep and head in RELATIONS:
                relation = relation or head
                rest = tail
            if rest and rest not in bases:
                bases.append(rest)
    return bases, relation, license_


def _get(item: Any, attr: str, key: str) -> Any:
    if isinstance(item, dict):
        return item.get(key, item.get(attr))
    return getattr(item, attr, None)


def to_row(item: Any) -> dict[str, Any]:
    """One snapshot row from a ``ModelInfo`` (or a raw ``/api/models`` item)."""
    bases, relation, license_ = parse_tags(_get(item, "tags", "tags"))
    created = _get(item, "created_at", "createdAt")
    if isinstance(created, datetime):
        created = created.astimezone(UTC).replace(tzinfo=None).isoformat()
    elif isinstance(created, str):
        created = created.replace("Z", "").replace("T", " ")[:26]
    model_id = _get(item, "id", "id")
    return {
        "id": model_id,
        "author": _get(item, "author", "author") or (model_id.split("/")[0] if "/" in model_id else None),
        "created_at": created,
        "downloads": _get(item, "downloads", "downloads") or 0,
        "downloads_all_time": _get(item, "downloads_all_time", "downloadsAllTime"),
        "base_model": bases or None,
        "base_model_relation": relation,
        "pipeline_tag": _get(item, "pipeline_tag", "pipeline_tag"),
        "library": _get(item, "library_name", "library_name"),
        "license": license_,
    }


def paced(items: Iterable[Any], *, page_size: int, min_interval_s: float,
          sleep: Callable[[float], None] = time.sleep,
          clock: Callable[[], float] = time.monotonic) -> Iterator[Any]:
    """Yield ``items``; before asking for each next page, wait until ``min_interval_s`` has passed.

    ``list_models`` fetches the next page lazily when the previous one is used up, so pacing the
    consumer at page boundaries paces the requests.
    """
    last = clock()
    for index, item in enumerate(items, start=1):
        yield item
        if index % page_size == 0:
            wait = min_interval_s - (clock() - last)
            if wait > 0:
                sleep(wait)
            last = clock()


@dataclass(frozen=True)
class FetchResult:
    """What a live fetch produced."""

    path: Path
    rows: int
    from_cache: bool
    fetched_at: str
    endpoint: str


class HubCache:
    """Rows of completed (or partial) listings in SQLite, keyed by endpoint + query."""

    def __init__(self, directory: Path) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        self.path = directory / "listings.sqlite"
        try:
            self.db = sqlite3.connect(self.path)
            self.db.executescript(
                """
                CREATE TABLE IF NOT EXISTS listing (key TEXT PRIMARY KEY, query TEXT, fetched_at REAL,
                                                    complete INTEGER, rows INTEGER);
                CREATE TABLE IF NOT EXISTS row (key TEXT, idx INTEGER, data TEXT, PRIMARY KEY (key, idx));
                """
            )
        except sqlite3.DatabaseError as exc:
            raise DossierError(f"Hub cache {self.path} is unusable ({exc}); delete it and retry") from None

    @staticmethod
    def key(query: dict[str, Any]) -> str:
        """Stable key of a query."""
        return hashlib.sha256(json.dumps(query, sort_keys=True).encode("utf-8")).hexdigest()

    def fresh(self, key: str, max_age_s: float) -> tuple[float, int] | None:
        """(fetched_at, rows) of a complete listing younger than ``max_age_s``, else None."""
        found = self.db.execute("SELECT fetched_at, rows FROM listing WHERE key = ? AND complete = 1",
                                (key,)).fetchone()
        if found and time.time() - found[0] <= max_age_s:
            return float(found[0]), int(found[1])
        return None

    def rows(self, key: str) -> Iterator[dict[str, Any]]:
        """The cached rows of a listing, in order."""
        for (data,) in self.db.execute("SELECT data FROM row WHERE key = ? ORDER BY idx", (key,)):
            yield json.loads(data)

    def store(self, key: str, query: dict[str, Any], rows: Iterable[dict[str, Any]], batch: int = 1000) -> int:
        """Replace the listing's rows, committing every ``batch`` rows; mark it complete at the end."""
        now = time.time()
        with self.db:
            self.db.execute("DELETE FROM row WHERE key = ?", (key,))
            self.db.execute("INSERT OR REPLACE INTO listing VALUES (?, ?, ?, 0, 0)",
                            (key, json.dumps(query, sort_keys=True), now))
        count, pending = 0, []
        for row in rows:
            pending.append((key, count, json.dumps(row)))
            count += 1
            if len(pending) >= batch:
                with self.db:
                    self.db.executemany("INSERT INTO row VALUES (?, ?, ?)", pending)
                pending = []
        with self.db:
            self.db.executemany("INSERT INTO row VALUES (?, ?, ?)", pending)
            self.db.execute("UPDATE listing SET complete = 1, rows = ?, fetched_at = ? WHERE key = ?",
                            (count, time.time(), key))
        return count

    def close(self) -> None:
        """Close the database."""
        self.db.close()


def _unreachable(url: str, why: str) -> DossierError:
    return DossierError(
        f"cannot reach the Hugging Face Hub at {url} ({why}); check the network, or run offline with "
        "--snapshot FILE (a Parquet/JSONL snapshot, see docs/ecosystem.md)"
    )


def check_reachable(url: str, timeout_s: float = 10.0) -> None:
    """One quick request to the listing endpoint, so that a dead network fails fast instead of retrying."""
    import httpx

    try:
        response = httpx.get(f"{url}/api/models", params={"limit": 1}, timeout=timeout_s)
    except httpx.HTTPError as exc:
        raise _unreachable(url, type(exc).__name__) from None
    if response.status_code >= 500 or response.status_code in (401, 403, 404):
        raise _unreachable(url, f"HTTP {response.status_code}")


def fetch_snapshot(
    out: Path,
    *,
    limit: int,
    cache_dir: Path | None = None,
    max_age_s: float = DEFAULT_MAX_AGE_S,
    page_size: int = 1000,
    min_interval_s: float = 1.0,
    list_models: Callable[..., Iterable[Any]] | None = None,
    on_row: Callable[[int], None] | None = None,
) -> FetchResult:
    """The ``limit`` most-downloaded models as a snapshot file at ``out`` (cached; fetched when stale)."""
    if limit < 1:
        raise DossierError("--limit must be at least 1")
    url = endpoint()
    query = {"endpoint": url, "sort": "downloads", "expand": EXPAND, "limit": limit}
    cache = HubCache(cache_dir or default_cache_dir())
    key = HubCache.key(query)
    try:
        hit = cache.fresh(key, max_age_s)
        if hit is None:
            if os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in ("1", "true", "yes", "on"):
                raise DossierError(
                    "HF_HUB_OFFLINE is set and no fresh cached listing exists: unset it to query the Hub, "
                    "or run offline with --snapshot FILE"
                )
            check_reachable(url)
            if list_models is None:
                from huggingface_hub import HfApi

                list_models = HfApi(endpoint=url).list_models
            items = list_models(sort="downloads", expand=EXPAND, limit=limit)
            rows = (to_row(item) for item in paced(items, page_size=min(page_size, limit),
                                                   min_interval_s=min_interval_s))
            _store(cache, key, query, rows, on_row, url)
            hit = cache.fresh(key, float("inf"))
            from_cache = False
        else:
            from_cache = True
        assert hit is not None
        fetched_at = datetime.fromtimestamp(hit[0], UTC).isoformat(timespec="seconds")
        count = write_snapshot(cache.rows(key), out, snapshot_date=fetched_at[:10])
    finally:
        cache.close()
    return FetchResult(path=out, rows=count, from_cache=from_cache, fetched_at=fetched_at, endpoint=url)


def _store(cache: HubCache, key: str, query: dict[str, Any], rows: Iterable[dict[str, Any]],
           on_row: Callable[[int], None] | None, url: str) -> None:
    from huggingface_hub.errors import HfHubHTTPError

    def counted() -> Iterator[dict[str, Any]]:
        for index, row in enumerate(rows, start=1):
            if on_row:
                on_row(index)
            yield row

    try:
        import httpx2

        network_errors: tuple[type[BaseException], ...] = (httpx2.HTTPError, OSError)
    except ImportError:  # a huggingface_hub built on another HTTP client
        network_errors = (OSError,)
    try:
        cache.store(key, query, counted())
    except HfHubHTTPError as exc:
        status = getattr(getattr(exc, "response", None), "status_code", None)
        raise _unreachable(url, f"HTTP {status}" if status else type(exc).__name__) from None
    except network_errors as exc:
        raise _unreachable(url, type(exc).__name__) from None
    except (KeyError, TypeError, ValueError) as exc:
        raise DossierError(f"the Hub at {url} answered in an unexpected shape: {exc}") from None
