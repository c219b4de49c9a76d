"""`dossier inventory`: which models this machine holds, where they come from, and whether they are safe to load."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from modeldossier import dossier as dossier_io
from modeldossier import runinfo
from modeldossier.cli_options import FailOn, Format, OutputFormat, Quiet
from modeldossier.common import Severity
from modeldossier.display import json_for_terminal, visible
from modeldossier.dossier import Dossier, RunRecord, RunSection
from modeldossier.ecosystem.inventory import (
    Analysed,
    InventoryReport,
    analyse,
    default_capabilities,
    default_hf_cache,
    default_ollama,
    discover_hf_cache,
    discover_ollama,
    discover_paths,
)
from modeldossier.exitcodes import EXIT_OK, exit_code
from modeldossier.fsutil import check_output_dir, ensure_dir
from modeldossier.ui import err_console, out_console, progress

EXAMPLES = """
Exit codes: 0 nothing to act on, 1 some model has a finding at or above --fail-on or is an undeclared
derivative, 2 bad input.

Examples:

  dossier inventory                                 # HF cache + Ollama store at their default places

  dossier inventory ~/models ./llama.gguf --no-scan  # given folders and GGUF files, origin only

  dossier inventory --hf-cache /data/hf/hub --out runs/inventory --format json   # one dossier per model
"""


def slug(name: str) -> str:
    """A file-name-safe version of a model name (org/name -> org__name, qwen2.5:7b -> qwen2.5_7b)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name.replace("/", "__")).strip("_") or "model"


def _table(report: InventoryReport) -> Table:
    table = Table(title=f"{len(report.entries)} model(s)")
    for col in ("source", "model", "author (country)", "lineage root (country)", "license", "artifacts", "issues"):
        table.add_column(col, overflow="fold")
    for e in report.entries:
        author = f"{e.author or '?'} ({e.author_country or 'unknown'})"
        root = f"{e.lineage_root or '?'} ({e.lineage_root_country or 'unknown'})" + (
            f" [{e.lineage_root_basis}]" if e.lineage_root_basis == "observed" else "")
        verdict = e.verdict + (f" ({e.findings})" if e.findings else "")
        issues = str(len(e.issues)) if e.issues else "-"
        cells = (e.source, e.name, author, root, e.license or "?", verdict, issues)
        table.add_row(*(visible(c, 300) for c in cells))
    return table


def _issues(report: InventoryReport) -> list[str]:
    return [visible(f"{e.name}: {issue}") for e in report.entries for issue in e.issues]


def _write_dossier(item: Analysed, out: Path, record: RunRecord) -> Path:
    sections = [name for name in ("artifacts", "provenance") if getattr(item, name) is not None]
    result = Dossier(subject=item.subject, artifacts=item.artifacts, provenance=item.provenance,
                     run=RunSection(records=[record.model_copy(update={"sections": sections})]))
    if item.artifacts is None:
        result.run.not_run["artifacts"] = "--no-scan" if item.entry.verdict == "not scanned" else "nothing to scan"
    if item.provenance is None:
        result.run.not_run["provenance"] = "; ".join(item.entry.issues) or "no local files"
    path = out / f"{slug(item.subject.name)}.dossier.json"
    dossier_io.save_merged(result, path)
    return path


def register(app: typer.Typer) -> None:
    """Add the `inventory` command."""

    @app.command("inventory", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Context")
    def inventory(
        paths: Annotated[
            list[Path] | None, typer.Argument(help="Model folders, GGUF files, or folders to search.")
        ] = None,
        hf_cache: Annotated[
            Path | None, typer.Option("--hf-cache", help="Hugging Face hub cache (default: HF_HUB_CACHE/HF_HOME).")
        ] = None,
        ollama: Annotated[
            Path | None, typer.Option("--ollama", help="Ollama model store (default: OLLAMA_MODELS, ~/.ollama).")
        ] = None,
        scan: Annotated[bool, typer.Option("--scan/--no-scan", help="Run the artifact scanner on each.")] = True,
        online: Annotated[
            bool, typer.Option("--online/--offline", help="Ask the Hub for lineage of HF cache models.")
        ] = False,
        out: Annotated[
            Path | None, typer.Option("--out", "-o", help="Write one dossier per model into this folder.")
        ] = None,
        fail_on: FailOn = Severity.HIGH,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        console = err_console(quiet)
        if out is not None:
            check_output_dir(out)
        record = runinfo.start_record("inventory", {
            "paths": [str(p) for p in paths or []], "hf_cache": str(hf_cache) if hf_cache else None,
            "ollama": str(ollama) if ollama else None, "scan": scan, "online": online,
        })
        report = InventoryReport()
        defaults = not paths and hf_cache is None and ollama is None
        cache_dir = hf_cache or (default_hf_cache() if defaults else None)
        store = ollama or (default_ollama() if defaults else None)
        candidates = []
        if cache_dir is not None:
            report.searched["hf-cache"] = [str(cache_dir)]
            if not cache_dir.is_dir():
                report.notes.append(f"no Hugging Face cache at {cache_dir}")
            candidates.extend(discover_hf_cache(cache_dir))
        if store is not None:
            report.searched["ollama"] = [str(store)]
            if not (store / "manifests").is_dir():
                report.notes.append(f"no Ollama store at {store}")
            candidates.extend(discover_ollama(store))
        if paths:
            report.searched["paths"] = [str(p) for p in paths]
            found, notes = discover_paths(list(paths))
            candidates.extend(found)
            report.notes.extend(notes)
        scan_fn, origin_fn = default_capabilities()
        analysed = []
        with progress(quiet) as bar:
            task = bar.add_task("inspecting models", total=len(candidates))
            for cand in candidates:
                bar.update(task, description=f"inspecting {cand.name}")
                analysed.append(analyse(cand, scan=scan_fn if scan else None, origin=origin_fn, online=online))
                bar.advance(task)
        report.entries = [a.entry for a in analysed]
        report.run = runinfo.finish(record, ["inventory"])
        if out is not None:
            ensure_dir(out)
            for item in analysed:
                _write_dossier(item, out, report.run)
            console.print(f"dossiers: {len(analysed)} in {out}")
        for note in report.notes:
            console.print(f"[yellow]note[/]: {escape(visible(note))}", markup=True)
        if output_format is OutputFormat.JSON:
            typer.echo(json_for_terminal(report.to_json()), nl=False)
        else:
            console_out = out_console()
            console_out.print(_table(report))
            for line in _issues(report):
                console_out.print(f"issue: {line}", markup=False)
        raise typer.Exit(max((exit_code(a.artifacts, a.provenance, fail_on) for a in analysed), default=EXIT_OK))
