"""The sandbox contains what code does: network, writes outside its tmpfs, home, fork bombs, memory, time.

Each test runs one small hostile program inside bubblewrap and checks it was contained and recorded.
Skipped with the reason when bubblewrap is missing or cannot create namespaces here.
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeldossier.codesec.outcome import Instrument
from modeldossier.codesec.sandbox import Bind, Limits, Sandbox

PY = "/usr/bin/python3"


@pytest.fixture(scope="module")
def box() -> Sandbox:
    """A sandbox with tight limits, or skip with the reason it is unusable."""
    sandbox = Sandbox(Limits(cpu_seconds=2, memory_mb=256, processes=16, wall_seconds=3.0, tmpfs_mb=8))
    why = sandbox.unusable()
    if why:
        pytest.skip(why)
    if not Path(PY).exists():
        pytest.skip(f"{PY} not found")
    return sandbox


@pytest.fixture
def listener() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that records whether anything connected."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(0.2)
    hits: list[int] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield srv.getsockname()[1]
    stop.set()
    thread.join(2)
    srv.close()
    assert not hits, "a sandboxed program reached the host's listening socket"


def test_no_network_even_to_host_loopback(box: Sandbox, listener: int) -> None:
    code = (f"import socket\ns = socket.socket()\ns.settimeout(2)\ntry:\n    s.connect(('127.0.0.1', {listener}))\n"
            "    print('CONNECTED')\nexcept OSError as e:\n    print('blocked', type(e).__name__)\n"
            "try:\n    socket.create_connection(('93.184.216.34', 80), timeout=2)\n    print('INTERNET')\n"
            "except OSError as e:\n    print('blocked', type(e).__name__)\n")
    result = box.run([PY, "-c", code])
    assert result.ran and result.exit_code == 0, result
    assert "CONNECTED" not in result.stdout and "INTERNET" not in result.stdout
    assert result.stdout.count("blocked") == 2


def test_writes_outside_the_tmpfs_fail(box: Sandbox, tmp_path: Path) -> None:
    host_file = tmp_path / "escaped.txt"
    targets = ["/usr/escaped", "/etc/escaped", "/sandbox/escaped", "/escaped", str(host_file)]
    code = ("import sys\nfor t in sys.argv[1:]:\n    try:\n        open(t, 'w').write('x')\n        print('WROTE', t)\n"
            "    except OSError as e:\n        print('denied', t, type(e).__name__)\n"
            "open('/tmp/inside.txt', 'w').write('ok')\nprint('tmp ok')\n")
    result = box.run([PY, "-c", code, *targets], files={"input.txt": "hello"})
    assert result.ran and result.exit_code == 0, result
    assert "WROTE" not in result.stdout
    assert result.stdout.count("denied") == len(targets) and "tmp ok" in result.stdout
    assert not host_file.exists()


def test_host_files_and_home_are_invisible(box: Sandbox, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("host secret")
    home = os.path.expanduser("~")
    code = ("import os, sys\ntry:\n    print('READ', open(sys.argv[1]).read())\nexcept OSError as e:\n"
            "    print('unreadable', type(e).__name__)\n"
            "h = sys.argv[2]\nprint('HOME', sorted(os.listdir(h)) if os.path.isdir(h) else 'absent')\n")
    result = box.run([PY, "-c", code, str(secret), home])
    assert result.ran and result.exit_code == 0, result
    assert "host secret" not in result.stdout and "unreadable" in result.stdout
    bound_under_home = {Path(b.dest or b.source).relative_to(home).parts[0] for b in box.binds
                        if (b.dest or b.source).startswith(home.rstrip("/") + "/")}
    listing = result.stdout.split("HOME", 1)[1].strip()
    visible = set() if listing == "absent" else set(eval(listing))  # noqa: S307 - our own repr of a list of names
    assert visible <= bound_under_home, f"the sandbox sees the home folder: {visible}"


def test_fork_bomb_is_capped_by_the_process_limit(box: Sandbox) -> None:
    code = ("import os, time\nn = 0\nfor _ in range(400):\n    try:\n        pid = os.fork()\n"
            "    except OSError as e:\n        print('capped', n, e.errno)\n        break\n"
            "    if pid == 0:\n        time.sleep(60)\n        os._exit(0)\n    n += 1\nprint('children', n)\n")
    result = box.run([PY, "-c", code])
    assert result.ran, result
    assert "capped" in result.stdout, result.stdout
    children = int(result.stdout.split("children")[1])
    assert children < box.limits.processes


def test_unbounded_allocation_hits_the_memory_limit(box: Sandbox) -> None:
    result = box.run([PY, "-c", "a = []\nwhile True:\n    a.append(bytearray(10**7))\n"])
    assert result.ran and result.exit_code != 0
    assert result.limit_hit == "memory", result


def test_sleeping_forever_is_killed_at_the_wall_time_limit(box: Sandbox) -> None:
    result = box.run(["/bin/sh", "-c", "sleep 600 & sleep 600"])
    assert result.ran and result.timed_out and result.limit_hit == "wall"
    assert result.seconds < box.limits.wall_seconds + 3


def test_busy_loop_hits_the_cpu_limit_and_output_is_bounded(box: Sandbox) -> None:
    result = box.run([PY, "-c", "import sys\nwhile True:\n    sys.stdout.write('x' * 4096)\n"])
    assert result.ran and result.limit_hit in {"cpu", "file_size", "wall"}, result
    assert len(result.stdout) <= box.limits.output_bytes and result.truncated


def test_without_bubblewrap_the_instrument_is_not_run_with_the_reason(tmp_path: Path) -> None:
    missing = str(tmp_path / "no-bwrap")
    assert "not installed" in (Sandbox(bwrap="").unusable() or "")
    sandbox = Sandbox(bwrap=missing)
    assert sandbox.unusable() and not sandbox.run(["/bin/true"]).ran
    verdict = Instrument(bwrap=missing).run("py-sorted-orders", "def list_orders(c, s, d):\n    return []\n")
    assert verdict.outcome == "not_run" and verdict.reason
    assert Instrument(bwrap=missing).run("no-such-task", "x = 1").outcome == "no_tests"


def test_a_bind_that_cannot_be_read_is_a_reason_not_a_crash(tmp_path: Path) -> None:
    sandbox = Sandbox(binds=(Bind(str(tmp_path / "does-not-exist")),))
    if not sandbox.bwrap:
        pytest.skip("bubblewrap not installed")
    result = sandbox.run(["/bin/true"])
    assert not result.ran and result.reason and "bubblewrap" in result.reason
