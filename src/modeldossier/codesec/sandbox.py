"""Run untrusted code in a bubblewrap sandbox: no network, read-only system, a private tmpfs, hard limits.

The sandbox is the only place where model-written code ever runs. Without a usable bubblewrap the caller
gets a result with ``ran=False`` and the reason; there is no unsandboxed fallback.

Layout inside the sandbox: the system (``/usr``, ``/lib*``, ``/bin``, a few ``/etc`` files) and the
language runtimes are bound read-only, the caller's files are bound read-only at ``/sandbox``, and a
size-limited tmpfs at ``/tmp`` (also ``$HOME`` and the working directory) is the only writable place.
Every namespace is unshared (network included), the sandbox dies with its parent, runs in its own
session, and as a fresh unprivileged uid when we are root so that the process-count limit holds.
"""

from __future__ import annotations

import contextlib
import os
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

INSIDE = "/sandbox"  # where the caller's files appear, read-only
WORK = "/tmp"  # noqa: S108 - the sandbox's private tmpfs (cwd and $HOME), not the host's /tmp
# When we are root, each run uses its own unprivileged uid from this range (no passwd entry needed): RLIMIT_NPROC
# counts a user's processes machine-wide, so a shared uid such as nobody would let parallel runs starve each other.
SANDBOX_UIDS = range(300_000, 400_000)
_SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
_ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/alternatives", "/etc/localtime",
              "/etc/nsswitch.conf")


@dataclass(frozen=True)
class Limits:
    """Per-run resource limits (all enforced by the kernel except wall time, which the parent enforces)."""

    cpu_seconds: int = 10
    memory_mb: int = 2048  # address space per process (Node reserves a lot of virtual memory up front)
    processes: int = 32  # processes of the sandbox user, sandbox helpers included
    wall_seconds: float = 20.0
    file_mb: int = 16  # largest file any process may write (stdout/stderr included)
    tmpfs_mb: int = 64
    output_bytes: int = 64_000  # kept of stdout and of stderr each


@dataclass(frozen=True)
class RunResult:
    """What happened to one sandboxed command."""

    ran: bool
    exit_code: int | None = None
    signal: int | None = None
    stdout: str = ""
    stderr: str = ""
    timed_out: bool = False
    limit_hit: str | None = None  # wall | cpu | memory | file_size | processes
    seconds: float = 0.0
    truncated: bool = False
    reason: str | None = None  # why it did not run

    def to_json(self) -> dict[str, object]:
        """A JSON-ready summary (output left out)."""
        return {"ran": self.ran, "exit_code": self.exit_code, "signal": self.signal, "timed_out": self.timed_out,
                "limit_hit": self.limit_hit, "seconds": round(self.seconds, 3), "reason": self.reason}


@dataclass(frozen=True)
class Bind:
    """A host path bound read-only at ``dest`` (default: the same path)."""

    source: str
    dest: str | None = None


@dataclass
class Sandbox:
    """A bubblewrap sandbox with fixed limits; ``run`` executes one command in a fresh one."""

    limits: Limits = field(default_factory=Limits)
    bwrap: str | None = None
    binds: tuple[Bind, ...] = ()
    env: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.bwrap is None:
            self.bwrap = shutil.which("bwrap")

    def unusable(self) -> str | None:
        """Why this sandbox cannot run anything here, or None when it can (runs ``true`` inside once)."""
        if not self.bwrap:
            return "bubblewrap (bwrap) is not installed: apt-get install bubblewrap"
        if not sys.platform.startswith("linux"):
            return "the sandbox needs Linux namespaces"
        probe = self.run(["/bin/sh", "-c", "exit 0"], _probe=True)
        if probe.ran and probe.exit_code == 0:
            return None
        detail = (probe.reason or probe.stderr or f"exit {probe.exit_code}").strip().splitlines()
        return "bubblewrap is not usable here (it must create user, network and pid namespaces): " + (
            detail[-1][:200] if detail else "unknown error")

    def command(self, argv: Sequence[str], staged: str | None) -> list[str]:
        """The bwrap command line for ``argv`` (``staged``: host folder shown read-only at /sandbox)."""
        assert self.bwrap is not None
        cmd = [self.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
               "--clearenv"]
        for d in _SYSTEM_DIRS:
            p = Path(d)
            if p.is_symlink():
                cmd += ["--symlink", os.readlink(p), d]
            elif p.is_dir():
                cmd += ["--ro-bind", d, d]
        for f in _ETC_FILES:
            if os.path.exists(f):
                cmd += ["--ro-bind", f, f]
        for b in self.binds:
            cmd += ["--ro-bind", b.source, b.dest or b.source]
        cmd += ["--proc", "/proc", "--dev", "/dev",
                "--size", str(self.limits.tmpfs_mb * 1024 * 1024), "--tmpfs", WORK]
        if staged:
            cmd += ["--ro-bind", staged, INSIDE]
        cmd += ["--remount-ro", "/"]  # bwrap's own root is a tmpfs: make it read-only too
        env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": WORK, "TMPDIR": WORK, "LANG": "C.UTF-8",
               "PYTHONDONTWRITEBYTECODE": "1", "PYTHONHASHSEED": "0", **self.env}
        for key, value in env.items():
            cmd += ["--setenv", key, value]
        cmd += ["--chdir", WORK, "--", *argv]
        return cmd

    def run(self, argv: Sequence[str], *, files: Mapping[str, str | bytes] | None = None,
            stdin: bytes | None = None, _probe: bool = False) -> RunResult:
        """Run ``argv`` with ``files`` visible read-only under /sandbox; never raises for what the code does."""
        if not self.bwrap:
            return RunResult(ran=False, reason="bubblewrap (bwrap) is not installed")
        lim = self.limits
        with tempfile.TemporaryDirectory(prefix="dossier-sandbox-") as tmp:
            staged = Path(tmp) / "in"
            staged.mkdir()
            for name, content in (files or {}).items():
                target = staged / name
                if target.resolve().parent != staged.resolve() and staged.resolve() not in target.resolve().parents:
                    return RunResult(ran=False, reason=f"bad staged file name {name!r}")
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(content.encode() if isinstance(content, str) else content)
            for p in [Path(tmp), *staged.rglob("*")]:
                p.chmod(0o755 if p.is_dir() or p.parent.name == "bin" else 0o644)
            staged.chmod(0o755)
            out_path, err_path = Path(tmp) / "stdout", Path(tmp) / "stderr"
            start = time.monotonic()
            timed_out = False
            try:
                with open(out_path, "wb") as out, open(err_path, "wb") as err:
                    proc = subprocess.Popen(
                        self.command(argv, str(staged)), stdin=subprocess.PIPE if stdin is not None else
                        subprocess.DEVNULL, stdout=out, stderr=err, close_fds=True, start_new_session=True,
                        preexec_fn=_limiter(lim, _drop_privileges()), **_user_args())
                    try:
                        proc.communicate(input=stdin, timeout=lim.wall_seconds)
                    except subprocess.TimeoutExpired:
                        timed_out = True
                        _kill_group(proc)
                        proc.wait()
            except OSError as e:
                return RunResult(ran=False, reason=f"could not start bubblewrap: {e}")
            seconds = time.monotonic() - start
            stdout, t1 = _read_bounded(out_path, lim.output_bytes)
            stderr, t2 = _read_bounded(err_path, lim.output_bytes)
        code = proc.returncode
        sig = -code if code is not None and code < 0 else (code - 128 if code is not None and code > 128 else None)
        if sig is not None and sig not in signal.valid_signals():
            sig = None
        if not _probe and _bwrap_failed(stderr, code):
            return RunResult(ran=False, stdout="", stderr=stderr, seconds=seconds,
                             reason="bubblewrap failed: " + stderr.strip().splitlines()[-1][:200])
        return RunResult(ran=True, exit_code=None if timed_out else code, signal=sig, stdout=stdout,
                         stderr=stderr, timed_out=timed_out, limit_hit=_limit_hit(timed_out, sig, stderr),
                         seconds=seconds, truncated=t1 or t2)


def _drop_privileges() -> bool:
    return os.geteuid() == 0


def _user_args() -> dict[str, object]:
    """Run bwrap as a fresh unprivileged uid when we are root: the process limit never binds root."""
    if os.geteuid() == 0:
        uid = SANDBOX_UIDS[secrets.randbelow(len(SANDBOX_UIDS))]
        return {"user": uid, "group": uid, "extra_groups": []}
    return {}


def _user_process_count() -> int:
    uid = os.getuid()
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                continue
    return count


def _limiter(lim: Limits, own_uid: bool) -> Callable[[], None]:
    """A preexec function that sets the kernel limits for bwrap and everything it starts."""
    # RLIMIT_NPROC counts every process of the real user: as ourselves, leave room for what already runs.
    nproc = lim.processes if own_uid else _user_process_count() + lim.processes
    memory = lim.memory_mb * 1024 * 1024
    fsize = lim.file_mb * 1024 * 1024

    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_CPU, (lim.cpu_seconds, lim.cpu_seconds + 1))
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
        resource.setrlimit(resource.RLIMIT_NPROC, (nproc, nproc))
        resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))

    return apply


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    """Kill bwrap's process group; the sandbox's own pid namespace dies with it (--die-with-parent)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(OSError):
        proc.kill()


def _read_bounded(path: Path, limit: int) -> tuple[str, bool]:
    with open(path, "rb") as f:
        data = f.read(limit + 1)
    return data[:limit].decode("utf-8", "replace"), len(data) > limit


def _bwrap_failed(stderr: str, code: int | None) -> bool:
    """bwrap itself failed (it prints ``bwrap: ...`` and exits 1) before the command started."""
    lines = stderr.strip().splitlines()
    return code == 1 and bool(lines) and lines[-1].startswith("bwrap: ")


def _limit_hit(timed_out: bool, sig: int | None, stderr: str) -> str | None:
    if timed_out:
        return "wall"
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and "CPU time" in stderr):
        return "cpu"
    if sig == signal.SIGXFSZ:
        return "file_size"
    low = stderr.lower()
    if "file too large" in low:
        return "file_size"
    if "memoryerror" in low or "out of memory" in low or "cannot allocate memory" in low:
        return "memory"
    if "resource temporarily unavailable" in low or "blockingioerror" in low or "eagain" in low:
        return "processes"
    return None


def python_binds() -> tuple[tuple[Bind, ...], str, str | None]:
    """(binds, interpreter path inside, site-packages inside or None) for the running Python.

    The interpreter's prefix is bound read-only when it lives outside /usr; the environment's
    site-packages (for Flask and friends) is bound read-only at /sandbox-site.
    """
    exe = str(Path(sys.executable).resolve())
    binds: list[Bind] = []
    prefix = str(Path(sys.base_prefix).resolve())
    if not prefix.startswith("/usr"):
        binds.append(Bind(prefix))
    site = sysconfig.get_paths()["purelib"]
    site_inside = None
    if os.path.isdir(site) and Path(site).resolve() != Path(prefix):
        binds.append(Bind(site, "/sandbox-site"))
        site_inside = "/sandbox-site"
    return tuple(binds), exe, site_inside


def node_binds() -> tuple[tuple[Bind, ...], str | None]:
    """(binds, node path inside) for the Node runtime on PATH, or ((), None) when there is none."""
    node = shutil.which("node")
    if not node:
        return (), None
    real = Path(node).resolve()
    prefix = real.parent.parent
    binds = () if str(real).startswith("/usr/") else (Bind(str(prefix)),)
    return binds, str(real)
