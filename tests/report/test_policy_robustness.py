"""Malformed gate policies (bad typed scalars, huge integers, deep nesting, lone surrogates): one-line errors."""

from __future__ import annotations

import pytest

from modeldossier.cli import main
from modeldossier.errors import DossierError
from modeldossier.report.policy import parse_policy

from .factories import full_dossier


@pytest.mark.parametrize(
    "text, where",
    [
        ("version: 1\nname: 2020-13-45\n", "p.yaml:2: cannot read '2020-13-45' as timestamp"),
        ("version: 1\nname: !!int abc\n", "p.yaml:2: cannot read 'abc' as int"),
        ("version: 1\nname: !!float abc\n", "p.yaml:2: cannot read 'abc' as float"),
        ("version: 1\nname: !!bool abc\n", "p.yaml:2: cannot read 'abc' as bool"),
        ("version: 1\nname: !!timestamp 2020-99-99\n", "p.yaml:2: cannot read '2020-99-99' as timestamp"),
        ("version: 1\nname: !!timestamp ''\n", "p.yaml:2: cannot read '' as timestamp"),
        ("version: 1\n!!timestamp 2020-99-99: x\n", "p.yaml:2: cannot read"),
        ("version: 1\n!!set abc: x\n", "p.yaml:2: cannot read 'abc' as set"),
        ("version: " + "9" * 5000 + "\n", "p.yaml:1: cannot read '9999"),
        ("version: 1\nname: " + "[" * 5000 + "]" * 5000 + "\n", "p.yaml: not valid YAML: nested too deeply"),
    ],
)
def test_bad_scalars_and_deep_nesting_are_policy_errors(text: str, where: str) -> None:
    with pytest.raises(DossierError) as info:
        parse_policy(text, "p.yaml")
    message = str(info.value)
    assert message.startswith(where), message
    assert "\n" not in message and len(message) < 300


def test_lone_surrogate_in_policy_is_replaced() -> None:
    assert parse_policy('version: 1\nname: "\\ud800x"\nrequired_sections: [codesec]\n').name == "\ufffdx"


def _gate(tmp_path, policy_text: str) -> int:
    """Run ``dossier gate`` on a full dossier with this policy text."""
    dossier = tmp_path / "m.dossier.json"
    dossier.write_text(full_dossier().to_json(), encoding="utf-8")
    policy = tmp_path / "p.yaml"
    policy.write_text(policy_text, encoding="utf-8")
    return main(["gate", str(dossier), "-p", str(policy)])


def test_gate_cli_bad_policy_exits_2_without_internal_error(tmp_path, capsys) -> None:
    assert _gate(tmp_path, "version: 1\nname: 2020-13-45\n") == 2
    err = capsys.readouterr().err.strip()
    assert "internal error" not in err and "p.yaml:2:" in err and len(err.splitlines()) == 1


def test_gate_text_output_with_surrogate_policy_name_is_utf8(tmp_path, capsys) -> None:
    assert _gate(tmp_path, 'version: 1\nname: "\\ud800"\nrequired_sections: [artifacts]\n') == 0
    out = capsys.readouterr().out
    out.encode("utf-8")  # no lone surrogate reaches the terminal
    assert "against policy \ufffd" in out


@pytest.mark.parametrize(
    ("text", "line", "fragment"),
    [
        ("version: 1\n", 1, "no rules"),
        ("version: 1\nartifacts: {}\nprovenance: {undetermined_lineage: fail}\n", 1, "no rules"),
        ("version: 1\nbehavior: {max_asymmetry: -1}\n", 2, "behavior.max_asymmetry"),
        ("version: 1\ncodesec: {max_differential: -0.05}\n", 2, "codesec.max_differential"),
        ("version: 1\nprovenance:\n  lineage_root_country: {allow: [US, cn], deny: [CN]}\n", 3,
         "both allowed and denied"),
    ],
)
def test_policies_that_check_nothing_or_contradict_are_errors(text, line, fragment) -> None:
    with pytest.raises(DossierError) as info:
        parse_policy(text, "p.yaml")
    assert str(info.value).startswith(f"p.yaml:{line}:") and fragment in str(info.value)
