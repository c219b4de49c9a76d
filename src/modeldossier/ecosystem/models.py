"""The result of `dossier ecosystem`: download share by origin, with the rule and the snapshot it came from."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from modeldossier.common import Model
from modeldossier.dossier import RunRecord

AttributionRule = Literal["uploader", "lineage-root"]
UNKNOWN = "unknown"


class SnapshotInfo(Model):
    """Which snapshot the numbers come from."""

    path: str
    format: Literal["parquet", "jsonl"]
    sha256: str
    rows: int
    snapshot_date: str | None = Field(description="when the snapshot was taken (ISO date), if known")
    snapshot_date_source: str
    source: Literal["file", "live"] = "file"


class Window(Model):
    """Models counted: those created in [since, until) (months, until exclusive)."""

    since: str | None = Field(default=None, description="first month included, YYYY-MM")
    until: str | None = Field(default=None, description="first month excluded, YYYY-MM")
    models: int = 0
    models_without_created_at: int = Field(default=0, description="in the snapshot but outside any window")


class CountryShare(Model):
    """One country's share of the models created in the window (country 'unknown' is its own bucket)."""

    country: str
    models: int
    downloads: int = Field(description="sum of 30-day downloads at snapshot time")
    downloads_all_time: int
    models_share: float
    downloads_share: float | None
    downloads_all_time_share: float | None


class MonthShare(Model):
    """One country's share within one created month."""

    month: str
    country: str
    models: int
    downloads: int
    downloads_all_time: int
    downloads_share: float | None
    downloads_all_time_share: float | None


class Family(Model):
    """A lineage-root family: the root model and every model in the window whose walk ends at it."""

    root: str
    country: str
    models: int
    derivatives: int = Field(description="models other than the root itself")
    downloads: int
    downloads_all_time: int
    in_snapshot: bool = Field(description="whether the root itself is a row of the snapshot")
    by_relation: dict[str, int] = Field(default_factory=dict, description="derivatives by their own relation")


class LineageStats(Model):
    """How the base-model walk went."""

    max_depth: int
    with_parent: int = Field(description="models declaring at least one base model")
    multi_parent: int = Field(description="models declaring several base models (the first is followed)")
    depth_limited: int = Field(description="walks stopped at max_depth with a parent left")
    cycles: int = Field(description="walks stopped because the next parent was already on the path")


class EcosystemReport(Model):
    """Shares by origin over time windows, top families and derivative counts."""

    kind: Literal["modeldossier.ecosystem"] = "modeldossier.ecosystem"
    version: Literal[1] = 1
    rule: AttributionRule
    rule_description: str
    attribution_source: str = Field(description="where organization -> country came from")
    snapshot: SnapshotInfo
    window: Window
    lineage: LineageStats
    by_country: list[CountryShare] = Field(default_factory=list)
    by_month: list[MonthShare] = Field(default_factory=list)
    top_families: list[Family] = Field(default_factory=list)
    most_derived: list[Family] = Field(default_factory=list)
    notes: list[str] = Field(default_factory=list)
    run: RunRecord | None = None

    def to_json(self) -> str:
        """Stable, human-readable JSON."""
        return self.model_dump_json(indent=2) + "\n"
