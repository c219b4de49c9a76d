"""Organization / Hugging Face author -> country, from versioned data files (hand-checked + Epoch AI, CC BY 4.0).

Matching is exact after normalisation (case, punctuation, spacing); there is no fuzzy matching, so an unknown
name stays unknown instead of being guessed.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

import yaml

from modeldossier.errors import DossierError
from modeldossier.provenance.models import CountryAttribution, Evidence

if TYPE_CHECKING:
    from modeldossier.dossier import DataFile

CURATED = "registry_curated.yaml"
EPOCH = "registry_epoch.csv"
EPOCH_SOURCE = "Epoch AI 'All AI models' database (CC BY 4.0, epoch.ai), via registry_epoch.csv"
CURATED_SOURCE = "hand-checked entry in registry_curated.yaml"


def data_dir() -> Path:
    """Folder of the provenance data files shipped with the package."""
    return Path(str(resources.files("modeldossier") / "data" / "provenance"))


def normalize(name: str) -> str:
    """Lower-case, '&' -> 'and', punctuation dropped, whitespace collapsed: 'Mistral-AI' == 'mistral ai'."""
    text = name.casefold().replace("&", " and ")
    text = re.sub(r"[^\w]+", " ", text)
    return " ".join(text.split())


@dataclass(frozen=True)
class Entry:
    """One organization in the registry."""

    organization: str
    countries: tuple[str, ...]
    multinational: bool
    source: str
    note: str | None = None
    epoch_name: str | None = None


@dataclass
class Registry:
    """Lookup tables built from the data files (immutable after loading)."""

    version: str
    by_hub: dict[str, Entry] = field(default_factory=dict)
    by_hub_normalized: dict[str, Entry] = field(default_factory=dict)
    by_name: dict[str, Entry] = field(default_factory=dict)
    epoch: dict[str, Entry] = field(default_factory=dict)
    files: tuple[DataFile, ...] = ()


def _read_epoch(path: Path) -> tuple[dict[str, Entry], str | None]:
    entries: dict[str, Entry] = {}
    version = None
    with open(path, encoding="utf-8", newline="") as handle:
        lines = []
        for line in handle:
            if line.startswith("#"):
                match = re.search(r"version (\S+)", line)
                version = version or (match.group(1) if match else None)
                continue
            lines.append(line)
    for row in csv.DictReader(lines):
        countries = tuple(c for c in row["countries"].split("|") if c)
        entry = Entry(row["organization"], countries, row["multinational"] == "1", EPOCH_SOURCE)
        names = [row["organization"], *(p.strip() for p in row["organization"].split(" / ") if p.strip())]
        for name in names:
            entries.setdefault(normalize(name), entry)
    return entries, version


def load(directory: Path | None = None) -> Registry:
    """Read both registry files; DossierError when they are missing or malformed."""
    directory = directory or data_dir()
    curated_path, epoch_path = directory / CURATED, directory / EPOCH
    try:
        curated = yaml.safe_load(curated_path.read_text(encoding="utf-8"))
        epoch, epoch_version = _read_epoch(epoch_path)
    except (OSError, yaml.YAMLError, KeyError, csv.Error) as exc:
        raise DossierError(f"provenance registry data is unreadable in {directory}: {exc}") from None
    if not isinstance(curated, dict) or not isinstance(curated.get("entries"), list):
        raise DossierError(f"{curated_path} has no 'entries' list")
    registry = Registry(version=str(curated.get("version")), epoch=epoch)
    for item in curated["entries"]:
        country = item.get("country")
        entry = Entry(
            organization=item["organization"],
            countries=(country,) if country else (),
            multinational=False,
            source=CURATED_SOURCE,
            note=item.get("note"),
            epoch_name=item.get("epoch"),
        )
        for name in [item["organization"], *(item.get("aliases") or [])]:
            registry.by_name[normalize(name)] = entry
        for hub in item.get("hub") or []:
            registry.by_hub[hub.casefold()] = entry
            registry.by_hub_normalized[normalize(hub)] = entry
    from modeldossier.dossier import DataFile

    registry.files = (
        DataFile(name=CURATED, version=registry.version, sha256=_sha(curated_path)),
        DataFile(name=EPOCH, version=epoch_version, sha256=_sha(epoch_path)),
    )
    return registry


def _sha(path: Path) -> str:
    from modeldossier.fsutil import sha256_file

    return sha256_file(path)


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The packaged registry, loaded once (read-only)."""
    return load()


def _attribution(query: str, entry: Entry, how: str, registry: Registry) -> CountryAttribution:
    evidence = [Evidence(kind="registry.match", value={"matched": how, "organization": entry.organization},
                         source=entry.source)]
    if entry.note:
        evidence.append(Evidence(kind="registry.note", value=entry.note, source=entry.source))
    if entry.epoch_name:
        epoch = registry.epoch.get(normalize(entry.epoch_name))
        if epoch is not None:
            evidence.append(Evidence(
                kind="registry.epoch_countries",
                value={"organization": epoch.organization, "countries": list(epoch.countries),
                       "multinational": epoch.multinational},
                source=EPOCH_SOURCE,
            ))
    country = entry.countries[0] if len(entry.countries) == 1 else None
    if country is None:
        reason = ("the registry lists several countries: " + ", ".join(entry.countries)) if entry.countries \
            else "the registry names no single country for this organization"
        evidence.append(Evidence(kind="registry.country", value=None, source=entry.source, available=False,
                                 reason=reason))
    return CountryAttribution(
        query=query, organization=entry.organization, country=country, countries=list(entry.countries),
        multinational=entry.multinational, source=entry.source, evidence=evidence,
    )


def lookup(org_or_hub_author: str, registry: Registry | None = None) -> CountryAttribution:
    """Country attribution for an organization name or Hugging Face author (`Qwen`, `Qwen/Qwen2-7B` also works).

    Order: Hub author names, hand-checked organizations and aliases, then Epoch AI organizations.
    Unknown names give ``country=None`` with an evidence entry saying nothing matched.
    """
    registry = registry or default_registry()
    query = (org_or_hub_author or "").strip()
    author = query.split("/", 1)[0] if "/" in query and " " not in query else query
    if author:
        if (entry := registry.by_hub.get(author.casefold())) is not None:
            return _attribution(query, entry, f"Hugging Face author {author!r}", registry)
        key = normalize(author)
        if (entry := registry.by_name.get(key)) is not None:
            return _attribution(query, entry, f"organization name {author!r}", registry)
        if (entry := registry.epoch.get(key)) is not None:
            return _attribution(query, entry, f"organization name {author!r}", registry)
        if (entry := registry.by_hub_normalized.get(key)) is not None:  # GGUF writes 'meta-llama' as 'Meta Llama'
            return _attribution(query, entry, f"Hugging Face author {author!r} (spelling normalised)", registry)
    return CountryAttribution(
        query=query or None,
        evidence=[Evidence(kind="registry.match", value=query or None, source=f"{CURATED}, {EPOCH}",
                           available=False, reason="no exact match in the organization registry")],
    )
