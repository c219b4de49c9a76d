"""Render a dossier as one self-contained HTML page (autoescaped: model output never runs as script).

Everything is inlined: CSS, the chart data (as escaped JSON) and, only when there is a chart to draw,
plotly.js from the pinned `plotly` package. A Content-Security-Policy with the hashes of our own two
scripts stops any other script from running and any network request from being made.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache
from typing import Any

from jinja2 import ChainableUndefined, Environment, PackageLoader, select_autoescape

from modeldossier.dossier import SECTIONS, Dossier
from modeldossier.probing.serving import describe as describe_serving
from modeldossier.report import charts as chart_mod
from modeldossier.report import codesec_view, fields, media_view
from modeldossier.report.behavior_view import asymmetry_rows
from modeldossier.report.scorecard import rate_text, scorecard, thresholds
from modeldossier.report.verdict import verdict

#: Fields each section template knows how to show; anything else is listed under "other fields".
KNOWN_FIELDS = {
    "artifacts": {
        "status", "notes", "files", "allowlist_version", "scanner_version", "counts", "bytes_scanned", "seconds",
    },
    "provenance": {
        "status", "notes", "declared", "observed", "declared_base", "observed_family", "observed_confidence",
        "undeclared_derivative", "lineage_root", "license", "author_country", "lineage_root_country", "lineage",
        "declared_family", "declared_base_relation", "author", "fingerprints", "vocab_matches",
    },
    "behavior": {
        "status", "notes", "suite", "suite_version", "target", "transcript", "classifier", "cells", "asymmetry",
        "suite_sha256", "classifier_sha256", "samples", "n_items", "n_responses", "label_counts",
        "reasoning_label_counts", "key_facts", "examples",
    },
    "codesec": {
        "status", "notes", "target", "task_set_version", "samples", "transcript", "contexts", "context_set_version",
        "rules_version", "tasks", "responses", "headline", "positive_controls", "breakdown", "analyzers",
        "not_analyzed", "judge", "prompt_languages", "placements", "decoding", "data_files", "responses_file",
        "cyberseceval_tasks", "instruments", "power", "sandbox_contexts",
    },
    "media": {
        "status", "notes", "suite", "suite_version", "suite_sha256", "target", "target_kind", "transcript",
        "media_dir", "placeholder_list", "samples", "n_items", "n_responses", "outcome_counts", "cells", "asymmetry",
        "examples",
    },
}

CHART_INIT_JS = """(function () {
  var nodes = document.querySelectorAll("div.chart[data-source]");
  for (var i = 0; i < nodes.length; i++) {
    var node = nodes[i];
    var source = document.getElementById(node.getAttribute("data-source"));
    if (typeof Plotly === "undefined" || !source) { node.textContent = "chart unavailable"; continue; }
    var fig = JSON.parse(source.textContent);
    Plotly.newPlot(node, fig.data, fig.layout, fig.config);
  }
})();"""


class NotAvailable(ChainableUndefined):
    """A field the section model does not have (yet): renders as 'not available', never raises."""

    def __str__(self) -> str:
        return fields.NOT_AVAILABLE


@lru_cache(maxsize=1)
def _environment() -> Environment:
    """One environment per process: it caches compiled templates (it holds no per-report state)."""
    env = Environment(
        loader=PackageLoader("modeldossier.report", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=NotAvailable,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=fields.shown,
    )
    env.filters.update(
        na=_na, pct=fields.pct, pp=fields.pp, rate=_rate, ci=_ci, pretty=_pretty, pval=_pval,
    )
    return env


def _na(value: Any, default: str = fields.NOT_AVAILABLE) -> str:
    if value is None or isinstance(value, NotAvailable):
        return default
    return fields.text(value, default)


def _rate(value: Any) -> str:
    return fields.NOT_AVAILABLE if value is None or isinstance(value, NotAvailable) else rate_text(value)


def _ci(diff: Any) -> str:
    """'+12.0 pp [+3.1 pp, +20.4 pp]' for a Difference-like object."""
    if diff is None or isinstance(diff, NotAvailable):
        return fields.NOT_AVAILABLE
    est = fields.pp(fields.get(diff, "estimate"))
    ci = fields.interval(fields.get(diff, "ci_low"), fields.get(diff, "ci_high"), fields.pp)
    return f"{est} {ci}".strip()


def _pval(value: Any) -> str:
    number = fields.number(value)
    if number is None:
        return "—"
    return f"{number:.2g}" if number >= 0.001 else "<0.001"


def _pretty(value: Any) -> str:
    if hasattr(value, "model_dump"):
        value = value.model_dump(mode="json")
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


@lru_cache(maxsize=1)
def plotly_js() -> str:
    """The pinned plotly.js bundle, made safe to inline (it cannot contain a closing script tag)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs().replace("</script", "<\\/script")


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii") + "'"


def _extra_fields(section: Any, name: str) -> dict[str, Any]:
    """Fields of a section the template does not show, with a value worth showing."""
    if section is None or not hasattr(section, "model_dump"):
        return {}
    try:
        dumped = section.model_dump(mode="json", exclude_defaults=True)
    except Exception:  # noqa: BLE001 - a section from another model version: show what the template knows
        return {}
    return {k: v for k, v in dumped.items() if k not in KNOWN_FIELDS.get(name, set()) and v not in (None, [], {}, "")}


def render_html(dossier: Dossier) -> str:
    """The HTML report for one dossier."""
    section_charts = chart_mod.dossier_charts(dossier)
    any_chart = any(section_charts.values())
    scripts = [plotly_js(), CHART_INIT_JS] if any_chart else []
    csp = (
        "default-src 'none'; img-src data:; style-src 'unsafe-inline'; "
        + ("script-src " + " ".join(_csp_hash(s) for s in scripts) if scripts else "script-src 'none'")
    )
    labels = {
        name: sorted({str(k) for cell in fields.items(section, "cells") for k in (fields.get(cell, "rates") or {})})
        for name, section in (("behavior", dossier.behavior),)
    }
    template = _environment().get_template("dossier.html.j2")
    scores = scorecard(dossier)
    return template.render(
        d=dossier,
        sections=SECTIONS,
        scores=scores,
        verdict=verdict(dossier, scores),
        thresholds=thresholds(),
        charts=section_charts,
        scripts=scripts,
        csp=csp,
        labels=labels,
        extras={name: _extra_fields(getattr(dossier, name, None), name) for name in SECTIONS},
        findings=[f for r in fields.items(dossier.artifacts, "files") for f in fields.items(r, "findings")],
        codesec_diffs=[x for ctx in fields.items(dossier.codesec, "contexts") for x in codesec_view.differentials(ctx)],
        cv=codesec_view,
        asym_rows=asymmetry_rows(dossier.behavior),
        media_thumbs=media_view.thumbnails(dossier.media),
        serving_line=describe_serving(dossier.subject.serving),
        severity_order={"critical": 0, "high": 1, "medium": 2, "low": 3, "info": 4},
    )
