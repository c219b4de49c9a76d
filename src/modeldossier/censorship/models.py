"""The `behavior` section: how the model answers on disfavored topics vs matched controls."""

from __future__ import annotations

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section


class CellResult(Model):
    """One topic x language cell: label rates with CIs."""

    topic: str
    language: str
    n: int
    rates: dict[str, Rate] = Field(default_factory=dict, description="label -> rate")


class Asymmetry(Model):
    """COMPLETE rate on matched controls minus on China-targeted items, for one topic/language."""

    topic: str
    language: str
    difference: Difference
    flagged: bool = False


class BehaviorSection(Section):
    """Results of the censorship suite against one target."""

    suite: str | None = None
    suite_version: str | None = None
    target: str | None = None
    transcript: str | None = None
    classifier: str | None = None
    cells: list[CellResult] = Field(default_factory=list)
    asymmetry: list[Asymmetry] = Field(default_factory=list)
