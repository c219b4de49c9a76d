"""The lineage root and its country come from one piece of evidence, and the section says which (declared or
observed); inventory carries the same fields."""

from __future__ import annotations

import json

import pytest

from modeldossier.dossier import Dossier, Subject
from modeldossier.ecosystem.inventory import analyse, discover_paths
from modeldossier.provenance.origin import origin_section
from modeldossier.report import markdown

from .test_origin import make_model

LLAMA3_CARD = "---\nbase_model: meta-llama/Meta-Llama-3-8B-Instruct\nlicense: llama3\n---\n# SuperChat\n"


@pytest.fixture(scope="module")
def llama_claims_qwen(tmp_path_factory, gguf_vocabs):
    """Declares Llama 3 as its base, ships Qwen2's tokenizer."""
    return make_model(tmp_path_factory.mktemp("root") / "superchat", gguf_vocabs["qwen2"][0], LLAMA3_CARD, None)


def test_undeclared_derivative_root_and_country_are_both_observed(llama_claims_qwen):
    section = origin_section(llama_claims_qwen, None, online=False)
    assert section.undeclared_derivative is True
    assert section.lineage_root == "Qwen2 (Alibaba)" and section.lineage_root_basis == "observed"
    assert section.lineage_root_country.country == "CN"
    assert section.declared_lineage_root == "meta-llama/Meta-Llama-3-8B-Instruct"
    assert section.observed_lineage_root == "Qwen2 (Alibaba)"


def test_markdown_never_pairs_the_declared_root_with_the_observed_country(llama_claims_qwen):
    section = origin_section(llama_claims_qwen, None, online=False)
    dossier = Dossier(subject=Subject(kind="path", ref=str(llama_claims_qwen), name="superchat"), provenance=section)
    text = markdown.render_markdown(dossier)
    root_row = next(line for line in text.splitlines() if line.startswith("| lineage root "))
    assert "Qwen2 (Alibaba)" in root_row and "(observed)" in root_row and "Meta-Llama" not in root_row
    assert "meta-llama/Meta-Llama-3-8B-Instruct / Qwen2 (Alibaba)" in text


def test_honest_model_root_is_declared(tmp_path, gguf_vocabs):
    folder = make_model(tmp_path / "honest", gguf_vocabs["qwen2"][0], "---\nbase_model: Qwen/Qwen2.5-7B\n---\n", None)
    section = origin_section(folder, None, online=False)
    assert section.undeclared_derivative is False
    assert (section.lineage_root, section.lineage_root_basis) == ("Qwen/Qwen2.5-7B", "declared")
    assert section.lineage_root_country.country == "CN"


def test_gguf_with_a_country_has_a_root(vocab_dir):
    for name in ("qwen2", "phi-3", "falcon"):
        section = origin_section(vocab_dir / f"ggml-vocab-{name}.gguf", None, online=False)
        assert section.lineage_root_country.country is not None, name
        assert section.lineage_root is not None and section.lineage_root_basis == "observed", name


def test_inventory_json_has_the_flag_and_a_coherent_root(llama_claims_qwen, vocab_dir):
    from modeldossier.provenance.origin import origin_section as origin

    found, _ = discover_paths([llama_claims_qwen, vocab_dir / "ggml-vocab-qwen2.gguf"])
    entries = [json.loads(analyse(c, scan=None, origin=origin).entry.model_dump_json()) for c in found]
    by_name = {e["name"]: e for e in entries}
    liar = next(e for n, e in by_name.items() if "superchat" in n)
    assert liar["undeclared_derivative"] is True
    assert (liar["lineage_root"], liar["lineage_root_basis"], liar["lineage_root_country"]) == (
        "Qwen2 (Alibaba)", "observed", "CN")
    gguf = next(e for n, e in by_name.items() if "qwen2" in n)
    assert gguf["lineage_root_country"] == "CN" and gguf["lineage_root"] is not None
    assert "undeclared_derivative" in gguf
