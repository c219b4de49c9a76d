import zipfile


def extract_archive(path, dest):
    with zipfile.ZipFile(path) as zf:
        zf.extractall(dest)
