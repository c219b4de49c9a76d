"""`dossier audit`: scan + origin (+ probe and codesec when a target is given) -> dossier + HTML report."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from modeldossier import dossier as dossier_io
from modeldossier import runinfo
from modeldossier.cli_options import FailOn, Format, OutputFormat, Quiet
from modeldossier.common import Severity
from modeldossier.display import json_for_terminal, visible
from modeldossier.dossier import Dossier
from modeldossier.exitcodes import exit_code
from modeldossier.fsutil import atomic_write_text, check_output_dir, ensure_dir
from modeldossier.pipeline import run_sections
from modeldossier.subject import resolve
from modeldossier.ui import err_console, out_console, progress

EXAMPLES = """
Exit codes: 0 nothing to act on, 1 a finding at or above --fail-on or an undeclared derivative, 2 bad input.

Examples:

  dossier audit ./my-model/                       # local folder -> runs/my-model.dossier.json + .html

  dossier audit Qwen/Qwen2.5-0.5B-Instruct --out runs/qwen   # Hub id (downloads the snapshot when online)

  dossier audit ./my-model/ --target openai:http://localhost:8000/v1/my-model   # also probe the served model
"""


def slug(name: str) -> str:
    """A file-name-safe version of a model name (org/name -> org__name)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__")).strip("_") or "model"


def register(app: typer.Typer) -> None:
    """Add the `audit` command."""

    @app.command("audit", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Audit")
    def audit(
        model: Annotated[str, typer.Argument(help="Model folder, file, or Hugging Face Hub id (org/name).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the dossier and report.")] = Path("runs"),
        name: Annotated[str | None, typer.Option(help="Display name (default: folder or Hub id).")] = None,
        revision: Annotated[str | None, typer.Option(help="Hub revision (branch, tag or commit).")] = None,
        target: Annotated[
            str | None,
            typer.Option(help="Also probe this served model (e.g. openai:http://localhost:8000/v1/NAME)."),
        ] = None,
        hash_files: Annotated[bool, typer.Option("--hash/--no-hash", help="sha256 every file.")] = True,
        online: Annotated[
            bool | None, typer.Option("--online/--offline", help="Ask the Hub for lineage (default: when reachable).")
        ] = None,
        html: Annotated[bool, typer.Option("--html/--no-html", help="Also write the HTML report.")] = True,
        samples: Annotated[int, typer.Option(min=1, help="Samples per probe item when --target is given.")] = 1,
        fail_on: FailOn = Severity.HIGH,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        console = err_console(quiet)
        check_output_dir(out)
        record = runinfo.start_record(
            "audit", {"model": model, "revision": revision, "target": target, "hash": hash_files}
        )
        with progress(quiet) as bar:
            task = bar.add_task(f"hashing {model}" if hash_files else f"listing {model}", total=None)
            resolved = resolve(
                model, revision=revision, name=name, hash_files=hash_files,
                on_file=lambda _path: bar.advance(task),
            )
        result = Dossier(subject=resolved.subject)

        written = run_sections(
            result, resolved, target=target, out_dir=out, quiet=quiet, record=record, online=online,
            samples=samples,
        )
        result.run.records.append(runinfo.finish(record, written))
        path = ensure_dir(out) / f"{slug(result.subject.name)}.dossier.json"
        dossier_io.save(result, path)
        console.print(f"dossier: {path}")
        if html:
            from modeldossier.report.html import render_html  # plotly is slow to import: only when needed

            html_path = path.with_name(path.name.removesuffix(".dossier.json") + ".html")
            atomic_write_text(html_path, render_html(result))
            console.print(f"report:  {html_path}")
        for section, why in result.run.not_run.items():
            console.print(f"[yellow]not run[/]: {escape(visible(f'{section}: {why}'))}", markup=True)
        if output_format is OutputFormat.JSON:
            typer.echo(json_for_terminal(result.to_json()), nl=False)
        else:
            terminal = out_console()
            for line in verdict_lines(result, html_path if html else None):
                terminal.print(line, markup=False, highlight=False)
            terminal.print(summary_line(result), markup=False, highlight=False)
        raise typer.Exit(exit_code(result.artifacts, result.provenance, fail_on))


def verdict_lines(result: Dossier, report: Path | None = None) -> list[str]:
    """The verdict first (what to do, the deciding facts, where the evidence is), as in the reports."""
    from modeldossier.report.verdict import verdict

    v = verdict(result)
    lines = [f"verdict: {v.level.upper()}: {visible(v.action)}."]
    lines += [f"  - {visible(f.text)}" + (f" (evidence: {report}#{f.anchor})" if report else "") for f in v.facts]
    if v.not_run and v.level != "grey":
        lines.append(f"  not run: {', '.join(v.not_run)}")
    return lines


def summary_line(result: Dossier) -> str:
    """One line a person can read: what ran and the headline of each section."""
    parts = [visible(result.subject.name)]
    if result.artifacts is not None:
        worst = result.artifacts.worst()
        n = len(result.artifacts.findings)
        parts.append(f"artifacts: {n} finding(s), worst {worst.value if worst else 'none'}")
    if result.provenance is not None:
        family = visible(result.provenance.observed_family or "unknown")
        parts.append(f"observed family: {family}")
    parts.append(f"sections: {', '.join(result.sections_present()) or 'none'}")
    return " | ".join(parts)
