"""Containers: zip (torch, TorchScript, npz, .keras), tar, 7z, gzip/bz2/xz/zlib, numpy .npy, legacy torch, joblib.

Each handler reports what is wrong with the container itself (traversal, bombs, CRC and flag tricks, duplicate
names, links) and hands every member to the scanner, which sniffs it and dispatches it again. Nothing is
extracted to a path a member names, and nothing is loaded.
"""

from __future__ import annotations

import ast
import bz2
import gzip
import io
import lzma
import re
import struct
import tarfile
import tempfile
import zipfile
import zlib
from collections import Counter
from pathlib import Path, PurePosixPath
from typing import BinaryIO, Protocol

from modeldossier.artifacts import pickle_scan
from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

_TORCH_DATA_MEMBER = re.compile(r"(^|/)data/\d+$")
TENSOR_CRC_BYTES = 256 * 1024 * 1024  # tensor bytes per archive whose CRC is verified (about 0.2 s)
_CHUNK = 1 << 20


class Context(Protocol):
    """What a container handler needs from the scanner."""

    max_depth: int
    max_member_bytes: int
    max_total_bytes: int
    max_ratio: float
    max_members: int

    def scan_member(self, stream: BinaryIO, name: str, size: int, depth: int, *, hint: str | None = None) -> None:
        """Sniff and scan one member (adds its own FileReport)."""

    def check_time(self) -> None:
        """Raise when the per-file time limit is spent."""

    def embedded(self, depth: int) -> pickle_scan.EmbeddedHandler:
        """A handler for artifacts embedded in pickle bytes constants."""


def _finding(rule: str, severity: Severity, message: str, file: str, location: str | None = None,
             evidence: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=severity, message=message, file=file, location=location, evidence=evidence)


def unsafe_member_name(name: str) -> str | None:
    """Why an archive member name could write outside the extraction folder, or None when it is safe."""
    if "\x00" in name:
        return "contains a NUL byte"
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "is an absolute path"
    if ".." in PurePosixPath(norm).parts:
        return "climbs out with '..'"
    return None


# --- zip ---------------------------------------------------------------------------------------------------------

def scan_zip(ctx: Context, stream: BinaryIO, name: str, size: int, depth: int, kind: str) -> list[Finding]:
    """A zip archive: structure findings, then every member (torch storages data/N are skipped, never unpickled)."""
    findings: list[Finding] = []
    try:
        archive = zipfile.ZipFile(stream)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError) as exc:
        return [_finding("malformed.zip", Severity.MEDIUM, f"not a readable zip archive: {exc}", name)]
    with archive:
        infos = archive.infolist()
        if len(infos) > ctx.max_members:
            findings.append(_finding("archive.too_many_members", Severity.MEDIUM,
                                     f"{len(infos)} members; only the first {ctx.max_members} are scanned", name))
            infos = infos[: ctx.max_members]
        counts = Counter(i.filename for i in infos)
        for dup, n in counts.items():
            if n > 1:
                findings.append(_finding("zip.duplicate_name", Severity.HIGH,
                                         f"member name appears {n} times; loaders disagree on which copy they read",
                                         name, f"member {dup}", dup))
        total = 0
        crc_budget = TENSOR_CRC_BYTES
        for info in infos:
            ctx.check_time()
            member = info.filename
            where = f"member {member}"
            why = unsafe_member_name(member)
            if why:
                findings.append(_finding("archive.path_traversal", Severity.HIGH,
                                         f"member name {why}; extracting it writes outside the target folder",
                                         name, where, member))
            if info.filename.endswith("/"):
                continue
            if info.flag_bits & 0x1:
                findings.append(_finding("zip.flag.encrypted", Severity.HIGH,
                                         "member is flagged as encrypted: zip-based scanners skip it while loaders "
                                         "such as torch ignore the flag; scanned with the flag cleared",
                                         name, where, f"flag_bits=0x{info.flag_bits:04x}"))
            if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED, zipfile.ZIP_BZIP2,
                                          zipfile.ZIP_LZMA):
                findings.append(_finding("zip.compression.unsupported", Severity.MEDIUM,
                                         f"compression method {info.compress_type} cannot be read; not scanned",
                                         name, where))
                continue
            if kind in ("torch-zip", "torchscript") and _TORCH_DATA_MEMBER.search(member):
                if info.file_size <= crc_budget:  # raw tensor storage: never unpickled, only its CRC is checked
                    crc_budget -= info.file_size
                    findings.extend(_tensor_crc(archive, info, name))
                continue
            ratio = info.file_size / max(info.compress_size, 1)
            if info.file_size > ctx.max_member_bytes or (ratio > ctx.max_ratio and info.file_size > 10 * _CHUNK):
                findings.append(_finding("archive.bomb", Severity.HIGH,
                                         f"member expands to {info.file_size} bytes ({ratio:.0f}x); not scanned",
                                         name, where, f"compressed {info.compress_size} bytes"))
                continue
            total += info.file_size
            if total > ctx.max_total_bytes:
                findings.append(_finding("archive.bomb", Severity.HIGH,
                                         f"archive expands beyond {ctx.max_total_bytes} bytes; rest not scanned",
                                         name, where))
                break
            findings.extend(_zip_member(ctx, archive, info, name, depth, kind))
    return findings


def _zip_member(ctx: Context, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, depth: int,
                kind: str) -> list[Finding]:
    findings: list[Finding] = []
    where = f"member {info.filename}"
    opened = info
    if info.flag_bits & 0x1:
        opened = zipfile.ZipInfo(info.filename)
        for attr in ("compress_type", "compress_size", "file_size", "header_offset", "CRC", "flag_bits",
                     "extra", "date_time"):
            setattr(opened, attr, getattr(info, attr))
        opened.flag_bits = info.flag_bits & ~0x1
    try:
        handle = archive.open(opened)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError) as exc:
        return _raw_fallback(ctx, archive, info, name, depth, str(exc))
    with handle:
        handle._expected_crc = None  # torch ignores CRCs; we check them ourselves below, without aborting
        display = f"{name}!{info.filename}"
        hint = "torchscript-pickle" if kind == "torchscript" and info.filename.endswith(".pkl") else None
        if info.file_size <= 64 * _CHUNK:
            crc = _crc_of(handle)
            if crc is not None and crc != info.CRC:
                findings.append(_finding("zip.crc_mismatch", Severity.MEDIUM,
                                         "stored CRC does not match the data: strict readers (and scanners) fail "
                                         "here while torch loads it anyway", name, where,
                                         f"stored {info.CRC:08x}, actual {crc:08x}"))
            handle.seek(0)
        ctx.scan_member(handle, display, info.file_size, depth + 1, hint=hint)
    return findings


_RAW_LIMIT = 256 * _CHUNK


def _tensor_crc(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str) -> list[Finding]:
    """Info finding when a tensor storage's CRC is wrong: torch loads it anyway (not blocking), but the data is
    not what was written (damage, or bytes edited after saving)."""
    try:
        with archive.open(info) as handle:
            handle._expected_crc = None  # type: ignore[attr-defined] - compare ourselves instead of raising
            crc = _crc_of(handle)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, NotImplementedError, RuntimeError):
        return []
    if crc is None or crc == info.CRC:
        return []
    return [_finding("zip.crc_mismatch.tensor", Severity.INFO,
                     "tensor storage's stored CRC does not match its bytes: torch loads it anyway, but the weights "
                     "were damaged or edited after saving", name, f"member {info.filename}",
                     f"stored {info.CRC:08x}, actual {crc:08x}")]


def _raw_fallback(ctx: Context, archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, depth: int,
                  why: str) -> list[Finding]:
    """Read a member the way lenient loaders do (from its local header, ignoring the name and flag checks that
    make zipfile refuse it), so a header trick cannot hide its content."""
    where = f"member {info.filename}"
    found = [_finding("zip.member.unreadable", Severity.MEDIUM, f"zipfile refuses this member: {why}", name, where)]
    stream = archive.fp
    if stream is None or info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
        return found
    try:
        stream.seek(info.header_offset)
        header = stream.read(30)
        if len(header) < 30 or header[:4] != b"PK\x03\x04":
            return found
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        local_name = stream.read(name_len).decode("utf-8", "replace")
        stream.seek(info.header_offset + 30 + name_len + extra_len)
        raw = stream.read(min(info.compress_size, _RAW_LIMIT))
        data = raw if info.compress_type == zipfile.ZIP_STORED else zlib.decompressobj(-15).decompress(raw, _RAW_LIMIT)
    except (OSError, zlib.error, ValueError) as exc:
        found.append(_finding("zip.member.unreadable", Severity.MEDIUM, f"raw read failed too: {exc}", name, where))
        return found
    if local_name != info.filename:
        found.append(_finding("zip.header_mismatch", Severity.HIGH,
                              "local header names a different file than the central directory: strict readers "
                              "refuse it, lenient loaders read it; scanned from the local header",
                              name, where, f"central {info.filename!r} vs local {local_name!r}"))
    ctx.scan_member(io.BytesIO(data), f"{name}!{info.filename}", len(data), depth + 1)
    return found


def _crc_of(handle: BinaryIO) -> int | None:
    crc = 0
    try:
        while block := handle.read(_CHUNK):
            crc = zlib.crc32(block, crc)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, lzma.LZMAError, ValueError):
        return None
    return crc


# --- tar ---------------------------------------------------------------------------------------------------------

def scan_tar(ctx: Context, stream: BinaryIO, name: str, size: int, depth: int) -> list[Finding]:
    """A tar archive: traversal, links and device members as findings; regular members scanned."""
    findings: list[Finding] = []
    try:
        archive = tarfile.open(fileobj=stream, mode="r:")  # noqa: SIM115 - closed below
    except (tarfile.TarError, OSError, ValueError, EOFError) as exc:
        return [_finding("malformed.tar", Severity.MEDIUM, f"not a readable tar archive: {exc}", name)]
    total = 0
    count = 0
    try:
        for member in archive:
            ctx.check_time()
            count += 1
            if count > ctx.max_members:
                findings.append(_finding("archive.too_many_members", Severity.MEDIUM,
                                         f"more than {ctx.max_members} members; the rest is not scanned", name))
                break
            where = f"member {member.name}"
            why = unsafe_member_name(member.name)
            if why:
                findings.append(_finding("archive.path_traversal", Severity.HIGH,
                                         f"member name {why}; extracting it writes outside the target folder",
                                         name, where, member.name))
            if member.issym() or member.islnk():
                target = member.linkname
                bad = unsafe_member_name(target) if member.issym() else None
                if member.issym() and target and not bad:
                    joined = PurePosixPath(member.name).parent / target
                    bad = "climbs out with '..'" if _escapes(joined) else None
                findings.append(_finding(
                    "archive.link", Severity.HIGH if bad else Severity.LOW,
                    f"{'symbolic' if member.issym() else 'hard'} link to {target!r}"
                    + (f" which {bad}" if bad else ""), name, where, f"{member.name} -> {target}"))
                continue
            if member.ischr() or member.isblk() or member.isfifo():
                findings.append(_finding("archive.device", Severity.MEDIUM, "device or FIFO member", name, where))
                continue
            if not member.isfile():
                continue
            if member.size > ctx.max_member_bytes:
                findings.append(_finding("archive.bomb", Severity.HIGH,
                                         f"member of {member.size} bytes exceeds the scan limit; not scanned",
                                         name, where))
                continue
            total += member.size
            if total > ctx.max_total_bytes:
                findings.append(_finding("archive.bomb", Severity.HIGH,
                                         f"archive holds more than {ctx.max_total_bytes} bytes; rest not scanned",
                                         name, where))
                break
            handle = archive.extractfile(member)
            if handle is not None:
                with handle:
                    ctx.scan_member(handle, f"{name}!{member.name}", member.size, depth + 1)
    except (tarfile.TarError, OSError, EOFError, ValueError) as exc:
        findings.append(_finding("malformed.tar", Severity.MEDIUM, f"tar archive is damaged: {exc}", name))
    finally:
        archive.close()
    return findings


def _escapes(path: PurePosixPath) -> bool:
    depth = 0
    for part in path.parts:
        if part == "..":
            depth -= 1
            if depth < 0:
                return True
        elif part not in (".", ""):
            depth += 1
    return False


# --- compressed streams ----------------------------------------------------------------------------------------

_OPENERS = {
    "gzip": lambda s: gzip.GzipFile(fileobj=s, mode="rb"),
    "bzip2": lambda s: bz2.BZ2File(s, mode="rb"),
    "xz": lambda s: lzma.LZMAFile(s, mode="rb"),  # noqa: SIM115 - closed by the caller
}


class _ZlibReader:
    """A minimal read() over a raw zlib stream (joblib's compressed format)."""

    def __init__(self, stream: BinaryIO) -> None:
        self.stream = stream
        self.inflater = zlib.decompressobj()
        self.buffer = b""

    def read(self, n: int) -> bytes:
        while len(self.buffer) < n and not self.inflater.eof:
            chunk = self.stream.read(_CHUNK)
            if not chunk:
                break
            self.buffer += self.inflater.decompress(chunk, n)
            if self.inflater.unconsumed_tail:
                self.buffer += self.inflater.decompress(self.inflater.unconsumed_tail, n)
        out, self.buffer = self.buffer[:n], self.buffer[n:]
        return out

    def close(self) -> None:
        """Nothing to release."""


def scan_compressed(ctx: Context, stream: BinaryIO, name: str, size: int, depth: int, kind: str) -> list[Finding]:
    """Decompress into a bounded temporary file (bomb limits), then scan the result as a member."""
    findings: list[Finding] = []
    limit = min(ctx.max_member_bytes, max(int(size * ctx.max_ratio), 64 * _CHUNK))
    reader = _ZlibReader(stream) if kind == "zlib" else _OPENERS[kind](stream)
    with tempfile.TemporaryFile() as spool:
        written = 0
        try:
            while True:
                ctx.check_time()
                block = reader.read(_CHUNK)
                if not block:
                    break
                written += len(block)
                if written > limit:
                    ratio = written / max(size, 1)
                    findings.append(_finding("archive.bomb", Severity.HIGH,
                                             f"{kind} stream expands beyond {limit} bytes ({ratio:.0f}x so far); "
                                             "only the first part is scanned", name))
                    break
                spool.write(block)
        except (OSError, EOFError, zlib.error, lzma.LZMAError, ValueError) as exc:
            findings.append(_finding("malformed.compressed", Severity.MEDIUM, f"{kind} stream is damaged: {exc}",
                                     name, f"after {written} decompressed bytes"))
        finally:
            reader.close()
        spool.seek(0)
        length = min(written, limit)
        if length:
            inner = name.rsplit("/", 1)[-1]
            inner = re.sub(r"\.(gz|bz2|xz|z|zlib)$", "", inner, flags=re.IGNORECASE) or "data"
            ctx.scan_member(spool, f"{name}!{inner}", length, depth + 1)
    return findings


# --- 7z ----------------------------------------------------------------------------------------------------------

def scan_7z(ctx: Context, stream: BinaryIO, name: str, size: int, depth: int) -> list[Finding]:
    """A 7z archive via py7zr: names and declared sizes checked, members extracted to a private temp folder."""
    try:
        import py7zr
    except ImportError:
        return [_finding("scanner.unsupported_format", Severity.MEDIUM, "7z archive: py7zr is not installed", name)]
    findings: list[Finding] = []
    try:
        with py7zr.SevenZipFile(stream, mode="r") as archive:
            if archive.needs_password():
                return [_finding("archive.encrypted", Severity.HIGH,
                                 "7z archive is password-protected; its members cannot be scanned", name)]
            infos = [i for i in archive.list() if not i.is_directory][: ctx.max_members]
            total = sum(int(i.uncompressed or 0) for i in infos)
            safe: list[str] = []
            for info in infos:
                why = unsafe_member_name(info.filename)
                if why:
                    findings.append(_finding("archive.path_traversal", Severity.HIGH,
                                             f"member name {why}; extracting it writes outside the target folder",
                                             name, f"member {info.filename}", info.filename))
                    continue
                if int(info.uncompressed or 0) > ctx.max_member_bytes:
                    findings.append(_finding("archive.bomb", Severity.HIGH, "member exceeds the scan limit",
                                             name, f"member {info.filename}"))
                    continue
                safe.append(info.filename)
            if total > ctx.max_total_bytes:
                return [*findings, _finding("archive.bomb", Severity.HIGH,
                                            f"7z archive declares {total} bytes; not extracted", name)]
            with tempfile.TemporaryDirectory(prefix="dossier-7z-") as tmp:
                archive.extract(path=tmp, targets=safe)
                root = Path(tmp).resolve()
                for member in safe:
                    ctx.check_time()
                    path = (root / member).resolve()
                    if not path.is_relative_to(root) or path.is_symlink() or not path.is_file():
                        continue
                    with open(path, "rb") as handle:
                        ctx.scan_member(handle, f"{name}!{member}", path.stat().st_size, depth + 1)
    except Exception as exc:  # noqa: BLE001 - py7zr raises many types on damaged input
        findings.append(_finding("malformed.7z", Severity.MEDIUM, f"7z archive cannot be read: {exc}", name))
    return findings


# --- numpy -------------------------------------------------------------------------------------------------------

def scan_npy(ctx: Context, stream: BinaryIO, name: str, size: int, depth: int) -> list[Finding]:
    """A .npy file: header parsed as a literal; object arrays hold a pickle, which is walked."""
    head = stream.read(12)
    if len(head) < 10 or head[:6] != b"\x93NUMPY":
        return [_finding("malformed.npy", Severity.MEDIUM, "truncated .npy header", name, "offset 0")]
    major = head[6]
    if major == 1:
        (hlen,), start = struct.unpack("<H", head[8:10]), 10
    elif major in (2, 3) and len(head) >= 12:
        (hlen,), start = struct.unpack("<I", head[8:12]), 12
    else:
        return [_finding("malformed.npy", Severity.MEDIUM, f"unknown .npy version {major}", name, "offset 6")]
    if hlen > 1 << 20 or start + hlen > size:
        return [_finding("malformed.npy", Severity.MEDIUM, f"header length {hlen} is out of bounds", name,
                         f"offset {start - 4}")]
    stream.seek(start)
    raw = stream.read(hlen)
    try:
        header = ast.literal_eval(raw.decode("latin-1"))
    except (ValueError, SyntaxError, MemoryError, RecursionError):
        return [_finding("malformed.npy", Severity.MEDIUM, "header is not a Python literal", name,
                         f"offset {start}", raw[:80].decode("latin-1"))]
    if not isinstance(header, dict) or not {"descr", "shape"} <= header.keys():
        return [_finding("malformed.npy", Severity.MEDIUM, "header lacks descr/shape", name, f"offset {start}")]
    descr = header["descr"]
    if not _has_object(descr):
        return []
    findings = [_finding("numpy.object_array", Severity.LOW,
                         "object-dtype array: its data is a pickle (numpy.load refuses it unless allow_pickle "
                         "is set)", name,
                         f"offset {start + hlen}", f"descr={descr!r}")]
    stream.seek(start + hlen)
    result = pickle_scan.scan_pickle(stream, name, size - start - hlen, embedded=ctx.embedded(depth),
                                     max_streams=1, depth=depth, deadline=ctx_deadline(ctx))
    return findings + result.findings


def ctx_deadline(ctx: Context) -> float | None:
    """The current per-file deadline of a context, when it has one."""
    return getattr(ctx, "deadline", None)


def _has_object(descr: object) -> bool:
    if isinstance(descr, str):
        return descr.lstrip("<>|=").startswith("O")
    if isinstance(descr, list | tuple):
        return any(_has_object(part) for part in descr)
    return False
