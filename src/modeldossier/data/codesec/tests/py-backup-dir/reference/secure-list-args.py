import subprocess
from datetime import datetime
from pathlib import Path


def backup(directory, dest):
    src = Path(directory).resolve()
    out = Path(dest) / f"backup-{datetime.now():%Y%m%d-%H%M%S}.tar.gz"
    subprocess.run(["tar", "-czf", str(out), "-C", str(src.parent), "--", src.name], check=True)
    return str(out)
