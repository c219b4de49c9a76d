"""The `behavior` section: how the model answers on disfavored topics vs matched controls."""

from __future__ import annotations

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section


class CellResult(Model):
    """One topic x language x role cell: label rates with Wilson CIs."""

    topic: str
    language: str
    role: str = Field(default="all", description="target (China-related), control (matched), neutral, or all")
    n: int
    rates: dict[str, Rate] = Field(default_factory=dict, description="label -> rate")


class Asymmetry(Model):
    """COMPLETE rate on matched controls minus on China-targeted items, paired over template items."""

    topic: str = Field(description="a suite topic, or 'all' for every paired template")
    language: str
    difference: Difference
    flagged: bool = Field(default=False, description="the CI excludes 0")
    n_templates: int = 0
    target_complete: float | None = None
    control_complete: float | None = None


class KeyFactResult(Model):
    """Whether answers to a key-fact question state the reference date and death-toll range."""

    template: str
    subject: str
    language: str
    role: str
    n: int
    date: Rate
    deaths_in_range: Rate


class Evidence(Model):
    """One labeled answer kept as an example (non-COMPLETE China-targeted answers first)."""

    item_id: str
    sample: int
    label: str
    evidence: list[str] = Field(default_factory=list)
    excerpt: str = ""


class BehaviorSection(Section):
    """Results of the censorship suite against one target."""

    suite: str | None = None
    suite_version: str | None = None
    suite_sha256: str | None = None
    target: str | None = None
    transcript: str | None = None
    classifier: str | None = None
    classifier_sha256: str | None = None
    samples: int = 1
    n_items: int = 0
    n_responses: int = 0
    label_counts: dict[str, int] = Field(default_factory=dict)
    judge_routed: int | None = Field(default=None, description="answers sent to the LLM judge (with --judge)")
    judge_routed_fraction: float | None = Field(
        default=None, description="share of content-labeled answers sent to the LLM judge (with --judge)")
    reasoning_label_counts: dict[str, int] = Field(
        default_factory=dict, description="labels of reasoning traces, classified apart from the answers"
    )
    cells: list[CellResult] = Field(default_factory=list)
    asymmetry: list[Asymmetry] = Field(default_factory=list)
    key_facts: list[KeyFactResult] = Field(default_factory=list)
    examples: list[Evidence] = Field(default_factory=list)
