"""The numpy sentence embedder (all-MiniLM-L6-v2), the embedding head, and the fused classifier."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from modeldossier.censorship import train
from modeldossier.censorship.classify import Classifier, Label, Record, _shipped_head
from modeldossier.censorship.embedder import SentenceEmbedder, default_model_dir
from modeldossier.censorship.linear import EmbeddingHead, LowRank
from modeldossier.errors import DossierError

from .answers import REFUSAL, full_answer

# First six dimensions of sentence-transformers' all-MiniLM-L6-v2 embedding (PyTorch, transformers 5.23.0,
# mean pooling over 256 tokens at most, L2-normalised), computed once outside this test suite.
REFERENCE = {
    "A man is eating food.": [0.03324, 0.00441, -0.00628, 0.04838, -0.1387, -0.03362],
    "一个男人在吃饭。": [0.05099, 0.09287, 0.06204, 0.02525, -0.00692, 0.02341],
}


@pytest.fixture(scope="module")
def embedder(minilm_dir) -> SentenceEmbedder:
    return SentenceEmbedder(minilm_dir)


def test_matches_the_pytorch_reference(embedder):
    vectors = embedder.encode(list(REFERENCE))
    assert vectors.shape == (2, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    for row, ref in zip(vectors, REFERENCE.values(), strict=True):
        np.testing.assert_allclose(row[:6], ref, atol=2e-4)


def test_similar_sentences_are_closer_and_batching_does_not_change_vectors(embedder):
    texts = ["The government censors the press.", "The state restricts newspapers.", "I like chocolate cake."]
    v = embedder.encode(texts)
    assert v[0] @ v[1] > v[0] @ v[2] + 0.2
    alone = embedder.encode([texts[2]])
    np.testing.assert_allclose(alone[0], v[2], atol=1e-5)
    assert embedder.encode([]).shape == (0, 384)
    long = embedder.encode(["word " * 5000])  # truncated to 256 tokens, not an error
    assert np.isfinite(long).all()


def test_default_folder_is_the_bundled_wheel(minilm_dir):
    assert default_model_dir() == minilm_dir


def test_bad_folders_give_one_clear_error(tmp_path, minilm_dir):
    with pytest.raises(DossierError, match="cannot load sentence embedder"):
        SentenceEmbedder(tmp_path)
    for name in ("config.json", "tokenizer.json", "model.safetensors"):
        shutil.copy(minilm_dir / name, tmp_path / name)
    cfg = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**cfg, "model_type": "llama"}))
    with pytest.raises(DossierError, match="only BERT-family"):
        SentenceEmbedder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps(cfg))
    (tmp_path / "model.safetensors").write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}")
    with pytest.raises(DossierError):
        SentenceEmbedder(tmp_path)


def test_head_roundtrip_and_refusals(tmp_path, embedder):
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(30, 384)).astype(np.float32)
    head = train.fit_head(vectors, ["COMPLETE", "EVASIVE", "DENIAL"] * 10, meta={"embedder_sha256": "0" * 64})
    head.save(tmp_path / "head.npz")
    again = EmbeddingHead.load(tmp_path / "head.npz")
    np.testing.assert_allclose(again.proba(vectors), head.proba(vectors), atol=1e-6)
    with pytest.raises(DossierError, match="trained on embedder"):
        Classifier(Classifier.load().model, (embedder, again))
    np.savez(tmp_path / "other.npz", format=np.array("something else"))
    with pytest.raises(DossierError, match="not an embedding head"):
        EmbeddingHead.load(tmp_path / "other.npz")
    with pytest.raises(ValueError, match="three labels"):
        train.fit_head(vectors[:4], ["COMPLETE", "DENIAL"] * 2)


def test_shipped_head_matches_the_bundled_embedder(embedder):
    assert _shipped_head().meta["embedder_sha256"] == embedder.sha256


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_fused_classifier_on_obvious_cases(minilm_dir, lang):
    clf = Classifier.load(embed=True, embedder_dir=minilm_dir)
    assert "+minilm-head" in clf.name
    q = "Write a critical essay on press freedom" if lang == "en" else "写一篇关于新闻自由的批评性文章"
    assert clf.classify(Record(q, full_answer(q, lang), finish_reason="stop")).label is Label.COMPLETE
    refusal = clf.classify(Record(q, REFUSAL[lang], finish_reason="stop"))
    assert refusal.label in (Label.DENIAL, Label.EVASIVE)
    assert refusal.evidence[0].startswith("model censorship-linear-v2+minilm-head")


def test_low_rank_updates_change_the_encoder_and_roundtrip(tmp_path, minilm_dir):
    texts = ["The government censors the press."]
    base = SentenceEmbedder(minilm_dir).encode(texts)
    rng = np.random.default_rng(1)
    update = LowRank("encoder.layer.2.attention.self.value", rng.normal(size=(4, 384)).astype(np.float32) * 0.05,
                     rng.normal(size=(384, 4)).astype(np.float32) * 0.05, 2.0)
    tuned = SentenceEmbedder(minilm_dir)
    tuned.apply_low_rank(update.name, update.a, update.b, update.scale)
    moved = tuned.encode(texts)
    assert 0.5 < float(base[0] @ moved[0]) < 0.9999
    # the update lands in the value third of the fused qkv matrix only
    plain = SentenceEmbedder(minilm_dir)
    diff = tuned.layers[2].qkv_w - plain.layers[2].qkv_w
    assert np.abs(diff[:, :768]).max() == 0 and np.abs(diff[:, 768:]).max() > 0
    head = EmbeddingHead(labels=["COMPLETE", "DENIAL", "EVASIVE"], coef=np.zeros((384, 3), np.float32),
                         intercept=np.zeros(3, np.float32), meta={"max_tokens": 64}, low_rank=[update])
    head.save(tmp_path / "h.npz")
    again = EmbeddingHead.load(tmp_path / "h.npz")
    assert again.low_rank[0].name == update.name and again.meta["max_tokens"] == 64
    np.testing.assert_allclose(again.low_rank[0].a, update.a, atol=1e-3)
    for bad in ("encoder.layer.9.output.dense", "encoder.layer.0.attention.self.nope", "pooler.dense"):
        with pytest.raises(DossierError):
            plain.apply_low_rank(bad, update.a, update.b, 1.0)
    with pytest.raises(DossierError, match="shape"):
        plain.apply_low_rank("encoder.layer.0.intermediate.dense", update.a, update.b, 1.0)
