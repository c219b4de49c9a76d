"""Reports, gate and compare on dossiers written by the real probe and codesec pipelines (scripted target)."""

from __future__ import annotations

import json

import pytest

from modeldossier.cli import main
from modeldossier.dossier import load
from modeldossier.report.html import render_html
from modeldossier.report.markdown import render_markdown

pytestmark = pytest.mark.slow


def test_report_gate_compare_on_pipeline_output(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["probe", "--target", "mock:echo", "--suite", "censorship", "--limit", "40", "--out", str(out),
                 "-q"]) in (0, 1)
    assert main(["codesec", "--target", "mock:echo", "--limit", "6", "--out", str(out), "-q"]) in (0, 1)
    capsys.readouterr()
    path = next(out.glob("*.dossier.json"))
    dossier = load(path)
    assert dossier.behavior is not None and dossier.codesec is not None
    page = render_html(dossier)
    assert page.count('class="chart"') >= 2 and "not run" in page
    assert "Example answers" in render_html(dossier) or not getattr(dossier.behavior, "examples", None)
    assert "## Censorship asymmetry" in render_markdown(dossier)
    assert main(["gate", str(path), "--policy", "examples/policy-strict.yaml", "-f", "json"]) == 1
    result = json.loads(capsys.readouterr().out)
    assert {r["rule"] for r in result["results"] if r["status"] == "fail"} >= {"required_sections.artifacts"}
    assert main(["compare", str(path), str(path), "-f", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]
