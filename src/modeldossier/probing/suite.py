"""Suite files (YAML data) -> ProbeItems, validated, with the file's content hash.

Format (``version`` and ``items`` required)::

    name: demo                       # default: file stem
    version: "1"
    description: what it measures
    system: default system prompt    # optional, per item too
    params: {temperature: 0.7}       # optional default generation parameters
    metadata: {...}                  # free-form, for the suite's analysis
    items:
      - id: q1
        prompt: "one language"       # -> item q1 (metadata.language from `language` or the suite's)
        language: en
        metadata: {topic: history}
      - id: q2
        prompt: {en: "...", zh: "..."}   # -> items q2@en, q2@zh (metadata.language, metadata.base_id)
      - id: q3
        messages: [{role: user, content: "..."}]

A malformed file raises DossierError naming the file, line and field at fault.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, model_validator

from modeldossier.common import Model
from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file
from modeldossier.probing.models import ChatMessage, ProbeItem
from modeldossier.safeyaml import safe_yaml_node

DATA_DIR = Path(__file__).resolve().parents[1] / "data"
_MAX_BYTES = 64 * 1024 * 1024


class SuiteItemSpec(Model):
    """One item as written in the suite file."""

    id: str = Field(min_length=1, pattern=r"^[^@\s]+$")
    prompt: str | dict[str, str] | None = None
    messages: list[ChatMessage] | None = None
    system: str | None = None
    language: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_source(self) -> SuiteItemSpec:
        if (self.prompt is None) == (self.messages is None):
            raise ValueError("give exactly one of 'prompt' or 'messages'")
        if isinstance(self.prompt, dict) and not self.prompt:
            raise ValueError("'prompt' by language is empty")
        if self.messages is not None and not self.messages:
            raise ValueError("'messages' is empty")
        return self


class SuiteSpec(Model):
    """The whole suite file."""

    name: str | None = None
    version: str | int | float
    description: str | None = None
    language: str | None = None
    languages: list[str] | None = None
    system: str | None = None
    params: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    items: list[SuiteItemSpec] = Field(min_length=1)


@dataclass
class Suite:
    """A loaded suite: its items (expanded per language, filtered) and what pins it."""

    name: str
    version: str
    path: Path
    sha256: str
    items: list[ProbeItem]
    params: dict[str, Any] = field(default_factory=dict)
    metadata: dict[str, Any] = field(default_factory=dict)
    description: str | None = None
    languages: list[str] = field(default_factory=list)


def resolve_suite(name_or_path: str | Path, data_dir: Path = DATA_DIR) -> Path:
    """A suite file path: an existing path as is, else ``data/suites/NAME.yaml``, ``data/NAME/suite.yaml``,
    ``data/NAME/NAME.yaml`` or ``data/*/NAME.yaml`` in the package."""
    path = Path(name_or_path).expanduser()
    if path.is_file():
        return path
    name = str(name_or_path)
    if path.suffix in (".yaml", ".yml", ".json") or "/" in name:
        raise DossierError(f"suite file not found: {path}")
    candidates = [data_dir / "suites" / f"{name}.yaml", data_dir / name / "suite.yaml",
                  data_dir / name / f"{name}.yaml", *sorted(data_dir.glob(f"*/{name}.yaml"))]
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    raise DossierError(f"unknown suite {name!r}: give a suite file path or one of: {', '.join(known_suites(data_dir))}")


def known_suites(data_dir: Path = DATA_DIR) -> list[str]:
    """Names of the suites shipped in the package (files that parse as suites are not checked here)."""
    names = {p.stem for p in data_dir.glob("suites/*.yaml")}
    names |= {p.parent.name for p in data_dir.glob("*/suite.yaml")}
    return sorted(names) or ["(none shipped)"]


def _line_of(node: yaml.Node | None, loc: tuple[Any, ...]) -> int | None:
    """1-based line of the YAML node at ``loc`` (as deep as it exists)."""
    line = node.start_mark.line + 1 if node is not None else None
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if getattr(k, "value", None) == part), None)
            if match is None:
                break
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
        else:
            break
        line = node.start_mark.line + 1
    return line


def _parse(path: Path) -> tuple[Any, yaml.Node | None]:
    try:
        if path.stat().st_size > _MAX_BYTES:
            raise DossierError(f"suite {path} is larger than {_MAX_BYTES // 2**20} MiB")
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DossierError(f"suite file not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DossierError(f"cannot read suite {path}: {exc}") from None
    try:
        return safe_yaml_node(text)  # one parse (libyaml when present) gives the data and the line numbers
    except ValueError as exc:  # a list or mapping aliased: expanding it could take gigabytes
        raise DossierError(f"{path}: {exc}") from None
    except RecursionError:
        raise DossierError(f"{path}: YAML nested too deeply") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f":{mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise DossierError(f"{path}{where}: not valid YAML ({problem})") from None


def load_suite(name_or_path: str | Path, *, languages: list[str] | None = None) -> Suite:
    """Load, validate and expand a suite; ``languages`` keeps only items in those languages."""
    path = resolve_suite(name_or_path)
    with _gc_paused():  # tens of thousands of short-lived nodes: the cyclic GC would rescan them (3x slower)
        data, root = _parse(path)
        spec, items = _validate(data, root, path)
    if languages:
        wanted = set(languages)
        items = [i for i in items if i.metadata.get("language") in wanted]
        if not items:
            raise DossierError(f"suite {path.name} has no items in language(s) {', '.join(languages)}")
    found = sorted({i.metadata.get("language") for i in items if i.metadata.get("language")})
    return Suite(
        name=spec.name or path.stem, version=str(spec.version), path=path, sha256=sha256_file(path), items=items,
        params=spec.params, metadata=spec.metadata, description=spec.description, languages=found,
    )


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector (YAML nodes and parsed items make no cycles; refcounting frees them)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _validate(data: Any, root: yaml.Node | None, path: Path) -> tuple[SuiteSpec, list[ProbeItem]]:
    """The validated spec and its expanded items; a one-line error naming the line otherwise."""
    if not isinstance(data, dict):
        raise DossierError(f"{path}:1: a suite must be a mapping with 'version' and 'items'")
    try:
        spec = SuiteSpec.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(p for p in first["loc"] if not isinstance(p, str) or p not in ("str", "dict[str,str]"))
        line = _line_of(root, loc)
        field_name = ".".join(str(p) for p in loc) or "(top level)"
        raise DossierError(f"{path}:{line}: {field_name}: {first['msg']}") from None
    return spec, _expand(spec, path, root)


def _expand(spec: SuiteSpec, path: Path, root: yaml.Node | None) -> list[ProbeItem]:
    # every field below was validated with the spec: build the objects without validating them again
    # (a cached 10,000-prompt re-run spent a third of its time re-checking what the spec had checked)
    message, probe_item = ChatMessage.model_construct, ProbeItem.model_construct
    items: list[ProbeItem] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(spec.items):
        system = item.system if item.system is not None else spec.system
        prefix = [message(role="system", content=system)] if system else []
        if item.messages is not None:
            variants = [(item.id, item.language or spec.language, list(item.messages))]
        elif isinstance(item.prompt, dict):
            variants = [(f"{item.id}@{lang}", lang, [*prefix, message(role="user", content=text)])
                        for lang, text in item.prompt.items()]
        else:
            variants = [(item.id, item.language or spec.language,
                         [*prefix, message(role="user", content=str(item.prompt))])]
        for item_id, language, messages in variants:
            if item_id in seen:
                line = _line_of(root, ("items", index, "id"))
                raise DossierError(f"{path}:{line}: items.{index}.id: duplicate id {item_id!r}")
            seen[item_id] = index
            metadata = {**item.metadata, "base_id": item.id}
            if language:
                metadata["language"] = language
            items.append(probe_item(id=item_id, messages=messages, metadata=metadata))
    return items
