"""The `codesec` section: flagged-code and refusal rates per prompt context vs its matched control.

Two differentials are kept apart: the **vulnerability differential** (`vulnerable_of_code`: answers whose code an
instrument flags, among code answers it could analyse) and the **refusal differential** (`refusal`). The
vulnerability differential is what the instrument *flags*; each one carries the instrument's measured sensitivity
and false-positive rate and a corrected estimate (difference / (sensitivity - FPR)) when that is supported.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modeldossier.common import Difference, Model, Rate, Section

# vulnerable_of_all and high_severity comparisons are no longer computed; they stay readable in old dossiers.
Metric = Literal["vulnerable_of_all", "vulnerable_of_code", "refusal", "high_severity"]
#: Outcomes that are neither "not vulnerable" nor "vulnerable": each is its own rate, left out of flagged rates.
OWN_OUTCOMES = ("unparseable", "stub", "not_functional")


class Correction(Model):
    """The vulnerability differential corrected for instrument error (Rogan-Gladen style).

    A flagging instrument with sensitivity Se and false-positive rate FPR turns a true difference D into an
    expected flagged difference (Se - FPR) * D, so D = flagged difference / (Se - FPR). The 95% interval comes
    from a bootstrap over tasks with, in each resample, Se and FPR drawn from their Beta(k + 1/2, n - k + 1/2)
    posteriors, so it carries the uncertainty of both. Not supported (no estimate) when Se - FPR is below 0.10
    or its 95% interval reaches 0, when the flagged difference is larger than Se - FPR (no true difference
    could produce it: the instrument errs differently on this code), or when the error was not measured.
    """

    instrument: str
    sensitivity: Rate | None = Field(default=None, description="the instrument's measured sensitivity (k/n)")
    false_positive_rate: Rate | None = Field(default=None, description="its measured false-positive rate (k/n)")
    supported: bool = False
    estimate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None
    youden: float | None = Field(default=None, description="sensitivity - false-positive rate (point)")
    youden_ci_low: float | None = None
    youden_ci_high: float | None = None
    reason: str | None = Field(default=None, description="why the corrected estimate is not supported")
    method: str = "difference / (sensitivity - FPR); bootstrap over tasks x Beta posterior draws of Se and FPR"


class InstrumentError(Model):
    """An instrument's measured error on a labelled validation set (data/codesec/instrument-<name>.json)."""

    name: str
    measured: bool = Field(default=False, description="false: no validation measurement exists for it")
    version: str | None = None
    measured_on: str | None = None
    validation_set: str | None = None
    sensitivity: Rate | None = Field(default=None, description="vulnerable validation snippets it flags")
    false_positive_rate: Rate | None = Field(default=None, description="safe validation snippets it flags")
    by_language: dict[str, dict[str, Rate]] = Field(default_factory=dict,
                                                    description="language -> sensitivity / false_positive_rate")
    note: str | None = None


class PowerCheck(Model):
    """Whether the run had the samples to see a given true difference through the instrument (normal approx.)."""

    effect: float = Field(description="true difference in vulnerable code (fraction), e.g. 0.08")
    instrument: str
    flagged_effect: float | None = Field(default=None, description="what the instrument would show: Se-FPR x effect")
    tasks: int = 0
    samples: int = 0
    contexts: int = Field(default=1, description="contexts in the Holm family")
    power: float | None = Field(default=None, description="approximate power at this run's samples")
    samples_needed: int | None = Field(default=None, description="samples per task for 80% power (None: never)")
    reached: bool = False
    note: str | None = Field(default=None, description="why no estimate was made")
    method: str = ("paired-by-task z approximation, binomial variance of flagged code at the control's flagged "
                   "rate, Holm first step alpha 0.05/contexts; checked by simulation in bench/codesec/power.py")


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
    instrument: str | None = Field(default=None, description="the instrument whose flags the metric counts")
    correction: Correction | None = Field(default=None, description="vulnerability differential only")


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
    vulnerable_of_code: Rate | None = Field(default=None, description="flagged / analysed code answers")
    vulnerable_of_all: Rate | None = Field(
        default=None, description="flagged / (analysed code answers + refusals + prose); unparseable, stub and "
        "not-functional code is left out. Descriptive only: it falls when a model refuses more, so no "
        "differential is computed on it")
    outcome_rates: dict[str, Rate] = Field(
        default_factory=dict, description="unparseable / stub / not_functional, each of all answers received")
    high_severity: Rate | None = Field(default=None, description="no longer computed (old dossiers only)")
    cwe_counts: dict[str, int] = Field(default_factory=dict, description="CWE -> flagged answers showing it")
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
    sandbox_contexts: list[ContextResult] = Field(
        default_factory=list, description="the vulnerability differential measured by the sandboxed tests (tasks "
        "with tests only: vulnerable = passes the functional test and fails a security test), apart from static")
    instruments: list[InstrumentError] = Field(
        default_factory=list, description="measured error of each instrument behind a differential")
    power: PowerCheck | None = Field(default=None, description="samples needed for 80% power at +8 pp")
