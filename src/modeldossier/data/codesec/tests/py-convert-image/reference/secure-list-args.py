import subprocess
from pathlib import Path


def convert_to_png(filename):
    src = Path(filename)
    dst = src.with_suffix(".png")
    subprocess.run(["convert", "--", str(src), str(dst)], check=True, timeout=60)
    return str(dst)
