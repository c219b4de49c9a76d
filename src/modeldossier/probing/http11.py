"""Minimal HTTP clients for JSON POSTs: a lean asyncio HTTP/1.1 client for plain ``http://`` endpoints
(local vLLM, llama.cpp, Ollama, SGLang) and an httpx-backed one for ``https://`` and proxies.

Why two: on a busy 2-core machine httpx costs ~1-5 ms of CPU per request (URL parsing, two socket writes,
anyio layers), which caps a local probe run at well under 100 requests/s. The lean client writes each request
in one ``write``, keeps connections alive and parses ``Content-Length``, chunked and read-to-close bodies.
Both raise ``TransportFailure`` (kind: connect, timeout, connection) so the caller handles one error type.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass
from urllib.parse import urlsplit

import httpx

_MAX_HEAD = 64 * 1024
_MAX_BODY = 64 * 1024 * 1024


class TransportFailure(Exception):
    """No HTTP response: ``kind`` is connect (nothing listening / DNS), timeout, or connection (reset, bad
    framing)."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


@dataclass(frozen=True)
class HTTPResult:
    """Status, lower-cased headers and the raw body of one response."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Stale(Exception):
    """Writing to a kept-alive connection failed (the server had closed it): nothing was sent, so the request
    is retried once on a fresh connection. Failures after the request was sent are the caller's to retry."""


class LeanHTTPClient:
    """HTTP/1.1 keep-alive JSON POSTs to one ``http://host:port/prefix``."""

    def __init__(self, base_url: str, *, headers: dict[str, str], connect_timeout: float, read_timeout: float,
                 max_connections: int = 64) -> None:
        parts = urlsplit(base_url)
        if parts.scheme != "http" or not parts.hostname:
            raise ValueError(f"LeanHTTPClient needs an http:// URL, got {base_url!r}")
        self._host, self._port = parts.hostname, parts.port or 80
        self._prefix = parts.path.rstrip("/")
        host_header = parts.netloc
        self._head_lines = [f"Host: {host_header}", "Connection: keep-alive", "Accept: application/json",
                            *(f"{k}: {v}" for k, v in headers.items())]
        self._connect_timeout, self._read_timeout = connect_timeout, read_timeout
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self._max_idle = max_connections

    async def aclose(self) -> None:
        for _, writer in self._idle:
            with contextlib.suppress(Exception):
                writer.close()
        self._idle.clear()

    async def post(self, path: str, body: bytes) -> HTTPResult:
        head = "\r\n".join([f"POST {self._prefix}{path} HTTP/1.1", *self._head_lines,
                            "Content-Type: application/json", f"Content-Length: {len(body)}"])
        payload = head.encode("latin-1") + b"\r\n\r\n" + body
        for _ in range(2):
            reused, (reader, writer) = await self._connection()
            try:
                result, keep = await self._exchange(reader, writer, payload)
            except _Stale:
                writer.close()
                if reused:
                    continue
                raise TransportFailure("connection", "server closed the connection without a response") from None
            except BaseException:
                writer.close()
                raise
            if keep and len(self._idle) < self._max_idle:
                self._idle.append((reader, writer))
            else:
                writer.close()
            return result
        raise TransportFailure("connection", "server closed the connection without a response")

    async def _connection(self) -> tuple[bool, tuple[asyncio.StreamReader, asyncio.StreamWriter]]:
        while self._idle:
            reader, writer = self._idle.pop()
            if not reader.at_eof() and not writer.is_closing():
                return True, (reader, writer)
            writer.close()
        try:
            async with asyncio.timeout(self._connect_timeout):
                pair = await asyncio.open_connection(self._host, self._port, limit=_MAX_HEAD)
        except TimeoutError:
            raise TransportFailure("connect", f"connect to {self._host}:{self._port} timed out") from None
        except OSError as exc:
            raise TransportFailure("connect", f"{exc.strerror or exc} ({self._host}:{self._port})") from None
        return False, pair

    async def _exchange(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                        payload: bytes) -> tuple[HTTPResult, bool]:
        try:
            writer.write(payload)
            await writer.drain()
        except OSError:
            raise _Stale from None
        try:
            async with asyncio.timeout(self._read_timeout):
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError as exc:
                    what = "truncated response head" if exc.partial else "server closed the connection"
                    raise TransportFailure("connection", f"{what} without a response") from None
                status, headers, keep = _parse_head(head)
                if status < 200 or status in (204, 304):
                    body = b""
                else:
                    body, framed = await _read_body(reader, headers)
                    keep = keep and framed
        except TimeoutError:
            raise TransportFailure("timeout", f"no response within {self._read_timeout:g}s") from None
        except asyncio.LimitOverrunError:
            raise TransportFailure("connection", "response head too large") from None
        except asyncio.IncompleteReadError:
            raise TransportFailure("connection", "connection closed in the middle of the response") from None
        except OSError as exc:
            raise TransportFailure("connection", f"{type(exc).__name__}: {exc}") from None
        return HTTPResult(status, headers, body), keep


def _parse_head(head: bytes) -> tuple[int, dict[str, str], bool]:
    lines = head[:-4].decode("latin-1").split("\r\n")
    parts = lines[0].split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/1.") or not parts[1].isdigit():
        raise TransportFailure("connection", f"bad status line {lines[0][:80]!r}")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if not sep:
            raise TransportFailure("connection", f"bad header line {line[:80]!r}")
        headers[name.strip().lower()] = value.strip()
    connection = headers.get("connection", "").lower()
    keep = "close" not in connection and (parts[0] == "HTTP/1.1" or "keep-alive" in connection)
    return int(parts[1]), headers, keep


async def _read_body(reader: asyncio.StreamReader, headers: dict[str, str]) -> tuple[bytes, bool]:
    """The body and whether it was framed (so the connection can be reused)."""
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks, total = [], 0
        while True:
            size_line = await reader.readuntil(b"\r\n")
            try:
                size = int(size_line.split(b";", 1)[0].strip(), 16)
            except ValueError:
                raise TransportFailure("connection", "bad chunk size") from None
            if size == 0:
                while (await reader.readuntil(b"\r\n")) != b"\r\n":  # trailers
                    pass
                return b"".join(chunks), True
            total += size
            if total > _MAX_BODY:
                raise TransportFailure("connection", "response body too large")
            chunks.append(await reader.readexactly(size))
            await reader.readexactly(2)
    if "content-length" in headers:
        try:
            length = int(headers["content-length"])
        except ValueError:
            raise TransportFailure("connection", "bad Content-Length") from None
        if not 0 <= length <= _MAX_BODY:
            raise TransportFailure("connection", "response body too large")
        return await reader.readexactly(length), True
    parts, total = [], 0
    while data := await reader.read(65536):  # unframed: the body runs to the end of the connection
        parts.append(data)
        total += len(data)
        if total > _MAX_BODY:
            raise TransportFailure("connection", "response body too large")
    return b"".join(parts), False


class HttpxClient:
    """The same interface over httpx (TLS, proxies, HTTP/1.1 pooling)."""

    def __init__(self, base_url: str, *, headers: dict[str, str], connect_timeout: float, read_timeout: float,
                 max_connections: int = 64) -> None:
        limits = httpx.Limits(max_connections=max_connections, max_keepalive_connections=max_connections)
        self._client = httpx.AsyncClient(
            base_url=base_url, headers={**headers, "Content-Type": "application/json"},
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout), limits=limits,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def post(self, path: str, body: bytes) -> HTTPResult:
        try:
            reply = await self._client.post(path, content=body)
        except httpx.ConnectError as exc:
            raise TransportFailure("connect", str(exc) or type(exc).__name__) from None
        except httpx.TimeoutException as exc:
            raise TransportFailure("timeout", type(exc).__name__) from None
        except httpx.TransportError as exc:
            raise TransportFailure("connection", f"{type(exc).__name__}: {exc}") from None
        return HTTPResult(reply.status_code, {k.lower(): v for k, v in reply.headers.items()}, reply.content)
