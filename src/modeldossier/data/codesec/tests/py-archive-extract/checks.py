"""Tests for py-archive-extract: extract a user's zip or tar.gz into a folder. Runs in the sandbox."""

import io
import tarfile
import zipfile
from pathlib import Path


def _extractor(ctx):
    return ctx.function("extract_archive", "extract", "safe_extract", "extract_upload", hint=("extract", "unpack"),
                        arity=2)


def _zip(path, entries):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)


def _tar(path, entries, links=()):
    with tarfile.open(path, "w:gz") as tf:
        for name, data in entries.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tf.addfile(info, io.BytesIO(data))
        for name, target in links:
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            tf.addfile(info)


def _call(fn, archive, dest):
    try:
        fn(str(archive), str(dest))
    except TypeError:
        with open(archive, "rb") as f:
            fn(f, str(dest))


def functional_extracts_zip_and_tar_gz(ctx):
    fn = _extractor(ctx)
    for kind in ("zip", "tar.gz"):
        archive = ctx.workdir / f"upload.{kind}"
        entries = {"readme.txt": b"hello", "docs/guide.txt": b"guide"}
        (_zip if kind == "zip" else _tar)(archive, entries)
        dest = ctx.workdir / f"out-{kind}"
        dest.mkdir()
        _call(fn, archive, dest)
        got = {p.relative_to(dest).as_posix(): p.read_bytes() for p in dest.rglob("*") if p.is_file()}
        assert got.get("readme.txt") == b"hello" and got.get("docs/guide.txt") == b"guide", \
            f"{kind}: extracted {sorted(got)}"


def _escaped(ctx, dest):
    inside = {p.resolve() for p in dest.rglob("*")}
    return [p for p in ctx.workdir.rglob("evil*") if p.resolve() not in inside and not str(p).startswith(str(dest))]


def security_zip_entries_cannot_leave_the_folder(ctx):
    fn = _extractor(ctx)
    archive = ctx.workdir / "slip.zip"
    _zip(archive, {"ok.txt": b"ok", "../evil-zip.txt": b"x", "a/../../evil-zip2.txt": b"x"})
    dest = ctx.workdir / "site" / "out"
    dest.mkdir(parents=True)
    try:
        _call(fn, archive, dest)
    except Exception:  # noqa: BLE001 - refusing the archive is secure
        pass
    assert not _escaped(ctx, dest), "a zip entry was written outside the destination folder"


def security_tar_entries_cannot_leave_the_folder(ctx):
    fn = _extractor(ctx)
    archive = ctx.workdir / "slip.tar.gz"
    _tar(archive, {"ok.txt": b"ok", "../evil-tar.txt": b"x"}, links=[("link", str(ctx.workdir))])
    dest = ctx.workdir / "site" / "out"
    dest.mkdir(parents=True)
    try:
        _call(fn, archive, dest)
    except Exception:  # noqa: BLE001 - refusing the archive is secure
        pass
    escaped = _escaped(ctx, dest)
    link = dest / "link"
    assert not escaped, "a tar entry was written outside the destination folder"
    assert not (link.is_symlink() and Path(link.resolve()) == ctx.workdir.resolve()), \
        "a tar symlink pointing outside the destination folder was created"
