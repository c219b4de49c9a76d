"""`dossier codesec`: does the model write less secure code (or refuse more) for disfavored contexts?"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from modeldossier import dossier as dossier_io
from modeldossier import runinfo
from modeldossier.cli_options import DossierPath, Format, OutputFormat, Quiet
from modeldossier.codesec.models import OWN_OUTCOMES, CodesecSection, ContextResult
from modeldossier.commands.probe import endpoint_subject
from modeldossier.display import json_for_terminal
from modeldossier.dossier import Dossier
from modeldossier.errors import DossierError
from modeldossier.ui import err_console, out_console

EXAMPLES = """
Examples:

  dossier codesec --target deepseek:deepseek-chat --contexts tibet,uyghur,control-us --samples 5

  dossier codesec --target openai:http://localhost:8000/v1/qwen --languages en,zh --placement both

  dossier codesec --target replay:runs/model.codesec.transcript.jsonl --out runs/again   # re-analyse offline

  dossier codesec --target vllm:MODEL --cyberseceval ../shared/data/codesec --limit 40 --format json

Matched controls are added automatically (tibet -> nepal, uyghur -> uzbek, ...). Re-running resumes.
"""


def _split(values: list[str] | None) -> list[str] | None:
    items = [part.strip() for value in values or [] for part in value.split(",") if part.strip()]
    return items or None


def _pct(rate: Any) -> str:
    return "-" if rate is None or rate.rate is None else f"{100 * rate.rate:.0f}% ({rate.k}/{rate.n})"


def _diff(result: ContextResult, metric: str) -> str:
    cmp = result.comparison(metric)
    if cmp is None or cmp.difference.estimate is None:
        return "-"
    d = cmp.difference
    star = " *" if cmp.significant else ""
    return (f"{100 * d.estimate:+.1f} pp [{100 * (d.ci_low or 0):+.0f}, {100 * (d.ci_high or 0):+.0f}] "
            f"{d.p_adjusted if d.p_adjusted is not None else d.p_value:.2g}{star}")


def _corrected(result: ContextResult) -> str:
    cmp = result.comparison("vulnerable_of_code")
    c = cmp.correction if cmp is not None else None
    if c is None:
        return "-"
    if not c.supported or c.estimate is None:
        return "not supported"
    return f"{100 * c.estimate:+.1f} pp [{100 * (c.ci_low or 0):+.0f}, {100 * (c.ci_high or 0):+.0f}]"


def _own(result: ContextResult) -> str:
    return "/".join(str(result.outcomes.get(o, 0)) for o in OWN_OUTCOMES)


def render_table(section: CodesecSection) -> Table:
    """The per-context table a person reads: flagged code and refusal apart, with the corrected estimate."""
    table = Table(title=f"codesec: {section.target} ({section.responses} answers, {section.samples} sample(s) each)",
                  caption="flagged = code the static instrument flags; unparse/stub/not-func are left out of "
                          "flagged rates")
    for col in ("context", "vs", "n", "refused", "flagged/code", "unparse/stub/not-func",
                "Δ flagged [95% CI] Holm p", "Δ corrected [95% CI]", "Δ refused [95% CI] Holm p"):
        table.add_column(col)
    for r in [*section.contexts, *section.positive_controls]:
        table.add_row(r.context + (" (positive ctl)" if r.kind == "positive_control" else ""),
                      r.control or "", str(r.n), _pct(r.refusal), _pct(r.vulnerable_of_code), _own(r),
                      _diff(r, "vulnerable_of_code"), _corrected(r), _diff(r, "refusal"))
    return table


def summary_lines(section: CodesecSection) -> list[str]:
    """Instrument error and power, printed under the table (every differential above depends on them)."""
    from modeldossier.codesec import stats

    lines = [f"{stats.error_text(i)}" + (f" (validation set: {i.validation_set})" if i.validation_set else "")
             for i in section.instruments] or ["instrument error not recorded"]
    if section.power is not None:
        lines.append(stats.power_text(section.power))
    for r in section.sandbox_contexts:
        cmp = r.comparison("vulnerable_of_code")
        if cmp is not None and cmp.difference.estimate is not None:
            lines.append(f"sandboxed tests, {r.context} vs {cmp.control}: vulnerable {_pct(r.vulnerable_of_code)}, "
                         f"Δ {_diff(r, 'vulnerable_of_code')}; {stats.correction_text(cmp.correction)}")
    return lines


def register(app: typer.Typer) -> None:
    """Add the `codesec` command."""

    @app.command("codesec", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Behaviour")
    def codesec(
        target: Annotated[str, typer.Option("--target", "-t", help="provider:model, e.g. openai:http://h:8000/v1/M")],
        contexts: Annotated[
            list[str] | None, typer.Option("--contexts", "-c", help="Context ids (comma list); default all.")
        ] = None,
        samples: Annotated[int, typer.Option(min=1, max=10_000, help="Answers per task x context (sampled).")] = 5,
        languages: Annotated[
            list[str] | None, typer.Option("--languages", "-l", help="Prompt languages: en, zh (comma list).")
        ] = None,
        placement: Annotated[
            str, typer.Option(help="Where the context sentence goes: user, system or both.")
        ] = "user",
        tasks: Annotated[
            list[str] | None, typer.Option("--tasks", help="Only these task ids or code languages (python,...).")
        ] = None,
        cyberseceval: Annotated[
            Path | None, typer.Option(help="Also ask a sample of CyberSecEval instruct prompts (file or folder).")
        ] = None,
        cyberseceval_sample: Annotated[int, typer.Option(min=1, help="How many CyberSecEval prompts.")] = 40,
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for transcript and results.")] = Path("runs"),
        dossier: DossierPath = None,
        max_connections: Annotated[int, typer.Option(min=1, help="Concurrent requests to the endpoint.")] = 8,
        limit: Annotated[int | None, typer.Option(min=0, help="Only the first N prompts (quick look).")] = None,
        no_cache: Annotated[bool, typer.Option("--no-cache", help="Neither read nor write the cache.")] = False,
        refresh: Annotated[bool, typer.Option("--refresh", help="Ask again; start a new transcript.")] = False,
        base_url: Annotated[str | None, typer.Option(help="Override the provider's base URL.")] = None,
        api_key_env: Annotated[
            str | None, typer.Option(help="Read the API key from this environment variable.")
        ] = None,
        timeout: Annotated[float, typer.Option(min=0.1, help="Seconds per request before retrying.")] = 120.0,
        judge: Annotated[
            str | None, typer.Option(help="Optional LLM judge target (provider:model): a separate, labelled signal.")
        ] = None,
        sandbox: Annotated[
            bool, typer.Option("--sandbox", help="Also run each code answer against its task's functional and "
                               "security tests in a bubblewrap sandbox (no network; see docs/codesec.md).")
        ] = False,
        fail_on_difference: Annotated[
            bool, typer.Option("--fail-on-difference", help="Exit 1 when a context is significantly worse.")
        ] = False,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        from modeldossier.codesec.audit import DECODING, codesec_section, data_files
        from modeldossier.probing.targets import parse_target

        console = err_console(quiet)
        if placement not in ("user", "system", "both"):
            raise DossierError(f"--placement must be user, system or both, not {placement!r}")
        target_options = {k: v for k, v in {"base_url": base_url, "api_key_env": api_key_env,
                                             "timeout": timeout}.items() if v is not None}
        built = parse_target(target, **target_options)
        options: dict[str, Any] = {
            "contexts": _split(contexts), "languages": _split(languages) or ["en"], "placement": placement,
            "tasks": _split(tasks), "cyberseceval": str(cyberseceval) if cyberseceval else None,
            "cyberseceval_sample": cyberseceval_sample, "max_connections": max_connections, "limit": limit,
            "cache": not no_cache, "refresh": refresh, "judge": judge, "sandbox": sandbox,
        }
        record = runinfo.start_record("codesec", {"target": built.id, "samples": samples, **options,
                                                  "decoding": DECODING})
        if judge:
            options["judge_options"] = {"timeout": timeout}
        section = codesec_section(target, out_dir=out, samples=samples, quiet=quiet, target=built, **options)
        for name, path in data_files([Path(options["cyberseceval"])] if cyberseceval else None).items():
            if path.is_file():
                record.data_files.append(runinfo.data_file(path, name=name))
        described = built.describe()
        subject = endpoint_subject(target, described, [Path(section.transcript)] if section.transcript else [])
        path = dossier or out / f"{_slug(subject.name)}.dossier.json"
        if path.exists():
            subject = dossier_io.load(path).subject.model_copy(update={"serving": subject.serving})
        update = Dossier(subject=subject, codesec=section)
        update.run.records.append(runinfo.finish(record, ["codesec"]))
        dossier_io.save_merged(update, path)
        console.print(f"transcript: {section.transcript}")
        console.print(f"answers:    {section.responses_file}")
        console.print(f"dossier:    {path}")
        for note in section.notes[3:]:
            console.print(f"[yellow]note[/]: {escape(note)}", markup=True)
        if output_format is OutputFormat.JSON:
            typer.echo(json_for_terminal(section.model_dump_json(indent=2)))
        else:
            out_console().print(render_table(section))
            for line in [*summary_lines(section), *section.headline]:
                out_console().print(line)
            if section.judge is not None:
                j = section.judge
                agree = "-" if j.agreement is None else f"{100 * j.agreement:.1f}%"
                out_console().print(f"LLM judge {j.judge} (separate signal): {j.judged} code answer(s) judged, "
                                    f"{j.unreadable} unreadable, agreement with static analysis {agree}")
        worse = any(
            (cmp := r.comparison(m)) is not None and cmp.significant and (cmp.difference.estimate or 0) > 0
            for r in section.contexts if r.kind in ("disfavored", "reverse") for m in ("vulnerable_of_code", "refusal")
        )
        raise typer.Exit(1 if fail_on_difference and worse else 0)


def _slug(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__")).strip("_") or "model"
