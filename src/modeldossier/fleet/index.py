"""The fleet index: one row per subject (status, verdict, worst finding, lineage, behaviour and code-security
headlines), as JSON for machines and a sortable, self-contained HTML table for people."""

from __future__ import annotations

import base64
import hashlib
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from modeldossier.display import visible
from modeldossier.fleet.work import Job, Outcome

_LEVEL_ORDER = {"red": 0, "amber": 1, "green": 2, "grey": 3, "": 4}


@dataclass
class Row:
    """One subject in the index."""

    name: str
    model: str | None
    target: str | None
    sections: list[str]
    status: str
    reason: str | None
    attempts: int
    seconds: float
    dossier: str | None
    worker: str = ""
    verdict: str = ""
    action: str = ""
    worst_finding: str | None = None
    findings: int | None = None
    observed_family: str | None = None
    undeclared_derivative: bool | None = None
    root_country: str | None = None
    behavior: str | None = None
    codesec: str | None = None


def _tile(scores: list[Any], area: str) -> str | None:
    tile = next((s for s in scores if s.area == area), None)
    if tile is None or tile.colour == "grey":
        return None
    return f"{tile.colour}: {tile.headline}" + (f" ({tile.detail})" if tile.detail else "")


def row(job: Job, outcome: Outcome) -> Row:
    """The index row of one subject, read from its dossier when there is one."""
    entry = job.entry
    base = Row(name=entry.name, model=entry.model, target=entry.target, sections=list(entry.sections),
               status=outcome.status, reason=outcome.reason, attempts=outcome.attempts,
               seconds=round(outcome.seconds, 3), dossier=outcome.dossier, worker=outcome.worker)
    if outcome.dossier is None:
        return base
    from modeldossier.errors import DossierError
    from modeldossier.report.fields import get
    from modeldossier.report.loading import load_dossier
    from modeldossier.report.scorecard import scorecard
    from modeldossier.report.verdict import verdict

    try:
        dossier = load_dossier(Path(outcome.dossier))
    except DossierError as exc:
        base.status, base.reason = "failed", f"dossier unreadable: {exc}"
        return base
    scores = scorecard(dossier)
    v = verdict(dossier, scores)
    base.verdict, base.action = v.level, v.action
    if dossier.artifacts is not None:
        worst = dossier.artifacts.worst()
        base.worst_finding = worst.value if worst else "none"
        base.findings = len(dossier.artifacts.findings)
    p = dossier.provenance
    if p is not None:
        base.observed_family = get(p, "observed_family")
        base.undeclared_derivative = get(p, "undeclared_derivative")
        base.root_country = get(get(p, "lineage_root_country"), "country")
    base.behavior = _tile(scores, "behavior")
    base.codesec = _tile(scores, "codesec")
    return base


def counts(rows: Sequence[Row]) -> dict[str, int]:
    """Subjects per status and per verdict level."""
    c: Counter[str] = Counter(r.status for r in rows)
    c.update(f"verdict_{r.verdict}" for r in rows if r.verdict)
    return dict(sorted(c.items()))


def to_json(rows: Sequence[Row], *, source: str, executor: str) -> str:
    """The index as stable JSON (faithful data: text is not escaped here)."""
    return json.dumps({"kind": "modeldossier.fleet", "version": 1, "manifest": source, "executor": executor,
                       "counts": counts(rows), "subjects": [asdict(r) for r in rows]}, indent=2,
                      ensure_ascii=False) + "\n"


_SORT_SCRIPT = """
document.querySelectorAll('th[data-col]').forEach(function (th) {
  th.addEventListener('click', function () {
    var table = th.closest('table'), body = table.tBodies[0], col = +th.dataset.col;
    var asc = th.getAttribute('aria-sort') !== 'ascending';
    table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
    Array.from(body.rows).sort(function (a, b) {
      var x = a.cells[col].dataset.key || a.cells[col].textContent;
      var y = b.cells[col].dataset.key || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var r = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? r : -r;
    }).forEach(function (tr) { body.appendChild(tr); });
  });
});
""".strip()


def to_html(rows: Sequence[Row], *, source: str, executor: str) -> str:
    """A self-contained page (no network; a strict CSP that allows only its own sorting script)."""
    env = Environment(loader=PackageLoader("modeldossier.fleet", "templates"),
                      autoescape=select_autoescape(["html", "j2"]), trim_blocks=True, lstrip_blocks=True)
    env.filters["visible"] = lambda v: "—" if v is None or v == "" else visible(v, 300)
    digest = base64.b64encode(hashlib.sha256(_SORT_SCRIPT.encode()).digest()).decode()
    csp = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{digest}'; base-uri 'none'"
    ordered = sorted(rows, key=lambda r: (r.status != "failed", _LEVEL_ORDER.get(r.verdict, 4), r.name))
    return env.get_template("fleet.html.j2").render(
        rows=ordered, counts=counts(rows), source=source, executor=executor, csp=csp, script=_SORT_SCRIPT,
        level_order=_LEVEL_ORDER,
    )
