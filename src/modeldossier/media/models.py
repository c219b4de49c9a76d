"""The `media` section: what an image or video generator does with paired visual prompts."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section


class Outcome(StrEnum):
    """What came back for one visual prompt."""

    GENERATED = "GENERATED"
    BLOCKED = "BLOCKED"
    REFUSED = "REFUSED"
    PLACEHOLDER = "PLACEHOLDER"
    ERROR = "ERROR"


class MediaCell(Model):
    """One topic x language x role cell: outcome rates over answers with Wilson intervals."""

    topic: str
    language: str
    role: str = Field(description="target (China-related), control (matched), or neutral")
    n: int = Field(description="answers that reached an outcome other than ERROR")
    errors: int = Field(default=0, description="requests that failed for good (not in n)")
    rates: dict[str, Rate] = Field(default_factory=dict, description="outcome -> rate")


class MediaAsymmetry(Model):
    """GENERATED rate on matched controls minus on targets, paired over templates (bootstrap over templates)."""

    topic: str = Field(description="a suite topic, or 'all' for every paired template")
    language: str
    difference: Difference
    n_templates: int = 0
    supported: bool = Field(default=True, description="false: too few templates for an interval; never flagged")
    reason: str | None = None
    flagged: bool = Field(default=False, description="supported and the Holm-adjusted p is below 0.05")
    target_generated: float | None = None
    control_generated: float | None = None


class MediaFile(Model):
    """One stored media file (by content hash, under the media folder), never the bytes themselves."""

    sha256: str
    bytes: int
    mime: str | None = None
    width: int | None = None
    height: int | None = None


class MediaExample(Model):
    """One answer kept as evidence: outcome, the provider's message (as data, escaped when shown), media hashes."""

    item_id: str
    sample: int = 0
    topic: str | None = None
    language: str | None = None
    role: str | None = None
    subject: str | None = None
    outcome: str
    reason: str | None = Field(default=None, description="why this outcome: placeholder test, block marker...")
    message: str | None = Field(default=None, description="the provider's message or text answer (evidence)")
    media: list[MediaFile] = Field(default_factory=list)


class MediaSection(Section):
    """Results of the media suite against one image or video generator."""

    suite: str | None = None
    suite_version: str | None = None
    suite_sha256: str | None = None
    target: str | None = None
    target_kind: str | None = Field(default=None, description="openai-images or media-job")
    transcript: str | None = None
    media_dir: str | None = Field(default=None, description="folder of the stored media (files named by sha256)")
    placeholder_list: str | None = Field(default=None, description="version of the known-placeholder hash list")
    samples: int = 1
    n_items: int = 0
    n_responses: int = 0
    outcome_counts: dict[str, int] = Field(default_factory=dict)
    cells: list[MediaCell] = Field(default_factory=list)
    asymmetry: list[MediaAsymmetry] = Field(default_factory=list)
    examples: list[MediaExample] = Field(default_factory=list)
