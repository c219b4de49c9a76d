"""Terminal output: a stderr console for messages and progress, stdout for results."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from rich.progress import Progress


def err_console(quiet: bool = False) -> Console:
    """Console on stderr for status lines; silent when ``quiet``.

    Markup is off: printed text holds file names, model output and exception messages, where ``[/]`` would
    break rich's parser. A caller that styles a line passes ``markup=True`` and escapes what it interpolates.
    """
    return Console(stderr=True, quiet=quiet, highlight=False, soft_wrap=True, markup=False)


def out_console() -> Console:
    """Console on stdout for results (tables, text reports); markup off, as in ``err_console``."""
    return Console(highlight=False, soft_wrap=True, markup=False)


def progress(quiet: bool = False) -> Progress:
    """A progress bar with count, rate and ETA on stderr; disabled when ``quiet`` or not a terminal."""
    from rich.progress import (  # start-up: only commands that show a bar pay for rich.progress
        BarColumn,
        MofNCompleteColumn,
        Progress,
        SpinnerColumn,
        TaskProgressColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    console = err_console(quiet)
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TaskProgressColumn(show_speed=True),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        disable=quiet,
    )
