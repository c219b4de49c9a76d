"""Render a Comparison as text rows, Markdown, JSON or a self-contained HTML page."""

from __future__ import annotations

import json
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from modeldossier.report.compare import Comparison, Metric, Row
from modeldossier.report.fields import shown
from modeldossier.report.markdown import cell as md_cell


def value_text(m: Metric) -> str:
    """'45.0% [28.9, 58.0]' / '+12.0 pp [+3.1, +20.4]' / '3' / 'qwen2'."""
    if m.kind == "category":
        return m.value or "unknown"
    if m.estimate is None:
        return "not available"
    if m.kind == "count":
        return f"{m.estimate:g}"
    if m.kind == "rate":
        ci = f" [{m.ci_low * 100:.1f}, {m.ci_high * 100:.1f}]" if m.has_ci else ""
        return f"{m.estimate * 100:.1f}%{ci}"
    ci = f" [{m.ci_low * 100:+.1f}, {m.ci_high * 100:+.1f}]" if m.has_ci else ""
    if not m.has_ci and m.value:  # an estimate the statistics gave no interval, with the reason
        ci = f" ({m.value})"
    return f"{m.estimate * 100:+.1f} pp{ci}"


def interval_bars(row: Row) -> list[dict[str, float] | None]:
    """CSS positions (percent of a track) of each model's CI and estimate, on one scale per row.

    Rates use 0..100%; differences a symmetric range around 0 wide enough for every CI of the row.
    """
    if row.kind not in ("rate", "difference"):
        return [None] * len(row.values)
    if row.kind == "rate":
        lo_end, hi_end = 0.0, 1.0
    else:
        reach = max((abs(x) for v in row.values if v.has_ci for x in (v.ci_low, v.ci_high)), default=0.0)
        hi_end = max(reach, 0.05)
        lo_end = -hi_end

    def pos(x: float) -> float:
        return round(min(100.0, max(0.0, (x - lo_end) / (hi_end - lo_end) * 100)), 2)

    bars: list[dict[str, float] | None] = []
    for v in row.values:
        if not v.has_ci:
            bars.append(None)
            continue
        left, right = pos(v.ci_low), pos(v.ci_high)  # type: ignore[arg-type]
        bars.append({"left": left, "width": max(0.5, right - left), "tick": pos(v.estimate), "zero": pos(0.0)})
    return bars


def cell_text(row: Row, index: int) -> str:
    """A model's value with its z-score against the cohort, when there is one."""
    out = value_text(row.values[index])
    if row.z and row.z[index] is not None:
        out += f" (z={row.z[index]:+.1f})"
    return out


def flag_text(row: Row, models: list[str]) -> str:
    """Which pairs differ (CIs separate), higher first; '' when none."""
    parts = []
    for i, j in row.separated_pairs:
        hi, lo = (i, j) if (row.values[i].estimate or 0) > (row.values[j].estimate or 0) else (j, i)
        parts.append(f"{models[hi]} > {models[lo]}")
    return "; ".join(parts)


def cohort_text(row: Row) -> str:
    if row.cohort is None:
        return ""
    if row.kind == "category":
        return ", ".join(f"{value} ×{count}" for value, count in row.cohort.values.items()) or "n=0"
    if row.cohort.mean is None or row.cohort.sd is None:
        return f"n={row.cohort.n} (too few for z)"
    scale = 100 if row.kind in ("rate", "difference") else 1
    unit = "%" if row.kind == "rate" else (" pp" if row.kind == "difference" else "")
    if row.cohort.sd == 0:
        return f"n={row.cohort.n}, all {row.cohort.mean * scale:g}{unit} (sd 0: no z)"
    return f"n={row.cohort.n}, mean {row.cohort.mean * scale:.1f}{unit}, sd {row.cohort.sd * scale:.1f}"


def headers(comparison: Comparison) -> list[str]:
    out = ["metric", *comparison.models, "CIs separate"]
    if comparison.cohort_name:
        out.append(f"cohort: {comparison.cohort_name}")
    return out


def table_rows(comparison: Comparison, only_flagged: bool = False) -> list[list[str]]:
    """Plain text rows for the text and Markdown tables."""
    out = []
    for row in comparison.rows:
        if only_flagged and not row.flagged:
            continue
        cells = [row.label, *[cell_text(row, i) for i in range(len(comparison.models))],
                 flag_text(row, comparison.models) or "—"]
        if comparison.cohort_name:
            cells.append(cohort_text(row))
        out.append(cells)
    return out


def render_markdown(comparison: Comparison, only_flagged: bool = False) -> str:
    """A Markdown table plus what was left out."""
    head = headers(comparison)
    lines = [
        f"# Comparison of {len(comparison.models)} models",
        "",
        "Each value: estimate [95% CI]. A difference is flagged only when the CIs do not overlap.",
        "",
        f"**{md_cell(summary_heading(comparison), limit=400)}**",
        "",
        *[f"- {md_cell(line, limit=400)}" for line in flagged_summary(comparison)],
        "",
        "| " + " | ".join(md_cell(h) for h in head) + " |",
        "|" + "|".join("---" for _ in head) + "|",
    ]
    for cells in table_rows(comparison, only_flagged):
        lines.append("| " + " | ".join(md_cell(c) for c in cells) + " |")
    if comparison.left_out:
        lines += ["", "## Left out", ""] + [f"- {md_cell(note, limit=400)}" for note in comparison.left_out]
    return "\n".join(lines) + "\n"


#: Flagged differences listed in the summary at the top; the rest are counted.
SUMMARY_LINES = 12


def flagged_summary(comparison: Comparison) -> list[str]:
    """One line per flagged metric (CIs separate), to read before the full table; [] when none is flagged."""
    flagged = [row for row in comparison.rows if row.flagged]
    lines = [f"{row.section}: {row.label}{f' ({row.scope})' if row.scope else ''}: {flag_text(row, comparison.models)}"
             for row in flagged[:SUMMARY_LINES]]
    if len(flagged) > SUMMARY_LINES:
        lines.append(f"... and {len(flagged) - SUMMARY_LINES} more flagged metric(s) in the table")
    return lines


def summary_heading(comparison: Comparison) -> str:
    """'3 of 357 metrics differ (95% CIs separate)' or that none does."""
    n = sum(1 for row in comparison.rows if row.flagged)
    if not n:
        return f"No difference flagged: the 95% CIs overlap for all {len(comparison.rows)} metric(s)."
    return f"{n} of {len(comparison.rows)} metric(s) differ (95% CIs do not overlap):"


def render_json(comparison: Comparison, only_flagged: bool = False) -> str:
    """The comparison as JSON (faithful data); ``only_flagged`` keeps only rows whose CIs separate."""
    data = comparison.to_dict()
    for row, raw in zip(data["rows"], comparison.rows, strict=True):
        row["flagged"] = raw.flagged
    if only_flagged:
        data["rows"] = [row for row in data["rows"] if row["flagged"]]
    data["only_flagged"] = only_flagged
    data["n_metrics"] = len(comparison.rows)
    data["n_flagged"] = sum(1 for row in comparison.rows if row.flagged)
    return json.dumps(data, indent=2, default=str) + "\n"


def render_html(comparison: Comparison, only_flagged: bool = False) -> str:
    """A self-contained HTML page (no scripts at all) with the comparison table."""
    env = Environment(
        loader=PackageLoader("modeldossier.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=shown,
    )
    rows: list[dict[str, Any]] = []
    for row in comparison.rows:
        if only_flagged and not row.flagged:
            continue
        rows.append({
            "row": row, "cells": [cell_text(row, i) for i in range(len(comparison.models))],
            "bars": interval_bars(row),
            "flag": flag_text(row, comparison.models), "cohort": cohort_text(row),
        })
    return env.get_template("compare.html.j2").render(
        c=comparison, rows=rows, headers=headers(comparison), summary_heading=summary_heading(comparison),
        summary=flagged_summary(comparison),
    )
