"""Policy loading (line numbers on errors) and gate evaluation (pass / breach with evidence)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.errors import DossierError
from modeldossier.report.gate import evaluate
from modeldossier.report.policy import load_policy, parse_policy

from .factories import empty_dossier, full_dossier, partial_dossier

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def _status(result, rule):
    return next(r for r in result.results if r.rule == rule).status


@pytest.mark.parametrize("name", ["policy-strict.yaml", "policy-jurisdiction.yaml"])
def test_example_policies_validate(name):
    policy, digest = load_policy(EXAMPLES / name)
    assert policy.version == 1 and len(digest) == 64


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("version: 1\nartifacts:\n  max_severity: huge\n", 3, "artifacts.max_severity"),
        ("version: 1\nbehavior:\n  statistic: ci_low\n  max_asymmetry: lots\n", 4, "valid number"),
        ("version: 1\nprovenance:\n  author_country:\n    deny: [CN, china]\n", 4, "ISO 3166-1"),
        ("version: 1\n\nartefacts:\n  max_severity: high\n", 3, "Extra inputs"),
        ("name: x\n", 1, "version: Field required"),
        ("version: 2\n", 1, "not supported"),
        ("version: 1\nbehavior: [\n", 3, "not valid YAML"),
        ("version: 1\nrequired_sections:\n  - artifacts\n  - vibes\n", 4, "required_sections.1"),
        ("version: 1\nname: a\nname: b\n", 3, "duplicate key"),
        ("base: &b {max_severity: high}\nartifacts: *b\nversion: 1\n", 2, "aliases"),
        ("- version: 1\n", 1, "a policy is a mapping"),
        ("", 1, "empty"),
        ("version: 1\nbehavior:\n  max_asymmetry: 5\n", 3, "less than or equal to 1"),
    ],
)
def test_bad_policy_reports_the_line(text, line, fragment):
    with pytest.raises(DossierError) as info:
        parse_policy(text, "p.yaml")
    message = str(info.value)
    assert message.startswith(f"p.yaml:{line}:"), message
    assert fragment in message
    assert "\n" not in message


def test_strict_policy_breaches_with_evidence():
    policy, _ = load_policy(EXAMPLES / "policy-strict.yaml")
    result = evaluate(policy, full_dossier())
    assert not result.passed
    failed = {r.rule: r for r in result.failed}
    assert set(failed) == {
        "artifacts.max_severity", "artifacts.forbid_rules", "provenance.forbid_undeclared_derivative",
        "behavior.max_asymmetry", "codesec.max_differential",
    }
    assert any("data.pkl offset 1183" in line for line in failed["artifacts.max_severity"].evidence)
    assert "declared base: meta-llama/Llama-3.1-8B" in failed["provenance.forbid_undeclared_derivative"].evidence
    assert failed["behavior.max_asymmetry"].evidence[0].startswith("tiananmen/")
    assert "tibet vs control-us" in failed["codesec.max_differential"].evidence[0]


def test_clean_dossier_passes_strict_behaviour_thresholds():
    d = full_dossier(scale=0.0, gap=0.0)
    d.artifacts.files[1].findings = []
    d.provenance.undeclared_derivative = False
    result = evaluate(parse_policy((EXAMPLES / "policy-strict.yaml").read_text()), d)
    assert result.passed, [(r.rule, r.message) for r in result.failed]


def test_statistic_choice_matters():
    d = full_dossier(scale=0.3)  # gaps: 13.5 pp (CI crosses 0), 7.5 pp, ~0
    estimate = parse_policy("version: 1\nbehavior: {max_asymmetry: 0.10, statistic: estimate}\n")
    ci_low = parse_policy("version: 1\nbehavior: {max_asymmetry: 0.10, statistic: ci_low}\n")
    assert _status(evaluate(estimate, d), "behavior.max_asymmetry") == "fail"
    assert _status(evaluate(ci_low, d), "behavior.max_asymmetry") == "pass"


def test_countries_allow_deny_unknown():
    d = full_dossier()
    allow = parse_policy("version: 1\nprovenance:\n  lineage_root_country: {allow: [us, fr]}\n")
    assert _status(evaluate(allow, d), "provenance.lineage_root_country") == "fail"
    deny = parse_policy("version: 1\nprovenance:\n  author_country: {deny: [CN]}\n")
    assert _status(evaluate(deny, d), "provenance.author_country") == "pass"
    d.provenance.author_country.country = "CN"
    assert _status(evaluate(deny, d), "provenance.author_country") == "fail"
    d.provenance.author_country.country = None
    assert _status(evaluate(deny, d), "provenance.author_country") == "fail"  # unknown defaults to fail
    lenient = parse_policy("version: 1\nprovenance:\n  author_country: {deny: [CN], unknown: pass}\n")
    assert _status(evaluate(lenient, d), "provenance.author_country") == "pass"


def test_missing_sections_fail_closed_or_skip():
    policy = parse_policy("version: 1\nbehavior: {max_asymmetry: 0.1}\ncodesec: {max_differential: 0.05}\n")
    result = evaluate(policy, partial_dossier())
    assert [r.status for r in result.results] == ["fail", "fail"]
    assert "not run: no --target given" in result.results[0].message
    skip = parse_policy("version: 1\nmissing_sections: skip\nbehavior: {max_asymmetry: 0.1}\n")
    assert evaluate(skip, partial_dossier()).passed
    required = parse_policy("version: 1\nrequired_sections: [artifacts]\n")
    assert not evaluate(required, empty_dossier()).passed


def test_undetermined_lineage_and_flag_count_and_partial():
    d = full_dossier()
    d.provenance.undeclared_derivative = None
    strict = parse_policy("version: 1\nprovenance: {forbid_undeclared_derivative: true, undetermined_lineage: fail}\n")
    assert _status(evaluate(strict, d), "provenance.forbid_undeclared_derivative") == "fail"
    flagged = parse_policy("version: 1\nbehavior: {max_flagged: 4}\n")
    assert _status(evaluate(flagged, d), "behavior.max_flagged") == "pass"
    d.behavior.asymmetry[-1].flagged = True
    assert _status(evaluate(flagged, d), "behavior.max_flagged") == "fail"
    d.codesec.status = "partial"
    complete = parse_policy("version: 1\nrequire_complete: true\n")
    assert _status(evaluate(complete, d), "require_complete.codesec") == "fail"


def test_cli_exit_codes_and_json(tmp_path, capsys):
    dossier = tmp_path / "m.dossier.json"
    dossier.write_text(full_dossier().to_json(), encoding="utf-8")
    assert main(["gate", str(dossier), "--policy", str(EXAMPLES / "policy-strict.yaml")]) == 1
    out = capsys.readouterr().out
    assert "BREACH" in out and "FAIL artifacts.max_severity" in out and "data.pkl offset 1183" in out
    assert main(["gate", str(dossier), "--policy", str(EXAMPLES / "policy-strict.yaml"), "-f", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["passed"] is False and len(data["policy_sha256"]) == 64
    lenient = tmp_path / "lenient.yaml"
    lenient.write_text("version: 1\nartifacts:\n  max_severity: critical\n", encoding="utf-8")
    assert main(["gate", str(dossier), "--policy", str(lenient)]) == 0
    assert capsys.readouterr().out.startswith("PASS")
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nartifacts:\n  max_severity: catastrophic\n", encoding="utf-8")
    assert main(["gate", str(dossier), "--policy", str(bad)]) == 2
    err = capsys.readouterr().err.strip()
    assert f"{bad}:3: artifacts.max_severity" in err and len(err.splitlines()) == 1
    assert main(["gate", str(dossier), "--policy", str(tmp_path / "none.yaml")]) == 2
    assert "policy not found" in capsys.readouterr().err
    broken = tmp_path / "broken.dossier.json"
    broken.write_text("[]", encoding="utf-8")
    assert main(["gate", str(broken), "--policy", str(lenient)]) == 2


def test_rich_markup_in_names_is_printed_literally(tmp_path, capsys):
    dossier = tmp_path / "m.dossier.json"
    dossier.write_text(full_dossier("[/bold]evil[red]").to_json(), encoding="utf-8")
    other = tmp_path / "[x].dossier.json"
    other.write_text(partial_dossier("[/x]").to_json(), encoding="utf-8")
    assert main(["gate", str(dossier), "--policy", str(EXAMPLES / "policy-jurisdiction.yaml")]) == 1
    assert "BREACH [/bold]evil[red] against" in capsys.readouterr().out
    assert main(["compare", str(dossier), str(other)]) == 0
    captured = capsys.readouterr()
    assert "[/bold]evil[red]" in captured.out and "not in [/x]" in captured.err
    assert main(["report", str(other), "-q", "--out", str(tmp_path / "[y].html")]) == 0
