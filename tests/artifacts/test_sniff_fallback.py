"""Content first, name second: inconclusive content that claims a model format is checked as that format."""

from __future__ import annotations

import json
import pickle

from modeldossier.artifacts.sniff import sniff_bytes


def test_garbage_named_safetensors_goes_to_the_safetensors_checker() -> None:
    assert sniff_bytes(b"not a header at all", "weights.safetensors") == "safetensors"


def test_a_pickle_named_safetensors_is_still_a_pickle() -> None:
    assert sniff_bytes(pickle.dumps({"a": 1}, protocol=4), "model.safetensors") == "pickle"


def test_tokenizer_config_with_a_late_chat_template_is_routed_to_the_hf_checker() -> None:
    filler = {f"<tok{i}>": {"content": f"<tok{i}>", "special": True} for i in range(4000)}
    data = json.dumps({"added_tokens_decoder": filler, "chat_template": "{{ messages }}"}).encode()
    assert b"chat_template" not in data[:65536]
    assert sniff_bytes(data, "tokenizer_config.json") == "hf-config"


def test_ordinary_json_stays_json() -> None:
    assert sniff_bytes(b'{"a": 1}', "results.json") == "json"
