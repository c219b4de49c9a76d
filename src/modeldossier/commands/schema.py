"""`dossier schema`: print the dossier JSON Schema (the file docs/dossier.schema.json is generated from it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from modeldossier.dossier import json_schema
from modeldossier.fsutil import atomic_write_text


def register(app: typer.Typer) -> None:
    """Add the `schema` command."""

    @app.command(
        "schema",
        help="Print the JSON Schema of a dossier (v1).\n\nExample:  dossier schema --write docs/dossier.schema.json",
        rich_help_panel="Reports",
    )
    def schema(
        write: Annotated[Path | None, typer.Option("--write", help="Write it to this file instead.")] = None,
    ) -> None:
        text = json.dumps(json_schema(), indent=2, sort_keys=True) + "\n"
        if write is None:
            typer.echo(text, nl=False)
        else:
            atomic_write_text(write, text)
