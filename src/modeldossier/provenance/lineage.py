"""Lineage facts from `lineage_families.yaml`: which reference vocabulary a declared base model or a llama.cpp
pre-tokenizer name stands for, and which vocabularies are exact prefixes of a reference (cl100k_base of Llama 3).
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from modeldossier.errors import DossierError

LINEAGE_FILE = "lineage_families.yaml"


@dataclass(frozen=True)
class BaseFamily:
    """The reference vocabulary a declared base model uses, and the fact that says so."""

    vocab: str
    extended: bool
    evidence: str
    pattern: str


@lru_cache(maxsize=1)
def lineage_data() -> dict[str, Any]:
    """The packaged lineage facts (read once)."""
    from modeldossier.provenance.registry import data_dir

    path = data_dir() / LINEAGE_FILE
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read {path}: {exc}") from None
    if not isinstance(data, dict):
        raise DossierError(f"{path} is not a mapping")
    return data


def lineage_version() -> str:
    """Version of the packaged lineage facts."""
    return str(lineage_data().get("version"))


def base_family(repo_id: str) -> BaseFamily | None:
    """The hand-checked vocabulary of a declared base repo (distills, re-bases, extensions), or None."""
    for item in lineage_data().get("bases") or []:
        if fnmatch.fnmatch(repo_id.casefold(), str(item["pattern"]).casefold()):
            return BaseFamily(vocab=item["vocab"], extended=bool(item.get("extended")),
                              evidence=str(item.get("evidence", "")), pattern=str(item["pattern"]))
    return None


def chkhsh_vocab(pre: str) -> tuple[str, str] | None:
    """(reference vocabulary, evidence) for a llama.cpp pre-tokenizer name that reuses a reference vocabulary."""
    item = (lineage_data().get("chkhsh_vocab") or {}).get(pre)
    return (item["vocab"], str(item.get("evidence", ""))) if isinstance(item, dict) else None


def prefixes(of: str) -> list[dict[str, Any]]:
    """Known vocabularies that are an exact prefix of reference ``of``."""
    return [p for p in lineage_data().get("prefixes") or [] if p.get("of") == of]
