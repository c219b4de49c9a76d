"""Load dossiers for report/compare/gate, explaining schema versions older than this build reads."""

from __future__ import annotations

import json
from pathlib import Path

from modeldossier import dossier as dossier_io
from modeldossier.dossier import SCHEMA_VERSION, Dossier
from modeldossier.errors import DossierError


def load_dossier(path: Path) -> Dossier:
    """``modeldossier.dossier.load`` (which migrates what it can), with a clear line for pre-v1 dossiers."""
    try:
        return dossier_io.load(path)
    except DossierError as exc:
        version = _raw_version(Path(path))
        if isinstance(version, int) and not isinstance(version, bool) and version < SCHEMA_VERSION:
            raise DossierError(
                f"{path} has schema_version {version}, older than the oldest schema this modeldossier can migrate "
                f"(v{SCHEMA_VERSION} is the first released one): re-run the command that produced it"
            ) from None
        raise exc from None


def _raw_version(path: Path) -> object:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data.get("schema_version") if isinstance(data, dict) else None
