"""Inputs a fuzzing pass found that crashed, hung or ate memory: each now gives a result or a one-line error."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from modeldossier.censorship.llm_judge import parse_judgement
from modeldossier.cli import main
from modeldossier.errors import DossierError
from modeldossier.probing.models import ProbeResponse
from modeldossier.probing.suite import load_suite
from modeldossier.probing.summary import summarize

SUITE = "version: 1\nname: two\nitems:\n  - id: a\n    prompt: hi\n  - id: b\n    prompt: there\n"


def _laughs(levels: int = 8) -> str:
    lines = ['a0: &a0 ["x","x","x","x","x","x","x","x","x","x"]']
    lines += [f"a{i}: &a{i} [" + ",".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, levels + 1)]
    return "".join("  " + line + "\n" for line in lines)


def test_suite_alias_bomb_and_deep_nesting_are_refused_but_merge_keys_work(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text("version: 1\nmetadata:\n" + _laughs() + "items:\n - id: a\n   prompt: hi\n   metadata: {m: *a8}\n")
    with pytest.raises(DossierError, match="expand to more than"):
        load_suite(bomb)
    deep = tmp_path / "deep.yaml"
    deep.write_text("version: 1\nitems:\n - id: a\n   prompt: hi\n   metadata: " + "[" * 20000 + "]" * 20000)
    with pytest.raises(DossierError, match="nested too deeply"):
        load_suite(deep)
    merged = tmp_path / "merge.yaml"
    merged.write_text("version: 1\nmetadata: &b {topic: t}\nitems:\n - id: a\n   prompt: hi\n"
                      "   metadata: {<<: *b, x: 1}\n")
    assert load_suite(merged).items[0].metadata["topic"] == "t"


def test_lone_surrogates_in_a_suite_and_params_are_stored(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text('version: 1\nname: "\\udc00x"\nitems:\n  - id: a\n    prompt: "\\ud800 hi"\n', encoding="utf-8")
    out = tmp_path / "out"
    assert main(["probe", "--suite", str(suite), "--target", "mock:echo", "--out", str(out), "--quiet",
                 "--param", 'x="\\ud800"']) == 0
    for path in out.rglob("*.json*"):
        path.read_text(encoding="utf-8")


@pytest.mark.parametrize("tokens", ["abc", float("nan"), float("inf"), [1], True])
def test_summary_ignores_odd_completion_token_counts(tokens) -> None:
    responses = [ProbeResponse(item_id="a", content="hi", usage={"completion_tokens": tokens}),
                 ProbeResponse(item_id="b", content="hi", usage={"completion_tokens": 7})]
    assert summarize(responses, target="t", suite="s").completion_tokens == 7


def test_mock_fail_fields_of_the_wrong_type_and_out_as_a_file(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text(SUITE)
    script = tmp_path / "m.yaml"
    script.write_text('default: {fail: {retryable: true, retry_after: "abc", status: "x"}}\n')
    assert main(["probe", "--suite", str(suite), "--target", f"mock:{script}", "--out", str(tmp_path / "o"),
                 "--quiet"]) in (0, 2)
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for args in (["probe", "--suite", str(suite)], ["probe", "--suite", "censorship", "--limit", "2"]):
        assert main([*args, "--target", "mock:echo", "--out", str(blocker), "--quiet"]) == 2
    assert main(["probe", "--suite", str(suite), "--target", "mock:echo", "--samples", "99999999999"]) == 2


def test_judge_label_with_a_kelvin_sign_is_not_a_label() -> None:
    assert parse_judgement("ok\nLABEL: BLOC\u212aED").label.value == "ERROR"
    assert parse_judgement("ok\nlabel: blocked").label.value == "BLOCKED"


def test_ecosystem_year_zero_and_download_sums_past_64_bits(tmp_path: Path, capsys) -> None:
    snapshot = tmp_path / "s.jsonl"
    rows = [{"id": f"org/m{i}", "created_at": "2024-09-01", "downloads": 2**63 - 1} for i in range(2)]
    snapshot.write_text("".join(json.dumps(r) + "\n" for r in rows))
    assert main(["ecosystem", "--snapshot", str(snapshot), "--since", "0000-01"]) == 2
    assert main(["ecosystem", "--snapshot", str(snapshot), "--format", "json"]) == 0
    assert "internal error" not in capsys.readouterr().err


def test_inventory_broken_partial_download_and_deep_ollama_manifest(tmp_path: Path) -> None:
    blobs = tmp_path / "hf" / "models--org--x" / "blobs"
    blobs.mkdir(parents=True)
    os.symlink(tmp_path / "missing", blobs / "foo.incomplete")
    manifests = tmp_path / "ollama" / "manifests"
    manifests.mkdir(parents=True)
    (manifests / "deep").write_text('{"layers":' + "[" * 200_000 + "]" * 200_000 + "}")
    assert main(["inventory", "--hf-cache", str(tmp_path / "hf"), "--ollama", str(tmp_path / "ollama"),
                 "--offline", "--no-scan", "--quiet"]) in (0, 1)
