"""The dossier: one schema-versioned JSON document about one model, and its load/save/merge."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal

from pydantic import Field, ValidationError
from pydantic_core import PydanticSerializationError

from modeldossier.artifacts.models import ArtifactsSection
from modeldossier.censorship.models import BehaviorSection
from modeldossier.codesec.models import CodesecSection
from modeldossier.common import Model
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text, storable
from modeldossier.media.models import MediaSection
from modeldossier.probing.serving import Serving
from modeldossier.provenance.models import ProvenanceSection

SCHEMA_VERSION = 1
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")  # JSON text that may decode to a lone surrogate
SECTIONS = ("artifacts", "provenance", "behavior", "codesec", "media")
# schema_version N -> a function turning a version-N document into version N+1 (v1 is the first released schema)
MIGRATIONS: Mapping[int, Callable[[dict[str, Any]], dict[str, Any]]] = MappingProxyType({})


def utc_now() -> str:
    """The current time as an ISO 8601 UTC string."""
    return datetime.now(UTC).isoformat(timespec="seconds")


class SubjectFile(Model):
    """One file of the subject, relative to its root."""

    path: str
    size: int
    sha256: str | None = None


class Subject(Model):
    """What was examined."""

    kind: Literal["path", "hub", "endpoint"]
    ref: str = Field(description="the path, Hub id or endpoint as the user gave it")
    name: str = Field(description="display name, also used to match dossiers when merging")
    revision: str | None = Field(default=None, description="Hub commit sha, when known")
    endpoint: str | None = None
    served_model: str | None = None
    serving: Serving | None = Field(default=None, description="who operates the endpoint, and in which country")
    files: list[SubjectFile] = Field(default_factory=list)


class DataFile(Model):
    """A data file a run used (suite, allowlist, registry), pinned by content hash."""

    name: str
    version: str | None = None
    sha256: str


class RunRecord(Model):
    """One command that wrote into this dossier."""

    command: str
    sections: list[str] = Field(default_factory=list)
    tool_version: str
    python: str
    dependencies: dict[str, str] = Field(default_factory=dict)
    settings: dict[str, Any] = Field(default_factory=dict)
    data_files: list[DataFile] = Field(default_factory=list)
    started_at: str
    finished_at: str | None = None


class RunSection(Model):
    """How the dossier was produced, and which sections were not run and why."""

    records: list[RunRecord] = Field(default_factory=list)
    not_run: dict[str, str] = Field(default_factory=dict, description="section -> why it was not run")


class Dossier(Model):
    """Everything modeldossier knows about one model."""

    schema_version: Literal[1] = SCHEMA_VERSION
    subject: Subject
    artifacts: ArtifactsSection | None = None
    provenance: ProvenanceSection | None = None
    behavior: BehaviorSection | None = None
    codesec: CodesecSection | None = None
    media: MediaSection | None = None
    run: RunSection = Field(default_factory=RunSection)

    def sections_present(self) -> list[str]:
        """Names of the sections that hold results."""
        return [name for name in SECTIONS if getattr(self, name) is not None]

    def to_json(self) -> str:
        """Stable, human-readable JSON; lone surrogates (a non-UTF-8 file name) are made storable first."""
        try:
            try:
                return self.model_dump_json(indent=2, exclude_none=False) + "\n"
            except PydanticSerializationError:  # a lone surrogate: UTF-8 cannot hold it
                return json.dumps(storable(self.model_dump(mode="json")), indent=2, ensure_ascii=False) + "\n"
        except (ValueError, RecursionError) as exc:  # pydantic's "Maximum serialization depth exceeded"
            raise DossierError(f"cannot write the dossier of {self.subject.name!r} as JSON: {exc}") from None


def load(path: Path) -> Dossier:
    """Read and validate a dossier; a clear DossierError on any problem (missing, not JSON, wrong schema)."""
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DossierError(f"dossier not found: {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DossierError(f"cannot read dossier {path}: {exc}") from None
    try:
        data = json.loads(raw)
        if _SURROGATE_ESCAPE.search(raw):
            data = storable(data)
    except json.JSONDecodeError as exc:
        raise DossierError(f"{path} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except RecursionError:
        raise DossierError(f"{path} is not a usable dossier: its JSON is nested too deeply") from None
    except ValueError as exc:  # e.g. an integer longer than Python's 4300-digit limit
        raise DossierError(f"{path} is not a usable dossier: {str(exc).split(';')[0]}") from None
    return from_data(data, source=str(path))


def from_data(data: Any, source: str = "dossier") -> Dossier:
    """Validate parsed JSON as a dossier, migrating older schema versions when we know how."""
    if not isinstance(data, dict):
        raise DossierError(f"{source} is not a dossier: expected a JSON object")
    version = data.get("schema_version")
    if version is None:
        raise DossierError(f"{source} is not a dossier: no schema_version")
    if isinstance(version, bool) or not isinstance(version, int) or version > SCHEMA_VERSION:
        raise DossierError(
            f"{source} has schema_version {version!r}; this modeldossier reads up to {SCHEMA_VERSION}: upgrade it"
        )
    while version < SCHEMA_VERSION:
        migrate = MIGRATIONS.get(version)
        if migrate is None:
            raise DossierError(
                f"{source} has schema_version {version}, older than the oldest schema this modeldossier can migrate "
                f"(v{SCHEMA_VERSION} is the first released one): re-run the command that produced it"
            )
        data, version = migrate(data), version + 1
    try:
        return Dossier.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise DossierError(
            f"{source} is not a valid dossier: {where}: {first['msg']} ({exc.error_count()} problem(s))"
        ) from None


def save(dossier: Dossier, path: Path) -> Path:
    """Write a dossier atomically (a crash never leaves half a file over a good one)."""
    atomic_write_text(Path(path), dossier.to_json())
    return Path(path)


def merge(base: Dossier, update: Dossier, *, force: bool = False) -> Dossier:
    """Combine two dossiers of the same subject: sections present in ``update`` replace those in ``base``.

    Run records accumulate; a section's 'not run' reason is dropped once the section exists.
    """
    same = (base.subject.kind, storable(base.subject.name)) == (update.subject.kind, storable(update.subject.name))
    if not force and not same:  # storable: a saved non-UTF-8 name (\xff) matches the one just scanned
        raise DossierError(
            f"cannot merge dossiers of different subjects: {base.subject.name!r} vs {update.subject.name!r}"
        )
    merged = base.model_copy(deep=True)
    subject = update.subject if update.subject.files or not base.subject.files else base.subject
    merged.subject = subject.model_copy(deep=True)
    if update.subject.serving is not None:  # the latest run says who served the endpoint
        merged.subject.serving = update.subject.serving.model_copy(deep=True)
    for name in SECTIONS:
        section = getattr(update, name)
        if section is not None:
            setattr(merged, name, section.model_copy(deep=True))
    merged.run.records = [*base.run.records, *update.run.records]
    not_run = {**base.run.not_run, **update.run.not_run}
    merged.run.not_run = {k: v for k, v in not_run.items() if getattr(merged, k, None) is None}
    return merged


def save_merged(dossier: Dossier, path: Path) -> Dossier:
    """Merge ``dossier`` into the one at ``path`` if it exists, then save; returns what was written."""
    path = Path(path)
    if path.exists():
        dossier = merge(load(path), dossier)
    save(dossier, path)
    return dossier


def json_schema() -> dict[str, Any]:
    """The JSON Schema of the dossier, as committed in docs/dossier.schema.json."""
    schema = Dossier.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = f"https://modeldossier.dev/schema/dossier-v{SCHEMA_VERSION}.json"
    return schema
