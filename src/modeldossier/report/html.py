"""Render a dossier as one self-contained HTML page (autoescaped: model output never runs as script)."""

from __future__ import annotations

from jinja2 import Environment, PackageLoader, select_autoescape

from modeldossier.dossier import SECTIONS, Dossier


def _environment() -> Environment:
    return Environment(
        loader=PackageLoader("modeldossier.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_html(dossier: Dossier) -> str:
    """The HTML report for one dossier."""
    template = _environment().get_template("dossier.html.j2")
    return template.render(d=dossier, sections=SECTIONS)
