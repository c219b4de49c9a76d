"""`dossier report`: render a dossier as a self-contained HTML page, Markdown, SARIF, CycloneDX or (validated) JSON."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from modeldossier.cli_options import Quiet
from modeldossier.display import json_for_terminal
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text
from modeldossier.report.loading import load_dossier
from modeldossier.report.markdown import render_markdown
from modeldossier.ui import err_console

EXAMPLES = """
Examples:

  dossier report runs/qwen.dossier.json                       # -> runs/qwen.html (opens offline)

  dossier report runs/qwen.dossier.json --format md > qwen.md  # Markdown for a pull request or issue

  dossier report old.dossier.json --format json --out new.dossier.json   # validate / migrate to the current schema

  dossier report runs/qwen.dossier.json --format sarif > qwen.sarif      # artifact findings for code scanning

  dossier report runs/qwen.dossier.json --format cyclonedx > qwen.cdx.json  # ML-BOM: hashes, license, model card
"""


class ReportFormat(StrEnum):
    """Output formats of `dossier report`."""

    HTML = "html"
    MD = "md"
    JSON = "json"
    SARIF = "sarif"
    CYCLONEDX = "cyclonedx"


def default_html_path(dossier_path: Path) -> Path:
    """runs/x.dossier.json -> runs/x.html"""
    name = dossier_path.name
    stem = name.removesuffix(".dossier.json") if name.endswith(".dossier.json") else dossier_path.stem
    return dossier_path.with_name(stem + ".html")


def register(app: typer.Typer) -> None:
    """Add the `report` command."""

    @app.command("report", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Reports")
    def report(
        dossier: Annotated[Path, typer.Argument(help="A .dossier.json file.")],
        output_format: Annotated[
            ReportFormat,
            typer.Option("--format", "-f", help="html (default), md, json, sarif (2.1.0) or cyclonedx (1.6)."),
        ] = ReportFormat.HTML,
        out: Annotated[
            Path | None,
            typer.Option(
                "--out", "-o",
                help="Write here ('-' for stdout). Default: html beside the dossier, other formats to stdout.",
            ),
        ] = None,
        quiet: Quiet = False,
    ) -> None:
        console = err_console(quiet)
        loaded = load_dossier(dossier)
        if output_format is ReportFormat.HTML:
            from modeldossier.report.html import render_html  # plotly is slow to import

            text = render_html(loaded)
            if out is None:
                out = default_html_path(dossier)
        elif output_format is ReportFormat.MD:
            text = render_markdown(loaded)
        elif output_format is ReportFormat.SARIF:
            from modeldossier.report.sarif import render_dossier_sarif

            text = json.dumps(render_dossier_sarif(loaded), indent=2) + "\n"
        elif output_format is ReportFormat.CYCLONEDX:
            from modeldossier.report.cyclonedx import render_dossier_cyclonedx

            text = json.dumps(render_dossier_cyclonedx(loaded), indent=2) + "\n"
        else:
            text = loaded.to_json()
        if out is None or str(out) == "-":
            typer.echo(json_for_terminal(text) if output_format is ReportFormat.JSON else text, nl=False)
            return
        try:
            atomic_write_text(out, text)
        except OSError as exc:
            raise DossierError(f"cannot write {out}: {exc.strerror or exc}") from None
        console.print(f"report: {out}", markup=False, highlight=False)
