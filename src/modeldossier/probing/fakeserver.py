"""A fake OpenAI-compatible chat server (raw asyncio HTTP/1.1, keep-alive) that injects faults.

For tests and benchmarks: the client under test is the production client, talking real HTTP over TCP.
Faults are planned per question text: ``faults={"question 3": ["429", "500"]}`` makes the first two attempts
for that question fail, then it answers. Fault names: ``429`` (with ``Retry-After``), ``500``, ``503``,
``slow`` (answers after ``slow_seconds``), ``garbage`` (200 with a non-JSON body), ``reset`` (TCP RST),
``filter`` (finish_reason=content_filter), ``400block`` (HTTP 400 data_inspection_failed).
Questions containing ``[think]`` get a ``<think>`` block in the answer.

Run standalone (benchmarks): ``python -m modeldossier.probing.fakeserver --port 0`` prints ``PORT <n>``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import socket
import struct
import threading
from collections.abc import Callable
from typing import Any

Answer = Callable[[str, dict[str, Any]], str]


def _default_answer(question: str, body: dict[str, Any]) -> str:
    if "[think]" in question:
        return f"<think>considering: {question}</think>You asked: {question}"
    return f"You asked: {question}"


class FakeOpenAIServer:
    """Serve ``POST /v1/chat/completions`` (and ``GET /v1/models``) on 127.0.0.1 in a background thread."""

    def __init__(
        self,
        *,
        model: str = "fake-model",
        api_key: str | None = None,
        faults: dict[str, list[str]] | None = None,
        answer: Answer = _default_answer,
        delay: float = 0.0,
        slow_seconds: float = 2.0,
        retry_after: str = "1",
        port: int = 0,
    ) -> None:
        self.model = model
        self.api_key = api_key
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.answer = answer
        self.delay = delay
        self.slow_seconds = slow_seconds
        self.retry_after = retry_after
        self.requested_port = port
        self.port = 0
        self.requests = 0
        self.answered = 0
        self.attempts: dict[str, int] = {}
        self.seen_auth: set[str] = set()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: asyncio.base_events.Server | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    @property
    def url(self) -> str:
        """The base URL clients use (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> FakeOpenAIServer:
        self._thread = threading.Thread(target=self._run, name="fake-openai", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("fake server did not start")
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        self._server = loop.run_until_complete(
            asyncio.start_server(self._handle, "127.0.0.1", self.requested_port, backlog=1024)
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self._ready.set()
        loop.run_forever()
        self._server.close()
        loop.run_until_complete(self._server.wait_closed())
        loop.close()

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
        if self._thread is not None:
            self._thread.join(10)

    def __enter__(self) -> FakeOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    async def serve_forever(self) -> None:
        """Serve in the current event loop (standalone mode)."""
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.requested_port, backlog=4096)
        self.port = self._server.sockets[0].getsockname()[1]
        print(f"PORT {self.port}", flush=True)
        async with self._server:
            await self._server.serve_forever()

    # -- HTTP --------------------------------------------------------------------------------------------
    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                lines = head.decode("latin-1").split("\r\n")
                method, path, _ = lines[0].split(" ", 2)
                headers = {}
                for line in lines[1:]:
                    if ":" in line:
                        name, value = line.split(":", 1)
                        headers[name.strip().lower()] = value.strip()
                length = int(headers.get("content-length", "0"))
                body = await reader.readexactly(length) if length else b""
                self.requests += 1
                keep = await self._respond(method, path, headers, body, writer)
                if not keep or headers.get("connection", "").lower() == "close":
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError, ValueError):
            pass
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    def _send(self, writer: asyncio.StreamWriter, status: int, payload: bytes,
              extra: dict[str, str] | None = None) -> None:
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found", 429: "Too Many Requests",
                  500: "Internal Server Error", 503: "Service Unavailable"}.get(status, "Status")
        head = [f"HTTP/1.1 {status} {reason}", "Content-Type: application/json",
                f"Content-Length: {len(payload)}", "Connection: keep-alive"]
        head += [f"{k}: {v}" for k, v in (extra or {}).items()]
        writer.write(("\r\n".join(head) + "\r\n\r\n").encode("latin-1") + payload)

    async def _respond(self, method: str, path: str, headers: dict[str, str], body: bytes,
                       writer: asyncio.StreamWriter) -> bool:
        auth = headers.get("authorization", "")
        if auth:
            self.seen_auth.add(auth)
        if self.api_key is not None and auth != f"Bearer {self.api_key}":
            # echoes the presented key, as some real servers do: the client must redact it
            presented = auth.removeprefix("Bearer ")
            self._send(writer, 401, json.dumps({"error": {"message": f"Incorrect API key provided: {presented}",
                                                          "type": "invalid_request_error"}}).encode())
            await writer.drain()
            return True
        if method == "GET" and path.rstrip("/") == "/v1/models":
            self._send(writer, 200, json.dumps({"data": [{"id": self.model, "object": "model"}]}).encode())
            await writer.drain()
            return True
        if method != "POST" or path.rstrip("/") != "/v1/chat/completions":
            self._send(writer, 404, b'{"error": {"message": "not found"}}')
            await writer.drain()
            return True
        request = json.loads(body or b"{}")
        if request.get("model") != self.model:
            self._send(writer, 404, json.dumps(
                {"error": {"message": f"The model `{request.get('model')}` does not exist."}}).encode())
            await writer.drain()
            return True
        messages = request.get("messages") or [{}]
        question = str(messages[-1].get("content", ""))
        self.attempts[question] = self.attempts.get(question, 0) + 1
        planned = self.faults.get(question)
        fault = planned.pop(0) if planned else None
        if self.delay:
            await asyncio.sleep(self.delay)
        if fault == "reset":
            sock = writer.get_extra_info("socket")
            if sock is not None:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            writer.transport.abort()
            return False
        if fault in ("429", "500", "503"):
            extra = {"Retry-After": self.retry_after} if fault == "429" else None
            self._send(writer, int(fault), b'{"error": {"message": "try again"}}', extra)
            await writer.drain()
            return True
        if fault == "garbage":
            self._send(writer, 200, b"<html>upstream proxy error</html>")
            await writer.drain()
            return True
        if fault == "400block":
            self._send(writer, 400, b'{"error": {"code": "data_inspection_failed", '
                                    b'"message": "Input data may contain inappropriate content."}}')
            await writer.drain()
            return True
        if fault == "slow":
            await asyncio.sleep(self.slow_seconds)
        content = self.answer(question, request)
        self.answered += 1
        reply = {
            "id": f"chatcmpl-{self.requests}",
            "object": "chat.completion",
            "model": f"{self.model}-served",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": "content_filter" if fault == "filter" else "stop"}],
            "usage": {"prompt_tokens": len(question.split()), "completion_tokens": len(content.split()),
                      "total_tokens": len(question.split()) + len(content.split())},
        }
        self._send(writer, 200, json.dumps(reply).encode())
        await writer.drain()
        return True


def main() -> None:
    """Standalone server for benchmarks."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--model", default="fake-model")
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args()
    server = FakeOpenAIServer(model=args.model, delay=args.delay, port=args.port)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(server.serve_forever())


if __name__ == "__main__":
    main()
