"""Media targets: an OpenAI-compatible images endpoint and a generic asynchronous job API (submit, poll, fetch).

Both implement the probing ``Target`` protocol, so they run through the same engine as chat probes (concurrency,
retries, transcript, cache, resume). A response carries its outcome in ``detail``: ``outcome`` (GENERATED,
BLOCKED, REFUSED, PLACEHOLDER), ``reason``, ``message`` (the provider's words, evidence) and ``media`` (stored
files by sha256). Fetched media goes to the media store with a size cap; the key is sent only to the API's own
host, never to a result URL elsewhere, and never written.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from modeldossier import __version__
from modeldossier.errors import DossierError
from modeldossier.media.content import Placeholders, judge, load_placeholders
from modeldossier.media.jobconfig import JobConfig, get_path, load_job_config
from modeldossier.media.models import MediaFile, Outcome
from modeldossier.media.store import MediaStore
from modeldossier.probing.base import TargetError, redact_secrets
from modeldossier.probing.models import ProbeItem, ProbeResponse

_SNIPPET = 300
_TEXT_KEYS = ("message", "text", "detail", "refusal", "content")
_RETRY_STATUSES = (408, 409, 425, 429)
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme.lower(), (parts.hostname or "").lower(), parts.port


def _prompt(item: ProbeItem) -> str:
    return "\n".join(m.content for m in item.messages if m.role == "user")


def _words(value: Any) -> str | None:
    """A provider's message as text: a string, or the message of an error object, or compact JSON."""
    if value is None or value == "" or value == [] or value == {}:
        return None
    if isinstance(value, dict):
        for key in ("message", "msg", "detail", "code"):
            if isinstance(value.get(key), str) and value[key]:
                return value[key][:1000]
    if isinstance(value, str):
        return value[:1000]
    return json.dumps(value, ensure_ascii=False)[:1000]


class _MediaTarget:
    """What both media targets share: the key, the HTTP client, fetching and judging media."""

    kind = "media"

    def __init__(self, *, id: str, base_url: str, api_key: str | None, api_key_source: str | None,
                 media_dir: Path, placeholders: Placeholders | None, revision: str | None, timeout: float,
                 max_bytes: int, auth_header: str = "Authorization", auth_prefix: str = "Bearer ") -> None:
        self.id, self.base_url, self.revision = id, base_url.rstrip("/"), revision
        self._api_key, self._api_key_source = api_key, api_key_source
        self._auth_header, self._auth_prefix = auth_header, auth_prefix
        self.store = MediaStore(media_dir)
        self.placeholders = placeholders or load_placeholders()
        self._timeout, self.max_bytes = timeout, max_bytes
        self._client: httpx.AsyncClient | None = None

    def redact(self, text: str) -> str:
        return redact_secrets(text, [self._api_key])

    def _describe(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "base_url": self.base_url, "revision": self.revision,
                "api_key": f"from {self._api_key_source}" if self._api_key else "none"}

    async def open(self, *, max_connections: int) -> None:
        await self.aclose()
        limits = httpx.Limits(max_connections=max_connections * 2, max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(headers={"User-Agent": f"modeldossier/{__version__}"}, limits=limits,
                                         timeout=httpx.Timeout(self._timeout, connect=10.0), follow_redirects=False)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _api_origins(self) -> set[tuple[str, str, int | None]]:
        return {_origin(self.base_url)}

    def _auth(self, url: str) -> dict[str, str]:
        """The key header, only for the API's own scheme, host and port."""
        if self._api_key and _origin(url) in self._api_origins():
            return {self._auth_header: f"{self._auth_prefix}{self._api_key}"}
        return {}

    async def _request(self, method: str, url: str, body: Any = None) -> httpx.Response:
        if self._client is None:
            await self.open(max_connections=4)
        assert self._client is not None
        try:
            return await self._client.request(method, url, json=body, headers=self._auth(url))
        except httpx.ConnectError as exc:
            raise TargetError(self.redact(f"cannot connect to {url}: {exc}"), kind="unreachable",
                              retryable=True) from None
        except httpx.TimeoutException as exc:
            raise TargetError(f"{url}: {type(exc).__name__}", kind="timeout", retryable=True) from None
        except httpx.HTTPError as exc:
            raise TargetError(self.redact(f"{url}: {type(exc).__name__}: {exc}"), kind="connection",
                              retryable=True) from None

    def _snippet(self, reply: httpx.Response) -> str:
        text = self.redact(reply.content[: _SNIPPET + 1024].decode("utf-8", errors="replace"))
        return text[:_SNIPPET].replace("\n", " ").strip()

    def _check_status(self, reply: httpx.Response, what: str) -> str | None:
        """Raise for auth/not-found/retryable statuses; return the provider's message for a block (other 4xx)."""
        status = reply.status_code
        if status in (401, 403):
            hint = f" (key from {self._api_key_source})" if self._api_key else " (no API key was given)"
            raise TargetError(f"{what} refused the request: HTTP {status}{hint}: {self._snippet(reply)}",
                              status=status, fatal=True, kind="auth")
        if status == 404:
            raise TargetError(f"{what}: HTTP 404 (unknown model or wrong URL): {self._snippet(reply)}",
                              status=status, fatal=True, kind="not_found")
        if status in _RETRY_STATUSES or status >= 500:
            retry_after = reply.headers.get("retry-after")
            try:
                wait = float(retry_after) if retry_after else None
            except ValueError:
                wait = None
            raise TargetError(f"HTTP {status}: {self._snippet(reply)}", status=status, retryable=True,
                              retry_after=wait, kind="rate_limited" if status == 429 else "server")
        if status >= 400:
            try:
                data = reply.json()
            except ValueError:
                return self._snippet(reply) or f"HTTP {status}"
            found = get_path(data, "error") if isinstance(data, dict) else None
            return self.redact(_words(found if found is not None else data) or f"HTTP {status}")
        return None

    async def _download(self, url: str) -> bytes:
        """GET a result URL with the size cap (http(s) only)."""
        if _origin(url)[0] not in ("http", "https"):
            raise TargetError(f"result URL is not http(s): {url[:80]!r}", kind="bad_body")
        if self._client is None:
            await self.open(max_connections=4)
        assert self._client is not None
        try:
            async with self._client.stream("GET", url, headers=self._auth(url)) as reply:
                if reply.status_code >= 400:
                    retry = reply.status_code >= 500 or reply.status_code in _RETRY_STATUSES
                    raise TargetError(f"fetching the result: HTTP {reply.status_code}", status=reply.status_code,
                                      retryable=retry, kind="server" if retry else "error")
                declared = reply.headers.get("content-length")
                if declared and declared.isdigit() and int(declared) > self.max_bytes:
                    raise _TooLarge(int(declared))
                chunks, total = [], 0
                async for chunk in reply.aiter_bytes():
                    total += len(chunk)
                    if total > self.max_bytes:
                        raise _TooLarge(total)
                    chunks.append(chunk)
        except httpx.TimeoutException as exc:
            raise TargetError(f"fetching the result: {type(exc).__name__}", kind="timeout", retryable=True) from None
        except httpx.HTTPError as exc:
            raise TargetError(self.redact(f"fetching the result: {type(exc).__name__}: {exc}"), kind="connection",
                              retryable=True) from None
        return b"".join(chunks)

    def _judged(self, item: ProbeItem, sample: int, blobs: list[bytes], started: float,
                extra: dict[str, Any]) -> ProbeResponse:
        """Store and judge returned media: PLACEHOLDER when every file is one, else GENERATED; ERROR if undecodable."""
        files, reasons, errors = [], [], []
        for blob in blobs:
            verdict = judge(blob, self.placeholders)
            digest = self.store.put(blob, verdict.mime)
            files.append(MediaFile(sha256=digest, bytes=len(blob), mime=verdict.mime, width=verdict.width,
                                   height=verdict.height).model_dump())
            if verdict.error:
                errors.append(verdict.error)
            elif verdict.placeholder:
                reasons.append(verdict.placeholder)
        latency = time.perf_counter() - started
        if errors:
            return ProbeResponse(item_id=item.id, sample=sample, latency_s=latency, http_status=200,
                                 error=f"unusable media: {errors[0]}", detail={**extra, "media": files})
        outcome = Outcome.PLACEHOLDER if reasons and len(reasons) == len(files) else Outcome.GENERATED
        return _response(item, sample, outcome, latency, reason="; ".join(reasons) or None,
                         detail={**extra, "media": files})


class _TooLarge(Exception):
    def __init__(self, size: int) -> None:
        super().__init__(size)
        self.size = size


def _response(item: ProbeItem, sample: int, outcome: Outcome, latency: float, *, reason: str | None = None,
              message: str | None = None, status: int | None = 200, detail: dict[str, Any] | None = None
              ) -> ProbeResponse:
    return ProbeResponse(
        item_id=item.id, sample=sample, latency_s=latency, http_status=status,
        content=message if outcome is Outcome.REFUSED else None, blocked=outcome is Outcome.BLOCKED,
        finish_reason=outcome.value.lower(),
        detail={**(detail or {}), "outcome": outcome.value, "reason": reason, "message": message},
    )


def _too_large(item: ProbeItem, sample: int, size: int, cap: int, started: float) -> ProbeResponse:
    return ProbeResponse(item_id=item.id, sample=sample, latency_s=time.perf_counter() - started,
                         error=f"media too large: {size} bytes > cap {cap}")


class ImagesTarget(_MediaTarget):
    """``POST {base_url}/images/generations`` (OpenAI-compatible), b64_json or url results."""

    kind = "openai-images"

    def __init__(self, *, model: str, base_url: str, **kwargs: Any) -> None:
        super().__init__(id=f"images:{model}", base_url=base_url, **kwargs)
        self.model = model

    def __repr__(self) -> str:
        return f"ImagesTarget({self.id!r}, base_url={self.base_url!r})"

    def describe(self) -> dict[str, Any]:
        return {**self._describe(), "model": self.model}

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        started = time.perf_counter()
        body = {"model": self.model, "prompt": _prompt(item), "n": 1, **params}
        url = f"{self.base_url}/images/generations"
        reply = await self._request("POST", url, body)
        blocked = self._check_status(reply, url)
        if blocked is not None:
            return _response(item, sample, Outcome.BLOCKED, time.perf_counter() - started, status=reply.status_code,
                             reason=f"HTTP {reply.status_code}", message=blocked)
        try:
            data = reply.json()
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            raise TargetError(f"bad response body (HTTP {reply.status_code}): {self._snippet(reply)!r}",
                              status=reply.status_code, retryable=True, kind="bad_body") from None
        entries = [e for e in data.get("data") or [] if isinstance(e, dict)] \
            if isinstance(data.get("data"), list) else []
        blobs: list[bytes] = []
        try:
            for entry in entries:
                if isinstance(entry.get("b64_json"), str):
                    encoded = entry["b64_json"]
                    if len(encoded) * 3 // 4 > self.max_bytes:
                        return _too_large(item, sample, len(encoded) * 3 // 4, self.max_bytes, started)
                    blobs.append(base64.b64decode(encoded, validate=True))
                elif isinstance(entry.get("url"), str):
                    blobs.append(await self._download(entry["url"]))
        except binascii.Error:
            raise TargetError("bad response body: b64_json is not base64", retryable=True, kind="bad_body") from None
        except _TooLarge as exc:
            return _too_large(item, sample, exc.size, self.max_bytes, started)
        if blobs:
            return self._judged(item, sample, blobs, started, {})
        declined = _words(data.get("error"))
        if declined:  # HTTP 200 carrying an error object instead of images: the provider declined the prompt
            return _response(item, sample, Outcome.BLOCKED, time.perf_counter() - started,
                             reason="error object in a 200 answer", message=self.redact(declined))
        text = next((_words(data.get(k)) for k in _TEXT_KEYS if _words(data.get(k))), None)
        text = text or next((_words(e.get(k)) for e in entries for k in ("revised_prompt", *_TEXT_KEYS)
                             if _words(e.get(k))), None)
        if text:
            return _response(item, sample, Outcome.REFUSED, time.perf_counter() - started,
                             reason="text instead of media", message=self.redact(text))
        raise TargetError(f"bad response body: no image and no text: {self._snippet(reply)!r}", retryable=True,
                          kind="bad_body")


class JobTarget(_MediaTarget):
    """A generic asynchronous job API (video services): submit, poll until done/failed or timeout, fetch."""

    kind = "media-job"

    def __init__(self, config: JobConfig, *, api_key: str | None, api_key_source: str | None, **kwargs: Any) -> None:
        super().__init__(id=f"media-job:{config.name}", base_url=config.submit.url, api_key=api_key,
                         api_key_source=api_key_source, auth_header=config.auth.header,
                         auth_prefix=config.auth.prefix, max_bytes=config.max_media_bytes, **kwargs)
        self.config = config

    def __repr__(self) -> str:
        return f"JobTarget({self.id!r}, submit={self.base_url!r})"

    def describe(self) -> dict[str, Any]:
        return {**self._describe(), "model": self.config.name, "config_sha256": self.config.sha256}

    def _api_origins(self) -> set[tuple[str, str, int | None]]:
        return {_origin(self.config.submit.url), _origin(self.config.poll.url.replace("{job_id}", "x"))}

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        started = time.perf_counter()
        cfg = self.config
        body = cfg.submit_body(_prompt(item), params)
        reply = await self._request(cfg.submit.method, cfg.submit.url, body)
        blocked = self._check_status(reply, cfg.submit.url)
        if blocked is not None:
            return _response(item, sample, Outcome.BLOCKED, time.perf_counter() - started, status=reply.status_code,
                             reason=f"submit: HTTP {reply.status_code}", message=blocked)
        data = self._json(reply, "submit")
        job_id = get_path(data, cfg.paths.job_id)
        if not isinstance(job_id, str | int) or isinstance(job_id, bool) or str(job_id) == "":
            raise TargetError(f"submit answered without a job id at {cfg.paths.job_id!r}: {self._snippet(reply)!r}",
                              retryable=True, kind="bad_body")
        job = {"job_id": str(job_id)[:200]}
        deadline = started + cfg.timeout_s
        while True:
            status = get_path(data, cfg.paths.status) if cfg.paths.status else None
            status = None if status is None else str(status)
            if status in cfg.status.failed:
                message = _words(get_path(data, cfg.paths.error)) if cfg.paths.error else None
                return _response(item, sample, Outcome.BLOCKED, time.perf_counter() - started,
                                 reason=f"job status {status!r}", message=self.redact(message or status),
                                 detail=job)
            if status in cfg.status.done:
                return await self._finished(item, sample, data, started, job)
            if time.perf_counter() + cfg.poll_interval_s > deadline:
                return ProbeResponse(item_id=item.id, sample=sample, latency_s=time.perf_counter() - started,
                                     error=f"job {job['job_id']!r} did not finish within {cfg.timeout_s:g}s "
                                           f"(last status {status!r})", detail=job)
            await asyncio.sleep(cfg.poll_interval_s)
            url = cfg.poll_url(job["job_id"])
            try:
                reply = await self._request("GET", url)
                blocked = self._check_status(reply, url)
                if blocked is not None:
                    return _response(item, sample, Outcome.BLOCKED, time.perf_counter() - started,
                                     status=reply.status_code, reason=f"poll: HTTP {reply.status_code}",
                                     message=blocked, detail=job)
                data = self._json(reply, "poll")
            except TargetError as exc:
                if exc.fatal or not exc.retryable:
                    raise
                data = {}  # a failed poll is not a failed job: ask again at the next interval

    def _json(self, reply: httpx.Response, what: str) -> Any:
        try:
            return reply.json()
        except ValueError:
            raise TargetError(f"bad {what} body (HTTP {reply.status_code}): {self._snippet(reply)!r}",
                              status=reply.status_code, retryable=True, kind="bad_body") from None

    async def _finished(self, item: ProbeItem, sample: int, data: Any, started: float,
                        job: dict[str, Any]) -> ProbeResponse:
        cfg = self.config
        url = get_path(data, cfg.paths.result_url)
        if isinstance(url, str) and url:
            try:
                blob = await self._download(url)
            except _TooLarge as exc:
                return _too_large(item, sample, exc.size, self.max_bytes, started)
            return self._judged(item, sample, [blob], started, job)
        text = _words(get_path(data, cfg.paths.text)) if cfg.paths.text else None
        text = text or (_words(get_path(data, cfg.paths.error)) if cfg.paths.error else None)
        if text:
            return _response(item, sample, Outcome.REFUSED, time.perf_counter() - started,
                             reason="job done without media", message=self.redact(text), detail=job)
        return ProbeResponse(item_id=item.id, sample=sample, latency_s=time.perf_counter() - started,
                             error=f"job {job['job_id']!r} is done but has no result URL at {cfg.paths.result_url!r}",
                             detail=job)


def build_media_target(kind: str, rest: str, *, base_url: str | None, api_key: str | None,
                       environ: Mapping[str, str], options: dict[str, Any]) -> ImagesTarget | JobTarget:
    """``images:http://HOST:PORT/v1/MODEL`` or ``media-job:CONFIG.yaml`` -> a media target.

    Keys: ``--api-key-env NAME`` (or ``IMAGES_API_KEY``) for images; the job config's ``auth.env`` for jobs.
    Options: ``media_dir`` (default runs/media), ``placeholders``, ``timeout``, ``revision``, ``max_media_bytes``.
    """
    from modeldossier.probing.targets import looks_like_address, split_url

    common: dict[str, Any] = {
        "media_dir": Path(options.get("media_dir") or Path("runs") / "media"),
        "placeholders": options.get("placeholders"), "revision": options.get("revision"),
        "timeout": float(options.get("timeout") or 120.0),
    }
    key_env = options.get("api_key_env")
    if kind == "media-job":
        if not rest.strip():
            raise DossierError("media-job: needs a config file, e.g. media-job:./my-video-api.yaml (docs/media.md)")
        config = load_job_config(Path(rest.strip()).expanduser())
        key_env = key_env or config.auth.env
        key = api_key or (environ.get(key_env) if key_env else None)
        if key_env and not key and not api_key:
            raise DossierError(f"media-job:{config.name}: environment variable {key_env} is not set")
        return JobTarget(config, api_key=key, api_key_source="option" if api_key else key_env, **common)
    rest = rest.strip()
    if rest[:8].lower().startswith(("http://", "https://")):
        url_base, model = split_url(rest.split(":", 1)[0].lower() + ":" + rest.split(":", 1)[1])
    elif looks_like_address(rest):
        raise DossierError("images: the target looks like an address but is not an http(s) URL: write "
                           "images:http://HOST:PORT/v1/MODEL")
    elif base_url:
        url_base, model = base_url, rest
    else:
        raise DossierError("images: needs the endpoint URL, e.g. images:http://HOST:PORT/v1/MODEL")
    if not model:
        raise DossierError("images: no model name: use images:http://HOST:PORT/v1/MODEL")
    env_name = key_env or "IMAGES_API_KEY"
    key = api_key or environ.get(env_name)
    if key_env and not key:
        raise DossierError(f"images: environment variable {key_env} is not set (--api-key-env)")
    return ImagesTarget(model=model, base_url=base_url or url_base, api_key=key,
                        api_key_source="option" if api_key else (env_name if key else None),
                        max_bytes=int(options.get("max_media_bytes") or DEFAULT_MAX_BYTES), **common)
