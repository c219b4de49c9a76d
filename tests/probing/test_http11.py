"""The lean HTTP/1.1 client against raw responses: framing, keep-alive, failures."""

from __future__ import annotations

import asyncio
import socket
import threading
import time

import pytest

from modeldossier.probing.http11 import LeanHTTPClient, TransportFailure

pytestmark = pytest.mark.network


class RawServer:
    """Answers every request on a connection with the next canned bytes; None closes the connection."""

    def __init__(self, replies: list[bytes | None]) -> None:
        self.replies = list(replies)
        self.connections = 0
        self.requests: list[bytes] = []
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.connections += 1
            threading.Thread(target=self._conn, args=(conn,), daemon=True).start()

    def _conn(self, conn: socket.socket) -> None:
        with conn:
            buf = b""
            while self.replies:
                while b"\r\n\r\n" not in buf:
                    data = conn.recv(65536)
                    if not data:
                        return
                    buf += data
                head, _, rest = buf.partition(b"\r\n\r\n")
                length = int([h for h in head.split(b"\r\n") if h.lower().startswith(b"content-length")][0]
                             .split(b":")[1])
                while len(rest) < length:
                    rest += conn.recv(65536)
                self.requests.append(head + b"\r\n\r\n" + rest[:length])
                buf = rest[length:]
                reply = self.replies.pop(0)
                if reply is None:
                    return
                conn.sendall(reply)
                if b"Connection: close" in reply or b"Content-Length" not in reply and b"chunked" not in reply:
                    return
            time.sleep(1)  # keep the connection open (a server that stalls)


def post(port: int, n: int = 1, *, read_timeout: float = 5.0) -> list:
    async def go():
        client = LeanHTTPClient(f"http://127.0.0.1:{port}/v1", headers={"Authorization": "Bearer k"},
                                connect_timeout=2, read_timeout=read_timeout)
        try:
            return [await client.post("/chat/completions", b'{"a": 1}') for _ in range(n)]
        finally:
            await client.aclose()

    return asyncio.run(go())


def test_content_length_keep_alive_reuses_one_connection():
    ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nX-Thing: y\r\n\r\n{}"
    server = RawServer([ok, ok, ok])
    results = post(server.port, 3)
    assert [r.status for r in results] == [200, 200, 200] and results[0].body == b"{}"
    assert results[0].headers["x-thing"] == "y"
    assert server.connections == 1
    first = server.requests[0]
    assert first.startswith(b"POST /v1/chat/completions HTTP/1.1\r\n") and b"Content-Length: 8" in first
    assert b"Authorization: Bearer k" in first and first.endswith(b'{"a": 1}')


def test_chunked_and_read_to_close_bodies():
    chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2;ext=1\r\nde\r\n0\r\n\r\n"
    unframed = b"HTTP/1.0 500 Oops\r\n\r\nall of it"
    server = RawServer([chunked, unframed])
    first, second = post(server.port, 2)
    assert first.body == b"abcde"
    assert second.status == 500 and second.body == b"all of it"


def test_connection_close_opens_a_new_connection():
    close = b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\nx"
    server = RawServer([close, close])
    assert [r.body for r in post(server.port, 2)] == [b"x", b"x"]
    assert server.connections == 2


@pytest.mark.parametrize(
    ("reply", "kind"),
    [
        (None, "connection"),  # closed without a response
        (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort", "connection"),
        (b"garbage\r\n\r\n", "connection"),
        (b"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n", "connection"),
    ],
)
def test_failures_are_transport_failures(reply, kind):
    server = RawServer([reply])
    with pytest.raises(TransportFailure) as info:
        post(server.port)
    assert info.value.kind == kind


def test_timeout_and_refused():
    server = RawServer([b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n"])  # promises a body, never sends it
    with pytest.raises(TransportFailure) as info:
        post(server.port, read_timeout=0.3)
    assert info.value.kind == "timeout"
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(TransportFailure) as info:
        post(port)
    assert info.value.kind == "connect"
