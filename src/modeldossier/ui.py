"""Terminal output: a stderr console for messages and progress, stdout for results."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.console import Console
from rich.segment import Segment

from modeldossier.display import visible

if TYPE_CHECKING:
    from rich.progress import Progress


class SafeConsole(Console):
    """A rich console that never writes a raw control, bidi or invisible character of the text it prints.

    Values from a model or a file are escaped where they are formatted (``modeldossier.display.visible``); this is
    the last line of defence for any that slip through: the text of every segment (not rich's own styles and
    cursor controls) is escaped again, line feeds and tabs kept.
    """

    def _render_buffer(self, buffer: Iterable[Segment]) -> str:
        safe = (s if s.control else Segment(visible(s.text, None, keep_lines=True), s.style) for s in buffer)
        return super()._render_buffer(safe)


def err_console(quiet: bool = False) -> Console:
    """Console on stderr for status lines; silent when ``quiet``.

    Markup is off: printed text holds file names, model output and exception messages, where ``[/]`` would
    break rich's parser. A caller that styles a line passes ``markup=True`` and escapes what it interpolates.
    """
    return SafeConsole(stderr=True, quiet=quiet, highlight=False, soft_wrap=True, markup=False)


def out_console() -> Console:
    """Console on stdout for results (tables, text reports); markup off, as in ``err_console``."""
    return SafeConsole(highlight=False, soft_wrap=True, markup=False)


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
