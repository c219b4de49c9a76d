"""Build the `run` record: tool and dependency versions, settings and data-file hashes."""

from __future__ import annotations

import platform
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

from modeldossier import __version__
from modeldossier.dossier import DataFile, RunRecord, utc_now
from modeldossier.fsutil import sha256_file

_KEY_DEPENDENCIES = (
    "pydantic", "typer", "rich", "httpx", "jinja2", "huggingface_hub", "gguf", "safetensors", "numpy", "scipy",
    "tokenizers", "openai", "scikit-learn", "duckdb", "plotly", "bandit", "semgrep",
)


def dependency_versions(names: Iterable[str] = _KEY_DEPENDENCIES) -> dict[str, str]:
    """Installed versions of the named distributions; missing ones are listed as 'not installed'."""
    versions = {}
    for name in names:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def data_file(path: Path, name: str | None = None, version: str | None = None) -> DataFile:
    """A data file pinned by its content hash."""
    return DataFile(name=name or Path(path).name, version=version, sha256=sha256_file(Path(path)))


def start_record(command: str, settings: dict[str, Any] | None = None) -> RunRecord:
    """A run record stamped with versions and the start time; fill sections/data_files, then finish()."""
    return RunRecord(
        command=command,
        tool_version=__version__,
        python=f"{platform.python_implementation()} {sys.version.split()[0]}",
        dependencies=dependency_versions(),
        settings=dict(settings or {}),
        started_at=utc_now(),
    )


def finish(record: RunRecord, sections: Iterable[str]) -> RunRecord:
    """Stamp the end time and the sections the command wrote."""
    record.sections = list(sections)
    record.finished_at = utc_now()
    return record
