"""`dossier scan`: find anything in model files that could run code when loaded, without loading them."""

from __future__ import annotations

import json
import sys
from contextlib import nullcontext
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from modeldossier.cli_options import DossierPath, FailOn, Quiet
from modeldossier.common import Severity
from modeldossier.display import visible
from modeldossier.errors import DossierError
from modeldossier.exitcodes import exit_code
from modeldossier.fsutil import storable

if TYPE_CHECKING:  # start-up: a plain scan never imports the dossier model, rich or the subject resolver
    from modeldossier.artifacts.models import ArtifactsSection
    from modeldossier.dossier import Subject

EXAMPLES = """
Examples:

  dossier scan ./my-model/                              # every file, sniffed by content; exit 1 on high+

  dossier scan pytorch_model.bin --format json          # one JSON document with a findings list

  dossier scan ./my-model/ --format sarif > scan.sarif  # for GitHub code scanning

  dossier scan model.ckpt --fail-on medium --hash --dossier runs/my-model.dossier.json
"""


class ScanFormat(StrEnum):
    """Output formats of `dossier scan`."""

    TEXT = "text"
    JSON = "json"
    SARIF = "sarif"
    CYCLONEDX = "cyclonedx"


_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan", "info": "dim"}


def make_subject(paths: list[Path], section: ArtifactsSection) -> Subject:
    """A path subject for what was scanned, listing the top-level files with size and hash."""
    from modeldossier.dossier import Subject, SubjectFile
    from modeldossier.subject import default_name

    first = paths[0]
    base = first if first.is_dir() else first.parent
    files = []
    for report in section.files:
        if report.member_of is not None or report.format == "symlink":
            continue
        try:
            rel = str(Path(report.path).resolve().relative_to(base.resolve()))
        except ValueError:
            rel = report.path
        files.append(SubjectFile(path=rel, size=report.size, sha256=report.sha256))
    ref = " ".join(str(p) for p in paths)
    return Subject(kind="path", ref=ref, name=default_name(first), files=files)


def subject_name(first: Path) -> str:
    """The subject's display name (as ``subject.default_name``, without importing the dossier model)."""
    for part in reversed(first.resolve().parts):
        if part.startswith("models--"):
            return part.removeprefix("models--").replace("--", "/", 1)
    return first.resolve().name


def json_document(section: ArtifactsSection, subject: Subject | str) -> dict[str, Any]:
    """The `--format json` document: findings first, then per-file detail."""
    worst = section.worst()
    return {
        "subject": subject if isinstance(subject, str) else subject.name,
        "scanner_version": section.scanner_version,
        "allowlist_version": section.allowlist_version,
        "worst": worst.value if worst else None,
        "counts": section.counts,
        "findings": [f.model_dump(mode="json") for f in section.findings],
        "files": [r.model_dump(mode="json", exclude={"findings"}) for r in section.files],
        "seconds": section.seconds,
    }


def _render_external(kind: ScanFormat, section: ArtifactsSection, subject: Subject) -> str:
    module, function = {
        ScanFormat.SARIF: ("modeldossier.report.sarif", "render_sarif"),
        ScanFormat.CYCLONEDX: ("modeldossier.report.cyclonedx", "render_cyclonedx"),
    }[kind]
    import importlib

    try:
        render = getattr(importlib.import_module(module), function)
    except (ModuleNotFoundError, AttributeError):
        raise DossierError(f"--format {kind.value} is not available in this build ({module}.{function} missing)") \
            from None
    out = render(section, subject)
    return out if isinstance(out, str) else json.dumps(out, indent=2) + "\n"


def print_text(section: ArtifactsSection) -> None:
    """A findings table for people, worst first, and a one-line summary (colour only on a terminal)."""
    styled = sys.stdout.isatty()
    if styled:
        from rich.markup import escape

        from modeldossier.ui import out_console

        console = out_console()
    order = sorted(section.findings, key=lambda f: -f.severity.rank)
    for f in order:
        where = f" ({visible(f.location)})" if f.location else ""
        evidence = f"\n      evidence: {visible(f.evidence)}" if f.evidence else ""
        label = f"{f.severity.value.upper():8} "
        body = f"{visible(f.rule_id)}  {visible(f.file)}{where}\n      {visible(f.message)}{evidence}"
        if styled:
            console.print(f"[{_STYLE[f.severity.value]}]{label[:-1]}[/] " + escape(body), markup=True,
                          highlight=False)
        else:
            sys.stdout.write(label + body + "\n")
    worst = section.worst()
    tops = [r for r in section.files if r.member_of is None]
    summary = (f"{len(tops)} file(s), {len(section.files) - len(tops)} archive member(s), "
               f"{len(section.findings)} finding(s); worst: {worst.value if worst else 'none'}; "
               f"{section.seconds:.2f} s")
    if styled:
        console.print(summary, markup=False)
    else:
        sys.stdout.write(summary + "\n")
        sys.stdout.flush()


def _progress(quiet: bool) -> Any:
    """The shared progress bar on a terminal; nothing (and no rich import) when quiet or not a terminal."""
    if quiet or not sys.stderr.isatty():
        return nullcontext(None)
    from modeldossier.ui import progress

    return progress(quiet)


def register(app: typer.Typer) -> None:
    """Add the `scan` command."""

    @app.command("scan", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Audit")
    def scan(
        paths: Annotated[list[str], typer.Argument(help="Files or folders to scan (archives are opened).")],
        output_format: Annotated[
            ScanFormat, typer.Option("--format", "-f", help="text, json, sarif (2.1.0) or cyclonedx (1.6).")
        ] = ScanFormat.TEXT,
        fail_on: FailOn = Severity.HIGH,
        hash_files: Annotated[bool, typer.Option("--hash", help="Also sha256 every top-level file.")] = False,
        dossier_path: DossierPath = None,
        seconds_per_file: Annotated[
            float, typer.Option("--timeout", min=1.0, help="Time limit per file in seconds.")
        ] = 120.0,
        quiet: Quiet = False,
    ) -> None:
        from modeldossier.artifacts.scanner import ScanLimits, scan_section

        if "" in paths:
            raise DossierError("empty path")  # Path('') is '.': never scan the working directory by accident
        files = [Path(p) for p in paths]
        for path in files:
            if not path.exists() and not path.is_symlink():
                raise DossierError(f"no such file or directory: {path}")
        record = None
        if dossier_path is not None:
            from modeldossier import runinfo

            record = runinfo.start_record("scan", {"paths": [str(p) for p in files], "hash": hash_files,
                                                   "fail_on": fail_on.value})
        with _progress(quiet) as bar:
            task = bar.add_task("scanning", total=None) if bar is not None else None
            section = scan_section(
                files, quiet=quiet, hash_files=hash_files, limits=ScanLimits(seconds_per_file=seconds_per_file),
                progress=None if bar is None else (
                    lambda name, size: bar.update(task, advance=1, description=Path(name).name[:40])),
            )
        if record is not None and dossier_path is not None:
            from modeldossier import dossier as dossier_io
            from modeldossier import runinfo
            from modeldossier.pipeline import section_data_files
            from modeldossier.ui import err_console

            record.data_files = section_data_files("artifacts")
            result = dossier_io.Dossier(subject=make_subject(files, section), artifacts=section)
            result.run.records.append(runinfo.finish(record, ["artifacts"]))
            dossier_io.save_merged(result, dossier_path)
            err_console(quiet).print(f"dossier: {dossier_path}")
        if output_format is ScanFormat.JSON:
            typer.echo(json.dumps(storable(json_document(section, subject_name(files[0]))), indent=2))
        elif output_format is ScanFormat.TEXT:
            print_text(section)
        else:
            typer.echo(_render_external(output_format, section, make_subject(files, section)), nl=False)
        raise typer.Exit(exit_code(section, None, fail_on))
