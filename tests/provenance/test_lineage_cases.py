"""The provenance cases of honest fine-tunes, prefix and extended vocabularies, tiktoken files and pruned
vocabularies, each built from the real llama.cpp vocab GGUFs (and the MiniLM folder) in a temporary folder."""

from __future__ import annotations

import pytest

from modeldossier.provenance import fingerprint
from modeldossier.provenance.origin import origin_section

from . import builders


@pytest.fixture(scope="module")
def tmp(tmp_path_factory):
    return tmp_path_factory.mktemp("lineage")


# --- false accusations --------------------------------------------------------------------------------------


def test_honest_r1_distill_qwen_finetune_is_not_flagged(tmp, gguf_vocabs):
    folder = builders.r1_distill_qwen(tmp / "r1q-ft", gguf_vocabs["qwen2"][0],
                                      "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B")
    section = origin_section(folder, None, online=False)
    assert section.fingerprints[0].llama_cpp_pre == "deepseek-r1-qwen"
    assert section.observed_family == "Qwen2 (Alibaba)"
    assert section.declared_family == "Qwen2 (Alibaba)"
    assert section.undeclared_derivative is False
    assert any(e.kind == "tokenizer.chkhsh_supports_declared_base" for e in section.observed)
    assert section.lineage_root == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    assert section.lineage_root_basis == "declared" and section.lineage_root_country.country == "CN"


def test_honest_r1_distill_llama_finetune_is_not_flagged(tmp, gguf_vocabs):
    folder = builders.r1_distill_llama(tmp / "r1l-ft", gguf_vocabs["llama-bpe"][0],
                                       "deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    section = origin_section(folder, None, online=False)
    assert section.observed_family == "Llama 3 (Meta)"
    assert section.declared_family == "Llama 3 (Meta)"
    assert section.undeclared_derivative is False


def test_a_distill_claim_with_the_wrong_tokenizer_is_still_flagged(tmp, gguf_vocabs):
    folder = builders.r1_distill_qwen(tmp / "r1-liar", gguf_vocabs["qwen2"][0],
                                      "deepseek-ai/DeepSeek-R1-Distill-Llama-8B")
    section = origin_section(folder, None, online=False)
    assert section.undeclared_derivative is True
    assert section.lineage_root == "Qwen2 (Alibaba)" and section.lineage_root_basis == "observed"
    assert section.declared_lineage_root == "deepseek-ai/DeepSeek-R1-Distill-Llama-8B"


def test_honest_minilm_finetune_is_not_flagged(tmp, minilm_dir):
    folder = builders.minilm_finetune(tmp / "minilm-ft", minilm_dir)
    section = origin_section(folder, None, online=False)
    assert section.declared_base == "sentence-transformers/all-MiniLM-L6-v2"
    assert section.observed_family.startswith("BERT WordPiece")
    assert section.undeclared_derivative is False


def test_an_unrelatable_base_from_another_organisation_is_undetermined_not_flagged(tmp, minilm_dir):
    folder = builders.minilm_finetune(tmp / "minilm-other", minilm_dir, base_model="acme-lab/house-encoder-v2")
    (folder / "config.json").unlink()  # no config signature either
    section = origin_section(folder, None, online=False)
    assert section.observed_family.startswith("BERT WordPiece")
    assert section.undeclared_derivative is None


# --- wrong answers ------------------------------------------------------------------------------------------


def test_cl100k_is_not_called_llama3(tmp, gguf_vocabs):
    folder = builders.cl100k(tmp / "gpt4-tok", gguf_vocabs["llama-bpe"][0])
    section = origin_section(folder, None, online=False)
    assert section.fingerprints[0].llama_cpp_pre == "dbrx"  # the fixture reproduces llama.cpp's DBRX hash
    assert section.observed_family.startswith("cl100k_base")
    assert "Llama 3" not in section.observed_family
    assert any(e.kind == "vocab.prefix" for e in section.observed)
    assert section.lineage_root_country.country == "US"


def test_cl100k_without_the_prefix_fact_is_decided_by_the_chkhsh(tmp, gguf_vocabs, monkeypatch):
    from modeldossier.provenance import lineage

    monkeypatch.setattr(lineage, "prefixes", lambda of: [])
    folder = builders.cl100k(tmp / "gpt4-tok-b", gguf_vocabs["llama-bpe"][0])
    section = origin_section(folder, None, online=False)
    assert "Llama 3" not in section.observed_family and section.observed_confidence == 0.8
    assert any("it decides" in n for n in section.notes)


def test_a_truncated_llama3_is_still_llama3(tmp, gguf_vocabs):
    folder = builders.truncated_llama3(tmp / "l3-trunc", gguf_vocabs["llama-bpe"][0], 115_000)
    section = origin_section(folder, None, online=False)
    assert section.observed_family == "Llama 3 (Meta)"


@pytest.fixture(scope="module")
def donors(gguf_vocabs):
    return [gguf_vocabs[n][0] for n in ("baichuan", "qwen2", "deepseek-llm", "aquila", "command-r")]


def test_extended_llama2_reports_the_extension_and_no_root_country(tmp, gguf_vocabs, donors):
    folder = builders.extended_llama2(tmp / "yuan-renamed", gguf_vocabs["llama-spm"][0], donors, 103_000)
    section = origin_section(folder, None, online=False)
    assert section.observed_family.startswith("Llama 2 (Meta), extended by ")
    assert "(mostly CJK)" in section.observed_family
    assert any(n.startswith("vocabulary from Llama 2 (Meta, US), extended by ") for n in section.notes)
    assert section.lineage_root_country.country is None
    assert section.lineage_root_basis == "observed"


def test_extended_llama2_with_a_declared_base_takes_the_declared_country(tmp, gguf_vocabs, donors):
    llama2 = gguf_vocabs["llama-spm"][0]
    yuan = builders.extended_llama2(tmp / "yuan-ft", llama2, donors, 20_000,
                                    front="base_model: IEIT-Yuan/Yuan2-2B-hf")
    section = origin_section(yuan, None, online=False)
    assert section.undeclared_derivative is False
    assert section.lineage_root == "IEIT-Yuan/Yuan2-2B-hf" and section.lineage_root_country.country == "CN"
    chinese_llama = builders.extended_llama2(tmp / "cn-llama2-ft", llama2, donors, 20_000,
                                             front="base_model: hfl/chinese-llama-2-7b")
    section = origin_section(chinese_llama, None, online=False)
    assert section.undeclared_derivative is False and section.lineage_root == "hfl/chinese-llama-2-7b"


# --- formats ------------------------------------------------------------------------------------------------


def test_qwen_tiktoken_file_is_read(tmp, gguf_vocabs):
    qwen = gguf_vocabs["qwen2"][0]
    path = builders.tiktoken_file(tmp / "qwen1-chat" / "qwen.tiktoken", qwen.tokens[:151643])
    section = origin_section(path.parent, None, online=False)
    assert section.fingerprints[0].origin == "tiktoken"
    assert section.observed_family == "Qwen2 (Alibaba)" and section.observed_confidence >= 0.9


def test_meta_native_llama3_tokenizer_model_is_tiktoken(tmp, gguf_vocabs):
    llama = gguf_vocabs["llama-bpe"][0]
    path = builders.tiktoken_file(tmp / "llama3-original" / "tokenizer.model", llama.tokens[:128000])
    section = origin_section(path.parent, None, online=False)
    assert not any(not e.available and "wire type" in (e.reason or "") for e in section.observed)
    assert section.observed_family == "Llama 3 (Meta)"
    fp, voc = fingerprint.fingerprint_vocab_file(path)
    assert voc.tokens == llama.tokens[:128000]  # the token list equals the reference exactly


def test_tiktoken_model_file_by_other_name_and_single_file(tmp, gguf_vocabs):
    qwen = gguf_vocabs["qwen2"][0]
    path = builders.tiktoken_file(tmp / "kimi-like" / "tiktoken.model", qwen.tokens[:151643])
    assert origin_section(path.parent, None, online=False).observed_family == "Qwen2 (Alibaba)"
    assert origin_section(path, None, online=False).observed_family == "Qwen2 (Alibaba)"


def test_malformed_tiktoken_is_unavailable_evidence(tmp):
    folder = tmp / "bad-tiktoken"
    folder.mkdir()
    (folder / "qwen.tiktoken").write_text("IQ== 0\nnot base64 at all\n")
    section = origin_section(folder, None, online=False)
    assert any(not e.available and "not a tiktoken" in e.reason for e in section.observed)


def test_pruned_and_renumbered_vocab_uses_set_overlap_and_says_so(tmp, gguf_vocabs):
    folder = builders.pruned_renumbered(tmp / "qwen-pruned", gguf_vocabs["qwen2"][0])
    section = origin_section(folder, None, online=False)
    assert section.observed_family == "Qwen2 (Alibaba)"
    assert section.observed_confidence == 0.7
    assert section.vocab_matches[0].relation == "renumbered"
    assert any("set overlap" in n and "reordered" in n for n in section.notes)
