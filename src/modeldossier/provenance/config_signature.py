"""Config signature: architecture shape (type, sizes, heads, vocab) matched against well-known base models."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import yaml

from modeldossier.errors import DossierError

SIGNATURES_FILE = "config_signatures.yaml"
SHAPE_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads", "vocab_size")
# Alternative names some configs use for the same quantity.
_ALIASES = {
    "hidden_size": ("hidden_size", "n_embd", "d_model"),
    "num_hidden_layers": ("num_hidden_layers", "n_layer", "num_layers"),
    "num_attention_heads": ("num_attention_heads", "n_head"),
    "num_key_value_heads": ("num_key_value_heads", "multi_query_group_num"),
    "vocab_size": ("vocab_size", "padded_vocab_size"),
}


@dataclass(frozen=True)
class SignatureMatch:
    """How a config matched one known signature."""

    name: str
    family: str
    hub_author: str
    level: str  # "exact" (type + all sizes), "shape" (sizes without type), "vocab" (vocab size only)
    matched: tuple[str, ...]


@lru_cache(maxsize=1)
def signatures() -> tuple[dict[str, Any], ...]:
    """The packaged signature table (read once)."""
    from modeldossier.provenance.registry import data_dir

    path = data_dir() / SIGNATURES_FILE
    try:
        return tuple(yaml.safe_load(path.read_text(encoding="utf-8"))["signatures"])
    except (OSError, yaml.YAMLError, KeyError, TypeError) as exc:
        raise DossierError(f"cannot read {path}: {exc}") from None


def signatures_version() -> str:
    """Version of the packaged signature table."""
    from modeldossier.provenance.registry import data_dir

    return str(yaml.safe_load((data_dir() / SIGNATURES_FILE).read_text(encoding="utf-8"))["version"])


def normalized(config: dict[str, Any]) -> dict[str, Any]:
    """The config's shape under canonical key names (missing keys omitted; kv heads default to heads)."""
    out: dict[str, Any] = {}
    for key, names in _ALIASES.items():
        for name in names:
            if isinstance(config.get(name), int) and not isinstance(config.get(name), bool):
                out[key] = config[name]
                break
    if "num_key_value_heads" not in out and "num_attention_heads" in out:
        out["num_key_value_heads"] = out["num_attention_heads"]
    if isinstance(config.get("model_type"), str):
        out["model_type"] = config["model_type"]
    rope = config.get("rope_theta")
    if isinstance(rope, int | float) and not isinstance(rope, bool) and abs(rope) < 1e300:  # float(10**400) raises
        out["rope_theta"] = float(rope)
    return out


def match(config: dict[str, Any]) -> list[SignatureMatch]:
    """Known signatures this config matches, best level first; empty when the shape is unknown."""
    shape = normalized(config)
    if len(shape) < 2:
        return []
    results = []
    for sig in signatures():
        expected_kv = sig.get("num_key_value_heads") or sig["num_attention_heads"]
        wanted = {**{k: sig[k] for k in SHAPE_KEYS if k != "num_key_value_heads"}, "num_key_value_heads": expected_kv}
        same = tuple(k for k in SHAPE_KEYS if k in shape and shape[k] == wanted[k])
        rope_known = "rope_theta" in shape and sig.get("rope_theta") is not None
        rope_same = rope_known and abs(shape["rope_theta"] - float(sig["rope_theta"])) < 1e-6
        if rope_same:
            same = (*same, "rope_theta")
        if all(k in same for k in SHAPE_KEYS):
            exact = shape.get("model_type") == sig["model_type"] and (rope_same or not rope_known)
            level = "exact" if exact else "shape"
        elif "vocab_size" in same:
            level = "vocab"
        else:
            continue
        results.append(SignatureMatch(sig["name"], sig["family"], sig["hub_author"], level, same))
    order = {"exact": 0, "shape": 1, "vocab": 2}
    return sorted(results, key=lambda m: order[m.level])
