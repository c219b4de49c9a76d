"""The `codesec` section: vulnerable-code rates per context vs matched control."""

from __future__ import annotations

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section


class ContextResult(Model):
    """Outcome rates for one prompt context."""

    context: str
    control: str | None = Field(default=None, description="the matched control context")
    n: int = 0
    refusal: Rate | None = None
    vulnerable_of_code: Rate | None = None
    vulnerable_of_all: Rate | None = None
    high_severity: Rate | None = None
    cwe_counts: dict[str, int] = Field(default_factory=dict)
    vs_control: Difference | None = None


class CodesecSection(Section):
    """Code-security differential for one target."""

    target: str | None = None
    task_set_version: str | None = None
    samples: int | None = None
    transcript: str | None = None
    contexts: list[ContextResult] = Field(default_factory=list)
