"""Small value types shared by every dossier section."""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Severity(StrEnum):
    """How bad a finding is, from worst to mildest."""

    CRITICAL = "critical"
    HIGH = "high"
    MEDIUM = "medium"
    LOW = "low"
    INFO = "info"

    @property
    def rank(self) -> int:
        """Higher is worse: critical=4 ... info=0."""
        return _RANKS[self]

    def at_least(self, other: Severity) -> bool:
        """True when this severity is as bad as ``other`` or worse."""
        return self.rank >= other.rank


_RANKS = {Severity.CRITICAL: 4, Severity.HIGH: 3, Severity.MEDIUM: 2, Severity.LOW: 1, Severity.INFO: 0}


_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


def map_strings(value: Any, fix: Callable[[str], str]) -> Any:
    """``value`` with ``fix`` applied to every string in it, keys and nested lists and dicts included."""
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, dict):
        return {map_strings(k, fix): map_strings(v, fix) for k, v in value.items()}
    if isinstance(value, list):
        return [map_strings(v, fix) for v in value]
    return value


def _replace_surrogates(text: str) -> str:
    return _LONE_SURROGATE.sub("\ufffd", text) if _LONE_SURROGATE.search(text) else text


def scrub_surrogates(value: Any) -> Any:
    """``value`` with every lone UTF-16 surrogate in its strings (nested lists and dicts too) replaced by U+FFFD.

    JSON may escape a lone surrogate (``"\\ud800"``) and Python decodes it, but no UTF-8 file can hold it: text
    from a model or an input file passes through here before it is stored or hashed.
    """
    return map_strings(value, _replace_surrogates)


class Model(BaseModel):
    """Base for every dossier model: unknown keys are rejected so typos surface early."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)


class Rate(Model):
    """A proportion k/n with its confidence interval."""

    k: int = Field(ge=0)
    n: int = Field(ge=0)
    rate: float | None = Field(default=None, description="k/n, or null when n is 0")
    ci_low: float | None = None
    ci_high: float | None = None
    method: str = "wilson-95"


class Difference(Model):
    """A difference between two rates (percentage points as a fraction) with CI and test."""

    estimate: float | None
    ci_low: float | None = None
    ci_high: float | None = None
    p_value: float | None = None
    p_adjusted: float | None = None
    method: str
    n: int = 0

    @property
    def significant(self) -> bool:
        """True when the CI excludes zero."""
        if self.ci_low is None or self.ci_high is None:
            return False
        return self.ci_low > 0 or self.ci_high < 0


SectionStatus = Literal["complete", "partial", "error"]


class Section(Model):
    """Fields every section carries: how complete it is and what the reader should know."""

    status: SectionStatus = "complete"
    notes: list[str] = Field(default_factory=list, description="Plain-language caveats and what was not done")
