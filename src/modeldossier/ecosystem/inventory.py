"""The models a machine already holds: Hugging Face cache, given folders and GGUF files, Ollama's store.

For each model: origin (declared and observed), lineage-root country, license and a quick artifact verdict.
Broken symlinks, partial downloads and unreadable manifests are reported on their own entry; every other
entry is still listed. Nothing here loads a model: files are only read by the scanner and provenance readers.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pydantic import Field

from modeldossier.artifacts.models import ArtifactsSection
from modeldossier.artifacts.sniff import is_gguf_file
from modeldossier.common import Model
from modeldossier.dossier import RunRecord, Subject, SubjectFile
from modeldossier.errors import DossierError
from modeldossier.provenance.models import ProvenanceSection
from modeldossier.subject import MODEL_NAMES, MODEL_SUFFIXES, default_name

Source = Literal["hf-cache", "folder", "file", "ollama"]
ScanFn = Callable[..., ArtifactsSection]
OriginFn = Callable[..., ProvenanceSection]

OLLAMA_MODEL_LAYER = "application/vnd.ollama.image.model"
OLLAMA_LICENSE_LAYER = "application/vnd.ollama.image.license"
MAX_MANIFEST_BYTES = 1024 * 1024
MAX_SEARCH_DEPTH = 4
_REVISION = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,63}")
_SKIP = frozenset({".git", "__pycache__", ".cache", "node_modules", ".venv"})


def default_hf_cache() -> Path:
    """``HF_HUB_CACHE``, else ``HF_HOME/hub``, else ``$XDG_CACHE_HOME/huggingface/hub`` or ``~/.cache/...``."""
    if os.environ.get("HF_HUB_CACHE"):
        return Path(os.environ["HF_HUB_CACHE"]).expanduser()
    if os.environ.get("HF_HOME"):
        return Path(os.environ["HF_HOME"]).expanduser() / "hub"
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "huggingface" / "hub"


def default_ollama() -> Path:
    """``OLLAMA_MODELS``, else ``~/.ollama/models``."""
    env = os.environ.get("OLLAMA_MODELS")
    return Path(env).expanduser() if env else Path.home() / ".ollama" / "models"


@dataclass
class Candidate:
    """One model found on disk, before analysis."""

    source: Source
    name: str
    root: Path | None
    hub_id: str | None = None
    revision: str | None = None
    license_hint: str | None = None
    issues: list[str] = field(default_factory=list)
    files: list[SubjectFile] = field(default_factory=list)


class InventoryEntry(Model):
    """One row of the inventory table."""

    source: Source
    name: str
    path: str | None
    revision: str | None = None
    files: int = 0
    size: int = 0
    author: str | None = None
    author_country: str | None = None
    declared_base: str | None = None
    observed_family: str | None = None
    undeclared_derivative: bool | None = Field(
        default=None, description="true when the tokenizer contradicts the declared base (or none is declared)")
    lineage_root: str | None = None
    lineage_root_basis: str | None = Field(
        default=None, description="hub, declared or observed: which evidence lineage_root and its country come from")
    lineage_root_country: str | None = None
    license: str | None = None
    verdict: str = Field(description="clean, the worst finding severity, 'not scanned' or 'scan failed'")
    findings: int = 0
    issues: list[str] = Field(default_factory=list, description="broken symlinks, partial downloads, errors")


class InventoryReport(Model):
    """Everything `dossier inventory` found."""

    kind: Literal["modeldossier.inventory"] = "modeldossier.inventory"
    version: Literal[1] = 1
    searched: dict[str, list[str]] = Field(default_factory=dict, description="source -> locations looked at")
    entries: list[InventoryEntry] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    run: RunRecord | None = None

    def to_json(self) -> str:
        """Stable, human-readable JSON."""
        return self.model_dump_json(indent=2) + "\n"


@dataclass
class Analysed:
    """An entry plus the sections and subject a dossier is written from."""

    entry: InventoryEntry
    subject: Subject
    artifacts: ArtifactsSection | None = None
    provenance: ProvenanceSection | None = None


def _walk_files(root: Path) -> Iterator[tuple[Path, os.stat_result]]:
    """(path, lstat) of every non-directory under ``root``, without following directory symlinks."""
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        dirnames[:] = sorted(d for d in dirnames if d not in _SKIP)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            try:
                yield path, path.lstat()
            except OSError:
                continue


def _describe(root: Path, issues: list[str]) -> list[SubjectFile]:
    """Files under ``root`` (size of what symlinks point to); broken or looping symlinks become issues."""
    if root.is_file():
        return [SubjectFile(path=root.name, size=root.stat().st_size)]
    files = []
    for path, info in _walk_files(root):
        rel = str(path.relative_to(root))
        if stat.S_ISLNK(info.st_mode):
            try:
                size = path.stat().st_size
            except (OSError, RuntimeError):
                issues.append(f"broken symlink: {rel} -> {os.readlink(path)}")
                continue
        elif stat.S_ISREG(info.st_mode):
            size = info.st_size
        else:
            issues.append(f"not a regular file: {rel}")
            continue
        files.append(SubjectFile(path=rel, size=size))
    return files


def _repo_id(folder_name: str) -> str:
    return "/".join(folder_name.removeprefix("models--").split("--"))


def discover_hf_cache(cache: Path) -> list[Candidate]:
    """One candidate per ``models--org--name`` repo: the snapshot ``refs/main`` points to (else the newest)."""
    if not cache.is_dir():
        return []
    found = []
    for repo in sorted(p for p in cache.iterdir() if p.name.startswith("models--") and p.is_dir()):
        repo_id = _repo_id(repo.name)
        cand = Candidate(source="hf-cache", name=repo_id, root=None, hub_id=repo_id)
        blobs = repo / "blobs"
        if blobs.is_dir():
            for blob in sorted(blobs.glob("*.incomplete")):
                try:
                    so_far = f"{blob.stat().st_size} bytes so far"
                except OSError:  # a broken link: the download left nothing readable
                    so_far = "size unknown"
                cand.issues.append(f"partial download: blobs/{blob.name} ({so_far})")
        ref = repo / "refs" / "main"
        snapshots = repo / "snapshots"
        revision = None
        if ref.is_file():
            revision = ref.read_text(encoding="utf-8", errors="replace").strip()[:64] or None
            if revision and not _REVISION.fullmatch(revision):
                cand.issues.append(f"refs/main holds an invalid revision {revision!r}; ignored")
                revision = None
        chosen = snapshots / revision if revision else None
        if chosen is None or not chosen.is_dir():
            available = sorted((p for p in snapshots.iterdir() if p.is_dir()), key=lambda p: p.stat().st_mtime) \
                if snapshots.is_dir() else []
            chosen = available[-1] if available else None
            if revision:
                cand.issues.append(f"refs/main points to {revision} but that snapshot is missing")
            elif not ref.is_file():
                cand.issues.append("no refs/main" + (f": showing the newest snapshot {chosen.name}" if chosen else ""))
        if chosen is None:
            cand.issues.append("no snapshot folder: the download never completed")
        else:
            cand.root, cand.revision = chosen, chosen.name
            cand.files = _describe(chosen, cand.issues)
            if not cand.files:
                cand.issues.append("snapshot holds no readable file")
        found.append(cand)
    return found


def _read_manifest(path: Path) -> dict:
    if path.stat().st_size > MAX_MANIFEST_BYTES:
        raise ValueError(f"manifest larger than {MAX_MANIFEST_BYTES} bytes")
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not isinstance(data.get("layers"), list):
        raise ValueError("no 'layers' list")
    return data


def _blob(store: Path, digest: object) -> Path | None:
    if not isinstance(digest, str) or not digest.startswith("sha256:"):
        return None
    hexpart = digest.removeprefix("sha256:")
    if len(hexpart) != 64 or any(c not in "0123456789abcdef" for c in hexpart):
        return None
    return store / "blobs" / f"sha256-{hexpart}"


def _ollama_name(parts: tuple[str, ...]) -> str:
    if len(parts) >= 4 and parts[0] == "registry.ollama.ai" and parts[1] == "library":
        return f"{parts[2]}:{parts[3]}"
    return "/".join(parts[:-1]) + f":{parts[-1]}"


def _license_hint(path: Path | None) -> str | None:
    if path is None or not path.is_file():
        return None
    with open(path, "rb") as handle:
        head = handle.read(4096).decode("utf-8", errors="replace")
    first = next((line.strip() for line in head.splitlines() if line.strip()), "")
    return first[:120] or None


def discover_ollama(store: Path) -> list[Candidate]:
    """One candidate per manifest under ``manifests/``; the model layer is a GGUF blob ``blobs/sha256-...``."""
    manifests = store / "manifests"
    if not manifests.is_dir():
        return []
    found = []
    for path, info in _walk_files(manifests):
        if not stat.S_ISREG(info.st_mode):
            continue
        parts = path.relative_to(manifests).parts
        cand = Candidate(source="ollama", name=_ollama_name(parts), root=None)
        try:
            manifest = _read_manifest(path)
        except (OSError, ValueError, UnicodeDecodeError, RecursionError) as exc:
            cand.issues.append(f"unreadable manifest {path.relative_to(store)}: {exc}")
            found.append(cand)
            continue
        layers = [x for x in manifest["layers"] if isinstance(x, dict)]
        model = next((x for x in layers if x.get("mediaType") == OLLAMA_MODEL_LAYER), None)
        blob = _blob(store, model.get("digest")) if model else None
        lic = next((x for x in layers if x.get("mediaType") == OLLAMA_LICENSE_LAYER), None)
        cand.license_hint = _license_hint(_blob(store, lic.get("digest")) if lic else None)
        if model is None or blob is None:
            cand.issues.append("manifest has no model layer with a sha256 digest")
        else:
            cand.revision = str(model["digest"])
            partial = sorted(blob.parent.glob(f"{blob.name}-partial*"))
            if partial:
                cand.issues.append(f"partial download: blobs/{partial[0].name} (+{len(partial) - 1} more)")
            if blob.is_file():
                cand.root = blob
                cand.files = [SubjectFile(path=blob.name, size=blob.stat().st_size)]
                declared = model.get("size")
                if isinstance(declared, int) and declared != cand.files[0].size:
                    cand.issues.append(f"model blob is {cand.files[0].size} bytes, manifest says {declared}")
            else:
                cand.issues.append(f"model blob missing: blobs/{blob.name}")
        found.append(cand)
    return found



def _looks_like_model_dir(path: Path) -> bool:
    try:
        names = [p for p in path.iterdir() if not p.is_dir()]
    except OSError:
        return False
    loose = {".gguf", ".ggml", ".llamafile"}  # single-file models: each is its own entry
    return any(p.name in MODEL_NAMES or (p.suffix.lower() in MODEL_SUFFIXES - loose) for p in names)


def _path_candidate(path: Path, source: Source) -> Candidate:
    cand = Candidate(source=source, name=default_name(path), root=path)
    cand.files = _describe(path, cand.issues)
    return cand


def discover_paths(paths: list[Path]) -> tuple[list[Candidate], list[str]]:
    """Candidates for given files and folders (searched up to a few levels deep), and notes."""
    found: list[Candidate] = []
    notes = []
    for given in paths:
        given = Path(given).expanduser()
        if not given.exists() and not given.is_symlink():
            raise DossierError(f"no such file or directory: {given}")
        if given.is_file():
            found.append(_path_candidate(given, "file"))
            continue
        if given.is_symlink() and not given.exists():
            found.append(Candidate(source="file", name=given.name, root=None,
                                   issues=[f"broken symlink -> {os.readlink(given)}"]))
            continue
        if any(given.glob("models--*")):
            found.extend(discover_hf_cache(given))
            continue
        if (given / "manifests").is_dir() and (given / "blobs").is_dir():
            found.extend(discover_ollama(given))
            continue
        before = len(found)
        _search(given, found, depth=0)
        if len(found) == before:
            notes.append(f"{given}: no model folder or GGUF file found")
    return found, notes


def _search(folder: Path, found: list[Candidate], depth: int) -> None:
    if _looks_like_model_dir(folder):
        found.append(_path_candidate(folder, "folder"))
        return
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        found.append(Candidate(source="folder", name=folder.name, root=None,
                               issues=[f"cannot list {folder}: {exc.strerror or exc}"]))
        return
    for child in children:
        if child.name in _SKIP or child.is_symlink():
            continue
        if child.is_file() and child.suffix.lower() in (".gguf", ".ggml", ".llamafile") or (
            child.is_file() and child.suffix == "" and is_gguf_file(child)
        ):
            found.append(_path_candidate(child, "file"))
        elif child.is_dir() and depth < MAX_SEARCH_DEPTH:
            _search(child, found, depth + 1)


def _brief(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:200]
    return text if isinstance(exc, DossierError | OSError) else f"{type(exc).__name__}: {text}"


def _verdict(section: ArtifactsSection) -> tuple[str, int]:
    worst = section.worst()
    count = len(section.findings)
    return ("clean" if worst is None else worst.value), count


def analyse(
    cand: Candidate,
    *,
    scan: ScanFn | None,
    origin: OriginFn | None,
    online: bool = False,
) -> Analysed:
    """Origin and artifact verdict for one candidate; failures become issues on the entry, never exceptions."""
    entry = InventoryEntry(source=cand.source, name=cand.name, path=str(cand.root) if cand.root else None,
                           revision=cand.revision, files=len(cand.files), size=sum(f.size for f in cand.files),
                           license=cand.license_hint, verdict="not scanned", issues=list(cand.issues))
    subject = Subject(
        kind="hub" if cand.hub_id else "path",
        ref=cand.hub_id or (str(cand.root) if cand.root else cand.name),
        name=cand.name,
        revision=cand.revision if cand.hub_id else None,
        files=cand.files,
    )
    out = Analysed(entry=entry, subject=subject)
    if cand.root is None:
        entry.verdict = "not scanned" if scan is None else "nothing to scan"
        return out
    if origin is not None:
        try:
            prov = origin(cand.root, cand.hub_id, online=online)
        except Exception as exc:  # noqa: BLE001 - one entry's failure must not hide the others
            entry.issues.append(f"origin failed: {_brief(exc)}")
        else:
            out.provenance = prov
            entry.author = prov.author
            entry.author_country = prov.author_country.country
            entry.declared_base = prov.declared_base
            entry.observed_family = prov.observed_family
            entry.undeclared_derivative = prov.undeclared_derivative
            entry.lineage_root = prov.lineage_root
            entry.lineage_root_basis = prov.lineage_root_basis
            entry.lineage_root_country = prov.lineage_root_country.country
            entry.license = prov.license or entry.license
    if scan is not None:
        try:
            section = scan([cand.root], quiet=True)
        except Exception as exc:  # noqa: BLE001 - one entry's failure must not hide the others
            entry.verdict = "scan failed"
            entry.issues.append(f"scan failed: {_brief(exc)}")
        else:
            out.artifacts = section
            entry.verdict, entry.findings = _verdict(section)
    return out


def default_capabilities() -> tuple[ScanFn, OriginFn]:
    """The artifact scanner and the provenance origin analysis of this build."""
    from modeldossier.artifacts.scanner import scan_section
    from modeldossier.provenance.origin import origin_section

    return scan_section, origin_section
