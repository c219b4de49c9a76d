import os
import tarfile
import zipfile


def _inside(base, target):
    base = os.path.realpath(base)
    return os.path.commonpath([base, os.path.realpath(target)]) == base


def extract_archive(archive_path, dest_dir):
    if zipfile.is_zipfile(archive_path):
        with zipfile.ZipFile(archive_path) as zf:
            for name in zf.namelist():
                if not _inside(dest_dir, os.path.join(dest_dir, name)):
                    raise ValueError(f"unsafe path in archive: {name}")
            zf.extractall(dest_dir)
        return
    with tarfile.open(archive_path, "r:*") as tf:
        for m in tf.getmembers():
            if m.issym() or m.islnk() or m.isdev():
                raise ValueError(f"links are not allowed: {m.name}")
            if not _inside(dest_dir, os.path.join(dest_dir, m.name)):
                raise ValueError(f"unsafe path in archive: {m.name}")
        tf.extractall(dest_dir)
