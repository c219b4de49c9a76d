"""The classifier's measured error per cell, read from ``data/censorship/instrument.json``.

The file records, per classifier tier and answer language, the empirical errors of the COMPLETE rate of a
model x category cell (``cell_errors``) and of a China-vs-control gap (``gap_errors``), each as classifier
minus reference judge, from model-grouped cross-validation. The statistics add a draw from these to every
bootstrap replicate. Extra keys are ignored; a missing file means "not measured", never an error.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np

from modeldossier.errors import DossierError

INSTRUMENT_FILE = "instrument.json"
Kind = Literal["cell_errors", "gap_errors"]


@dataclass(frozen=True)
class Errors:
    """One empirical error distribution and the instrument-file language it came from."""

    language: str
    values: np.ndarray

    def draws(self, rng: np.random.Generator, size: int, *, centre: bool) -> np.ndarray:
        """``size`` errors drawn with replacement; centred (mean removed) unless ``centre`` is false."""
        out = self.values[rng.integers(0, self.values.size, size=size)]
        return out - self.values.mean() if centre else out

    @property
    def mean(self) -> float:
        """The mean error (the bias a correction would remove)."""
        return float(self.values.mean())


@dataclass(frozen=True)
class Instrument:
    """The error table of one classifier tier."""

    classifier: str
    tier: str
    correct_bias: bool
    source: str
    by_language: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)
    raw: dict[str, dict[str, Any]] = field(default_factory=dict, repr=False)  # the rows as read (other keys)

    def errors(self, language: str, kind: Kind) -> Errors | None:
        """The errors of ``kind`` for an answer language (zh-Hans/zh-Hant -> zh), else the pooled ``all`` row."""
        for key in (language_key(language), "all"):
            values = self.by_language.get(key, {}).get(kind)
            if values is not None and values.size:
                return Errors(key, values)
        return None


def language_key(language: str) -> str:
    """The instrument file's key for a suite language: ``zh-Hans`` and ``zh-Hant`` are ``zh``."""
    return "zh" if language.lower().startswith("zh") else language.lower()


def default_path() -> Path:
    """The shipped instrument file (may be absent)."""
    return Path(str(resources.files("modeldossier.data.censorship").joinpath(INSTRUMENT_FILE)))


def _errors(value: Any, where: str) -> np.ndarray | None:
    if value is None:
        return None
    if not isinstance(value, list) or not all(
        isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x) and -1 <= x <= 1 for x in value
    ):
        raise DossierError(f"{where} must be a list of numbers between -1 and 1")
    return np.asarray(value, dtype=float)


def load(path: Path | None = None, *, tier: str = "default") -> Instrument | None:
    """Read one tier of an instrument file; None when the file or the tier is absent.

    A file that exists but does not fit the schema is a ``DossierError`` with one line naming the field.
    """
    path = Path(path) if path else default_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DossierError(f"cannot read instrument file {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise DossierError(f"instrument file {path}: top level must be an object")
    tiers = data.get("tiers")
    if not isinstance(tiers, dict):
        raise DossierError(f"instrument file {path}: 'tiers' must be an object")
    chosen = tiers.get(tier)
    if chosen is None:
        return None
    languages = chosen.get("by_language") if isinstance(chosen, dict) else None
    if not isinstance(languages, dict):
        raise DossierError(f"instrument file {path}: tiers.{tier}.by_language must be an object")
    table: dict[str, dict[str, np.ndarray]] = {}
    for lang, row in languages.items():
        if not isinstance(row, dict):
            raise DossierError(f"instrument file {path}: tiers.{tier}.by_language.{lang} must be an object")
        table[str(lang)] = {}
        for kind in ("cell_errors", "gap_errors"):
            values = _errors(row.get(kind), f"instrument file {path}: tiers.{tier}.by_language.{lang}.{kind}")
            if values is not None:
                table[str(lang)][kind] = values
    return Instrument(classifier=str(data.get("classifier", "?")), tier=tier,
                      correct_bias=data.get("correct_bias") is True, source=str(path), by_language=table,
                      raw={str(k): v for k, v in languages.items()})
