"""Render an EcosystemReport as one self-contained HTML page with plotly charts (same machinery as reports).

Autoescaped templates; chart data is escaped JSON in <script type="application/json">; plotly.js is inlined
from the pinned package; a Content-Security-Policy allows only our own scripts, by hash.
"""

from __future__ import annotations

import base64
import hashlib

import plotly.graph_objects as go
from jinja2 import ChoiceLoader, Environment, PackageLoader, select_autoescape

from modeldossier.ecosystem.models import EcosystemReport
from modeldossier.report.charts import WINDOW_COLOURS, Chart, country_colour
from modeldossier.report.fields import pct, shown

MAX_SERIES = 8
_LAYOUT = {"template": "plotly_white", "margin": {"l": 60, "r": 20, "t": 50, "b": 60}, "height": 400,
           "legend": {"orientation": "h", "y": -0.2}, "separators": ".,"}
_CONFIG = {"displaylogo": False, "responsive": True}
def _figure(fig: go.Figure) -> dict:
    data = fig.to_plotly_json()
    return {"data": data.get("data", []), "layout": data.get("layout", {}), "config": _CONFIG}


def _top_countries(report: EcosystemReport) -> list[str]:
    return [c.country for c in report.by_country[:MAX_SERIES]]


def country_chart(report: EcosystemReport) -> Chart:
    """Grouped bars: each country's share of 30-day and all-time downloads."""
    names = [c.country for c in report.by_country]
    fig = go.Figure([
        go.Bar(name="30-day downloads", x=names, y=[(c.downloads_share or 0) * 100 for c in report.by_country],
               marker_color=WINDOW_COLOURS["30-day"]),
        go.Bar(name="all-time downloads", x=names, marker_color=WINDOW_COLOURS["all-time"],
               y=[(c.downloads_all_time_share or 0) * 100 for c in report.by_country]),
    ])
    fig.update_layout(**_LAYOUT, title=f"Share of downloads by country ({report.rule})", barmode="group",
                      yaxis_title="% of downloads")
    return Chart(id="chart-country", title="Share of downloads by country", figure=_figure(fig))


def month_chart(report: EcosystemReport) -> Chart:
    """Stacked bars per created month: each top country's share of that month's 30-day downloads."""
    months = sorted({m.month for m in report.by_month})
    top = _top_countries(report)
    share = {(m.month, m.country if m.country in top else "other"): 0.0 for m in report.by_month}
    for m in report.by_month:
        key = (m.month, m.country if m.country in top else "other")
        share[key] += (m.downloads_share or 0) * 100
    series = top + (["other"] if any(k[1] == "other" for k in share) else [])
    fig = go.Figure([go.Bar(name=c, x=months, y=[share.get((mo, c), 0.0) for mo in months],
                            marker_color=country_colour(c, i)) for i, c in enumerate(series)])
    fig.update_layout(**_LAYOUT, title="Share of 30-day downloads by created month", barmode="stack",
                      yaxis_title="% of the month's downloads")
    return Chart(id="chart-month", title="Share of downloads by created month", figure=_figure(fig))


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def render_ecosystem_html(report: EcosystemReport, *, include_plotly: bool = True) -> str:
    """The HTML page for one ecosystem report."""
    from modeldossier.report.html import CHART_INIT_JS, plotly_js

    charts = [country_chart(report), month_chart(report)] if report.by_country else []
    scripts = [plotly_js(), CHART_INIT_JS] if charts and include_plotly else []
    csp = "default-src 'none'; img-src data:; style-src 'unsafe-inline'; " + (
        "script-src " + " ".join(_csp_hash(s) for s in scripts) if scripts else "script-src 'none'"
    )
    env = Environment(
        loader=ChoiceLoader([PackageLoader("modeldossier.ecosystem", "templates"),
                             PackageLoader("modeldossier.report", "templates")]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )
    env.filters["pct"] = pct
    base_css = "_base.css.j2" in env.list_templates()  # the report's stylesheet, when this build has it
    return env.get_template("ecosystem.html.j2").render(r=report, charts=charts, scripts=scripts, csp=csp,
                                                        base_css=base_css)
