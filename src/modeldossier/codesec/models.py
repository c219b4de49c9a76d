"""The `codesec` section: vulnerable-code rates per prompt context vs its matched control."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section

Metric = Literal["vulnerable_of_all", "vulnerable_of_code", "refusal", "high_severity"]


class Comparison(Model):
    """One metric of a context minus the same metric of its matched control, in percentage points (as a fraction).

    Paired by task: for each task the mean over its answers under the context minus the mean under the control
    (same prompt language and placement); 95% CI from a bootstrap over tasks, p-value from a sign-flip
    permutation test over tasks, Holm-adjusted across contexts.
    """

    metric: Metric
    control: str
    difference: Difference
    mcnemar_p: float | None = Field(default=None, description="exact McNemar over (task x sample) pairs")
    discordant: list[int] = Field(default_factory=list, description="[context only, control only] pairs")
    significant: bool = Field(default=False, description="Holm-adjusted p < 0.05 and the CI excludes 0")


class ContextResult(Model):
    """Outcome rates for one prompt context (pooled, or one prompt language x placement slice)."""

    context: str
    label: str = ""
    kind: str = ""
    control: str | None = Field(default=None, description="the matched control context")
    prompt_language: str = Field(default="all", description="en, zh, ... or all")
    placement: str = Field(default="all", description="user, system, none (baseline) or all")
    n: int = Field(default=0, description="answers received (transport errors excluded)")
    outcomes: dict[str, int] = Field(default_factory=dict, description="refused/no_code/unparseable/scanned/...")
    refusal: Rate | None = None
    vulnerable_of_code: Rate | None = Field(default=None, description="vulnerable / scanned code answers")
    vulnerable_of_all: Rate | None = Field(
        default=None, description="vulnerable / all analysable answers (refusals and prose count as not vulnerable)"
    )
    high_severity: Rate | None = Field(default=None, description="high-severity finding / scanned code answers")
    cwe_counts: dict[str, int] = Field(default_factory=dict, description="CWE -> vulnerable answers showing it")
    comparisons: list[Comparison] = Field(default_factory=list)

    def comparison(self, metric: str) -> Comparison | None:
        """The comparison for one metric, if computed."""
        return next((c for c in self.comparisons if c.metric == metric), None)


class AnalyzerStatus(Model):
    """Whether an analyzer ran, its version, and why not."""

    name: str
    version: str | None = None
    available: bool = False
    reason: str | None = None
    snippets: int = Field(default=0, description="code answers it analysed")


class JudgeSignal(Model):
    """The optional LLM judge: a second model's verdict on each code answer, reported apart (a separate signal)."""

    judge: str
    prompt_version: str | None = None
    decoding: dict[str, Any] = Field(default_factory=dict)
    judged: int = Field(default=0, description="code answers the judge was asked about")
    unreadable: int = Field(default=0, description="judge answers with no readable verdict")
    compared: int = Field(default=0, description="answers with both a judge verdict and a static-analysis result")
    agreement: float | None = Field(default=None, description="share of compared answers where both agree")
    kappa: float | None = Field(default=None, description="Cohen's kappa, judge vs static analysis")
    transcript: str | None = None
    contexts: list[ContextResult] = Field(default_factory=list)
    positive_controls: list[ContextResult] = Field(default_factory=list)
    note: str = "LLM judge verdicts; accuracy depends on the judge model and is not measured by modeldossier"


class CodesecSection(Section):
    """Code-security differential for one target."""

    target: str | None = None
    task_set_version: str | None = None
    context_set_version: str | None = None
    rules_version: str | None = None
    tasks: int = 0
    cyberseceval_tasks: int = 0
    samples: int | None = None
    prompt_languages: list[str] = Field(default_factory=list)
    placements: list[str] = Field(default_factory=list)
    decoding: dict[str, Any] = Field(default_factory=dict, description="fixed decoding settings of every request")
    responses: int = 0
    transcript: str | None = None
    responses_file: str | None = Field(default=None, description="per-answer outcomes and findings (JSONL)")
    analyzers: list[AnalyzerStatus] = Field(default_factory=list)
    not_analyzed: dict[str, int] = Field(default_factory=dict, description="reason -> answers")
    contexts: list[ContextResult] = Field(default_factory=list, description="pooled over languages and placements")
    breakdown: list[ContextResult] = Field(default_factory=list, description="per prompt language x placement")
    positive_controls: list[ContextResult] = Field(
        default_factory=list, description="proscribed-group contexts, reported apart from the differential"
    )
    headline: list[str] = Field(default_factory=list, description="plain-language significant differences")
    judge: JudgeSignal | None = Field(default=None, description="optional LLM-judge signal, reported apart")
    data_files: dict[str, str] = Field(default_factory=dict, description="data file -> sha256")
