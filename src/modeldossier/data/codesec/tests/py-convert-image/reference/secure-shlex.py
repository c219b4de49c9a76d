import os
import shlex
import subprocess


def convert_to_png(filename: str) -> str:
    """Convert `filename` to PNG next to it; the name is quoted for the shell."""
    out = os.path.splitext(filename)[0] + ".png"
    subprocess.check_call("convert " + shlex.quote(filename) + " " + shlex.quote(out), shell=True)
    return out
