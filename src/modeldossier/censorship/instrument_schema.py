"""The classifier's measured error (``data/censorship/instrument.json``), read into frozen, typed records.

bench/censorship/validate.py writes the file from the by-model cross-validation predictions; the statistics
layer draws from ``cell_errors`` / ``gap_errors`` so that rates and asymmetries carry the instrument's error as
well as sampling. Schema (fractions, ours minus the judge)::

    {"classifier": ID, "measured": "YYYY-MM-DD", "method": TEXT, "correct_bias": BOOL,
     "tiers": {TIER: {"by_language": {LANG: {"complete_sensitivity": {"k", "n"},
                                              "complete_false_positive": {"k", "n"},
                                              "cell_errors": [FLOAT], "gap_errors": [FLOAT]}}}}}
"""

from __future__ import annotations

import datetime as dt
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

from modeldossier.errors import DossierError

INSTRUMENT_FILE = "instrument.json"


@dataclass(frozen=True)
class Count:
    """k of n."""

    k: int
    n: int

    @property
    def rate(self) -> float | None:
        """k / n, or None when n is 0."""
        return self.k / self.n if self.n else None


@dataclass(frozen=True)
class LanguageError:
    """The measured error of one tier on answers to prompts in one language."""

    complete_sensitivity: Count  # judge-COMPLETE answers we call COMPLETE
    complete_false_positive: Count  # judge non-COMPLETE answers we call COMPLETE
    cell_errors: tuple[float, ...]  # per held-out model x category: our COMPLETE rate minus the judge's
    gap_errors: tuple[float, ...]  # per held-out model: error of (China rate - mean us/eu/russia rate)


@dataclass(frozen=True)
class Instrument:
    """The whole file: which weights were measured, when, how, and the error per tier and language."""

    classifier: str
    measured: dt.date
    method: str
    correct_bias: bool
    tiers: Mapping[str, Mapping[str, LanguageError]]
    bias: Mapping[str, float]  # mean cell error per language; only applied when ``correct_bias``

    def errors(self, language: str = "all", tier: str = "default") -> LanguageError:
        """The error for ``language`` (its base code; ``all`` when it was not measured) in ``tier``."""
        if tier not in self.tiers:
            raise DossierError(f"instrument file has no tier {tier!r} (has: {', '.join(self.tiers)})")
        by_language = self.tiers[tier]
        base = language.split("-", 1)[0].lower()
        return by_language.get(base) or by_language["all"]


def _fail(where: str, what: str) -> DossierError:
    return DossierError(f"malformed instrument file {where}: {what}")


def _count(obj: Any, where: str) -> Count:
    if not isinstance(obj, dict) or set(obj) != {"k", "n"}:
        raise _fail(where, "expected {\"k\": int, \"n\": int}")
    k, n = obj["k"], obj["n"]
    if not all(isinstance(v, int) and not isinstance(v, bool) for v in (k, n)) or not 0 <= k <= n:
        raise _fail(where, f"need integers 0 <= k <= n, got k={k!r}, n={n!r}")
    return Count(k, n)


def _errors(obj: Any, where: str) -> tuple[float, ...]:
    if not isinstance(obj, list):
        raise _fail(where, "expected a list of numbers")
    out = []
    for v in obj:
        if isinstance(v, bool) or not isinstance(v, int | float) or not math.isfinite(v) or not -1 <= v <= 1:
            raise _fail(where, f"expected fractions in [-1, 1], got {v!r}")
        out.append(float(v))
    return tuple(out)


def _language(obj: Any, where: str) -> LanguageError:
    keys = {"complete_sensitivity", "complete_false_positive", "cell_errors", "gap_errors"}
    if not isinstance(obj, dict) or not keys <= set(obj):
        raise _fail(where, f"expected the keys {sorted(keys)}")
    return LanguageError(_count(obj["complete_sensitivity"], f"{where}.complete_sensitivity"),
                         _count(obj["complete_false_positive"], f"{where}.complete_false_positive"),
                         _errors(obj["cell_errors"], f"{where}.cell_errors"),
                         _errors(obj["gap_errors"], f"{where}.gap_errors"))


def parse_instrument(data: Any, source: str = "instrument.json") -> Instrument:
    """Validate the decoded JSON; every problem is one DossierError naming the field."""
    if not isinstance(data, dict):
        raise _fail(source, "expected a JSON object")
    for key, kind in (("classifier", str), ("measured", str), ("method", str), ("correct_bias", bool),
                      ("tiers", dict)):
        if not isinstance(data.get(key), kind):
            raise _fail(source, f"{key!r} must be a {kind.__name__}")
    try:
        measured = dt.date.fromisoformat(data["measured"])
    except ValueError:
        raise _fail(source, f"'measured' is not a YYYY-MM-DD date: {data['measured']!r}") from None
    tiers: dict[str, Mapping[str, LanguageError]] = {}
    for tier, body in data["tiers"].items():
        by_language = body.get("by_language") if isinstance(body, dict) else None
        if not isinstance(by_language, dict) or "all" not in by_language:
            raise _fail(f"{source} tiers.{tier}", "expected 'by_language' with an 'all' entry")
        tiers[tier] = MappingProxyType({lang: _language(v, f"{source} tiers.{tier}.{lang}")
                                        for lang, v in by_language.items()})
    if "default" not in tiers:
        raise _fail(source, "no 'default' tier")
    bias = data.get("bias", {})
    if not isinstance(bias, dict) or not all(
            isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in bias.values()):
        raise _fail(source, "'bias' must map languages to numbers")
    return Instrument(data["classifier"], measured, data["method"], data["correct_bias"],
                      MappingProxyType(tiers), MappingProxyType({k: float(v) for k, v in bias.items()}))


def load_instrument(path: Path | None = None) -> Instrument:
    """The shipped instrument file (or the one at ``path``); a missing or malformed file is a DossierError."""
    try:
        if path is None:
            text = resources.files("modeldossier.data.censorship").joinpath(INSTRUMENT_FILE).read_text("utf-8")
        else:
            text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DossierError(f"cannot read the instrument file {path or INSTRUMENT_FILE}: {exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise _fail(str(path or INSTRUMENT_FILE), f"not JSON ({exc.msg} at line {exc.lineno})") from None
    return parse_instrument(data, str(path or INSTRUMENT_FILE))
