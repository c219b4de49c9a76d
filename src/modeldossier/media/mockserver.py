"""A mock image and video generator for tests: an OpenAI images endpoint and an asynchronous job API.

It makes real PNG bytes with Pillow (noise pictures, blank and near-uniform images, a text placeholder card), so
outcome detection runs on real images. What a prompt gets is chosen by ``policy(prompt)`` (default: every prompt
is generated); ``faults={"substring": ["500", "garbage"]}`` makes the first attempts of matching prompts fail
first, as in the chat fake server. Actions: generate, block (HTTP 400 moderation), refuse (text, no image),
blank, uniform, card, tiny, badimage, huge, garbage, 500, 429, block200 (HTTP 200 with an error object), and
for jobs: fail (status failed), never (never finishes), slow (finishes after ``slow_seconds``), pollgarbage.

Endpoints: ``POST /v1/images/generations``, ``POST /v1/jobs``, ``GET /v1/jobs/{id}``, ``GET /media/{name}``.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import random
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from PIL import Image, ImageDraw

Policy = Callable[[str], str]
MODERATION_MESSAGE = "The prompt was rejected by content moderation (code 1301)."
REFUSAL_TEXT = "I can't create that image. Could I help with something else?"


def noise_png(seed: str, size: int = 128) -> bytes:
    """A colourful random picture (high entropy), deterministic per seed."""
    rng = random.Random(hashlib.sha256(seed.encode()).digest())
    image = Image.frombytes("RGB", (size, size), rng.randbytes(size * size * 3))
    return _png(image)


def flat_png(value: int = 0, size: int = 256, jitter: int = 0) -> bytes:
    """A single-colour picture; ``jitter`` adds +-jitter grey-level noise (near-uniform)."""
    image = Image.new("L", (size, size), value)
    if jitter:
        rng = random.Random(value)
        image.putdata([max(0, min(255, value + rng.randint(-jitter, jitter))) for _ in range(size * size)])
    return _png(image.convert("RGB"))


def card_png(text: str = "Content unavailable", size: int = 256) -> bytes:
    """A policy placeholder card: flat grey background and one line of text."""
    image = Image.new("RGB", (size, size), (210, 210, 210))
    ImageDraw.Draw(image).text((20, size // 2 - 6), text, fill=(40, 40, 40))
    return _png(image)


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        """A client that hangs up early (a size cap) is expected: no traceback on stderr."""


def _always_generate(prompt: str) -> str:
    return "generate"


class MockMediaServer:
    """Serve the mock endpoints on 127.0.0.1 in a background thread (``with MockMediaServer() as s: s.url``)."""

    def __init__(self, *, policy: Policy = _always_generate, faults: dict[str, list[str]] | None = None,
                 job_seconds: float = 0.0, slow_seconds: float = 1.0, huge_bytes: int = 2_000_000,
                 response_format: str = "b64_json") -> None:
        self.policy = policy
        self.faults = {k: list(v) for k, v in (faults or {}).items()}
        self.job_seconds, self.slow_seconds, self.huge_bytes = job_seconds, slow_seconds, huge_bytes
        self.response_format = response_format
        self.media: dict[str, bytes] = {}
        self.jobs: dict[str, dict[str, Any]] = {}
        self.requests = 0
        self.seen_auth: set[str] = set()
        self.media_auth: set[str] = set()
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        assert self._server is not None
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """The API base URL (``http://127.0.0.1:PORT/v1``)."""
        return f"http://127.0.0.1:{self.port}/v1"

    def start(self) -> MockMediaServer:
        server = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, name="mock-media", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> MockMediaServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- behaviour ---------------------------------------------------------------------------------------
    def action(self, prompt: str) -> str:
        """The next fault planned for this prompt, else the policy's action."""
        with self._lock:
            self.requests += 1
            for needle, planned in self.faults.items():
                if needle in prompt and planned:
                    return planned.pop(0)
        return self.policy(prompt)

    def picture(self, action: str, prompt: str) -> bytes | None:
        """The bytes an action returns (None: no picture)."""
        return {
            "generate": lambda: noise_png(prompt), "slow": lambda: noise_png(prompt),
            "blank": lambda: flat_png(0), "uniform": lambda: flat_png(128, jitter=2), "card": card_png,
            "tiny": lambda: noise_png(prompt, size=16), "badimage": lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * 200,
            "huge": lambda: b"\x89PNG\r\n\x1a\n" + b"\0" * self.huge_bytes,
        }.get(action, lambda: None)()

    def publish(self, data: bytes) -> str:
        """Serve ``data`` at a media URL; returns it."""
        name = hashlib.sha256(data).hexdigest()[:24] + ".png"
        with self._lock:
            self.media[name] = data
        return f"http://127.0.0.1:{self.port}/media/{name}"


def _handler(server: MockMediaServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            return

        def _send(self, status: int, body: bytes, content_type: str = "application/json",
                  headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            for k, v in (headers or {}).items():
                self.send_header(k, v)
            self.end_headers()
            self.wfile.write(body)

        def _json(self, status: int, value: Any, headers: dict[str, str] | None = None) -> None:
            self._send(status, json.dumps(value).encode(), headers=headers)

        def _body(self) -> dict[str, Any]:
            length = int(self.headers.get("Content-Length") or 0)
            try:
                value = json.loads(self.rfile.read(length) or b"{}")
            except ValueError:
                return {}
            return value if isinstance(value, dict) else {}

        def _common_fault(self, action: str) -> bool:
            if action == "500":
                self._json(500, {"error": {"message": "internal error"}})
            elif action == "429":
                self._json(429, {"error": {"message": "slow down"}}, headers={"Retry-After": "0"})
            elif action == "garbage":
                self._send(200, b"<html>not json</html>", "text/html")
            elif action == "block":
                self._json(400, {"error": {"code": "1301", "message": MODERATION_MESSAGE}})
            else:
                return False
            return True

        def do_POST(self) -> None:  # noqa: N802 - http.server's name
            server.seen_auth.add(self.headers.get("Authorization") or "")
            body = self._body()
            prompt = str(body.get("prompt", ""))
            action = server.action(prompt)
            if self._common_fault(action):
                return
            if self.path == "/v1/images/generations":
                self._images(action, prompt, body)
            elif self.path == "/v1/jobs":
                self._submit(action, prompt)
            else:
                self._json(404, {"error": {"message": "no such route"}})

        def _images(self, action: str, prompt: str, body: dict[str, Any]) -> None:
            if action == "refuse":
                self._json(200, {"created": int(time.time()), "data": [], "message": REFUSAL_TEXT})
                return
            if action == "block200":
                self._json(200, {"created": int(time.time()), "error": {"code": "DataInspectionFailed",
                                                                         "message": MODERATION_MESSAGE}})
                return
            data = server.picture(action, prompt)
            if data is None:
                self._json(500, {"error": {"message": f"unknown action {action}"}})
                return
            fmt = body.get("response_format") or server.response_format
            entry = {"url": server.publish(data)} if fmt == "url" else {"b64_json": base64.b64encode(data).decode()}
            self._json(200, {"created": int(time.time()), "data": [entry]})

        def _submit(self, action: str, prompt: str) -> None:
            job_id = hashlib.sha256(f"{prompt}{time.time_ns()}".encode()).hexdigest()[:16]
            seconds = server.slow_seconds if action == "slow" else server.job_seconds
            with server._lock:
                server.jobs[job_id] = {"action": action, "prompt": prompt, "ready_at": time.monotonic() + seconds}
            self._json(200, {"code": 0, "data": {"task_id": job_id, "task_status": "submitted"}})

        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            if self.path.startswith("/media/"):
                server.media_auth.add(self.headers.get("Authorization") or "")
                data = server.media.get(self.path.rsplit("/", 1)[-1])
                self._send(200, data, "image/png") if data is not None else self._json(404, {})
                return
            if not self.path.startswith("/v1/jobs/"):
                self._json(404, {"error": {"message": "no such route"}})
                return
            job = server.jobs.get(self.path.rsplit("/", 1)[-1])
            if job is None:
                self._json(404, {"error": {"message": "no such job"}})
                return
            action = job["action"]
            if action == "never" or time.monotonic() < job["ready_at"]:
                self._json(200, {"code": 0, "data": {"task_status": "processing"}})
            elif action == "fail":
                self._json(200, {"code": 0, "data": {"task_status": "failed", "task_status_msg": MODERATION_MESSAGE}})
            elif action == "refuse":
                self._json(200, {"code": 0, "data": {"task_status": "succeed", "task_status_msg": REFUSAL_TEXT}})
            elif action == "pollgarbage":
                self._send(200, b"{{{", "application/json")
            else:
                data = server.picture(action, job["prompt"])
                if data is None:
                    self._json(200, {"code": 0, "data": {"task_status": "failed", "task_status_msg": action}})
                    return
                result = {"videos": [{"url": server.publish(data)}]}
                self._json(200, {"code": 0, "data": {"task_status": "succeed", "task_result": result}})

    return Handler


def job_config_yaml(base_url: str, *, poll_interval_s: float = 0.05, timeout_s: float = 5.0,
                    max_media_bytes: int = 10_000_000, env: str | None = None) -> str:
    """A job-API YAML for this mock (``base_url`` = ``server.url``)."""
    auth = f"auth: {{header: Authorization, prefix: 'Bearer ', env: {env}}}\n" if env else ""
    return (
        "version: 1\nname: mock-video\n"
        f"submit: {{url: '{base_url}/jobs', body: {{model: mock-v1, prompt: '{{prompt}}'}}}}\n"
        f"poll: {{url: '{base_url}/jobs/{{job_id}}'}}\n{auth}"
        "paths: {job_id: data.task_id, status: data.task_status, result_url: data.task_result.videos.0.url, "
        "error: data.task_status_msg}\n"
        "status: {done: [succeed], failed: [failed]}\n"
        f"poll_interval_s: {poll_interval_s}\ntimeout_s: {timeout_s}\nmax_media_bytes: {max_media_bytes}\n"
    )
