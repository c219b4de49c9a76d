"""Plotly figures for the HTML report, as plain JSON-able dicts (rendered by the inlined plotly.js).

Every chart shows point estimates with their 95% CI as error bars. Model output never becomes chart
code: labels are data, and the JSON is escaped for embedding in a <script type="application/json"> block.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from typing import Any

from plotly.utils import PlotlyJSONEncoder

from modeldossier.censorship.models import supported
from modeldossier.report.codesec_view import control_names, differentials, is_control
from modeldossier.report.fields import get, items, number, text

_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["sendDataToCloud"]}
_LAYOUT = {
    "template": "none",  # named templates are deep-copied into every figure: slow and large
    "paper_bgcolor": "white",
    "plot_bgcolor": "white",
    "font": {"family": "system-ui, sans-serif", "size": 12},
    "colorway": [
        "#2c6fbb", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d", "#d4ac0d", "#1abc9c",
        "#34495e", "#e84393", "#6c5ce7",
    ],
    "margin": {"l": 60, "r": 20, "t": 50, "b": 60},
    "height": 380,
    "legend": {"orientation": "h", "y": -0.2},
    "separators": ".,",
}


@dataclass(frozen=True)
class Chart:
    """One figure: a DOM id, a title and the figure as a dict with `data`, `layout` and `config`."""

    id: str
    title: str
    figure: dict[str, Any]

    def json(self) -> str:
        """The figure as JSON that is safe inside <script type="application/json">."""
        return script_json(self.figure)


def script_json(value: Any) -> str:
    """JSON that cannot close or comment out the surrounding <script> element.

    `<`, `>` and `&` become \\u escapes (still the same JSON strings), as do U+2028/U+2029.
    """
    raw = json.dumps(value, cls=PlotlyJSONEncoder, ensure_ascii=False, separators=(",", ":"))
    return (
        raw.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


#: Longest axis or legend label; the full text is in the tables under the chart.
LABEL_LIMIT = 48


def _label(value: Any, default: str = "?") -> str:
    """Display text for plotly, which interprets a few HTML tags in labels: escape them to entities; long labels
    are shortened so that they cannot squeeze the plot area."""
    shown = text(value, default)
    if len(shown) > LABEL_LIMIT:
        shown = shown[: LABEL_LIMIT - 13] + "…" + shown[-12:]  # both ends: labels that share a prefix stay apart
    return html.escape(shown, quote=False)


_AXIS = {"gridcolor": "#e5e8e8", "linecolor": "#aab7b8", "zerolinecolor": "#aab7b8", "automargin": True}


def _figure(traces: list[dict[str, Any]], layout: dict[str, Any]) -> dict[str, Any]:
    """A plotly.js figure as plain data (plotly.graph_objects validation is slow and adds nothing here)."""
    merged = {**_LAYOUT, **layout}
    for axis in ("xaxis", "yaxis"):
        merged[axis] = {**_AXIS, **layout.get(axis, {})}
    merged["title"] = {"text": layout.get("title", "")}
    return {"data": traces, "layout": merged, "config": _CONFIG}


def _error(plus: list[float], minus: list[float]) -> dict[str, Any]:
    return {"type": "data", "array": plus, "arrayminus": minus, "visible": True}


def _bounds(rate: Any, key: str = "rate") -> tuple[float | None, float, float]:
    """(value %, plus %, minus %) of a Rate-like (``key="rate"``) or Difference-like (``key="estimate"``) object."""
    value = number(get(rate, key))
    if value is None:
        return None, 0.0, 0.0
    low, high = number(get(rate, "ci_low")), number(get(rate, "ci_high"))
    plus = (high - value) * 100 if high is not None else 0.0
    minus = (value - low) * 100 if low is not None else 0.0
    return value * 100, max(plus, 0.0), max(minus, 0.0)


def _diff_bounds(diff: Any) -> tuple[float | None, float, float]:
    """``_bounds`` of a Difference (its point estimate is ``estimate``)."""
    return _bounds(diff, "estimate")


def series_name(cell: Any) -> str:
    """Bar series of a cell: its language, plus its role (target / control / ...) when the suite records one."""
    language = _label(get(cell, "language"))
    role = get(cell, "role")
    return language if role in (None, "", "all") else f"{language} · {_label(role)}"


#: One colour per meaning, the same in every chart: a language keeps its hue across label charts (its matched
#: controls are the same hue, lighter and hatched); a country keeps its hue across ecosystem charts; red is kept
#: for "flagged" and grey for "control" / "other".
SERIES_PALETTE = ("#2c6fbb", "#e67e22", "#27ae60", "#8e44ad", "#d4ac0d", "#16a085", "#e84393", "#6c5ce7",
                  "#34495e", "#a0522d")
COUNTRY_COLOURS = {"US": "#2c6fbb", "CN": "#c0392b", "FR": "#8e44ad", "GB": "#16a085", "DE": "#d4ac0d",
                   "CA": "#e67e22", "KR": "#27ae60", "JP": "#e84393", "AE": "#6c5ce7", "IL": "#a0522d",
                   "unknown": "#bdc3c7", "other": "#7f8c8d"}
WINDOW_COLOURS = {"30-day": "#1b4f72", "all-time": "#85c1e9"}


def country_colour(code: str, index: int = 0) -> str:
    """The colour of a country (ISO code, 'unknown' or 'other'): fixed for the common ones, else by position."""
    return COUNTRY_COLOURS.get(code) or SERIES_PALETTE[(index + 3) % len(SERIES_PALETTE)]


def _series_style(name: str, languages: list[str]) -> dict[str, Any]:
    """Bar colour by language, with the control role drawn lighter and hatched in the same hue."""
    language, _, role = name.partition(" · ")
    colour = SERIES_PALETTE[languages.index(language) % len(SERIES_PALETTE)] if language in languages else "#7f8c8d"
    marker: dict[str, Any] = {"color": colour}
    if role and role != "target":
        marker.update(opacity=0.5, pattern={"shape": "/", "fgcolor": colour})
    return marker


def label_rate_charts(behavior: Any) -> list[Chart]:
    """One grouped bar chart per label with any non-zero rate: x = topic, one bar per language (and role)."""
    cells = items(behavior, "cells")
    labels = [
        label for label in sorted({str(k) for cell in cells for k in (get(cell, "rates") or {})})
        if any(number(get((get(c, "rates") or {}).get(label), "rate")) for c in cells)
    ]
    series = sorted({series_name(cell) for cell in cells})
    languages = sorted({_label(get(cell, "language")) for cell in cells})
    charts = []
    for index, label in enumerate(labels):
        traces = []
        for name in series:
            xs, ys, plus, minus, hover = [], [], [], [], []
            for cell in cells:
                if series_name(cell) != name:
                    continue
                rate = (get(cell, "rates") or {}).get(label)
                value, up, down = _bounds(rate)
                if value is None:
                    continue
                xs.append(_label(get(cell, "topic")))
                ys.append(value)
                plus.append(up)
                minus.append(down)
                hover.append(f"{get(rate, 'k')}/{get(rate, 'n')}")
            if xs:
                traces.append({
                    "type": "bar", "name": name, "x": xs, "y": ys, "customdata": hover,
                    "marker": _series_style(name, languages),
                    "error_y": _error(plus, minus),
                    "hovertemplate": "%{x} (%{fullData.name}): %{y:.1f}% (%{customdata})<extra></extra>",
                })
        figure = _figure(traces, {
            "barmode": "group", "title": f"Rate of '{_label(label)}' by topic and language (95% CI)",
            "yaxis": {"title": {"text": "% of responses"}, "range": [0, 105]},
        })
        charts.append(Chart(f"chart-labels-{index}", f"label: {label}", figure))
    return charts


def _dot_plot(chart_id: str, title: str, rows: list[tuple[str, Any, bool]], axis: str) -> Chart:
    ys, xs, plus, minus, colours = [], [], [], [], []
    for label, diff, flagged in rows:
        value, up, down = _diff_bounds(diff)
        if value is None:
            continue
        ys.append(label)
        xs.append(value)
        plus.append(up)
        minus.append(down)
        colours.append("#c0392b" if flagged else "#2c6fbb")
    trace = {
        "type": "scatter", "mode": "markers", "x": xs, "y": ys, "name": "estimate",
        "marker": {"size": 10, "color": colours}, "error_x": _error(plus, minus),
        "hovertemplate": "%{y}: %{x:+.1f} pp<extra></extra>",
    }
    zero = {"type": "line", "x0": 0, "x1": 0, "xref": "x", "y0": 0, "y1": 1, "yref": "paper",
            "line": {"dash": "dash", "color": "#777"}}
    figure = _figure([trace], {
        "title": title, "height": max(260, 40 + 32 * len(ys)), "showlegend": False, "shapes": [zero],
        "xaxis": {"title": {"text": axis}, "zeroline": False}, "yaxis": {"type": "category"},
    })
    return Chart(chart_id, title, figure)


def asymmetry_chart(behavior: Any) -> Chart | None:
    """Asymmetry index per topic/language (controls minus targeted COMPLETE rate) with 95% CIs."""
    rows = [
        (
            f"{_label(get(a, 'topic'))} / {_label(get(a, 'language'))}",
            get(a, "difference"),
            get(a, "flagged") is True,
        )
        for a in items(behavior, "asymmetry")
        if supported(a)  # a row without an interval is not drawn as if it had one
    ]
    if not any(number(get(diff, "estimate")) is not None for _, diff, _ in rows):
        return None
    return _dot_plot(
        "chart-asymmetry", "Asymmetry index: controls minus targeted COMPLETE rate (95% CI; red = flagged)",
        rows, "percentage points",
    )


def codesec_rate_chart(codesec: Any) -> Chart | None:
    """Flagged-code rate per context with 95% CI, controls drawn in grey."""
    contexts = items(codesec, "contexts")
    controls = control_names(codesec)
    xs, ys, plus, minus, colours, hover = [], [], [], [], [], []
    for ctx in contexts:
        rate = get(ctx, "vulnerable_of_code")
        value, up, down = _bounds(rate)
        if value is None:
            continue
        name = _label(get(ctx, "context"))
        xs.append(name)
        ys.append(value)
        plus.append(up)
        minus.append(down)
        colours.append("#95a5a6" if is_control(ctx, controls) else "#2c6fbb")
        hover.append(f"{get(rate, 'k')}/{get(rate, 'n')}")
    if not xs:
        return None
    figure = _figure([{
        "type": "bar", "x": xs, "y": ys, "marker": {"color": colours}, "customdata": hover, "name": "flagged",
        "error_y": _error(plus, minus), "hovertemplate": "%{x}: %{y:.1f}% (%{customdata})<extra></extra>",
    }], {
        "title": "Flagged code per context (of analysed code answers; 95% CI; grey = control)",
        "yaxis": {"title": {"text": "% flagged"}, "range": [0, 105]}, "showlegend": False,
    })
    return Chart("chart-codesec-rates", "flagged-code rate per context", figure)


def codesec_diff_chart(codesec: Any) -> Chart | None:
    """Difference in flagged code and in refusal vs the matched control, per context, with 95% CIs."""
    rows = []
    for ctx in items(codesec, "contexts"):
        for diff in differentials(ctx):
            low = diff.ci_low
            label = f"{_label(diff.context)} vs {_label(diff.control)} · {_label(diff.label)}"
            rows.append((label, diff.difference, diff.significant is True or (low is not None and low > 0)))
    if not any(number(get(diff, "estimate")) is not None for _, diff, _ in rows):
        return None
    return _dot_plot(
        "chart-codesec-diff", "Context minus matched control, per metric (95% CI; red = significant or CI above 0)",
        rows, "percentage points",
    )


def dossier_charts(dossier: Any) -> dict[str, list[Chart]]:
    """Charts per section name (empty lists where there is nothing to draw)."""
    behavior, codesec = get(dossier, "behavior"), get(dossier, "codesec")
    out: dict[str, list[Chart]] = {"behavior": [], "codesec": []}
    if behavior is not None:
        out["behavior"] = [c for c in [*label_rate_charts(behavior), asymmetry_chart(behavior)] if c]
    if codesec is not None:
        out["codesec"] = [c for c in (codesec_rate_chart(codesec), codesec_diff_chart(codesec)) if c]
    return out
