"""The `dossier` command line. Thin: parse arguments, call one capability, write the dossier.

Exit codes everywhere (``modeldossier.exitcodes``): 0 ran and nothing to act on; 1 a finding at/above the fail
threshold, an undeclared derivative or a policy breach; 2 usage or input error (one clear line; `--debug` shows
the traceback).
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
import traceback
from collections.abc import Sequence

import typer
from rich.markup import escape
from typer.exceptions import TyperException

from modeldossier import __version__, commands
from modeldossier.errors import DossierError
from modeldossier.exitcodes import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE  # noqa: F401 - re-exported
from modeldossier.ui import err_console

app = typer.Typer(
    name="dossier",
    help=(
        "Tell what is inside an AI model: files that run code when loaded, hidden lineage and jurisdiction, "
        "censorship on disfavored topics, and less secure code for disfavored contexts.\n\n"
        "Every command reads or writes a dossier (schema-versioned JSON). Start with:  dossier audit ./my-model/"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modeldossier {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (any position)."),
) -> None:
    """Global options."""


def _register_commands() -> None:
    for module in sorted(pkgutil.iter_modules(commands.__path__), key=lambda m: m.name):
        importlib.import_module(f"{commands.__name__}.{module.name}").register(app)


_register_commands()


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the app and map every outcome to exit code 0, 1 or 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    console = err_console()
    try:
        result = app(args=args, prog_name="dossier", standalone_mode=False)
    except DossierError as exc:
        if debug:
            traceback.print_exc()
        console.print(f"[bold red]error:[/] {escape(str(exc))}", markup=True)
        return EXIT_USAGE
    except TyperException as exc:  # typer's usage errors: bad option, missing argument, no command
        if debug:
            traceback.print_exc()
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # typer has already printed the help
            return EXIT_USAGE
        hint = f" (see 'dossier {ctx.info_name} --help')" if ctx is not None and ctx.parent else ""
        console.print(f"[bold red]error:[/] {escape(exc.format_message() + hint)}", markup=True)
        return EXIT_USAGE
    except (typer.Abort, KeyboardInterrupt):
        console.print("[bold red]aborted[/]", markup=True)
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback
        if debug:
            traceback.print_exc()
        console.print(
            f"[bold red]internal error:[/] {escape(f'{type(exc).__name__}: {exc}')} (re-run with --debug for details)",
            markup=True,
        )
        return EXIT_USAGE
    return int(result or 0)


if __name__ == "__main__":
    sys.exit(main())
