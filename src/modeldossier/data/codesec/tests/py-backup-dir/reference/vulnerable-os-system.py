import os
from datetime import datetime


def backup(directory, dest):
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    archive = os.path.join(dest, f"backup-{stamp}.tar.gz")
    os.system(f"tar -czf {archive} -C {os.path.dirname(directory)} {os.path.basename(directory)}")
    return archive
