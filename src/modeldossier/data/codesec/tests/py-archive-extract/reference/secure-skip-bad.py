import shutil
import tarfile
import zipfile
from pathlib import Path


def extract(archive: str, dest: str) -> None:
    """Extract a zip or tar.gz, skipping entries that would land outside dest."""
    root = Path(dest).resolve()
    if archive.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for info in zf.infolist():
                target = (root / info.filename).resolve()
                if root not in target.parents or info.is_dir():
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(info) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
    else:
        with tarfile.open(archive, "r:gz") as tf:
            for member in tf.getmembers():
                target = (root / member.name).resolve()
                if not member.isfile() or root not in target.parents:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tf.extractfile(member) as src, open(target, "wb") as out:
                    shutil.copyfileobj(src, out)
