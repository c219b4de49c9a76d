"""`dossier fleet`: audit every subject of a manifest (folders, files, Hub ids, endpoints), one dossier each."""

from __future__ import annotations

import os
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from modeldossier.cli_options import FailOn, Format, OutputFormat, Quiet
from modeldossier.common import Severity
from modeldossier.errors import DossierError
from modeldossier.exitcodes import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE
from modeldossier.fsutil import atomic_write_text, check_output_dir, ensure_dir
from modeldossier.ui import err_console, out_console, progress

if TYPE_CHECKING:
    from modeldossier.fleet.executors import Executor
    from modeldossier.fleet.index import Row
    from modeldossier.fleet.schedule import Limits
    from modeldossier.fleet.work import Job, Outcome

EXAMPLES = """
Exit codes: 0 every subject completed and nothing to act on; 1 every subject completed and at least one has a
finding at or above --fail-on or is an undeclared derivative; 2 bad input, or a subject that could not be audited
(its reason is in the index).

Examples:

  dossier fleet models.yaml --out runs/fleet                 # local process pool, one worker per core

  dossier fleet --from-inventory inventory.json --out runs/cache-audit   # every model `dossier inventory` found

  dossier fleet --from-hub-org Qwen --out runs/qwen --workers 4          # a Hub organisation (online)

  dossier fleet models.csv --out runs/fleet --executor ray --address auto   # tasks on an existing Ray cluster

Re-run the same command to resume: a subject whose dossier exists with the same inputs (file sizes and times,
sections, settings, rules and suites) is skipped; failed subjects are tried again. The index is
OUT/fleet-index.json and OUT/fleet-index.html; the cohort comparison OUT/fleet-compare.html.
"""


class ExecutorKind(StrEnum):
    """Where fleet jobs run."""

    LOCAL = "local"
    RAY = "ray"


def register(app: typer.Typer) -> None:
    """Add the `fleet` command."""

    @app.command("fleet", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Audit")
    def fleet(
        manifest: Annotated[
            Path | None, typer.Argument(help="YAML or CSV manifest of subjects (see docs/fleet.md).")
        ] = None,
        out: Annotated[Path, typer.Option("--out", "-o", help="Folder for the dossiers and the index.")] = Path(
            "runs/fleet"),
        from_inventory: Annotated[
            Path | None, typer.Option(help="Audit every model of a `dossier inventory --format json` file.")
        ] = None,
        from_hub_org: Annotated[
            str | None, typer.Option(help="Audit every model of a Hugging Face Hub organisation (online).")
        ] = None,
        hub_limit: Annotated[int | None, typer.Option(min=1, help="With --from-hub-org: at most this many.")] = None,
        executor: Annotated[
            ExecutorKind, typer.Option(help="local: a process pool on this machine; ray: Ray tasks.")
        ] = ExecutorKind.LOCAL,
        address: Annotated[
            str | None, typer.Option(help="Ray cluster address (auto, ray://host:10001); default: a local Ray.")
        ] = None,
        workers: Annotated[
            int | None, typer.Option(min=1, help="Local worker processes (default: one per core; 1 runs in-process).")
        ] = None,
        per_provider: Annotated[
            int, typer.Option(min=1, help="At most this many subjects probing one endpoint provider at once.")
        ] = 4,
        retries: Annotated[int, typer.Option(min=0, max=10, help="Retries of a transient failure.")] = 2,
        online: Annotated[
            bool | None, typer.Option("--online/--offline", help="Ask the Hub for lineage (default: when reachable).")
        ] = None,
        hash_files: Annotated[bool, typer.Option("--hash/--no-hash", help="sha256 every file.")] = True,
        compare_cohort: Annotated[
            bool, typer.Option("--compare/--no-compare", help="Also write the cohort comparison page.")
        ] = True,
        fail_on: FailOn = Severity.HIGH,
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        from modeldossier.fleet import index, schedule
        from modeldossier.fleet import manifest as manifest_mod
        from modeldossier.fleet.executors import LocalPool, RayExecutor, Sequential
        from modeldossier.fleet.work import Settings

        sources = [x for x in (manifest, from_inventory, from_hub_org) if x is not None]
        if len(sources) != 1:
            raise DossierError("give exactly one of MANIFEST, --from-inventory or --from-hub-org")
        if address is not None and executor is not ExecutorKind.RAY:
            raise DossierError("--address needs --executor ray")
        if workers is not None and executor is ExecutorKind.RAY:
            raise DossierError("--workers sizes the local pool; a Ray cluster uses its own CPUs")
        check_output_dir(out)
        if manifest is not None:
            loaded = manifest_mod.load(manifest)
        elif from_inventory is not None:
            loaded = manifest_mod.from_inventory(from_inventory)
        else:
            assert from_hub_org is not None
            loaded = manifest_mod.from_hub_org(from_hub_org, limit=hub_limit)
        console = err_console(quiet)
        for note in loaded.notes:
            console.print(f"note: {note}", markup=False)
        ensure_dir(out)
        settings = Settings(online=online, hash_files=hash_files, fail_on=fail_on.value,
                            data=_data_hashes({s for e in loaded.entries for s in e.sections}))
        jobs = schedule.plan(loaded.entries, out.resolve(), settings)
        runner: Executor
        if executor is ExecutorKind.RAY:
            runner = RayExecutor(address)
        elif (workers or os.cpu_count() or 1) == 1 or len(jobs) == 1:
            runner = Sequential()
        else:
            runner = LocalPool(min(workers or os.cpu_count() or 1, len(jobs)))
        outcomes = _run(jobs, runner, schedule.Limits(retries=retries, per_provider=per_provider), quiet)
        rows = [index.row(job, outcome) for job, outcome in zip(jobs, outcomes, strict=True)]
        index_json = out / "fleet-index.json"
        atomic_write_text(index_json, index.to_json(rows, source=loaded.source, executor=runner.name))
        atomic_write_text(out / "fleet-index.html", index.to_html(rows, source=loaded.source, executor=runner.name))
        compared = _compare([r.dossier for r in rows if r.dossier], out) if compare_cohort else None
        console.print(f"index:   {index_json}", markup=False)
        console.print(f"page:    {out / 'fleet-index.html'}", markup=False)
        if compared:
            console.print(f"compare: {compared}", markup=False)
        counted = index.counts(rows)
        if output_format is OutputFormat.JSON:
            typer.echo((out / "fleet-index.json").read_text(encoding="utf-8"), nl=False)
        else:
            out_console().print(
                f"{len(rows)} subject(s): " + ", ".join(f"{k.replace('verdict_', 'verdict ')} {v}"
                                                        for k, v in counted.items()),
                markup=False, highlight=False)
        raise typer.Exit(_exit(rows, fail_on))


def _data_hashes(sections: set[str]) -> tuple[tuple[str, str], ...]:
    """(name, sha256) of the rules, registries, suites and weights behind the sections (part of each input key)."""
    from modeldossier.pipeline import section_data_files

    pairs = {(f.name, f.sha256 or "") for s in sorted(sections) for f in section_data_files(s)}
    return tuple(sorted(pairs))


def _run(jobs: list[Job], runner: Executor, limits: Limits, quiet: bool) -> list[Outcome]:
    """Run the fleet with one progress bar: counts per state, running jobs, retries, ETA."""
    from modeldossier.fleet import schedule

    state = {"done": 0, "skipped": 0, "failed": 0, "retries": 0}
    with progress(quiet) as bar:
        task = bar.add_task("fleet", total=len(jobs))

        def on_outcome(outcome: Outcome, running: int) -> None:
            if outcome.status == "failed" and outcome.transient and outcome.attempts <= limits.retries:
                state["retries"] += 1  # scheduled again, not final
            else:
                state[outcome.status] += 1
            finished = state["done"] + state["skipped"] + state["failed"]
            bar.update(task, completed=finished, description=(
                f"fleet: done {state['done']} · skipped {state['skipped']} · failed {state['failed']} · "
                f"running {running} · retries {state['retries']}"))

        try:
            return schedule.run(jobs, runner, limits, on_outcome)
        finally:
            runner.close()


def _compare(dossiers: list[str], out: Path) -> Path | None:
    """The cohort comparison page (every completed dossier side by side), when there are two or more."""
    if len(dossiers) < 2:
        return None
    from modeldossier.report import compare_format
    from modeldossier.report.compare import compare
    from modeldossier.report.loading import load_dossier

    loaded = [load_dossier(Path(p)) for p in dossiers]
    path = out / "fleet-compare.html"
    atomic_write_text(path, compare_format.render_html(compare(loaded)))
    return path


def _exit(rows: list[Row], fail_on: Severity) -> int:
    from modeldossier.exitcodes import failing_reasons
    from modeldossier.report.loading import load_dossier

    if any(r.status == "failed" for r in rows):
        return EXIT_USAGE
    for r in rows:
        if r.dossier is None:
            continue
        d = load_dossier(Path(r.dossier))
        if failing_reasons(d.artifacts, d.provenance, fail_on):
            return EXIT_FINDINGS
    return EXIT_OK
