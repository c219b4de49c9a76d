"""A fleet manifest: the subjects to audit (folders, files, Hub ids, endpoints) and the sections to run for each.

YAML::

    version: 1
    defaults: {sections: [artifacts, provenance], samples: 1}
    subjects:
      - model: ./models/qwen-ft            # a folder or file, relative to the manifest
      - model: Qwen/Qwen2.5-0.5B-Instruct  # a Hub id (downloaded into this machine's HF cache when online)
        revision: main
      - name: deepseek-chat
        target: deepseek:deepseek-chat     # an endpoint: behaviour probes and the code-security differential
        sections: [behavior, codesec]

CSV: a header row with ``name, model, target, sections, samples, revision`` (any subset, ``model`` or
``target`` required); ``sections`` separated by ``;``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError

SECTIONS = ("artifacts", "provenance", "behavior", "codesec")
LOCAL_SECTIONS = ("artifacts", "provenance")
ENDPOINT_SECTIONS = ("behavior", "codesec")
_KEYS = {"name", "model", "target", "sections", "samples", "revision"}
_MAX_SAMPLES = 10_000
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Entry:
    """One subject of the fleet: a model (folder, file or Hub id) and/or an endpoint, and what to run."""

    name: str
    model: str | None = None
    target: str | None = None
    sections: tuple[str, ...] = LOCAL_SECTIONS
    samples: int = 1
    revision: str | None = None

    @property
    def provider(self) -> str | None:
        """The endpoint's provider (``deepseek`` in ``deepseek:deepseek-chat``), for per-provider limits."""
        if not self.target:
            return None
        head, _, rest = self.target.partition(":")
        if head.lower() in ("openai", "vllm", "sglang", "llamacpp", "ollama") and "://" in rest:
            return rest.split("://", 1)[1].split("/", 1)[0].lower()  # a self-hosted server: its host:port
        return head.lower()


@dataclass(frozen=True)
class Manifest:
    """The subjects of a fleet, in order, names unique."""

    entries: tuple[Entry, ...]
    source: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _sections(value: Any, where: str) -> tuple[str, ...]:
    items = [s.strip() for s in re.split(r"[;,]", value)] if isinstance(value, str) else value
    if not isinstance(items, list) or not all(isinstance(s, str) for s in items):
        raise DossierError(f"{where}: sections must be a list of names ({', '.join(SECTIONS)})")
    items = [s for s in items if s]
    unknown = sorted(set(items) - set(SECTIONS))
    if unknown or not items:
        raise DossierError(f"{where}: unknown or no sections {unknown or ''}: use {', '.join(SECTIONS)}")
    return tuple(s for s in SECTIONS if s in items)


def _samples(value: Any, where: str) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= _MAX_SAMPLES:
        raise DossierError(f"{where}: samples must be an integer from 1 to {_MAX_SAMPLES}")
    return value


def _text(value: Any, key: str, where: str) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise DossierError(f"{where}: {key} must be text")
    return value.strip() or None


def _resolve_model(model: str, base: Path | None) -> str:
    """A relative path is read relative to the manifest; a Hub id (org/name that is no local path) stays."""
    path = Path(model).expanduser()
    if base is not None and not path.is_absolute():
        candidate = base / path
        if candidate.exists() or not _HUB_ID.match(model):
            return str(candidate)
    return str(path) if path.exists() or not _HUB_ID.match(model) else model


def make_entry(raw: Mapping[str, Any], defaults: Mapping[str, Any], where: str, base: Path | None) -> Entry:
    """An Entry from one manifest row; DossierError naming the row for anything wrong."""
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise DossierError(f"{where}: unknown field(s) {', '.join(map(str, unknown))} "
                           f"(known: {', '.join(sorted(_KEYS))})")
    model = _text(raw.get("model"), "model", where)
    target = _text(raw.get("target"), "target", where)
    if model is None and target is None:
        raise DossierError(f"{where}: needs a model (folder, file or Hub id) or a target (endpoint)")
    written = model  # the name defaults to the model as the manifest spells it
    if model is not None:
        model = _resolve_model(model, base)
    default_sections = (*(LOCAL_SECTIONS if model else ()), *(ENDPOINT_SECTIONS if target else ()))
    sections = raw.get("sections", defaults.get("sections"))
    chosen = _sections(sections, where) if sections is not None else default_sections
    if target is None and set(chosen) & set(ENDPOINT_SECTIONS):
        raise DossierError(f"{where}: sections behavior/codesec need a target (a served model)")
    if model is None and set(chosen) & set(LOCAL_SECTIONS) - {"provenance"}:
        raise DossierError(f"{where}: section artifacts needs a model (folder, file or Hub id)")
    name = _text(raw.get("name"), "name", where) or written or target
    assert name is not None
    return Entry(
        name=name, model=model, target=target, sections=chosen,
        samples=_samples(raw.get("samples", defaults.get("samples", 1)), where),
        revision=_text(raw.get("revision", defaults.get("revision")), "revision", where),
    )


def from_rows(rows: Iterable[tuple[str, Mapping[str, Any]]], *, defaults: Mapping[str, Any] | None = None,
              base: Path | None = None, source: str = "") -> Manifest:
    """A Manifest from (where, row) pairs; duplicate names are an error."""
    entries: list[Entry] = []
    seen: dict[str, str] = {}
    for where, row in rows:
        if not isinstance(row, Mapping):
            raise DossierError(f"{where}: each subject must be a mapping (model:, target:, ...)")
        entry = make_entry(row, defaults or {}, where, base)
        if entry.name in seen:
            raise DossierError(f"{where}: duplicate subject name {entry.name!r} (first at {seen[entry.name]}): "
                               "give one of them a name:")
        seen[entry.name] = where
        entries.append(entry)
    if not entries:
        raise DossierError(f"{source or 'manifest'}: no subjects")
    return Manifest(entries=tuple(entries), source=source)


def load(path: Path) -> Manifest:
    """Read a YAML or CSV manifest; DossierError (with the row) for anything malformed."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise DossierError(f"cannot read manifest {path}: {exc.strerror or exc}") from None
    if len(raw) > 64 * 1024 * 1024:
        raise DossierError(f"manifest {path} is larger than 64 MiB")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DossierError(f"manifest {path} is not UTF-8 text") from None
    base = path.resolve().parent
    if path.suffix.lower() == ".csv":
        reader = csv.DictReader(io.StringIO(text))
        if not reader.fieldnames or not {"model", "target"} & {f.strip() for f in reader.fieldnames}:
            raise DossierError(f"{path}: the CSV header needs a model or target column")
        rows = (
            (f"{path}:{i}", {k.strip(): v for k, v in row.items() if k is not None and v not in (None, "")})
            for i, row in enumerate(reader, start=2)
        )
        return from_rows(rows, base=base, source=str(path))
    import yaml

    from modeldossier.safeyaml import safe_yaml

    try:
        data = safe_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f":{mark.line + 1}" if mark is not None else ""
        raise DossierError(f"{path}{line}: not valid YAML ({getattr(exc, 'problem', None) or exc})") from None
    except (ValueError, RecursionError) as exc:
        raise DossierError(f"{path}: {str(exc) or 'nested too deeply'}") from None
    if not isinstance(data, Mapping) or not isinstance(data.get("subjects"), list):
        raise DossierError(f"{path}: a YAML manifest is a mapping with a 'subjects:' list")
    unknown = sorted(set(map(str, data)) - {"version", "defaults", "subjects"})
    if unknown:
        raise DossierError(f"{path}: unknown top-level field(s) {', '.join(unknown)}")
    defaults = data.get("defaults") or {}
    if not isinstance(defaults, Mapping) or set(defaults) - {"sections", "samples", "revision"}:
        raise DossierError(f"{path}: defaults may hold sections, samples and revision only")
    rows = ((f"{path}: subjects[{i}]", row) for i, row in enumerate(data["subjects"]))
    return from_rows(rows, defaults=defaults, base=base, source=str(path))


def from_inventory(path: Path) -> Manifest:
    """Subjects from `dossier inventory --format json` output (every local model it found)."""
    import json

    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DossierError(f"cannot read inventory {path}: {exc}") from None
    items = data.get("entries") if isinstance(data, Mapping) else data
    if not isinstance(items, list):
        raise DossierError(f"{path}: not an inventory (expected a list of entries or {{'entries': [...]}})")
    rows = []
    skipped = 0
    for i, item in enumerate(items):
        if not isinstance(item, Mapping):
            raise DossierError(f"{path}: entries[{i}] is not an inventory entry")
        if not isinstance(item.get("path"), str) or not item["path"]:
            skipped += 1  # e.g. a registry entry with no local files
            continue
        name = item.get("name") if isinstance(item.get("name"), str) else None
        rows.append((f"{path}: entries[{i}]", {"model": item["path"], **({"name": name} if name else {})}))
    names: dict[str, int] = {}
    unique = []
    for where, row in rows:  # two inventory entries may share a display name (two snapshots of one repo)
        key = row.get("name") or row["model"]
        names[key] = names.get(key, 0) + 1
        unique.append((where, {**row, "name": key if names[key] == 1 else f"{key} ({names[key]})"}))
    manifest = from_rows(unique, source=str(path))
    if skipped:
        return Manifest(manifest.entries, manifest.source, (f"{skipped} inventory entry(ies) without a local path",))
    return manifest


def from_hub_org(org: str, *, endpoint: str | None = None, limit: int | None = None,
                 token: str | bool | None = None) -> Manifest:
    """Every model of a Hub organisation (needs the network; ``endpoint`` for a mirror or a test server)."""
    from huggingface_hub import HfApi
    from huggingface_hub.errors import HfHubHTTPError

    if not re.fullmatch(r"[A-Za-z0-9][\w.-]*", org):
        raise DossierError(f"not a Hub organisation name: {org!r}")
    try:
        models = list(HfApi(endpoint=endpoint, token=token).list_models(author=org, limit=limit))
    except HfHubHTTPError as exc:
        raise DossierError(f"the Hub refused the model list of {org!r} (HTTP {exc.response.status_code})") from None
    except OSError as exc:
        raise DossierError(f"cannot reach the Hub to list {org!r}: {exc}") from None
    rows = [(f"hub:{org}[{i}]", {"model": m.id}) for i, m in enumerate(models) if getattr(m, "id", None)]
    if not rows:
        raise DossierError(f"the Hub lists no models for {org!r}")
    return from_rows(rows, source=f"hub:{org}")
