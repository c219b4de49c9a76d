"""The code-security part of the reports: flagged-code wording, instrument error beside every differential,
corrected estimates, refusal apart from vulnerability, own outcomes, CWE mix, old dossiers."""

from __future__ import annotations

import random
import re
from pathlib import Path

from rich.console import Console

from modeldossier import dossier as dossier_io
from modeldossier.codesec import instrument as instruments
from modeldossier.codesec.design import load_design
from modeldossier.codesec.models import CodesecSection, Comparison, ContextResult
from modeldossier.codesec.stats import Record, analyse, headline, instrument_error, power_check
from modeldossier.commands.codesec import render_table, summary_lines
from modeldossier.common import Difference
from modeldossier.dossier import Dossier, Subject
from modeldossier.report.html import render_html
from modeldossier.report.markdown import render_markdown
from modeldossier.report.scorecard import codesec_score
from modeldossier.stats import wilson

DATA = Path(__file__).resolve().parents[1] / "codesec" / "data" / "instruments"
DESIGN = load_design()


def _records(context: str, p_true: float, *, refuse: float = 0.0, tasks: int = 40, samples: int = 6,
             se: float = 0.39, fpr: float = 0.09) -> list[Record]:
    rng = random.Random(context)
    out = []
    for t in range(tasks):
        for s in range(samples):
            roll = rng.random()
            if roll < refuse:
                out.append(Record(f"t{t}", context, "user", "en", s, "refused"))
            elif t == 0 and s == 0:
                out.append(Record(f"t{t}", context, "user", "en", s, "unparseable"))
            elif t == 1 and s == 0:
                out.append(Record(f"t{t}", context, "user", "en", s, "stub"))
            else:
                truth = rng.random() < p_true
                flagged = rng.random() < (se if truth else fpr)
                out.append(Record(f"t{t}", context, "user", "en", s, "scanned", vulnerable=flagged,
                                  cwes=("CWE-89",) if flagged else ()))
    return out


def _section(instrument_file: str | None = "good.json", *, refuse: float = 0.0, p_tibet: float = 0.7
             ) -> CodesecSection:
    inst = instruments.load(DATA / instrument_file) if instrument_file else None
    records = _records("tibet", p_tibet, refuse=refuse) + _records("nepal", 0.2)
    main, positive = analyse(records, DESIGN, ["tibet", "nepal"], resamples=1000, instrument=inst)
    error = instrument_error("static", inst)
    return CodesecSection(target="mock:coder", task_set_version="t", samples=6, contexts=main,
                          positive_controls=positive, headline=headline(main, positive, error),
                          instruments=[error], power=power_check(records, main, error, samples=6))


def _dossier(section: CodesecSection) -> Dossier:
    return Dossier(subject=Subject(kind="endpoint", ref="mock:coder", name="coder"), codesec=section)


def test_markdown_prints_instrument_error_and_correction_beside_each_differential() -> None:
    md = render_markdown(_dossier(_section()))
    part = md[md.index("## Code-security differential"):md.index("## Run provenance")]
    assert "Flagged code" in part and "flagged code (of analysed code)" in part
    vuln_table = part[part.index("Vulnerability differential"):part.index("Refusal differential")]
    row = next(line for line in vuln_table.splitlines() if line.startswith("| tibet"))
    assert "sensitivity 38.8% (52/134), FPR 9.0% (12/134)" in row
    assert re.search(r"\| \+\d+\.\d pp \\?\[\+\d+\.\d pp, \+\d+\.\d pp\\?\] \|$", row), row  # corrected
    assert "CWE-89: " in part  # the CWE mix, in Markdown too
    header = next(line for line in part.splitlines() if line.startswith("| context | control | n"))
    assert "unparseable" in header and "stub" in header and "not functional" in header
    assert "high severity" not in part
    assert "Power: a true +8 pp difference" in part and "sample(s) per task" in part


def test_html_prints_instrument_error_and_correction_and_own_outcomes() -> None:
    page = render_html(_dossier(_section()))
    vuln = page[page.index('<table id="differentials">'):]
    vuln = vuln[:vuln.index("</table>")]
    assert "sensitivity 38.8% (52/134), FPR 9.0% (12/134)" in vuln and "not supported" not in vuln
    assert 'id="refusal-differentials"' in page and 'id="codesec-instruments"' in page
    contexts = page[page.index('<table id="contexts">'):]
    contexts = contexts[:contexts.index("</table>")]
    assert "<th>unparseable</th>" in contexts and "<th>stub</th>" in contexts and "<th>not functional</th>" in contexts
    assert "high severity" not in contexts


def test_unmeasured_instrument_is_said_and_nothing_is_corrected() -> None:
    section = _section(None)
    md = render_markdown(_dossier(section))
    assert "static: instrument error not measured" in md
    assert "not supported: instrument error not measured" in md
    assert "instrument static: error not measured" in section.headline[0]
    assert not any("corrected for instrument error: +" in line for line in section.headline)


def test_scorecard_does_not_ignore_a_refusal_difference() -> None:
    # code quality identical, but +50 pp refusals under tibet: the old scorecard read only flagged code (green)
    section = _section(refuse=0.5, p_tibet=0.2)
    tibet = section.contexts[0]
    assert tibet.comparison("refusal").significant and tibet.comparison("vulnerable_of_all") is None
    score = codesec_score(section)
    assert score.colour == "red" and "refusal" in score.detail


def test_cli_table_and_summary_show_flagged_code_and_instrument() -> None:
    section = _section()
    console = Console(width=250, record=True)
    console.print(render_table(section))
    for line in summary_lines(section):
        console.print(line)
    out = console.export_text()
    assert "flagged/code" in out and "Δ corrected" in out and "vuln/all" not in out
    assert "sensitivity 39% (52/134), FPR 9.0% (12/134)" in out
    assert "80% power needs about" in out


def test_old_dossier_with_legacy_metrics_still_loads_and_renders(tmp_path: Path) -> None:
    diff = Difference(estimate=-0.1, ci_low=-0.2, ci_high=-0.01, p_value=0.01, p_adjusted=0.01, method="t", n=40)
    old = ContextResult(context="tibet", control="nepal", n=100, vulnerable_of_all=wilson(10, 100),
                        high_severity=wilson(3, 50), comparisons=[
                            Comparison(metric="vulnerable_of_all", control="nepal", difference=diff,
                                       significant=True),
                            Comparison(metric="high_severity", control="nepal", difference=diff)])
    raw = _dossier(CodesecSection(target="x", contexts=[old])).model_dump(mode="json")
    for key in ("instruments", "power"):
        raw["codesec"].pop(key, None)
    for ctx in raw["codesec"]["contexts"]:
        ctx.pop("outcome_rates", None)
        for cmp in ctx["comparisons"]:
            cmp.pop("correction", None)
            cmp.pop("instrument", None)
    path = tmp_path / "old.dossier.json"
    import json

    path.write_text(json.dumps(raw))
    loaded = dossier_io.load(path)
    md = render_markdown(loaded)
    assert "Instrument error not recorded (older dossier)" in md
    assert "flagged code (of all answers; falls with refusals)" in md
    assert "Other differentials (older dossier)" in md
    assert "<h3>Other differentials (older dossier) vs matched control</h3>" in render_html(loaded)


def test_sandbox_differential_is_its_own_table_with_its_instrument() -> None:
    static = _section(p_tibet=0.2)  # static analysis sees no difference; the sandboxed tests do
    sandbox_inst = instruments.load(DATA / "sandbox.json")
    records = _records("tibet", 0.6, se=1.0, fpr=0.0) + _records("nepal", 0.2, se=1.0, fpr=0.0)
    tested, _ = analyse(records, DESIGN, ["tibet", "nepal"], resamples=500, instrument=sandbox_inst,
                        instrument_name="sandbox")
    errors = [*static.instruments, instrument_error("sandbox", sandbox_inst)]
    section = static.model_copy(update={"sandbox_contexts": tested, "instruments": errors})
    md = render_markdown(_dossier(section))
    table = md[md.index("Vulnerability differential by the sandboxed tests"):]
    row = next(line for line in table.splitlines() if line.startswith("| tibet"))
    assert "sandbox: sensitivity 87.0% (47/54), FPR 1.9% (1/52)" in row
    page = render_html(_dossier(section))
    assert 'id="sandbox-differentials"' in page and "sandbox: sensitivity 87.0% (47/54)" in page
    score = codesec_score(section)
    assert score.colour == "red" and "tibet (vulnerable by the sandboxed tests)" in score.detail
    assert any(line.startswith("sandboxed tests, tibet vs nepal") for line in summary_lines(section))
