"""One exit-code policy: origin, audit and inventory all exit 1 on an undeclared derivative, 0 on an honest card."""

from __future__ import annotations

import pytest

from modeldossier.cli import main

from .test_origin import make_model


@pytest.fixture(scope="module")
def liar(tmp_path_factory, gguf_vocabs):
    card = "---\nbase_model: mistralai/Mistral-7B-v0.1\n---\n"
    return make_model(tmp_path_factory.mktemp("exit") / "codechat", gguf_vocabs["deepseek-coder"][0], card, None)


@pytest.fixture(scope="module")
def honest(tmp_path_factory, gguf_vocabs):
    card = "---\nbase_model: deepseek-ai/deepseek-coder-6.7b-base\n---\n"
    return make_model(tmp_path_factory.mktemp("exit") / "honest", gguf_vocabs["deepseek-coder"][0], card, None)


def _codes(folder, tmp_path) -> dict[str, int]:
    return {
        "origin": main(["origin", str(folder), "--offline", "-q"]),
        "audit": main(["audit", str(folder), "--offline", "--no-html", "-q", "--out", str(tmp_path / "runs")]),
        "inventory": main(["inventory", str(folder), "--no-scan", "-q"]),
    }


def test_undeclared_derivative_exits_1_everywhere(liar, tmp_path, capsys):
    assert _codes(liar, tmp_path) == {"origin": 1, "audit": 1, "inventory": 1}
    out = capsys.readouterr().out
    assert "verdict: RED: Do not deploy until its lineage is explained." in out


def test_honest_card_exits_0_everywhere(honest, tmp_path, capsys):
    codes = _codes(honest, tmp_path)
    out = capsys.readouterr().out
    assert codes == {"origin": 0, "audit": 0, "inventory": 0}, out
