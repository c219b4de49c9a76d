"""Config signatures: shape + type + rope against known base models."""

from __future__ import annotations

from modeldossier.provenance.config_signature import match, normalized

QWEN7 = {"model_type": "qwen2", "hidden_size": 3584, "num_hidden_layers": 28, "num_attention_heads": 28,
         "num_key_value_heads": 4, "vocab_size": 152064, "rope_theta": 1000000.0}


def test_exact_match_with_rope():
    best = match(QWEN7)[0]
    assert best.name == "Qwen2.5-7B" and best.level == "exact" and "rope_theta" in best.matched


def test_rope_or_type_mismatch_downgrades_to_shape():
    assert match({**QWEN7, "rope_theta": 10000.0})[0].level == "shape"
    assert match({**QWEN7, "model_type": "llama"})[0].level == "shape"


def test_vocab_only_and_unknown():
    levels = {m.level for m in match({"model_type": "qwen2", "hidden_size": 1000, "num_hidden_layers": 3,
                                      "vocab_size": 151936})}
    assert levels == {"vocab"}
    assert match({"model_type": "x", "hidden_size": 1000, "num_hidden_layers": 3, "vocab_size": 7}) == []
    assert match({}) == []


def test_alias_keys_and_default_kv_heads():
    shape = normalized({"n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "model_type": "gpt2"})
    assert shape["num_key_value_heads"] == 12
    assert match({"n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "model_type": "gpt2"})[0].name \
        == "GPT-2"
