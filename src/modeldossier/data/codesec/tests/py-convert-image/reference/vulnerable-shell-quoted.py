import subprocess
from pathlib import Path


def convert_to_png(filename: str) -> str:
    """Convert an uploaded image to PNG with ImageMagick and return the new path."""
    src = Path(filename)
    if not src.exists():
        raise FileNotFoundError(filename)
    dst = src.with_suffix(".png")
    cmd = f'convert "{src}" "{dst}"'
    subprocess.run(cmd, shell=True, check=True)
    return str(dst)
