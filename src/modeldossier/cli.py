"""The `dossier` command line. Thin: parse arguments, call one capability, write the dossier.

Exit codes everywhere (``modeldossier.exitcodes``): 0 ran and nothing to act on; 1 a finding at/above the fail
threshold, an undeclared derivative or a policy breach; 2 usage or input error (one clear line; `--debug` shows
the traceback).
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from functools import lru_cache

import typer
from typer.exceptions import TyperException

from modeldossier import __version__, commands
from modeldossier.errors import DossierError

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2
HELP = (
    "Tell what is inside an AI model: files that run code when loaded, hidden lineage and jurisdiction, "
    "censorship on disfavored topics, and less secure code for disfavored contexts.\n\n"
    "Every command reads or writes a dossier (schema-versioned JSON). Start with:  dossier audit ./my-model/"
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"modeldossier {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Print the version."),
    debug: bool = typer.Option(False, "--debug", help="Show full tracebacks on errors (any position)."),
) -> None:
    """Global options."""


def command_names() -> list[str]:
    """The sub-command modules (one per command, named like it), found without importing them."""
    folder = os.path.dirname(commands.__file__)
    return sorted(name[:-3] for name in os.listdir(folder) if name.endswith(".py") and not name.startswith("_"))


def build_app(only: str | None = None) -> typer.Typer:
    """The typer app with every command, or with just ``only`` (start-up: a run imports one command module)."""
    app = typer.Typer(
        name="dossier",
        help=HELP,
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
        context_settings={"help_option_names": ["-h", "--help"]},
    )
    app.callback()(_root)
    for name in command_names():
        if only is None or name == only:
            importlib.import_module(f"{commands.__name__}.{name}").register(app)
    return app


@lru_cache(maxsize=1)
def _full_app() -> typer.Typer:
    return build_app()


def __getattr__(name: str) -> typer.Typer:
    """``modeldossier.cli.app``: the app with every command, built on first use."""
    if name == "app":
        return _full_app()
    raise AttributeError(name)


def _command_of(args: list[str]) -> str | None:
    """The sub-command a command line runs, when it names one that exists (else None: help, errors)."""
    first = next((a for a in args if not a.startswith("-")), None)
    if first is None or args.index(first) != 0:
        return None  # global options first (--version) or no command: the full app answers
    return first if first in command_names() else None


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: run the app and map every outcome to exit code 0, 1 or 2."""
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args
    args = [a for a in args if a != "--debug"]
    command = _command_of(args)
    app = build_app(command) if command else _full_app()
    try:
        result = app(args=args, prog_name="dossier", standalone_mode=False)
    except DossierError as exc:
        if debug:
            traceback.print_exc()
        _error(str(exc))
        return EXIT_USAGE
    except TyperException as exc:  # typer's usage errors: bad option, missing argument, no command
        if debug:
            traceback.print_exc()
        ctx = getattr(exc, "ctx", None)
        if type(exc).__name__ == "NoArgsIsHelpError":  # typer has already printed the help
            return EXIT_USAGE
        hint = f" (see 'dossier {ctx.info_name} --help')" if ctx is not None and ctx.parent else ""
        _error(exc.format_message() + hint)
        return EXIT_USAGE
    except (typer.Abort, KeyboardInterrupt):
        _error(None, "aborted")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - last line of defence: one line, never a traceback
        if debug:
            traceback.print_exc()
        _error(f"{type(exc).__name__}: {exc}", "internal error", " (re-run with --debug for details)")
        return EXIT_USAGE
    return int(result or 0)


def _error(text: str | None, label: str = "error", tail: str = "") -> None:
    """One red line on stderr (rich is imported only here, on the error path)."""
    from rich.markup import escape

    from modeldossier.ui import err_console

    body = f"[bold red]{label}:[/] {escape(text)}{tail}" if text is not None else f"[bold red]{label}[/]"
    err_console().print(body, markup=True)


if __name__ == "__main__":
    sys.exit(main())
