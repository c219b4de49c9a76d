"""Option types shared by sub-commands, so every command spells them the same way."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from modeldossier.common import Severity


class OutputFormat(StrEnum):
    """How a command prints its result on stdout."""

    TEXT = "text"
    JSON = "json"


Quiet = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bars or status lines (for CI).")]
Format = Annotated[OutputFormat, typer.Option("--format", "-f", help="text for people, json for machines.")]
OutDir = Annotated[
    Path, typer.Option("--out", "-o", help="Folder for the dossier and reports (created if missing).")
]
FailOn = Annotated[
    Severity, typer.Option("--fail-on", help="Exit 1 when a finding is at least this severe.")
]
DossierPath = Annotated[
    Path | None,
    typer.Option("--dossier", help="Merge the result into this dossier file (created if missing)."),
]
JudgeBaseUrl = Annotated[
    str | None, typer.Option(help="Override the judge provider's base URL.", rich_help_panel="LLM judge")
]
JudgeApiKeyEnv = Annotated[
    str | None,
    typer.Option(help="Read the judge's API key from this environment variable.", rich_help_panel="LLM judge"),
]
