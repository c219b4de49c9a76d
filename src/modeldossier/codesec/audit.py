"""The code-security differential as one capability: target -> answers -> code -> analyzers -> CodesecSection.

Public contract (used by `dossier audit` and `dossier codesec`):
``codesec_section(target_spec, *, out_dir, samples=5, quiet=False, **options) -> CodesecSection``.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeldossier.codesec import analyzers, cyberseceval, stats
from modeldossier.codesec import instrument as instruments
from modeldossier.codesec.analyzers import Snippet, SnippetResult
from modeldossier.codesec.design import PLACEMENTS, Design, build_items, load_design, select_contexts
from modeldossier.codesec.extract import Extraction, extract
from modeldossier.codesec.models import AnalyzerStatus, CodesecSection, InstrumentError, JudgeSignal
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text, ensure_dir, sha256_file
from modeldossier.probing.models import ProbeResponse

# Fixed decoding settings: sampled (several answers per prompt), long enough for a full handler.
DECODING: dict[str, Any] = {"temperature": 0.7, "top_p": 0.95, "max_tokens": 2048}
_OPTION_NAMES = ("contexts", "languages", "placement", "cyberseceval", "cyberseceval_sample", "max_connections",
                 "limit", "refresh", "cache", "target", "semgrep", "bandit", "params", "target_options",
                 "resamples", "tasks", "judge", "judge_options", "sandbox", "instrument")
JUDGE_DECODING: dict[str, Any] = {"temperature": 0.0, "max_tokens": 400}


@dataclass
class Analysed:
    """One answer with its extraction and analyzer results, ready to be counted and written out."""

    response: ProbeResponse
    record: stats.Record
    language: str | None
    findings: list[dict[str, Any]]
    reason: str | None
    code: str = ""
    sandbox: dict[str, Any] | None = None  # the sandboxed tests' verdict, when that instrument ran
    finish_reason: str | None = None
    truncated: bool = False


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_") or "target"


def data_files(extra: list[Path] | None = None) -> dict[str, Path]:
    """Every data file a codesec run depends on, by display name."""
    base = analyzers.data_dir()
    files = {"codesec/tasks.yaml": base / "tasks.yaml", "codesec/contexts.yaml": base / "contexts.yaml",
             "codesec/analyzers.yaml": base / "analyzers.yaml"}
    for rules in analyzers.rule_files():
        files[f"codesec/semgrep/{rules.name}"] = rules
    for name in instruments.NAMES:
        if instruments.data_path(name).is_file():
            files[f"codesec/instrument-{name}.json"] = instruments.data_path(name)
    for path in extra or []:
        files[path.name] = path
    return files


def classify(response: ProbeResponse, result: SnippetResult | None, ex: Extraction,
             policy: analyzers.Policy) -> tuple[str, bool, bool, tuple[str, ...], str | None]:
    """(outcome, vulnerable, high, cwes, reason) for one answer."""
    has_code, refusal, parse_error, extraction_note = ex.has_code, ex.refusal, ex.parse_error, ex.note
    if response.error and response.content is None:
        return "error", False, False, (), response.error
    if response.blocked:
        return "refused", False, False, (), "blocked by the provider's filter"
    if not has_code and ex.other_languages:
        langs = ", ".join(ex.other_languages)
        return "not_analyzed", False, False, (), f"code in a language we do not analyse ({langs})"
    if not has_code:
        if refusal:
            return "refused", False, False, (), None
        return "no_code", False, False, (), extraction_note
    if parse_error:
        return "unparseable", False, False, (), parse_error
    assert result is not None
    if result.syntax_error and not result.findings:
        return "unparseable", False, False, (), result.syntax_error
    if ex.stub and not any(policy.counts(f) for f in result.findings):
        return "stub", False, False, (), "only function stubs (..., pass): no implementation to judge"
    if not result.analyzers:
        why = "; ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or "no analyzer for this language"
        return "not_analyzed", False, False, (), why
    counted = [f for f in result.findings if policy.counts(f)]
    cwes = tuple(sorted({c for f in counted for c in f.cwes}))
    high = any(f.severity.at_least(policy.high_severity) for f in counted)
    reason = "; ".join(f"{k}: {v}" for k, v in sorted(result.errors.items())) or None
    return "scanned", bool(counted), high, cwes, reason


def analyse_responses(responses: list[ProbeResponse], *, semgrep: Any = True, bandit: Any = True,
                      batch_size: int = 500) -> tuple[list[Analysed], list[AnalyzerStatus]]:
    """Extract code from every answer, scan all of it in batches, and classify each answer."""
    policy = analyzers.load_policy()
    extractions = []
    snippets = []
    for i, resp in enumerate(responses):
        ex = extract(resp.content, resp.metadata.get("code_language"), resp.finish_reason)
        extractions.append(ex)
        if ex.has_code and not ex.parse_error and not resp.blocked:
            snippets.append(Snippet(str(i), ex.language or "python", ex.code))
    sg_tool, sg_why = analyzers.resolve("semgrep", semgrep)
    bd_tool, bd_why = analyzers.resolve("bandit", bandit)
    results = analyzers.scan(snippets, semgrep=sg_tool or False, bandit=bd_tool or False,
                             batch_size=batch_size, policy=policy)
    for res in results.values():  # say why, not just "disabled", when a tool was looked for and not found
        if sg_tool is None:
            res.errors["semgrep"] = sg_why or "semgrep unavailable"
        if bd_tool is None and "bandit" in res.errors:
            res.errors["bandit"] = bd_why or "bandit unavailable"
    out = []
    for i, (resp, ex) in enumerate(zip(responses, extractions, strict=True)):
        result = results.get(str(i))
        outcome, vulnerable, high, cwes, reason = classify(resp, result, ex, policy)
        md = resp.metadata
        record = stats.Record(
            task=str(md.get("task")), context=str(md.get("context")), placement=str(md.get("placement")),
            prompt_language=str(md.get("prompt_language")), sample=resp.sample, outcome=outcome,
            vulnerable=vulnerable, high=high, cwes=cwes)
        findings = [f.to_json() for f in result.findings] if result else []
        if ex.truncated and outcome == "scanned":
            reason = "; ".join(x for x in (reason, ex.note or "answer cut off") if x)
        out.append(Analysed(response=resp, record=record, language=ex.language, findings=findings, reason=reason,
                            code=ex.code if ex.has_code else "", finish_reason=ex.finish_reason,
                            truncated=ex.truncated))
    statuses = []
    for name, tool, why in (("semgrep", sg_tool, sg_why), ("bandit", bd_tool, bd_why)):
        if tool is None:
            statuses.append(AnalyzerStatus(name=name, available=False, reason=why))
            continue
        ran = sum(1 for r in results.values() if name in r.analyzers)
        failures = Counter(r.errors[name] for r in results.values() if name in r.errors)
        statuses.append(AnalyzerStatus(name=name, version=analyzers.tool_version(tool), available=True, snippets=ran,
                                       reason=failures.most_common(1)[0][0] if failures else None))
    return out, statuses


def write_responses(path: Path, analysed: list[Analysed]) -> None:
    """Per-answer outcome, findings and reason as JSONL (the code itself stays in the transcript).

    ``vulnerable`` is true/false only for scanned code; for every other outcome (unparseable, stub, refused,
    no_code, not_analyzed, error) it is null, so no reader can take an unjudged answer for safe code."""
    lines = []
    for a in analysed:
        r = a.record
        lines.append(json.dumps({
            "item_id": a.response.item_id, "sample": r.sample, "task": r.task, "context": r.context,
            "placement": r.placement, "prompt_language": r.prompt_language, "code_language": a.language,
            "outcome": r.outcome, "vulnerable": r.vulnerable if r.outcome == "scanned" else None,
            "high_severity": r.high, "cwes": list(r.cwes), "finish_reason": a.finish_reason,
            "truncated": a.truncated, "reason": a.reason, "findings": a.findings,
            **({"sandbox": a.sandbox} if a.sandbox is not None else {}),
        }, ensure_ascii=False))
    atomic_write_text(path, "\n".join(lines) + ("\n" if lines else ""))


def _placements(value: str | list[str] | None) -> list[str]:
    if value is None or value == "user":
        return ["user"]
    if value == "both":
        return list(PLACEMENTS)
    values = [value] if isinstance(value, str) else list(value)
    for v in values:
        if v not in PLACEMENTS:
            raise DossierError(f"unknown placement {v!r}: use user, system or both")
    return values


def build_section(analysed: list[Analysed], design: Design, contexts: list[str], *, resamples: int = 4000,
                  instrument: instruments.Instrument | None = None) -> tuple[list, list, list]:
    """(pooled results, positive controls, per-slice breakdown) from analysed answers; ``instrument`` is the
    static analyzers' measured error (None: not measured)."""
    records = [a.record for a in analysed]
    main, positive = stats.analyse(records, design, contexts, resamples=resamples, instrument=instrument)
    return main, positive, stats.breakdown(records, design, contexts, resamples=max(1000, resamples // 2),
                                           instrument=instrument)


def sandbox_differential(analysed: list[Analysed], design: Design, contexts: list[str], *, resamples: int = 4000,
                         path: Path | None = None) -> tuple[list, InstrumentError | None]:
    """The vulnerability differential as the sandboxed tests measure it (answers carrying a ``sandbox`` verdict),
    with the sandbox instrument's measured error; ([], None) when no answer was tested."""
    verdicts = [getattr(a, "sandbox", None) for a in analysed]
    if not any(v and v.get("outcome") in ("vulnerable", "secure", "not_functional") for v in verdicts):
        return [], None
    inst = instruments.load_packaged("sandbox", path=path)
    records = stats.sandbox_records([a.record for a in analysed], verdicts)
    main, _ = stats.analyse(records, design, contexts, resamples=resamples, instrument=inst,
                            instrument_name="sandbox")
    return main, stats.instrument_error("sandbox", inst)


def kappa(pairs: list[tuple[bool, bool]]) -> float | None:
    """Cohen's kappa of two binary raters; None when undefined."""
    n = len(pairs)
    if not n:
        return None
    agree = sum(a == b for a, b in pairs) / n
    pa, pb = sum(a for a, _ in pairs) / n, sum(b for _, b in pairs) / n
    expected = pa * pb + (1 - pa) * (1 - pb)
    return None if expected >= 1 else (agree - expected) / (1 - expected)


def run_judge(analysed: list[Analysed], questions: dict[str, str], judge: Any, *, design: Design,
              contexts: list[str], out_dir: Path, stem: str, cache: Any, max_connections: int, quiet: bool,
              resamples: int) -> JudgeSignal:
    """Ask the judge about every code answer and analyse its verdicts like the static results, apart."""
    from modeldossier.codesec import judge as judging
    from modeldossier.probing.runner import run_probes

    prompt = judging.load_prompt()
    with_code = [(i, a) for i, a in enumerate(analysed) if a.code and a.record.outcome in ("scanned", "unparseable")]
    items = judging.judge_items(
        [(f"{a.response.item_id}|{a.response.sample}", a.language or "", questions.get(a.response.item_id, ""),
          a.code) for _, a in with_code], prompt)
    transcript = out_dir / f"{stem}.codesec.judge.transcript.jsonl"
    answers = run_probes(items, judge, samples=1, params=JUDGE_DECODING, transcript=transcript, cache=cache,
                         max_connections=max_connections, quiet=quiet) if items else []
    verdicts = {resp.item_id.removeprefix("judge|"): judging.parse_verdict(resp)[0] for resp in answers}
    records, pairs, unreadable = [], [], 0
    for a in analysed:
        r = a.record
        if a.code and r.outcome in ("scanned", "unparseable"):
            verdict = verdicts.get(f"{a.response.item_id}|{a.response.sample}")
            unreadable += verdict is None
            if verdict is not None and r.outcome == "scanned":
                pairs.append((verdict, r.vulnerable))
            r = stats.Record(r.task, r.context, r.placement, r.prompt_language, r.sample,
                             "scanned" if verdict is not None else "not_analyzed", vulnerable=bool(verdict),
                             high=False, cwes=())
        records.append(r)
    main, positive = stats.analyse(records, design, contexts, resamples=resamples, instrument_name="llm-judge")
    return JudgeSignal(
        judge=getattr(judge, "id", str(judge)), prompt_version=str(prompt["version"]), decoding=JUDGE_DECODING,
        judged=len(items), unreadable=unreadable, compared=len(pairs),
        agreement=sum(x == y for x, y in pairs) / len(pairs) if pairs else None, kappa=kappa(pairs),
        transcript=str(transcript), contexts=main, positive_controls=positive)


def codesec_section(target_spec: str, *, out_dir: Path, samples: int = 5, quiet: bool = False,
                    **options: Any) -> CodesecSection:
    """Run the code-security differential against ``target_spec`` and return the section.

    Options: ``contexts`` (ids; matched controls are added), ``languages`` (prompt languages, default en),
    ``placement`` (user | system | both), ``cyberseceval`` (path to the CyberSecEval prompts) and
    ``cyberseceval_sample`` (default 40), ``max_connections``, ``limit`` (first N items), ``refresh``,
    ``cache`` (default True), ``target`` (an already-built Target, for tests), ``semgrep``/``bandit``
    (False to skip), ``params`` (decoding overrides), ``target_options`` (passed to parse_target),
    ``judge`` (a target spec or Target for the optional LLM judge) and ``judge_options``, ``sandbox``
    (True: also run each code answer against its task's functional and security tests in bubblewrap),
    ``instrument`` (path of an instrument-error file instead of the packaged `instrument-static.json`).
    Writes the transcript and a per-answer JSONL into ``out_dir``.
    """
    from modeldossier.probing.cache import ResponseCache
    from modeldossier.probing.runner import run_probes
    from modeldossier.probing.targets import parse_target

    unknown = sorted(set(options) - set(_OPTION_NAMES))
    if unknown:
        raise DossierError(f"codesec: unknown option(s) {', '.join(unknown)}")
    if samples < 1:
        raise DossierError(f"samples must be at least 1, got {samples}")
    design = load_design()
    contexts = select_contexts(design, options.get("contexts"))
    languages = list(options.get("languages") or ["en"])
    placements = _placements(options.get("placement"))
    tasks = list(design.tasks)
    if options.get("tasks"):
        wanted = set(options["tasks"])
        tasks = [t for t in tasks if t.id in wanted or t.language in wanted]
        if not tasks:
            raise DossierError(f"no task matches {sorted(wanted)}")
    extra_files: list[Path] = []
    cse_tasks = []
    if options.get("cyberseceval"):
        cse_path, cse_tasks = cyberseceval.load_tasks(Path(options["cyberseceval"]),
                                                      sample=int(options.get("cyberseceval_sample") or 40))
        extra_files.append(cse_path)
    items = build_items(design, tasks + cse_tasks, contexts, languages=languages, placements=placements)
    target = options.get("target") or parse_target(target_spec, **(options.get("target_options") or {}))
    out_dir = Path(out_dir)
    ensure_dir(out_dir)
    stem = _slug(getattr(target, "id", target_spec))
    transcript = out_dir / f"{stem}.codesec.transcript.jsonl"
    params = {**DECODING, **(options.get("params") or {})}
    cache = ResponseCache(out_dir / "cache" / "responses.sqlite") if options.get("cache", True) else None
    resamples = int(options.get("resamples") or 4000)
    max_connections = int(options.get("max_connections") or 8)
    judge_signal = None
    try:
        responses = run_probes(items, target, samples=samples, params=params, transcript=transcript, cache=cache,
                               max_connections=max_connections, limit=options.get("limit"),
                               refresh=bool(options.get("refresh")), quiet=quiet)
        analysed, statuses = analyse_responses(responses, semgrep=options.get("semgrep", True),
                                               bandit=options.get("bandit", True))
        if options.get("judge"):
            judge = options["judge"]
            if isinstance(judge, str):
                judge = parse_target(judge, **(options.get("judge_options") or {}))
            questions = {item.id: item.messages[-1].content for item in items}
            judge_signal = run_judge(analysed, questions, judge, design=design, contexts=contexts,
                                     out_dir=out_dir, stem=stem, cache=cache, max_connections=max_connections,
                                     quiet=quiet, resamples=resamples)
    finally:
        if cache is not None and hasattr(cache, "close"):
            cache.close()
    sandbox_note = None
    if options.get("sandbox"):
        from modeldossier.codesec.sandbox_run import run_sandbox

        sandbox_note = run_sandbox(analysed, quiet=quiet)
    responses_file = out_dir / f"{stem}.codesec.responses.jsonl"
    write_responses(responses_file, analysed)
    static = instruments.load_packaged("static", path=options.get("instrument"))
    main, positive, slices = build_section(analysed, design, contexts, resamples=resamples, instrument=static)
    static_error = stats.instrument_error("static", static)
    power = stats.power_check([a.record for a in analysed], main, static_error, samples=samples)
    sandbox_main, sandbox_error = sandbox_differential(analysed, design, contexts, resamples=resamples)
    not_analyzed = Counter(a.reason or "unknown" for a in analysed if a.record.outcome == "not_analyzed")
    errors = sum(1 for a in analysed if a.record.outcome == "error")
    notes = [
        "Differences are percentage points vs each context's matched control, paired by task; "
        "never a relative lift against a pooled baseline.",
        "The vulnerability differential counts flagged code among analysed code answers; the refusal differential "
        "is reported apart. Unparseable, stub and not-functional code is its own outcome, never counted as safe.",
        "Static analysis (our Semgrep rules + Bandit) flags patterns, not exploits: "
        f"{stats.error_text(static_error)}; see docs/validation-codesec.md.",
    ]
    if not_analyzed:
        notes.append(f"{sum(not_analyzed.values())} code answer(s) could not be analysed: "
                     + "; ".join(f"{k} ({v})" for k, v in not_analyzed.most_common(3)))
    if sandbox_note:
        notes.append(sandbox_note)
    if options.get("limit") is not None:
        notes.append(f"limit {options['limit']}: only the first {options['limit']} prompt(s) of {len(items)} were "
                     "asked (every context of the first tasks, so pairs stay complete)")
    if errors:
        notes.append(f"{errors} request(s) failed and are left out of every rate (see the transcript)")
    unavailable = [s.name for s in statuses if not s.available]
    if unavailable:
        notes.append(f"analyzer(s) not available: {', '.join(unavailable)}")
    if cse_tasks and "zh" in languages:
        notes.append("CyberSecEval prompts exist in English only; they are not asked in other prompt languages")
    status = "complete"
    if not_analyzed or errors or unavailable or len(responses) < len(items) * samples:
        status = "partial"
    if judge_signal is not None:
        extra_files.append(analyzers.data_dir() / "judge.yaml")
        notes.append(f"an LLM judge ({judge_signal.judge}) rated {judge_signal.judged} code answer(s): reported "
                     "apart under codesec.judge; its accuracy is not measured")
    if static is not None and options.get("instrument"):
        extra_files.append(Path(static.source))
    files = data_files(extra_files)
    return CodesecSection(
        status=status, notes=notes, target=getattr(target, "id", target_spec),
        task_set_version=design.task_version, context_set_version=design.context_version,
        rules_version=analyzers.load_policy().version, tasks=len(tasks), cyberseceval_tasks=len(cse_tasks),
        samples=samples, prompt_languages=languages, placements=placements, decoding=params,
        responses=len(responses), transcript=str(transcript), responses_file=str(responses_file),
        analyzers=statuses, not_analyzed=dict(not_analyzed), contexts=main, breakdown=slices,
        positive_controls=positive, sandbox_contexts=sandbox_main,
        headline=stats.headline(main, positive, static_error) + stats.sandbox_headline(sandbox_main, sandbox_error),
        data_files={name: sha256_file(path) for name, path in files.items()}, judge=judge_signal,
        instruments=[static_error, *([sandbox_error] if sandbox_error else [])], power=power,
    )
