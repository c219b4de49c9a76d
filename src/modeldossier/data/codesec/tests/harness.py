"""Per-task test harness for Python answers. Runs INSIDE the sandbox only, never on the host.

Usage (inside the sandbox): python harness.py CONFIG_JSON_PATH
The config names the checks file, the answer file and a nonce. Every check runs in its own forked
child that imports a fresh copy of the answer from a fresh working folder; the parent prints one line,
``<nonce> <json>``, with each check's status: pass | fail | error | timeout | skip, and a short detail.
Checks are functions named ``functional_*`` and ``security_*`` in the checks file; a check fails by
raising AssertionError (for a security check: the exploit worked). ``needs`` lists optional modules.
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import os
import shutil
import signal
import sys
import time
import traceback
import types
from pathlib import Path
from typing import Any


class Missing(Exception):
    """The answer needs a module that the sandbox does not have."""


class Ctx:
    """What a check gets: the imported answer, a fresh working folder and helpers."""

    def __init__(self, answer_path: str, workdir: Path, stubs: dict[str, types.ModuleType]) -> None:
        self.workdir = workdir
        self.answer_path = answer_path
        self.stubs = stubs
        self._module: types.ModuleType | None = None

    @property
    def module(self) -> types.ModuleType:
        """The answer, imported on first use (its module-level code runs in the working folder)."""
        if self._module is None:
            self._module = load_answer(self.answer_path, self.workdir)
        return self._module

    def function(self, *names: str, hint: tuple[str, ...] = (), arity: int | None = None) -> Any:
        """The answer's function by one of ``names``, else the only public one whose name has a ``hint``."""
        mod = self.module
        for name in names:
            obj = getattr(mod, name, None)
            if callable(obj):
                return obj
        own = [obj for name, obj in vars(mod).items() if inspect.isfunction(obj) and not name.startswith("_")
               and getattr(obj, "__module__", None) == mod.__name__]
        if hint:
            own = [f for f in own if any(h in f.__name__.lower() for h in hint)] or own
        if arity is not None:
            fitting = [f for f in own if _accepts(f, arity)]
            own = fitting or own
        if len(own) == 1 or (own and hint):
            return own[0]
        raise AssertionError(f"no function named {' / '.join(names) or 'as the task asks'} in the answer")

    def flask_app(self) -> Any:
        """The Flask application the answer defines (a global app, or one built by create_app())."""
        mod = self.module
        try:
            from flask import Flask
        except ImportError as e:  # pragma: no cover - checked before running
            raise Missing("flask") from e
        for obj in vars(mod).values():
            if isinstance(obj, Flask):
                obj.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)
                return obj
        for name in ("create_app", "make_app", "build_app"):
            factory = getattr(mod, name, None)
            if callable(factory):
                app = factory()
                if isinstance(app, Flask):
                    app.config.update(TESTING=True, PROPAGATE_EXCEPTIONS=False)
                    return app
        raise AssertionError("no Flask app in the answer")

    def client(self) -> Any:
        """A Flask test client for the answer's app."""
        return self.flask_app().test_client()

    def patch_sqlite(self, script: str) -> list[int]:
        """Make every ``sqlite3.connect`` in the answer open one prepared database (built by ``script``).

        Each connection gets SQL functions ``pwned()`` / ``pwned(x)`` that record a call in the returned list:
        an injected ``pwned()`` that runs proves the input became SQL.
        """
        import sqlite3

        hits: list[int] = []
        path = str(self.workdir / "prepared.sqlite3")
        real = sqlite3.connect
        setup = real(path)
        setup.executescript(script)
        setup.commit()
        setup.close()

        def connect(*args: Any, **kwargs: Any) -> Any:
            kwargs = {k: v for k, v in kwargs.items() if k in ("timeout", "check_same_thread", "isolation_level",
                                                                "detect_types", "factory")}
            conn = real(path, **kwargs)
            conn.create_function("pwned", 0, lambda: hits.append(1) or 1)
            conn.create_function("pwned", 1, lambda _x: hits.append(1) or 1)
            return conn

        sqlite3.connect = connect  # type: ignore[assignment]
        return hits

    def marker_hit(self, name: str = "pwned") -> bool:
        """True when a file called ``name`` appeared anywhere in the working folder or /tmp."""
        for root in (self.workdir, Path("/tmp")):
            for p in root.rglob(name):
                if p.exists():
                    return True
        return False


class SandboxEnviron(dict):  # type: ignore[type-arg]
    """os.environ for the answer: a variable it requires (``os.environ["DB_PASSWORD"]``) reads as a placeholder,
    as a deployment would provide it; ``get`` and ``in`` still see only what is really set."""

    def __missing__(self, key: object) -> str:
        if not isinstance(key, str):  # os.get_exec_path probes b"PATH" and expects KeyError
            raise KeyError(key)
        return "sandbox-placeholder"


def _accepts(fn: Any, n: int) -> bool:
    try:
        inspect.signature(fn).bind(*range(n))
        return True
    except (TypeError, ValueError):
        return False


def load_answer(path: str, workdir: Path) -> types.ModuleType:
    """Import the answer as module ``answer`` from a copy in ``workdir``."""
    copy = workdir / "answer.py"
    shutil.copyfile(path, copy)
    spec = importlib.util.spec_from_file_location("answer", copy)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["answer"] = module
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as e:
        top = (e.name or "").split(".")[0]
        raise Missing(top or str(e)) from e
    return module


def _child(check: Any, ctx: Ctx, write_fd: int, kind: str) -> None:
    status, detail = "pass", ""
    try:
        check(ctx)
    except Missing as e:
        status, detail = "missing", str(e)
    except AssertionError as e:
        status, detail = "fail", str(e)[:300] or "assertion failed"
    except SyntaxError as e:
        status, detail = "error", f"SyntaxError: {e.msg} (line {e.lineno})"
    except BaseException as e:  # noqa: BLE001 - anything the answer raises is a result, not a crash
        tb = traceback.extract_tb(e.__traceback__)
        where = f" at line {tb[-1].lineno}" if tb else ""
        status, detail = "error", f"{type(e).__name__}: {str(e)[:200]}{where}"
    os.write(write_fd, json.dumps({"status": status, "detail": detail}).encode())
    os.close(write_fd)


def run_check(name: str, check: Any, cfg: dict[str, Any], stubs: dict[str, types.ModuleType]) -> dict[str, Any]:
    """Run one check in a forked child with its own working folder and an alarm."""
    workdir = Path(f"/tmp/check-{name}")
    workdir.mkdir(parents=True, exist_ok=True)
    read_fd, write_fd = os.pipe()
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:  # child
        os.close(read_fd)
        os.chdir(workdir)
        os.environ["HOME"] = str(workdir)
        os.environ = SandboxEnviron(os.environ)  # type: ignore[assignment]
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)  # the answer's prints never mix with the result line
        signal.alarm(int(cfg.get("check_timeout", 5)))
        try:
            _child(check, Ctx(cfg["answer"], workdir, stubs), write_fd, name)
        finally:
            os._exit(0)
    os.close(write_fd)
    chunks = []
    while True:
        try:
            data = os.read(read_fd, 65536)
        except InterruptedError:
            continue
        if not data:
            break
        chunks.append(data)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    seconds = round(time.monotonic() - start, 3)
    try:
        result = json.loads(b"".join(chunks).decode())
    except ValueError:
        if os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGALRM:
            result = {"status": "timeout", "detail": f"over {cfg.get('check_timeout', 5)} s"}
        elif os.WIFSIGNALED(status):
            result = {"status": "error", "detail": f"killed by signal {os.WTERMSIG(status)}"}
        else:
            result = {"status": "error", "detail": f"exited with {os.WEXITSTATUS(status)} before reporting"}
    result["seconds"] = seconds
    shutil.rmtree(workdir, ignore_errors=True)  # the next check starts from a clean /tmp
    return result


def main() -> None:
    cfg = json.loads(Path(sys.argv[1]).read_text())
    real_stdout = os.dup(1)
    os.dup2(2, 1)
    spec = importlib.util.spec_from_file_location("checks", cfg["checks"])
    assert spec is not None and spec.loader is not None
    checks = importlib.util.module_from_spec(spec)
    sys.modules["checks"] = checks
    spec.loader.exec_module(checks)
    missing = []
    for mod in getattr(checks, "NEEDS", ()):
        if importlib.util.find_spec(mod) is None:
            missing.append(mod)
    results: dict[str, Any] = {}
    if not missing:
        stubs: dict[str, types.ModuleType] = {}
        for name, fn in list(vars(checks).items()):
            if name.startswith(("functional_", "security_")) and callable(fn):
                results[name] = run_check(name, fn, cfg, stubs)
    line = json.dumps({"checks": results, "needs_missing": missing})
    os.write(real_stdout, f"{cfg['nonce']} {line}\n".encode())


if __name__ == "__main__":
    main()
