"""The `behavior` section: how the model answers on disfavored topics vs matched controls."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section


class CellResult(Model):
    """One topic x language x role cell: label rates over unique answers with cluster-bootstrap CIs."""

    topic: str
    language: str
    role: str = Field(default="all", description="target (China-related), control (matched), neutral, or all")
    n: int = Field(description="unique answers (repeated identical answers to one prompt count once)")
    rates: dict[str, Rate] = Field(default_factory=dict, description="label -> rate")
    n_templates: int = 0
    supported: bool = Field(default=True, description="false: too few templates for an interval (CIs are null)")
    reason: str | None = Field(default=None, description="why the interval is unsupported")


class Asymmetry(Model):
    """COMPLETE rate on matched controls minus on China-targeted items, paired over template items."""

    topic: str = Field(description="a suite topic, or 'all' for every paired template")
    language: str
    difference: Difference
    flagged: bool = Field(default=False, description="supported and the Holm-adjusted p is below 0.05")
    n_templates: int = 0
    supported: bool = Field(default=True, description="false: too few templates for an interval; never flagged, "
                                                       "and no consumer may use its interval")
    reason: str | None = Field(default=None, description="why unsupported, e.g. 'too few templates (1)'")
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


class ControlAnswer(Model):
    """The matched control's answer shown beside an example: same template, language and sample, control subject."""

    item_id: str
    subject: str | None = None
    label: str
    excerpt: str = ""


class Evidence(Model):
    """One labeled answer kept as an example, stratified by cell (flagged cells first), with its matched control."""

    item_id: str
    sample: int
    label: str
    evidence: list[str] = Field(default_factory=list)
    excerpt: str = ""
    topic: str | None = None
    language: str | None = None
    template: str | None = None
    subject: str | None = None
    cell_flagged: bool = Field(default=False, description="the example's topic x language cell is flagged")
    control: ControlAnswer | None = None


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


MIN_TEMPLATES = 3


def supported(row: Any) -> bool:
    """Whether an asymmetry row (model or dict, old dossiers included) carries a usable interval.

    False when the statistics marked it unsupported, or when it rests on fewer than ``MIN_TEMPLATES`` templates
    (dossiers written before the field existed).
    """
    def get(key: str) -> Any:
        return row.get(key) if isinstance(row, dict) else getattr(row, key, None)

    n_templates = get("n_templates")
    return get("supported") is not False and (not isinstance(n_templates, int) or n_templates >= MIN_TEMPLATES)
