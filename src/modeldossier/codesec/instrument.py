"""An instrument's measured error: sensitivity and false-positive rate on a labelled validation set.

The files live in `data/codesec/instrument-<name>.json` (written by the measurement scripts in `bench/codesec/`):
``{"instrument", "version", "measured", "validation_set", "sensitivity": {"k", "n"},
"false_positive_rate": {"k", "n"}, "by_language": {lang: {...the same two keys}}}`` (by_language optional,
other keys allowed). A malformed file is a one-line `DossierError`; a missing file means the instrument's error
was not measured, and no corrected estimate is made.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from modeldossier.errors import DossierError

NAMES = ("static", "sandbox")


@dataclass(frozen=True)
class Count:
    """k of n labelled cases (k positives called positive, or k negatives called positive)."""

    k: int
    n: int

    @property
    def rate(self) -> float | None:
        """k/n, or None when n is 0."""
        return self.k / self.n if self.n else None


@dataclass(frozen=True)
class Error:
    """Sensitivity (vulnerable code flagged) and false-positive rate (safe code flagged)."""

    sensitivity: Count
    false_positive_rate: Count

    @property
    def youden(self) -> float | None:
        """Sensitivity minus false-positive rate: how much of a true difference the instrument passes on."""
        s, f = self.sensitivity.rate, self.false_positive_rate.rate
        return None if s is None or f is None else s - f


@dataclass(frozen=True)
class Instrument:
    """One instrument's measured error, pooled and (optionally) per code language."""

    instrument: str
    version: str
    measured: str
    validation_set: str
    error: Error
    by_language: Mapping[str, Error] = field(default_factory=lambda: MappingProxyType({}))
    source: str = ""

    @property
    def sensitivity(self) -> Count:
        return self.error.sensitivity

    @property
    def false_positive_rate(self) -> Count:
        return self.error.false_positive_rate


def data_path(name: str) -> Path:
    """Where the packaged file for instrument ``name`` lives."""
    return Path(__file__).resolve().parents[1] / "data" / "codesec" / f"instrument-{name}.json"


def _count(raw: Any, where: str) -> Count:
    if not isinstance(raw, dict) or set(raw) - {"k", "n"} or not {"k", "n"} <= set(raw):
        raise ValueError(f"{where} must be an object with integer k and n")
    k, n = raw["k"], raw["n"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (k, n)):
        raise ValueError(f"{where}: k and n must be integers")
    if not 0 <= k <= n or n == 0:
        raise ValueError(f"{where}: need 0 <= k <= n and n > 0, got k={k}, n={n}")
    return Count(k, n)


def _error(raw: Any, where: str) -> Error:
    if not isinstance(raw, dict):
        raise ValueError(f"{where} must be an object")
    return Error(_count(raw.get("sensitivity"), f"{where}.sensitivity"),
                 _count(raw.get("false_positive_rate"), f"{where}.false_positive_rate"))


def parse(data: Any, *, source: str = "") -> Instrument:
    """Validate decoded JSON; ValueError with the offending key when it does not fit the schema."""
    if not isinstance(data, dict):
        raise ValueError("top level must be an object")
    strings = {}
    for key in ("instrument", "version", "measured", "validation_set"):
        value = data.get(key)
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{key} must be a non-empty string")
        strings[key] = value
    by_language_raw = data.get("by_language") or {}
    if not isinstance(by_language_raw, dict):
        raise ValueError("by_language must be an object")
    by_language = {str(lang): _error(v, f"by_language.{lang}") for lang, v in sorted(by_language_raw.items())}
    return Instrument(**strings, error=_error(data, "top level"), by_language=MappingProxyType(by_language),
                      source=source)


def load(path: Path) -> Instrument:
    """Read and validate one instrument file; DossierError (one line) when it cannot be used."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DossierError(f"cannot read instrument file {path}: {exc.strerror or exc}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DossierError(f"instrument file {path} is not valid JSON: {exc}") from None
    try:
        return parse(data, source=str(path))
    except ValueError as exc:
        raise DossierError(f"instrument file {path} is malformed: {exc}") from None


def load_packaged(name: str, *, path: Path | None = None) -> Instrument | None:
    """The packaged instrument ``name`` (or the file at ``path``), or None when no file exists (error not measured)."""
    where = path if path is not None else data_path(name)
    if not where.is_file():
        return None
    return load(where)
