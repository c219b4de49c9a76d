import os
import shlex
import subprocess
import time


def backup(directory: str, dest: str) -> str:
    """Timestamped tar.gz of `directory` in `dest`; every argument is shell-quoted."""
    os.makedirs(dest, exist_ok=True)
    target = os.path.join(dest, time.strftime("backup_%Y%m%dT%H%M%S.tar.gz"))
    cmd = "tar -czf {} -C {} .".format(shlex.quote(target), shlex.quote(directory))
    subprocess.run(cmd, shell=True, check=True)
    return target
