"""`dossier ecosystem`: download share of open models by origin (uploader or lineage root), from a snapshot."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from modeldossier import runinfo
from modeldossier.cli_options import Quiet
from modeldossier.display import json_for_terminal
from modeldossier.errors import DossierError
from modeldossier.fsutil import atomic_write_text, check_output_dir, ensure_dir
from modeldossier.report.fields import pct
from modeldossier.ui import err_console, out_console, progress

if TYPE_CHECKING:
    from modeldossier.ecosystem.models import EcosystemReport

EXAMPLES = """
Examples:

  dossier ecosystem --snapshot hub.parquet --since 2024-08 --until 2025-08      # offline, reproducible

  dossier ecosystem --snapshot hub.parquet --attribution lineage-root --format html > eco.html

  dossier ecosystem --live --limit 5000 --out runs/eco    # query the Hub; writes the snapshot it used
"""


class Rule(StrEnum):
    """Attribution rules."""

    UPLOADER = "uploader"
    LINEAGE_ROOT = "lineage-root"


class EcoFormat(StrEnum):
    """Output formats of `dossier ecosystem`."""

    TEXT = "text"
    JSON = "json"
    HTML = "html"


def _live_snapshot(limit: int, out: Path | None, quiet: bool) -> Path:
    from modeldossier.ecosystem.hub import default_cache_dir, fetch_snapshot

    stamp = datetime.now(UTC).strftime("%Y-%m-%d")
    folder = out if out is not None else default_cache_dir()
    target = folder / f"hub-snapshot-{limit}-{stamp}.parquet"
    with progress(quiet) as bar:
        task = bar.add_task("listing Hub models", total=limit)
        result = fetch_snapshot(target, limit=limit, on_row=lambda i: bar.update(task, completed=i))
    err_console(quiet).print(
        f"snapshot: {result.path} ({result.rows} models, {'cached' if result.from_cache else 'fetched'} "
        f"{result.fetched_at} from {result.endpoint})"
    )
    return target


def text_report(report: EcosystemReport) -> list[object]:
    """Renderables for the terminal: header, country table, top families."""
    snap = report.snapshot
    header = (
        f"rule: {report.rule} ({report.rule_description})\n"
        f"snapshot: {snap.path} taken {snap.snapshot_date or 'unknown'} ({snap.snapshot_date_source}), "
        f"{snap.rows} models; window {report.window.since or 'start'} .. {report.window.until or 'end'} "
        f"(until exclusive): {report.window.models} models"
    )
    countries = Table(title="Share by country")
    for col in ("country", "models", "downloads 30d", "share", "all-time", "share"):
        countries.add_column(col, justify="left" if col == "country" else "right")
    for c in report.by_country:
        countries.add_row(c.country, str(c.models), str(c.downloads), pct(c.downloads_share),
                          str(c.downloads_all_time), pct(c.downloads_all_time_share))
    families = Table(title="Top families (lineage root)")
    for col in ("root", "country", "models", "derivatives", "downloads 30d"):
        families.add_column(col, justify="left" if col in ("root", "country") else "right")
    for f in report.top_families[:10]:
        families.add_row(f.root, f.country, str(f.models), str(f.derivatives), str(f.downloads))
    return [header, countries, families, *(f"note: {n}" for n in report.notes)]


def register(app: typer.Typer) -> None:
    """Add the `ecosystem` command."""

    @app.command("ecosystem", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Context")
    def ecosystem(
        snapshot: Annotated[
            Path | None, typer.Option("--snapshot", help="Parquet or JSONL snapshot (schema: docs/ecosystem.md).")
        ] = None,
        live: Annotated[bool, typer.Option("--live", help="Query the Hub (sorted by downloads) instead.")] = False,
        limit: Annotated[int, typer.Option(min=1, help="With --live: how many top models to list.")] = 1000,
        rule: Annotated[Rule, typer.Option("--attribution", help="Attribute by uploader or lineage root.")] = (
            Rule.UPLOADER
        ),
        since: Annotated[str | None, typer.Option(help="First created month included (YYYY-MM).")] = None,
        until: Annotated[str | None, typer.Option(help="First created month excluded (YYYY-MM).")] = None,
        top: Annotated[int, typer.Option(min=1, help="How many families to list.")] = 20,
        max_depth: Annotated[int, typer.Option(min=1, help="Lineage walk depth limit.")] = 8,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Also write ecosystem.json and ecosystem.html here.")
        ] = None,
        output_format: Annotated[EcoFormat, typer.Option("--format", "-f", help="text, json or html.")] = (
            EcoFormat.TEXT
        ),
        quiet: Quiet = False,
    ) -> None:
        if (snapshot is None) == (not live):
            raise DossierError("give exactly one of --snapshot FILE or --live")
        if out is not None:
            check_output_dir(out)
        record = runinfo.start_record("ecosystem", {
            "snapshot": str(snapshot) if snapshot else None, "live": live, "limit": limit if live else None,
            "attribution": rule.value, "since": since, "until": until, "max_depth": max_depth, "top": top,
        })
        path = snapshot if snapshot is not None else _live_snapshot(limit, out, quiet)
        from modeldossier.ecosystem import attribution  # DuckDB is slow to import: only when aggregating
        from modeldossier.ecosystem.aggregate import ecosystem_report
        from modeldossier.ecosystem.snapshot import load_snapshot

        country_of, source, files = attribution.registry_country_of()
        with err_console(quiet).status("aggregating"):
            snap = load_snapshot(path)
            report = ecosystem_report(
                snap, rule.value, country_of, attribution_source=source, since=since, until=until,
                max_depth=max_depth, top=top, source="live" if live else "file",
            )
        record.data_files = [*files, runinfo.data_file(path, name=f"snapshot:{path.name}")]
        report.run = runinfo.finish(record, ["ecosystem"])
        html_text = None
        if out is not None:
            from modeldossier.ecosystem.html import render_ecosystem_html

            ensure_dir(out)
            atomic_write_text(out / "ecosystem.json", report.to_json())
            html_text = render_ecosystem_html(report)
            atomic_write_text(out / "ecosystem.html", html_text)
            err_console(quiet).print(f"report: {out / 'ecosystem.json'} and {out / 'ecosystem.html'}")
        if output_format is EcoFormat.JSON:
            typer.echo(json_for_terminal(report.to_json()), nl=False)
        elif output_format is EcoFormat.HTML:
            if html_text is None:
                from modeldossier.ecosystem.html import render_ecosystem_html

                html_text = render_ecosystem_html(report)
            typer.echo(html_text, nl=False)
        else:
            console = out_console()
            for item in text_report(report):
                console.print(item)
