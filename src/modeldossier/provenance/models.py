"""The `provenance` section: who made the model, what it derives from, under which jurisdiction."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modeldossier.common import Model, Section


class Evidence(Model):
    """One fact and where it came from; `available` is False with a reason when it could not be read."""

    kind: str = Field(description="e.g. model_card.base_model, config.architectures, tokenizer.chkhsh")
    value: Any = None
    source: str = Field(description="file, URL or data file the value came from")
    available: bool = True
    reason: str | None = None


class CountryAttribution(Model):
    """A country for an organization, with how we know."""

    organization: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, or null when unknown")
    evidence: list[Evidence] = Field(default_factory=list)


class ProvenanceSection(Section):
    """Declared and observed lineage plus country evidence."""

    declared: list[Evidence] = Field(default_factory=list)
    observed: list[Evidence] = Field(default_factory=list)
    declared_base: str | None = None
    observed_family: str | None = None
    observed_confidence: float | None = None
    undeclared_derivative: bool | None = None
    lineage_root: str | None = None
    license: str | None = None
    author_country: CountryAttribution = Field(default_factory=CountryAttribution)
    lineage_root_country: CountryAttribution = Field(default_factory=CountryAttribution)
