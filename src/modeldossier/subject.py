"""Resolve what the user named (a local path or a Hub id) into a Subject and a local folder to read."""

from __future__ import annotations

import os
import re
import stat
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from modeldossier.dossier import Subject, SubjectFile
from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
MODEL_SUFFIXES = frozenset({
    ".safetensors", ".bin", ".pt", ".pth", ".ckpt", ".gguf", ".ggml", ".onnx", ".h5", ".hdf5", ".keras",
    ".pkl", ".pickle", ".joblib", ".npy", ".npz", ".msgpack", ".tflite", ".pb", ".mlmodel", ".model",
    ".zip", ".tar", ".7z", ".llamafile",
})
MODEL_NAMES = frozenset({"config.json", "tokenizer.json", "model_index.json", "adapter_config.json"})
_SKIP_DIRS = frozenset({".git", ".cache", "__pycache__"})


@dataclass(frozen=True)
class ResolvedSubject:
    """A subject plus the local root its files live under (None for endpoints)."""

    subject: Subject
    root: Path | None


def is_regular(path: Path) -> bool:
    """True for a regular file or a symlink to one; False for FIFOs, sockets, devices, broken or looping links."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, RuntimeError):
        return False


def list_files(root: Path) -> list[Path]:
    """Regular files under ``root`` (or ``root`` itself), sorted, skipping VCS/cache folders and not following
    directory symlinks (so a symlink loop cannot hang us). File symlinks count when their target is a regular
    file; FIFOs, devices, sockets and broken or looping links are left out (the artifact scanner reports them)."""
    if root.is_file():
        return [root]
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP_DIRS)
        found.extend(p for p in (Path(dirpath) / name for name in sorted(filenames)) if is_regular(p))
    return found


def has_model_files(files: list[Path]) -> bool:
    """True when at least one file looks like part of a model (by suffix or well-known name)."""
    return any(f.suffix.lower() in MODEL_SUFFIXES or f.name in MODEL_NAMES for f in files)


def default_name(root: Path) -> str:
    """A readable name: `org/name` inside a Hugging Face cache, else the folder or file name."""
    for part in reversed(root.resolve().parts):
        if part.startswith("models--"):
            return part.removeprefix("models--").replace("--", "/", 1)
    return root.resolve().name


def describe_files(
    root: Path, files: list[Path], *, hash_files: bool, on_file: Callable[[Path], None] | None = None
) -> list[SubjectFile]:
    """SubjectFile entries (relative path, size, optional sha256) for ``files`` under ``root``."""
    entries = []
    base = root if root.is_dir() else root.parent
    for path in files:
        try:
            size = path.stat().st_size
            digest = sha256_file(path) if hash_files and path.is_file() else None
        except OSError as exc:
            raise DossierError(f"cannot read {path}: {exc.strerror or exc}") from None
        entries.append(SubjectFile(path=str(path.relative_to(base)), size=size, sha256=digest))
        if on_file:
            on_file(path)
    return entries


def resolve_local(
    path: Path, *, name: str | None = None, hash_files: bool = True, on_file: Callable[[Path], None] | None = None
) -> ResolvedSubject:
    """A subject for a local file or folder; DossierError when it is missing, unreadable or holds no model."""
    if not path.exists():
        raise DossierError(f"no such file or directory: {path}")
    if not (path.is_dir() or path.is_file()):
        raise DossierError(f"{path} is not a regular file or folder (a device, FIFO or socket cannot be a model)")
    if not os.access(path, os.R_OK):
        raise DossierError(f"permission denied: {path}")
    files = list_files(path)
    if path.is_dir() and not files:
        raise DossierError(f"{path} is an empty directory")
    if path.is_dir() and not has_model_files(files):
        raise DossierError(
            f"{path} holds no model files (no weights, config.json or tokenizer); point at a model folder or file"
        )
    subject = Subject(
        kind="path",
        ref=str(path),
        name=name or default_name(path),
        files=describe_files(path, files, hash_files=hash_files, on_file=on_file),
    )
    return ResolvedSubject(subject=subject, root=path)


def resolve_hub(
    repo_id: str,
    *,
    revision: str | None = None,
    name: str | None = None,
    hash_files: bool = True,
    on_file: Callable[[Path], None] | None = None,
) -> ResolvedSubject:
    """Download (or reuse from the local cache) a Hub model snapshot and describe it."""
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import (
        GatedRepoError,
        LocalEntryNotFoundError,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        local = Path(snapshot_download(repo_id=repo_id, revision=revision))
    except (RepositoryNotFoundError, GatedRepoError) as exc:
        raise DossierError(f"Hub model {repo_id!r} not found or not accessible ({type(exc).__name__})") from None
    except RevisionNotFoundError:
        raise DossierError(f"revision {revision!r} not found for {repo_id!r}") from None
    except LocalEntryNotFoundError:
        raise DossierError(
            f"{repo_id!r} is not in the local Hugging Face cache and the Hub cannot be reached "
            "(offline or HF_HUB_OFFLINE=1): download it first or give a local path"
        ) from None
    except OSError as exc:
        raise DossierError(f"could not fetch {repo_id!r} from the Hub: {exc}") from None
    resolved = resolve_local(local, name=name or repo_id, hash_files=hash_files, on_file=on_file)
    subject = resolved.subject.model_copy(update={"kind": "hub", "ref": repo_id, "revision": local.name})
    return ResolvedSubject(subject=subject, root=local)


def resolve(
    ref: str,
    *,
    revision: str | None = None,
    name: str | None = None,
    hash_files: bool = True,
    on_file: Callable[[Path], None] | None = None,
) -> ResolvedSubject:
    """A local path when it exists, else a Hub id when it looks like one, else a clear error."""
    if not ref:
        raise DossierError("empty path")  # Path('') is '.', which would silently audit the working directory
    path = Path(ref).expanduser()
    if path.exists() or not HUB_ID.match(ref):
        return resolve_local(path, name=name, hash_files=hash_files, on_file=on_file)
    return resolve_hub(ref, revision=revision, name=name, hash_files=hash_files, on_file=on_file)
