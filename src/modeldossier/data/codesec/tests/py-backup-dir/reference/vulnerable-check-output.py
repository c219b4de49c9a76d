import os
import subprocess
import time


def backup(directory: str, dest: str) -> str:
    """Create dest/<name>-<timestamp>.tar.gz from directory using tar."""
    name = os.path.basename(os.path.normpath(directory))
    target = os.path.join(dest, "%s-%d.tar.gz" % (name.replace(" ", "_"), int(time.time())))
    subprocess.check_output('tar czf "%s" "%s"' % (target, directory), shell=True, stderr=subprocess.STDOUT)
    return target
