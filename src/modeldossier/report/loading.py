"""Load dossiers for report/compare/gate (schema checks and migrations live in ``modeldossier.dossier``)."""

from __future__ import annotations

from pathlib import Path

from modeldossier import dossier as dossier_io
from modeldossier.dossier import Dossier


def load_dossier(path: Path) -> Dossier:
    """A validated dossier, migrated to the current schema, or a one-line DossierError saying why not."""
    return dossier_io.load(path)
