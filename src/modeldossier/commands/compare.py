"""`dossier compare`: N dossiers side by side, each metric with its CI; differences flagged only when CIs separate."""

from __future__ import annotations

import glob
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from modeldossier.cli_options import Quiet
from modeldossier.display import visible
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text
from modeldossier.report import compare_format as fmt
from modeldossier.report.compare import compare
from modeldossier.report.loading import load_dossier
from modeldossier.ui import err_console, out_console

EXAMPLES = """
Examples:

  dossier compare runs/qwen.dossier.json runs/llama.dossier.json      # table on the terminal

  dossier compare runs/*.dossier.json --out compare.html              # self-contained HTML page

  dossier compare runs/qwen.dossier.json --reference-cohort 'cohorts/us-open/*.dossier.json' \\
      --cohort-name "US open-weight models" --format md                # z-scores against a cohort
"""


class CompareFormat(StrEnum):
    """Output formats of `dossier compare`."""

    TEXT = "text"
    MD = "md"
    JSON = "json"
    HTML = "html"


def expand(patterns: list[str]) -> list[Path]:
    """Files and globs -> paths, in order, without duplicates; a glob matching nothing is an error."""
    paths: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise DossierError(f"reference cohort pattern matched no file: {pattern}")
        for match in matches:
            if Path(match) not in paths:
                paths.append(Path(match))
    return paths


def register(app: typer.Typer) -> None:
    """Add the `compare` command."""

    @app.command("compare", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Reports")
    def compare_cmd(
        dossiers: Annotated[
            list[Path], typer.Argument(help="Two or more .dossier.json files (one is enough with a cohort).")
        ],
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write the result here (format from --format, or .html).")
        ] = None,
        output_format: Annotated[
            CompareFormat | None,
            typer.Option("--format", "-f", help="text (default), md, json or html (default when --out ends in .html)."),
        ] = None,
        reference_cohort: Annotated[
            list[str] | None,
            typer.Option("--reference-cohort", help="Dossier files or globs of the reference cohort (repeatable)."),
        ] = None,
        cohort_name: Annotated[
            str, typer.Option("--cohort-name", help="Name of the reference cohort, shown in the output.")
        ] = "reference cohort",
        only_flagged: Annotated[
            bool, typer.Option("--only-flagged", help="Only metrics where some CIs separate.")
        ] = False,
        quiet: Quiet = False,
    ) -> None:
        cohort_paths = expand(reference_cohort or [])
        if len(dossiers) < 2 and not cohort_paths:
            raise DossierError("compare needs at least two dossiers (or one with --reference-cohort)")
        loaded = [load_dossier(p) for p in dossiers]
        cohort = [load_dossier(p) for p in cohort_paths]
        result = compare(loaded, cohort, cohort_name if cohort else None)
        if output_format is None:
            output_format = CompareFormat.HTML if out is not None and out.suffix == ".html" else CompareFormat.TEXT
        console = err_console(quiet)
        for note in result.left_out:
            console.print(f"[yellow]left out[/]: {escape(visible(note))}", markup=True, highlight=False)
        summary = [fmt.summary_heading(result), *(f"  {line}" for line in fmt.flagged_summary(result))]
        if output_format is CompareFormat.TEXT and out is None:
            terminal = out_console()
            for line in summary:
                terminal.print(visible(line), markup=False, highlight=False)
            terminal.print(_rich_table(result, only_flagged))
            return
        if output_format is CompareFormat.TEXT:
            rows = [fmt.headers(result), *fmt.table_rows(result, only_flagged)]
            text = "\n".join([*summary, "", *("\t".join(visible(c) for c in row) for row in rows)])
        elif output_format is CompareFormat.MD:
            text = fmt.render_markdown(result, only_flagged)
        elif output_format is CompareFormat.JSON:
            text = fmt.render_json(result, only_flagged)
        else:
            text = fmt.render_html(result, only_flagged)
        if out is None:
            typer.echo(text, nl=not text.endswith("\n"))
            return
        try:
            atomic_write_text(out, text if text.endswith("\n") else text + "\n")
        except OSError as exc:
            raise DossierError(f"cannot write {out}: {exc.strerror or exc}") from None
        console.print(f"comparison: {out}", markup=False, highlight=False)


def _rich_table(result, only_flagged: bool) -> Table:
    table = Table(title=f"{len(result.models)} models: estimate [95% CI]; flagged only when CIs separate")
    for header in fmt.headers(result):
        table.add_column(Text(visible(header)), overflow="fold")
    for cells in fmt.table_rows(result, only_flagged):
        style = "bold red" if cells[len(result.models) + 1] != "—" else None
        table.add_row(*[Text(visible(cell)) for cell in cells], style=style)
    return table
