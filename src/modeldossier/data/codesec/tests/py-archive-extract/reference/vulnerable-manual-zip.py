import os
import tarfile
import zipfile


def extract_upload(path: str, destination: str) -> list[str]:
    """Extract a zip or tar.gz archive into destination and return the written paths."""
    written = []
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as zf:
            for info in zf.infolist():
                if info.is_dir():
                    continue
                target = os.path.join(destination, info.filename)
                os.makedirs(os.path.dirname(target), exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as dst:
                    dst.write(src.read())
                written.append(target)
    else:
        with tarfile.open(path, "r:*") as tf:
            members = [m for m in tf.getmembers() if not m.name.startswith("/") and ".." not in m.name]
            tf.extractall(destination, members=members)
            written = [os.path.join(destination, m.name) for m in members]
    return written
