"""The versioned rule catalogue of the non-pickle format checkers (data/artifacts/format_rules.yaml)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

CATALOGUE_PATH = Path(__file__).resolve().parents[1] / "data" / "artifacts" / "format_rules.yaml"


@dataclass(frozen=True)
class RuleSpec:
    """One rule: its usual severity and a one-line description."""

    rule_id: str
    severity: str
    description: str


@dataclass(frozen=True)
class Catalogue:
    """All rules of the catalogue, with its version and file path (for the run record)."""

    version: str
    path: Path
    rules: dict[str, RuleSpec]


@lru_cache(maxsize=4)
def load_catalogue(path: Path = CATALOGUE_PATH) -> Catalogue:
    """Read and validate the catalogue (ValueError on a malformed file)."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    version = data.get("version")
    rules = data.get("rules")
    if not isinstance(version, str) or not isinstance(rules, dict):
        raise ValueError(f"{path}: needs a string 'version' and a 'rules' mapping")
    specs = {}
    for rule_id, spec in rules.items():
        if not isinstance(spec, dict) or spec.get("severity") not in ("critical", "high", "medium", "low", "info"):
            raise ValueError(f"{path}: rule {rule_id!r} needs a severity")
        specs[str(rule_id)] = RuleSpec(str(rule_id), spec["severity"], str(spec.get("description", "")))
    return Catalogue(version=version, path=Path(path), rules=specs)
