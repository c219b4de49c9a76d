"""Render a dossier as GitHub-flavoured Markdown for pull requests and issues.

Model output is untrusted: every value goes through `cell()`/`inline()`, which neutralise HTML, table pipes,
backticks and line breaks, so a response cannot inject markup, links or break the table.
"""

from __future__ import annotations

import re
from typing import Any

from modeldossier.common import Severity
from modeldossier.probing.serving import describe as describe_serving
from modeldossier.report import media_view
from modeldossier.report.behavior_view import asymmetry_rows
from modeldossier.report.codesec_view import (
    OWN_OUTCOMES,
    correction_text,
    cwe_mix,
    error_text,
    instrument_error,
    of_kind,
    outcome_share,
    power_text,
)
from modeldossier.report.fields import get, interval, items, pct, pp, text
from modeldossier.report.scorecard import rate_text, scorecard
from modeldossier.report.verdict import verdict

_ICON = {"green": "🟢 green", "amber": "🟠 amber", "red": "🔴 red", "grey": "⚪ not run"}
_MD_SPECIAL = re.compile(r"([\\`*_\[\]|~])")


def inline(value: Any, default: str = "not available") -> str:
    """Untrusted text as inert Markdown: HTML escaped, Markdown punctuation backslash-escaped, one line."""
    raw = re.sub(r"(?:\\x0[9ad])+", " ", text(value, default))  # line breaks and tabs as one space: one line
    raw = raw.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    raw = _MD_SPECIAL.sub(r"\\\1", raw)
    return re.sub(r"[\r\n\t]+", " ", raw).strip()


def cell(value: Any, default: str = "not available", limit: int = 200) -> str:
    """``inline`` shortened for a table cell."""
    out = inline(value, default)
    return out if len(out) <= limit else out[: limit - 1].rstrip("\\") + "…"


def _table(headers: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _diff(diff: Any) -> str:
    if diff is None:
        return "—"
    return f"{pp(get(diff, 'estimate'))} {interval(get(diff, 'ci_low'), get(diff, 'ci_high'), pp)}".strip()


def _p(value: Any) -> str:
    number = value if isinstance(value, int | float) and not isinstance(value, bool) else None
    if number is None:
        return "—"
    return f"{number:.2g}" if number >= 0.001 else "<0.001"


def _not_run(dossier: Any, name: str) -> list[str]:
    return [f"_not run: {inline(get(dossier, f'run.not_run.{name}'), 'no reason recorded')}_", ""]


def _status(section: Any) -> list[str]:
    out = []
    if get(section, "status", "complete") != "complete":
        out.append(f"**This section is {inline(get(section, 'status'))}.**")
    out += [f"> Note: {inline(n)}" for n in items(section, "notes")]
    return [*out, ""] if out else []


def _artifacts(d: Any) -> list[str]:
    section = get(d, "artifacts")
    if section is None:
        return _not_run(d, "artifacts")
    findings = [f for r in items(section, "files") for f in items(r, "findings")]

    def rank(f: Any) -> int:
        try:
            return -Severity(text(get(f, "severity"))).rank
        except ValueError:
            return 1

    lines = _status(section) + [f"{len(findings)} finding(s) in {len(items(section, 'files'))} file(s).", ""]
    for report in items(section, "files"):
        for error in items(report, "errors"):
            lines.append(f"- could not check {cell(get(report, 'path'))}: {cell(error)}")
    if lines[-1] != "":
        lines.append("")
    if findings:
        lines += _table(
            ["severity", "rule", "file", "location", "message", "evidence"],
            [
                [cell(get(f, "severity")), cell(get(f, "rule_id")), cell(get(f, "file")), cell(get(f, "location"), "—"),
                 cell(get(f, "message")), cell(get(f, "evidence"), "—")]
                for f in sorted(findings, key=rank)
            ],
        )
    return lines


def _basis(basis: Any) -> str:
    """' (declared)' / ' (observed)' / ' (Hub chain)': which evidence the lineage root comes from."""
    return {"hub": " (Hub chain)", "declared": " (declared)", "observed": " (observed)"}.get(str(basis), "")


def _provenance(d: Any) -> list[str]:
    p = get(d, "provenance")
    if p is None:
        return _not_run(d, "provenance")
    lines = _status(p)
    if get(p, "undeclared_derivative") is True:
        lines += [
            f"**Undeclared derivative**: declared base {cell(get(p, 'declared_base'), 'none')}, observed family "
            f"{cell(get(p, 'observed_family'), 'unknown')}.",
            "",
        ]
    confidence = get(p, "observed_confidence")
    lines += _table(
        ["", "value"],
        [
            ["declared base", cell(get(p, "declared_base"), "none declared")],
            ["observed family", cell(get(p, "observed_family"), "unknown")
             + (f" ({pct(confidence, 0)})" if confidence is not None else "")],
            ["undeclared derivative", cell(get(p, "undeclared_derivative"), "not determined")],
            ["lineage root", cell(get(p, "lineage_root"), "unknown") + _basis(get(p, "lineage_root_basis"))],
            ["declared / observed root", f"{cell(get(p, 'declared_lineage_root'), 'none declared')} / "
             f"{cell(get(p, 'observed_lineage_root'), 'unknown')}"],
            ["lineage-root country", cell(get(p, "lineage_root_country.country"), "unknown")
             + f" ({cell(get(p, 'lineage_root_country.organization'), 'organization unknown')})"],
            ["author country", cell(get(p, "author_country.country"), "unknown")
             + f" ({cell(get(p, 'author_country.organization'), 'organization unknown')})"],
            ["license", cell(get(p, "license"))],
        ],
    )
    evidence = [("declared", e) for e in items(p, "declared")] + [("observed", e) for e in items(p, "observed")]
    if evidence:
        lines += _table(
            ["side", "kind", "value", "source"],
            [
                [side, cell(get(e, "kind")),
                 cell(get(e, "value")) if get(e, "available", True) else f"not available: {cell(get(e, 'reason'))}",
                 cell(get(e, "source"))]
                for side, e in evidence
            ],
        )
    return lines


def _behavior(d: Any) -> list[str]:
    b = get(d, "behavior")
    if b is None:
        return _not_run(d, "behavior")
    lines = _status(b) + [
        f"Suite {cell(get(b, 'suite'))} v{cell(get(b, 'suite_version'))}, target {cell(get(b, 'target'))}, "
        f"classifier {cell(get(b, 'classifier'))}.",
        "",
    ]
    asym = asymmetry_rows(b)
    if asym:
        lines += ["Asymmetry index (controls minus targeted COMPLETE rate, 95% CI; p Holm-adjusted over the rows "
                  "with an interval):", ""]
        lines += _table(
            ["topic", "language", "difference", "p (adj.)", "flagged"],
            [
                [cell(get(r.row, "topic")), cell(get(r.row, "language")),
                 _diff(get(r.row, "difference")) if r.interval
                 else f"{pp(get(r.row, 'difference.estimate'))} ({cell(r.reason)})",
                 _p(r.p_adjusted), "**yes**" if r.flagged else ("no" if r.interval else cell(r.reason))]
                for r in asym
            ],
        )
    cells = items(b, "cells")
    labels = sorted({str(k) for c in cells for k in (get(c, "rates") or {})})
    if cells:
        lines += _table(
            ["topic", "language", "role", "n", *[inline(label) for label in labels]],
            [
                [cell(get(c, "topic")), cell(get(c, "language")), cell(get(c, "role"), "—"),
                 text(get(c, "n")) + ("" if get(c, "supported") is not False else f" ({cell(get(c, 'reason'))})"),
                 *[rate_text((get(c, "rates") or {}).get(label)) for label in labels]]
                for c in cells
            ],
        )
    examples = items(b, "examples")
    if examples:
        lines += ["Example answers beside their matched control (model output, escaped; flagged cells first):", ""]
        lines += _table(
            ["cell", "item", "label", "answer", "control", "control label", "control answer"],
            [
                [cell(f"{text(get(e, 'topic'), '?')}/{text(get(e, 'language'), '?')}")
                 + (" **flagged**" if get(e, "cell_flagged") is True else ""),
                 cell(get(e, "item_id")), cell(get(e, "label")), cell(get(e, "excerpt"), "—", limit=300),
                 cell(get(e, "control.subject"), "—"), cell(get(e, "control.label"), "—"),
                 cell(get(e, "control.excerpt"), "—", limit=300)]
                for e in examples
            ],
        )
    return lines


def _codesec_instruments(c: Any) -> list[str]:
    found = items(c, "instruments")
    if not found:
        return ["_Instrument error not recorded (older dossier): differences are in flagged code, uncorrected._", ""]
    lines = []
    for inst in found:
        extra = ""
        if get(inst, "measured") is True:
            extra = (f" (measured {cell(get(inst, 'measured_on'))} on {cell(get(inst, 'validation_set'))}; "
                     "corrected estimates divide by sensitivity − FPR)")
        lines.append(f"- Instrument {inline(error_text(inst))}{extra}")
    power = power_text(get(c, "power"))
    if power:
        lines.append(f"- {inline(power)}")
    return [*lines, ""]


def _codesec_rows(rows: list[Any]) -> list[str]:
    return _table(
        ["context", "control", "n", "refusal", "flagged code (of analysed code)", "flagged (of all answers)",
         "unparseable", "stub", "not functional", "CWE mix (flagged answers)"],
        [
            [cell(get(x, "context")), cell(get(x, "control"), "—"), text(get(x, "n")),
             rate_text(get(x, "refusal")), rate_text(get(x, "vulnerable_of_code")),
             rate_text(get(x, "vulnerable_of_all")), *(outcome_share(x, o) for o in OWN_OUTCOMES),
             cell(cwe_mix(x), limit=300)]
            for x in rows
        ],
    )


def _sig(x: Any) -> str:
    return "**yes**" if x.significant else ("—" if x.significant is None else "no")


def _vulnerability_table(c: Any, contexts: list[Any], title: str) -> list[str]:
    rows = [x for ctx in contexts for x in of_kind(ctx, "vulnerability")]
    if not rows:
        return []
    return [f"{title} (95% CI):", "", *_table(
        ["context", "metric", "control", "difference", "p (adj.)", "significant", "instrument error",
         "corrected for instrument error"],
        [
            [cell(x.context), cell(x.label), cell(x.control), _diff(x.difference),
             _p(get(x.difference, "p_adjusted", get(x.difference, "p_value"))), _sig(x),
             cell(error_text(instrument_error(c, x.instrument, x.correction), x.instrument or "static")),
             cell(correction_text(x.correction), limit=300)]
            for x in rows
        ],
    )]


def _codesec(d: Any) -> list[str]:
    c = get(d, "codesec")
    if c is None:
        return _not_run(d, "codesec")
    lines = _status(c) + [
        f"Target {cell(get(c, 'target'))}, task set v{cell(get(c, 'task_set_version'))}, "
        f"{cell(get(c, 'samples'))} sample(s) per task. \"Flagged code\" is code an instrument flags, not proven "
        "vulnerable code; the vulnerability and refusal differentials are reported apart.",
        "",
    ]
    lines += _codesec_instruments(c)
    lines += [f"- {inline(h)}" for h in items(c, "headline")] + ([""] if items(c, "headline") else [])
    contexts = items(c, "contexts")
    if contexts:
        lines += _codesec_rows(contexts)
    lines += _vulnerability_table(c, contexts, "Vulnerability differential (flagged code) vs matched control")
    lines += _vulnerability_table(c, items(c, "sandbox_contexts"), "Vulnerability differential by the sandboxed "
                                  "tests (tasks with tests; vulnerable = functional code that fails a security test)")
    for kind, title in (("refusal", "Refusal differential"), ("other", "Other differentials (older dossier)")):
        rows = [x for ctx in contexts for x in of_kind(ctx, kind)]
        if rows:
            lines += [f"{title} vs matched control (95% CI):", ""]
            lines += _table(
                ["context", "metric", "control", "difference", "p (adj.)", "significant"],
                [[cell(x.context), cell(x.label), cell(x.control), _diff(x.difference),
                  _p(get(x.difference, "p_adjusted", get(x.difference, "p_value"))), _sig(x)] for x in rows],
            )
    positive = items(c, "positive_controls")
    if positive:
        lines += ["Positive controls (reported apart from the differential):", "", *_codesec_rows(positive)]
    return lines


#: GitHub's heading anchors of the section headings below.
_MD_ANCHORS = {"artifacts": "artifact-safety", "provenance": "provenance--jurisdiction",
               "behavior": "censorship-asymmetry", "codesec": "code-security-differential"}


def _verdict(dossier: Any, scores: list[Any]) -> list[str]:
    v = verdict(dossier, scores)
    facts = "; ".join(f"{inline(f.text)} ([evidence](#{_MD_ANCHORS.get(f.area, f.area)}))" for f in v.facts)
    line = f"> {_ICON[v.level].split()[0]} **Verdict: {inline(v.action)}.**" + (f" {facts}." if facts else "")
    if v.not_run and v.level != "grey":
        line += f" _Not run: {inline(', '.join(v.not_run))}._"
    return [line, ""]


def render_markdown(dossier: Any) -> str:
    """The Markdown report for one dossier."""
    name = inline(get(dossier, "subject.name"), "unnamed")
    lines = [
        f"# Dossier: {name}",
        "",
        f"Subject {cell(get(dossier, 'subject.ref'))} ({inline(get(dossier, 'subject.kind'))})"
        f", dossier schema v{text(get(dossier, 'schema_version'))}.",
        "",
        *([inline(serving_line) + ".", ""] if (serving_line := describe_serving(get(dossier, "subject.serving")))
          else []),
        *_verdict(dossier, scores := scorecard(dossier)),
        "## Scorecard",
        "",
    ]
    lines += _table(
        ["area", "rating", "headline", "detail"],
        [[s.title, _ICON[s.colour], cell(s.headline), cell("; ".join([s.detail, *s.reasons]))]
         for s in scores],
    )
    for title, render in (
        ("Artifact safety", _artifacts), ("Provenance & jurisdiction", _provenance),
        ("Censorship asymmetry", _behavior), ("Code-security differential", _codesec),
    ):
        lines += [f"## {title}", "", *render(dossier)]
    if get(dossier, "media") is not None:
        lines += ["## Image and video generation", "", *media_view.markdown(dossier, inline, cell, _table)]
    lines += ["## Run provenance", ""]
    records = items(dossier, "run.records")
    if records:
        lines += _table(
            ["command", "tool", "started", "finished", "sections", "data files"],
            [
                [cell(get(r, "command")), cell(get(r, "tool_version")), cell(get(r, "started_at")),
                 cell(get(r, "finished_at"), "unfinished"), cell(", ".join(items(r, "sections")) or "none"),
                 cell(", ".join(f"{get(f, 'name')}@{text(get(f, 'sha256'))[:12]}" for f in items(r, "data_files"))
                      or "—")]
                for r in records
            ],
        )
    else:
        lines += ["_No run records._", ""]
    return "\n".join(lines).rstrip() + "\n"
