"""Walk files, folders and archives; sniff each file's format by content; dispatch to its checker.

Format checkers live in ``modeldossier.artifacts.<module>`` and expose
``scan(stream: BinaryIO, name: str, size: int) -> list[Finding]`` (stream seekable and at 0, ``name`` the display
path). They are imported lazily from ``CHECKERS``; a missing one yields an ``info`` finding, never a crash.
Containers (zip, tar, 7z, compressed streams, npy) and the pickle family are handled here and in
``containers`` / ``pickle_scan`` because they recurse into the scanner.
"""

from __future__ import annotations

import hashlib
import importlib
import io
import lzma
import os
import signal
import stat
import tarfile
import threading
import time
import zipfile
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from modeldossier import __version__
from modeldossier.artifacts import config_check, containers, names, pickle_scan, sniff
from modeldossier.artifacts.allowlist import Allowlist, load_allowlist
from modeldossier.artifacts.links import LinkVerdict, judge_link
from modeldossier.artifacts.models import ArtifactsSection, FileReport, Finding
from modeldossier.common import Severity

CHECKERS: dict[str, str] = {
    "safetensors": "modeldossier.artifacts.safetensors_check",
    "gguf": "modeldossier.artifacts.gguf_check",
    "onnx": "modeldossier.artifacts.onnx_check",
    "keras-zip": "modeldossier.artifacts.keras_check",
    "hdf5": "modeldossier.artifacts.keras_check",
    "python-source": "modeldossier.artifacts.code_check",
    "hf-config": "modeldossier.artifacts.code_check",
    "chat-template": "modeldossier.artifacts.code_check",
}
PASSIVE_FORMATS = frozenset({"json", "text", "binary", "empty"})
CONFIG_FORMATS = frozenset({"json", "text", "hf-config"})  # may hold `_target_` instantiation configs
SKIP_DIRS = frozenset({".git", ".cache", "__pycache__"})
TORCHSCRIPT_PREFIXES = ("__torch__",)
Progress = Callable[[str, int], None]


@dataclass(frozen=True)
class ScanLimits:
    """Bounds that keep a scan finite on hostile input."""

    seconds_per_file: float = 120.0
    max_depth: int = 4
    max_member_bytes: int = 16 * 1024**3
    max_total_bytes: int = 64 * 1024**3
    max_ratio: float = 200.0
    max_members: int = 100_000
    max_embedded: int = 64


class _Timeout(Exception):
    pass


class _Context:
    """State of one top-level file's scan: its reports, its deadline, its limits."""

    def __init__(self, limits: ScanLimits, allowlist: Allowlist) -> None:
        self.limits = limits
        self.allowlist = allowlist
        self.max_depth = limits.max_depth
        self.max_member_bytes = limits.max_member_bytes
        self.max_total_bytes = limits.max_total_bytes
        self.max_ratio = limits.max_ratio
        self.max_members = limits.max_members
        self.reports: list[FileReport] = []
        self.deadline = time.monotonic() + limits.seconds_per_file
        self.embedded_count = 0
        self._parents: list[str] = []

    def check_time(self) -> None:
        if time.monotonic() > self.deadline:
            raise _Timeout(f"per-file time limit of {self.limits.seconds_per_file:.0f} s reached")

    def embedded(self, depth: int) -> pickle_scan.EmbeddedHandler:
        def handle(raw: bytes, where: str) -> list[Finding]:
            if self.embedded_count >= self.limits.max_embedded or depth + 1 > self.max_depth:
                return []
            self.embedded_count += 1
            kind = sniff.sniff_bytes(raw)
            if kind in PASSIVE_FORMATS:
                return []
            self.scan_member(io.BytesIO(raw), where, len(raw), depth + 1)
            file = where.split(" @ ", 1)[0]
            return [Finding(rule_id="pickle.embedded_artifact", severity=Severity.LOW,
                            message=f"a bytes constant holds a {kind} file; scanned as its own entry",
                            file=file, location=where.split(" @ ", 1)[-1], evidence=f"{len(raw)} bytes, {kind}")]
        return handle

    def scan_member(self, stream: BinaryIO, name: str, size: int, depth: int, *, hint: str | None = None) -> None:
        report = FileReport(path=name, format="unknown", size=size,
                            member_of=self._parents[-1] if self._parents else None)
        self.reports.append(report)
        if depth > 0:  # an archive member: its own name (a top-level file's name is checked by the walk)
            odd = names.check_name(name.rsplit("!", 1)[-1], name, what="archive member name")
            if odd is not None:
                report.findings.append(odd)
        started = time.perf_counter()
        if depth > self.max_depth:
            report.findings.append(Finding(
                rule_id="archive.too_deep", severity=Severity.MEDIUM, file=name,
                message=f"nested more than {self.max_depth} archives deep; not scanned"))
            return
        self._parents.append(name)
        try:
            report.format = hint or sniff.sniff(stream, size, name)
            stream.seek(0)
            report.findings.extend(self.dispatch(report.format, stream, name, size, depth))
        except _Timeout as exc:
            report.errors.append(str(exc))
            report.findings.append(Finding(rule_id="scan.timeout", severity=Severity.MEDIUM, file=name,
                                           message=f"{exc}; the rest of this file was not checked"))
        except (EOFError, zlib.error, zipfile.BadZipFile, lzma.LZMAError, tarfile.TarError, OSError) as exc:
            report.findings.append(Finding(rule_id="malformed.stream", severity=Severity.MEDIUM, file=name,
                                           message=f"data cannot be read to the end ({type(exc).__name__}: "
                                                   f"{str(exc)[:160]}); not verified"))
        except RecursionError:
            report.errors.append("structure nests too deeply")
            report.findings.append(Finding(rule_id="scan.recursion", severity=Severity.MEDIUM, file=name,
                                           message="structure nests too deeply to check"))
        except MemoryError:
            report.errors.append("out of memory")
            report.findings.append(Finding(rule_id="scan.memory", severity=Severity.MEDIUM, file=name,
                                           message="ran out of memory while checking this file"))
        except Exception as exc:  # noqa: BLE001 - a checker bug must not stop the scan of other files
            report.errors.append(f"{type(exc).__name__}: {exc}")
            report.findings.append(Finding(
                rule_id="scan.checker_error", severity=Severity.MEDIUM, file=name,
                message=f"the {report.format} checker failed ({type(exc).__name__}: {str(exc)[:200]}); "
                        "this file is not verified"))
        finally:
            self._parents.pop()
            report.seconds = round(time.perf_counter() - started, 6)

    def dispatch(self, kind: str, stream: BinaryIO, name: str, size: int, depth: int) -> list[Finding]:
        if kind in ("pickle", "joblib", "torch-legacy", "torchscript-pickle"):
            result = pickle_scan.scan_pickle(
                stream, name, size, allowlist=self.allowlist, embedded=self.embedded(depth),
                max_streams=5 if kind == "torch-legacy" else pickle_scan.MAX_STREAMS, depth=depth,
                deadline=self.deadline, safe_prefixes=TORCHSCRIPT_PREFIXES if kind == "torchscript-pickle" else (),
            )
            return result.findings
        if kind in ("zip", "torch-zip", "torchscript", "npz"):
            return containers.scan_zip(self, stream, name, size, depth, kind)
        if kind == "keras-zip":
            found = _external("keras-zip", stream, name, size)
            stream.seek(0)
            return found + containers.scan_zip(self, stream, name, size, depth, kind)
        if kind == "tar":
            return containers.scan_tar(self, stream, name, size, depth)
        if kind == "7z":
            return containers.scan_7z(self, stream, name, size, depth)
        if kind in ("gzip", "bzip2", "xz", "zlib"):
            return containers.scan_compressed(self, stream, name, size, depth, kind)
        if kind == "npy":
            return containers.scan_npy(self, stream, name, size, depth)
        if kind == "empty":
            return _empty(name)
        found = [] if kind in PASSIVE_FORMATS else _external(kind, stream, name, size)
        if kind in CONFIG_FORMATS and size <= config_check.MAX_CONFIG_BYTES:
            stream.seek(0)
            found.extend(config_check.check_text(stream.read(config_check.MAX_CONFIG_BYTES + 1), name,
                                                 allowlist=self.allowlist))
        return found


# names a loader treats as model weights or a serialized model
MODEL_SUFFIXES = frozenset({".safetensors", ".gguf", ".ggml", ".onnx", ".bin", ".pt", ".pth", ".ckpt", ".pkl",
                            ".pickle", ".joblib", ".h5", ".hdf5", ".keras", ".npy", ".npz", ".nemo", ".tflite",
                            ".pb", ".msgpack", ".mlmodel", ".llamafile", ".model", ".mar", ".torchscript"})


def _empty(name: str) -> list[Finding]:
    """A 0-byte file named like a model: nothing to load, so the folder is not what it claims to be."""
    suffix = os.path.splitext(name.rsplit("!", 1)[-1])[1].lower()
    if suffix not in MODEL_SUFFIXES:
        return []
    return [Finding(rule_id="file.empty_model", severity=Severity.LOW, file=name,
                    message="empty model file (0 bytes): a loader fails or silently falls back to another file",
                    evidence=suffix)]


def _external(kind: str, stream: BinaryIO, name: str, size: int) -> list[Finding]:
    """Run a format checker module by its registry name; info finding when this build lacks it."""
    module_name = CHECKERS.get(kind)
    checker = None
    if module_name:
        try:
            checker = getattr(importlib.import_module(module_name), "scan", None)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
    if checker is None:
        return [Finding(rule_id="scanner.unsupported_format", severity=Severity.INFO, file=name,
                        message=f"no checker for {kind} files in this build; content not verified",
                        evidence=kind)]
    stream.seek(0)
    return list(checker(stream, name, size))


def _hf_repo_folder(root: str) -> str | None:
    """The Hugging Face cache repo folder (``models--org--name``) that holds ``root``, lexically."""
    path = PurePosixPath(root)
    for parent in [path, *path.parents]:
        if parent.name.startswith(("models--", "datasets--")):
            return str(parent)
    return None


def _link_finding(path: Path, display: str, link: str, verdict: LinkVerdict) -> Finding:
    if verdict.secret:
        return Finding(rule_id="fs.symlink.secret", severity=Severity.CRITICAL, file=display,
                       message="symlink points at a credential or system file: a loader that reads it leaks that "
                               "file (judged by where it points, whether or not the file exists here); not followed",
                       evidence=f"-> {link}")
    return Finding(rule_id="fs.symlink.escape", severity=Severity.HIGH, file=display,
                   message="symlink points outside the scanned folder (a loader would read that file, whether or "
                           "not it exists on this machine); not followed", evidence=f"-> {link}")


def iter_files(root: Path) -> Iterator[tuple[Path, str, Finding | None]]:
    """(path to read, display name, finding) for every regular file under ``root``. A symlink is judged by where
    it points relative to the scanned root (never by whether its target exists on this machine) and is never
    followed out of the root (except into the Hugging Face cache blobs of the same repo); loops are reported."""
    root = Path(root)
    if not root.is_dir():
        if root.exists() and not root.is_file():
            yield root, str(root), Finding(
                rule_id="fs.special_file", severity=Severity.MEDIUM, file=str(root),
                message="not a regular file (FIFO, socket or device); not read")
            return
        if root.is_symlink():
            link = os.readlink(root)
            verdict = judge_link(link, os.path.dirname(os.path.abspath(root)), ())
            if verdict.secret:
                yield root, str(root), _link_finding(root, str(root), link, verdict)
                return
        yield root, str(root), None
        return
    abs_root = os.path.abspath(root)
    real_root = str(root.resolve())
    roots = tuple({abs_root, real_root, *filter(None, [_hf_repo_folder(abs_root), _hf_repo_folder(real_root)])})
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for dname in dirnames:
            dpath = Path(dirpath) / dname
            if dpath.is_symlink():
                link = os.readlink(dpath)
                verdict = judge_link(link, os.path.abspath(dirpath), roots)
                if verdict.secret or not verdict.inside:
                    yield dpath, str(dpath), _link_finding(dpath, str(dpath), link, verdict)
                else:
                    yield dpath, str(dpath), Finding(
                        rule_id="fs.symlink.directory", severity=Severity.INFO, file=str(dpath),
                        message="directory symlink not followed", evidence=f"-> {link}")
        for fname in sorted(filenames):
            path = Path(dirpath) / fname
            display = str(path)
            try:
                info = path.lstat()
            except OSError as exc:
                yield path, display, Finding(rule_id="scan.unreadable", severity=Severity.MEDIUM, file=display,
                                             message=f"cannot stat: {exc.strerror or exc}")
                continue
            if stat.S_ISLNK(info.st_mode):
                yield from _walk_link(path, display, os.path.abspath(dirpath), roots, abs_root)
            elif stat.S_ISREG(info.st_mode):
                yield path, display, None
            else:
                yield path, display, Finding(rule_id="fs.special_file", severity=Severity.MEDIUM, file=display,
                                             message="FIFO, socket or device file in a model folder; not read")


def _walk_link(path: Path, display: str, link_dir: str, roots: tuple[str, ...],
               abs_root: str) -> Iterator[tuple[Path, str, Finding | None]]:
    """One file symlink: judged by its text first; only a link that stays inside is looked at on disk."""
    link = os.readlink(path)
    verdict = judge_link(link, link_dir, roots)
    if not verdict.inside:
        yield path, display, _link_finding(path, display, link, verdict)
        return
    try:
        target = path.resolve(strict=True)
    except (OSError, RuntimeError) as exc:
        yield path, display, Finding(
            rule_id="fs.symlink.broken", severity=Severity.LOW, file=display,
            message=f"symlink inside the folder is broken or loops ({type(exc).__name__}); not followed",
            evidence=f"-> {link}")
        return
    if not target.is_file():
        yield path, display, Finding(rule_id="fs.symlink.special", severity=Severity.MEDIUM, file=display,
                                     message="symlink to a non-regular file; not followed", evidence=f"-> {link}")
        return
    resolved = judge_link(str(target), link_dir, roots)
    if not resolved.inside:  # a chain of links that leaves the folder through another link
        yield path, display, _link_finding(path, display, f"{link} (resolves to {target})", resolved)
        return
    if verdict.lexical == abs_root or verdict.lexical.startswith(abs_root.rstrip("/") + "/") or \
            str(target).startswith(str(Path(abs_root).resolve()).rstrip("/") + "/"):
        return  # the target is scanned under its own name
    yield target, display, None


def sha256_stream(stream: BinaryIO) -> str:
    """Hex sha256 of a stream from its start, with one reused 4 MiB buffer."""
    digest = hashlib.sha256()
    buffer = bytearray(4 * 1024 * 1024)
    view = memoryview(buffer)
    stream.seek(0)
    while n := stream.readinto(view):
        digest.update(view[:n])
    return digest.hexdigest()


@contextmanager
def _hard_deadline(seconds: float) -> Iterator[None]:
    """Backstop for checkers that do not poll the deadline: in the main thread, an alarm raises the scanner's
    timeout inside the running checker (the innermost member scan records it). Elsewhere, nothing."""
    usable = hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def expire(signum, frame):  # noqa: ARG001 - signal handler signature
        raise _Timeout(f"hard time limit of {seconds:.0f} s reached")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def scan_file(path: Path, display: str, *, limits: ScanLimits, allowlist: Allowlist,
              hash_files: bool = False) -> list[FileReport]:
    """Reports for one top-level file and everything nested in it."""
    ctx = _Context(limits, allowlist)
    try:
        size = path.stat().st_size
        with open(path, "rb") as handle, _hard_deadline(limits.seconds_per_file + 5.0):
            ctx.scan_member(handle, display, size, 0)
        if hash_files and ctx.reports:
            with open(path, "rb") as handle:
                ctx.reports[0].sha256 = sha256_stream(handle)
    except OSError as exc:
        report = FileReport(path=display, format="unknown", errors=[str(exc.strerror or exc)])
        report.findings.append(Finding(rule_id="scan.unreadable", severity=Severity.MEDIUM, file=display,
                                       message=f"cannot read: {exc.strerror or exc}"))
        return [report]
    return ctx.reports


def scan_section(paths: list[Path], *, quiet: bool = False, hash_files: bool = False,
                 progress: Progress | None = None, limits: ScanLimits | None = None) -> ArtifactsSection:
    """Scan files and folders into the dossier's ``artifacts`` section. Prints nothing (``quiet`` is accepted for
    the pipeline contract; pass ``progress`` to be told of each file)."""
    del quiet
    limits = limits or ScanLimits()
    allowlist = load_allowlist()
    started = time.perf_counter()
    section = ArtifactsSection(allowlist_version=allowlist.version, scanner_version=__version__)
    total = 0
    for root in paths:
        root = Path(root)
        for path, display, note in iter_files(root):
            odd = names.check_name(_below(display, root), display)
            if note is not None:
                kind = "symlink" if "symlink" in note.rule_id else "unknown"
                section.files.append(FileReport(path=display, format=kind, findings=[note, *filter(None, [odd])]))
                continue
            reports = scan_file(path, display, limits=limits, allowlist=allowlist, hash_files=hash_files)
            if odd is not None and reports:
                reports[0].findings.insert(0, odd)
            if reports and reports[0].format == "onnx":  # external-data files that are links out of the folder
                from modeldossier.artifacts.onnx_check import linked_external_data

                reports[0].findings.extend(linked_external_data(path, display))
            section.files.extend(reports)
            size = reports[0].size if reports else 0
            total += size
            if progress is not None:
                progress(display, size)
    section.bytes_scanned = total
    section.seconds = round(time.perf_counter() - started, 3)
    counts = Counter(f.severity.value for f in section.findings)
    section.counts = {s.value: counts.get(s.value, 0) for s in Severity}
    if any(r.errors for r in section.files):
        section.status = "partial"
        section.notes.append("some files could not be fully checked: see each file's errors")
    section.notes.append(
        f"limits: {limits.seconds_per_file:.0f} s per file, archive depth {limits.max_depth}, "
        f"expansion ratio {limits.max_ratio:.0f}x, {limits.max_member_bytes // 1024**3} GiB per member"
    )
    return section


def _below(display: str, root: Path) -> str:
    """The part of a walked path below the scanned root (the whole name for a file given directly)."""
    prefix = str(root).rstrip(os.sep) + os.sep
    return display[len(prefix):] if display.startswith(prefix) else os.path.basename(display)


def data_file_paths() -> list[tuple[Path, str]]:
    """Versioned data files a scan depends on (for the run record)."""
    allowlist = load_allowlist()
    return [(allowlist.path, allowlist.version)]
