"""Vocabulary overlap: the 16 reference vocabularies identify as themselves; sketches agree with exact overlaps."""

from __future__ import annotations

import csv

import pytest

from modeldossier.provenance import vocab
from modeldossier.provenance.vocab import SubjectVocab, compare_all, compare_exact, relation

from .conftest import NAMES

IDENTICAL_GROUPS = [{"gpt-neox", "mpt"}]


@pytest.fixture(scope="module")
def matches(gguf_vocabs):
    return {name: compare_all(SubjectVocab.from_tokens(v.tokens, digest)) for name, (v, digest) in gguf_vocabs.items()}


@pytest.mark.parametrize("name", NAMES)
def test_each_reference_identifies_as_itself(name, matches):
    top = matches[name][0]
    group = next((g for g in IDENTICAL_GROUPS if name in g), {name})
    assert top.relation == "identical"
    identical = {m.reference for m in matches[name] if m.relation == "identical"}
    assert identical == group, identical


def test_phi3_reuses_llama2_and_qwen_is_not_llama3(matches):
    phi = {m.reference: m for m in matches["phi-3"]}
    assert phi["llama-spm"].relation == "reuse" and phi["llama-spm"].positional_overlap >= 0.99
    qwen = {m.reference: m for m in matches["qwen2"]}
    assert qwen["llama-bpe"].relation == "shared-ancestry"
    assert 0.55 < qwen["llama-bpe"].set_overlap < 0.75 and qwen["llama-bpe"].positional_overlap < 0.01
    refact = {m.reference: m for m in matches["refact"]}
    assert refact["starcoder"].relation == "shared-ancestry" and refact["starcoder"].set_overlap > 0.98


def test_sketch_jaccard_agrees_with_derived_table(shared_data, matches):
    """Bottom-k Jaccard within 0.03 of the exact derived table (bert-bge excluded: we compare BERT tokens in the
    Hugging Face '##' form, the derived table used llama.cpp's converted form)."""
    path = shared_data / "provenance" / "derived" / "vocab_pairwise_similarity.csv"
    rows = list(csv.DictReader(path.read_text().splitlines()))
    assert len(rows) == 120
    worst = 0.0
    for row in rows:
        a, b = row["vocab_a"], row["vocab_b"]
        if "bert-bge" in (a, b):
            continue
        est = next(m for m in matches[a] if m.reference == b)
        worst = max(worst, abs(est.set_overlap - float(row["token_set_jaccard"])))
    assert worst < 0.03, worst


@pytest.mark.slow
def test_sketch_agrees_with_exact_overlaps(gguf_vocabs, matches):
    """All 120 pairs: sketch Jaccard within 0.03 and sketch positional overlap within 0.02 of the exact values."""
    worst_set = worst_pos = 0.0
    for i, a in enumerate(NAMES):
        for b in NAMES[i + 1:]:
            est = next(m for m in matches[a] if m.reference == b)
            jac, pos = compare_exact(gguf_vocabs[a][0].tokens, gguf_vocabs[b][0].tokens)
            worst_set = max(worst_set, abs(est.set_overlap - jac))
            worst_pos = max(worst_pos, abs(est.positional_overlap - pos))
    assert worst_set < 0.03, worst_set
    assert worst_pos < 0.02, worst_pos


def test_relation_thresholds():
    assert relation(0.2, 0.995) == "reuse"
    assert relation(0.64, 0.003) == "shared-ancestry"
    assert relation(0.1, 0.0) == "unrelated"
    assert relation(1.0, 1.0, identical=True) == "identical"


def test_packaged_data_is_small_and_has_no_token_text():
    directory = vocab._data_dir()
    size = (directory / vocab.SKETCHES_FILE).stat().st_size + (directory / vocab.REFERENCES_FILE).stat().st_size
    assert size < 2_000_000
    text = (directory / vocab.REFERENCES_FILE).read_text()
    assert "Ġthe" not in text and "\\u0120the" not in text


def test_extended_vocab_is_reuse_and_shuffled_is_not(gguf_vocabs):
    base, _ = gguf_vocabs["deepseek-coder"]
    extended = [*base.tokens, *(f"<|new_{i}|>" for i in range(300))]
    top = compare_all(SubjectVocab.from_tokens(extended))[0]
    assert top.reference == "deepseek-coder" and top.relation == "reuse" and top.positional_overlap > 0.99
    shuffled = sorted(t or "" for t in base.tokens)  # same token set, new ids: not reuse in place
    top = compare_all(SubjectVocab.from_tokens(shuffled))[0]
    assert top.relation == "renumbered" and top.reference == "deepseek-coder" and top.set_overlap > 0.95
    assert top.positional_overlap < 0.5


def test_a_toy_vocabulary_does_not_claim_reuse():
    """Six tokens that happen to sit at BERT's first ids are too few sampled positions to call it reuse."""
    matches = compare_all(SubjectVocab.from_tokens(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"]))
    assert all(m.relation == "unrelated" for m in matches)
