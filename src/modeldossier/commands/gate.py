"""`dossier gate`: check a dossier against a declarative policy; exit 1 on any breach, with the evidence."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from modeldossier.cli_options import Format, OutputFormat, Quiet
from modeldossier.display import visible
from modeldossier.fsutil import storable
from modeldossier.report.gate import evaluate
from modeldossier.report.loading import load_dossier
from modeldossier.report.policy import load_policy
from modeldossier.ui import out_console

EXAMPLES = """
Examples:

  dossier gate runs/qwen.dossier.json --policy examples/policy-strict.yaml        # exit 1 on breach

  dossier gate runs/qwen.dossier.json --policy examples/policy-jurisdiction.yaml --format json

Policy schema (version 1): see docs/reports.md. A bad policy exits 2 with the line at fault.
"""

_MARK = {"pass": "[green]PASS[/]", "fail": "[bold red]FAIL[/]", "skip": "[yellow]SKIP[/]"}


def register(app: typer.Typer) -> None:
    """Add the `gate` command."""

    @app.command("gate", help=__doc__.split(":", 1)[1].strip() + "\n\n" + EXAMPLES, rich_help_panel="Reports")
    def gate(
        dossier: Annotated[Path, typer.Argument(help="A .dossier.json file.")],
        policy: Annotated[Path, typer.Option("--policy", "-p", help="Policy YAML (version: 1).")],
        output_format: Format = OutputFormat.TEXT,
        quiet: Quiet = False,
    ) -> None:
        rules, digest = load_policy(policy)
        loaded = load_dossier(dossier)
        result = evaluate(rules, loaded, policy_name=storable(policy.name))  # a non-UTF-8 file name reads \xff
        if output_format is OutputFormat.JSON:
            payload = {**result.to_dict(), "policy_file": storable(str(policy)), "policy_sha256": digest,
                       "policy_version": rules.version}
            typer.echo(json.dumps(payload, indent=2))
        else:
            console = out_console()
            verdict = "[green]PASS[/]" if result.passed else "[bold red]BREACH[/]"
            counts = {s: sum(1 for r in result.results if r.status == s) for s in ("fail", "pass", "skip")}
            console.print(
                f"{verdict} {escape(visible(result.subject))} against policy {escape(visible(result.policy))} "
                f"(sha256 {digest[:12]}): "
                f"{counts['fail']} failed, {counts['pass']} passed, {counts['skip']} skipped",
                markup=True, highlight=False,
            )
            for r in result.results:
                if quiet and r.status != "fail":
                    continue
                console.print(f"{_MARK[r.status]} {escape(visible(r.rule))}: ", markup=True, highlight=False, end="")
                console.print(visible(r.message), markup=False, highlight=False)
                if r.status == "fail" or not quiet:
                    for line in r.evidence if r.status == "fail" else []:
                        console.print(f"    {visible(line)}", markup=False, highlight=False)
            if not result.results:
                console.print("the policy has no rules", markup=False)
        raise typer.Exit(0 if result.passed else 1)
