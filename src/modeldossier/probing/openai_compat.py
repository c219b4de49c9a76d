"""OpenAI-compatible chat completions (vLLM, SGLang, Ollama, llama.cpp, LM Studio, cloud APIs)."""

from __future__ import annotations

import email.utils
import json
import os
import re
import time
from datetime import UTC, datetime
from typing import Any

from modeldossier import __version__
from modeldossier.probing.base import TargetError, redact_secrets
from modeldossier.probing.http11 import HTTPResult, HttpxClient, LeanHTTPClient, TransportFailure
from modeldossier.probing.models import ProbeItem, ProbeResponse

_THINK = re.compile(r"<think>(.*?)</think>", re.DOTALL)
_SNIPPET = 300
# Provider-side moderation that answers HTTP 400 instead of finish_reason=content_filter.
_BLOCK_MARKERS = (
    "data_inspection_failed",  # Qwen / DashScope
    "content_filter",  # Moonshot, Azure
    "high risk",  # Moonshot message
    "\"1301\"",  # Zhipu: unsafe or sensitive content (error code)
    "sensitive",
    "inappropriate content",
)


def split_reasoning(content: str | None) -> tuple[str | None, str | None]:
    """Split ``<think>...</think>`` blocks out of an answer: returns (answer, reasoning).

    Handles a template that opened ``<think>`` in the prompt (only ``</think>`` in the output) and an
    unclosed ``<think>`` cut by the token limit (everything after it is reasoning).
    """
    if not content or "think>" not in content:
        return content, None
    parts = [m.strip() for m in _THINK.findall(content)]
    rest = _THINK.sub("", content)
    if "</think>" in rest:  # <think> was in the prompt template
        head, _, rest = rest.partition("</think>")
        parts.insert(0, head.strip())
    if "<think>" in rest:  # truncated inside the reasoning
        rest, _, tail = rest.partition("<think>")
        parts.append(tail.strip())
    reasoning = "\n\n".join(p for p in parts if p)
    return rest.strip(), reasoning or None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date); None when absent or invalid."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def sample_params(params: dict[str, Any], sample: int) -> dict[str, Any]:
    """The request parameters for one sample: an integer ``seed`` S becomes S + sample index.

    Without this every one of N samples sends the same body, so a seeded server returns N copies of one
    answer. The cache key keeps the user's parameters and the sample index, so it is stable across re-runs.
    """
    seed = params.get("seed")
    if isinstance(seed, int) and not isinstance(seed, bool):
        return {**params, "seed": seed + sample}
    return params


def _text(value: Any) -> str | None:
    """Message content as text: a string, or the text parts of a content list."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, list):
        return "".join(p.get("text", "") for p in value if isinstance(p, dict))
    return str(value)


def _proxy_configured() -> bool:
    """True when the environment routes plain HTTP through a proxy (then httpx's own transport is used)."""
    return any(os.environ.get(name) for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"))


class OpenAICompatTarget:
    """A model behind ``POST {base_url}/chat/completions``."""

    def __init__(
        self,
        *,
        provider: str,
        model: str,
        base_url: str,
        api_key: str | None = None,
        api_key_source: str | None = None,
        revision: str | None = None,
        timeout: float = 120.0,
        connect_timeout: float = 10.0,
        headers: dict[str, str] | None = None,
        http_client: str = "auto",
    ) -> None:
        self.provider = provider
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.revision = revision
        self.id = f"{provider}:{model}"
        self._api_key = api_key
        self._api_key_source = api_key_source
        self._read_timeout, self._connect_timeout = timeout, connect_timeout
        self._extra_headers = dict(headers or {})
        if http_client not in ("auto", "lean", "httpx"):
            raise ValueError(f"http_client must be auto, lean or httpx, not {http_client!r}")
        self._http_client = http_client
        self._client: LeanHTTPClient | HttpxClient | None = None

    def __repr__(self) -> str:
        return f"OpenAICompatTarget({self.id!r}, base_url={self.base_url!r})"

    def describe(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": "openai-compatible",
            "provider": self.provider,
            "model": self.model,
            "base_url": self.base_url,
            "revision": self.revision,
            "api_key": f"from {self._api_key_source}" if self._api_key else "none",
        }

    def redact(self, text: str) -> str:
        return redact_secrets(text, [self._api_key])

    async def open(self, *, max_connections: int) -> None:
        if self._client is not None:
            await self._client.aclose()
        headers = {"User-Agent": f"modeldossier/{__version__}", **self._extra_headers}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        lean = self.base_url.startswith("http://") and not _proxy_configured()
        lean = lean if self._http_client == "auto" else self._http_client == "lean"
        client = LeanHTTPClient if lean else HttpxClient
        self._client = client(self.base_url, headers=headers, connect_timeout=self._connect_timeout,
                              read_timeout=self._read_timeout, max_connections=max_connections)

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        if self._client is None:
            await self.open(max_connections=8)
        assert self._client is not None
        body = {"model": self.model, "messages": [{"role": m.role, "content": m.content} for m in item.messages],
                **sample_params(params, sample)}
        started = time.perf_counter()
        try:
            reply = await self._client.post("/chat/completions", json.dumps(body).encode("utf-8"))
        except TransportFailure as exc:
            kind = {"connect": "unreachable", "timeout": "timeout"}.get(exc.kind, "connection")
            where = f"cannot connect to {self.base_url}: " if kind == "unreachable" else ""
            raise TargetError(self.redact(f"{where}{exc}"), kind=kind, retryable=True) from None
        return self._parse(item, sample, reply, time.perf_counter() - started)

    def _snippet(self, reply: HTTPResult) -> str:
        """The start of a response body for messages: redacted before it is cut, so no key prefix survives."""
        text = self.redact(reply.body[: _SNIPPET + 1024].decode("utf-8", errors="replace"))
        return text[:_SNIPPET].replace("\n", " ").strip()

    def _parse(self, item: ProbeItem, sample: int, reply: HTTPResult, latency: float) -> ProbeResponse:
        status = reply.status
        if status in (401, 403):
            hint = f" (key from {self._api_key_source})" if self._api_key else " (no API key was given)"
            raise TargetError(
                f"{self.base_url} refused the request: HTTP {status}{hint}: {self._snippet(reply)}",
                status=status,
                fatal=True,
                kind="auth",
            )
        if status == 404:
            raise TargetError(
                f"{self.base_url}/chat/completions: HTTP 404 for model {self.model!r} "
                f"(unknown model or wrong base URL): {self._snippet(reply)}",
                status=status,
                fatal=True,
                kind="not_found",
            )
        if status in (408, 409, 425, 429) or status >= 500:
            raise TargetError(
                f"HTTP {status}: {self._snippet(reply)}",
                status=status,
                retryable=True,
                retry_after=parse_retry_after(reply.headers.get("retry-after")),
                kind="rate_limited" if status == 429 else "server",
            )
        if status >= 400:
            snippet = self._snippet(reply)
            if any(marker in snippet.lower() for marker in _BLOCK_MARKERS):
                return ProbeResponse(
                    item_id=item.id, sample=sample, http_status=status, latency_s=latency, blocked=True,
                    finish_reason="blocked", detail={"block_reason": snippet},
                )
            return ProbeResponse(
                item_id=item.id, sample=sample, http_status=status, latency_s=latency,
                error=f"HTTP {status}: {snippet}",
            )
        try:
            data = json.loads(reply.body)
            choice = data["choices"][0]
            message = choice.get("message") or {}
            if not isinstance(message, dict):
                raise TypeError("message is not an object")
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise TargetError(
                f"bad response body (HTTP {status}): {self._snippet(reply)!r}",
                status=status,
                retryable=True,
                kind="bad_body",
            ) from None
        content, think = split_reasoning(_text(message.get("content")))
        reasoning = _text(message.get("reasoning_content") or message.get("reasoning"))
        if think:
            reasoning = f"{reasoning}\n\n{think}" if reasoning else think
        finish = choice.get("finish_reason")
        finish = None if finish is None else str(finish)  # some servers send a number or an object
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else None
        return ProbeResponse(
            item_id=item.id,
            sample=sample,
            content=content,
            reasoning=reasoning,
            finish_reason=finish,
            http_status=status,
            provider_model=data.get("model") if isinstance(data.get("model"), str) else None,
            latency_s=latency,
            usage=usage,
            blocked=finish == "content_filter",
            detail=_upstream(data),
        )


def _upstream(data: dict[str, Any]) -> dict[str, Any]:
    """A router's name of the upstream provider that served this answer (OpenRouter's ``provider``), if any."""
    name = data.get("provider")
    return {"upstream_provider": name[:100]} if isinstance(name, str) and name.strip() else {}
