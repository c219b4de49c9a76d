"""`dossier origin`: Declared vs observed lineage, tokenizer fingerprints and country evidence."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table
from rich.text import Text

from modeldossier import dossier as dossier_io
from modeldossier import runinfo
from modeldossier.cli_options import DossierPath, Format, OutputFormat, Quiet
from modeldossier.common import Severity
from modeldossier.display import json_for_terminal, visible
from modeldossier.dossier import Dossier, Subject
from modeldossier.errors import DossierError
from modeldossier.exitcodes import exit_code
from modeldossier.provenance.models import CountryAttribution, ProvenanceSection
from modeldossier.report.fields import text as field_text
from modeldossier.subject import HUB_ID, resolve_local
from modeldossier.ui import err_console, out_console

EXAMPLES = """
Exit codes: 0 no undeclared derivative found, 1 undeclared derivative, 2 bad input.

Examples:

  dossier origin ./my-model/                        # folder: card, config, tokenizer.json, GGUF

  dossier origin model.Q4_K_M.gguf --format json    # one GGUF file, JSON on stdout

  dossier origin Qwen/Qwen2.5-7B-Instruct --online  # Hub id: lineage chain to the root (needs network)

  dossier origin ./my-model/ --offline --dossier runs/my-model.dossier.json   # merge into a dossier
"""


def _hub_files(hub_id: str, online: bool | None) -> tuple[Path | None, str | None]:
    """Small provenance files of a Hub model from the local cache (or the Hub when online); never raises."""
    try:
        from huggingface_hub import snapshot_download

        local = snapshot_download(
            repo_id=hub_id,
            allow_patterns=["README.md", "config.json", "generation_config.json", "tokenizer.json",
                            "tokenizer_config.json"],
            local_files_only=online is False,
        )
        return Path(local), None
    except Exception as exc:  # offline, missing, gated, network: the Hub metadata walk still runs
        return None, f"no local files for {hub_id} ({type(exc).__name__}): fingerprints not computed"


def _country(c: CountryAttribution) -> str:
    if c.country:
        return visible(f"{c.country} ({c.organization}; {c.source.split(' (')[0] if c.source else 'registry'})")
    if c.countries:
        return visible(f"ambiguous: {', '.join(c.countries)} ({c.organization})")
    reasons = [e.reason for e in c.evidence if not e.available and e.reason]
    return visible(f"unknown ({reasons[-1]})") if reasons else "unknown"


def render(name: str, section: ProvenanceSection) -> None:
    """Print the declared-vs-observed table, the evidence and the notes."""
    console = out_console()
    table = Table(title=f"origin of {visible(name)}", show_lines=False)
    table.add_column("question")
    table.add_column("declared")
    table.add_column("observed")
    table.add_row("family", visible(section.declared_family or "-"),
                  f"{visible(section.observed_family or 'unknown')}"
                  + (f" (confidence {section.observed_confidence:.2f})" if section.observed_confidence else ""))
    table.add_row("base model", visible(section.declared_base or "none named"), "")
    flag = {True: Text("YES", style="bold red"), False: "no", None: "unknown"}[section.undeclared_derivative]
    table.add_row("undeclared derivative", "", flag)
    table.add_row("author", visible(section.author or "unknown"), _country(section.author_country))
    table.add_row("lineage root", visible(section.declared_lineage_root or "none declared"),
                  visible(section.observed_lineage_root or "unknown"))
    table.add_row(f"root country ({section.lineage_root_basis or 'no root'})",
                  visible(section.lineage_root or "unknown"), _country(section.lineage_root_country))
    table.add_row("license", visible(section.license or "-", 300), "")
    for fp in section.fingerprints:
        table.add_row(f"tokenizer ({fp.origin})", f"{fp.tokenizer_model or '?'}, {fp.vocab_size} tokens",
                      f"chkhsh {fp.chkhsh[:12] if fp.chkhsh else '-'}…"
                      + (f" = llama.cpp '{fp.llama_cpp_pre}'" if fp.llama_cpp_pre else " (not in llama.cpp table)"))
    for m in section.vocab_matches[:3]:
        table.add_row("vocab vs " + m.reference, "",
                      f"{m.relation}: set {m.set_overlap:.3f}, same id {m.positional_overlap:.3f}")
    console.print(table)
    evidence = Table(title="evidence", show_header=True)
    for col in ("kind", "value", "source"):
        evidence.add_column(col, overflow="fold")
    for e in [*section.declared, *section.observed]:
        value = Text(field_text(e.value)[:160]) if e.available else Text.assemble(("unavailable", "yellow"),
                                                                             f": {visible(e.reason)}"[:160])
        evidence.add_row(visible(e.kind), value, visible(e.source))
    console.print(evidence)
    for note in section.notes:
        console.print(f"note: {visible(note)}")


def register(app: typer.Typer) -> None:
    """Add the `origin` command."""

    @app.command("origin", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Audit")
    def origin(
        model: Annotated[str, typer.Argument(help="Model folder, tokenizer.json, GGUF file, or Hub id (org/name).")],
        online: Annotated[
            bool | None, typer.Option("--online/--offline", help="Ask the Hub for lineage (default: for Hub ids).")
        ] = None,
        output_format: Format = OutputFormat.TEXT,
        dossier_path: DossierPath = None,
        quiet: Quiet = False,
    ) -> None:
        from modeldossier.provenance.origin import data_files, origin_section

        console = err_console(quiet)
        record = runinfo.start_record("origin", {"model": model, "online": online})
        if not model:
            raise DossierError("empty path")  # Path('') is '.': never read the working directory by accident
        path = Path(model).expanduser()
        if path.exists():
            root, hub_id = path, None
            subject = resolve_local(path, hash_files=False).subject
        elif HUB_ID.match(model):
            hub_id = model
            root, note = _hub_files(model, online)
            subject = Subject(kind="hub", ref=model, name=model)
        else:
            raise DossierError(f"no such file or directory, and not a Hub id (org/name): {model}")
        with console.status(f"reading {model}"):
            section = origin_section(root, hub_id, online=online)
        if hub_id and root is None:
            section.notes.append(note or "no local files")
            section.status = "partial"
        record.data_files = data_files()
        result = Dossier(subject=subject, provenance=section)
        result.run.records.append(runinfo.finish(record, ["provenance"]))
        if dossier_path is not None:
            result = dossier_io.save_merged(result, dossier_path)
            console.print(f"dossier: {dossier_path}")
        if output_format is OutputFormat.JSON:
            typer.echo(json_for_terminal(section.model_dump_json(indent=2)) + "\n", nl=False)
        else:
            render(subject.name, section)
        raise typer.Exit(exit_code(None, section, Severity.CRITICAL))
