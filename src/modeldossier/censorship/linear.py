"""A linear text classifier over hashed character n-grams + dense pattern features, stored as a plain NPZ.

The artifact holds only numeric and fixed-width string arrays (loaded with ``allow_pickle=False``):
hashed feature ids, idf weights and coefficients. The n-gram hashing is our own
deterministic numpy code, so no vocabulary object is ever deserialised.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy import sparse

from modeldossier.errors import DossierError

N_FEATURES = 2**18
NGRAM_RANGE = (1, 3)
FORMAT = "modeldossier-censorship-linear/1"


@contextmanager
def _open_npz(path: Path, fmt: str, what: str) -> Iterator[np.lib.npyio.NpzFile]:
    """Open a plain NPZ of format ``fmt`` (never unpickles); any read or schema error becomes a DossierError."""
    try:
        with np.load(path, allow_pickle=False) as z:
            if str(z["format"]) != fmt:
                raise DossierError(f"{path}: not {what} file ({z['format']})")
            yield z
    except (OSError, KeyError, ValueError) as exc:
        raise DossierError(f"cannot read {what} {path}: {exc}") from None


_MULT = np.uint64(0x100000001B3)
_MIX1 = np.uint64(0xFF51AFD7ED558CCD)
_MIX2 = np.uint64(0xC4CEB9FE1A85EC53)


def hash_counts(
    texts: Sequence[str], ngram_range: tuple[int, int] = NGRAM_RANGE, n_features: int = N_FEATURES
) -> sparse.csr_matrix:
    """Counts of hashed, lower-cased character n-grams (vectorised numpy; works for Chinese: no segmentation).

    Deterministic across platforms: an FNV-style polynomial over code points, finalised with the
    MurmurHash3 64-bit mixer, modulo ``n_features``.
    """
    lo, hi = ngram_range
    arrays = [np.frombuffer(t.lower().encode("utf-32-le", "surrogatepass"), dtype=np.uint32) for t in texts]
    lengths = np.fromiter((a.size for a in arrays), dtype=np.int64, count=len(arrays))
    if not arrays or lengths.sum() == 0:
        return sparse.csr_matrix((len(arrays), n_features), dtype=np.float32)
    chars = np.concatenate(arrays).astype(np.uint64)
    doc = np.repeat(np.arange(len(arrays), dtype=np.int64), lengths)
    total = chars.size
    rows, cols = [], []
    with np.errstate(over="ignore"):
        for n in range(lo, hi + 1):
            if total < n:
                break
            m = total - n + 1
            h = np.full(m, np.uint64(n), dtype=np.uint64)
            for k in range(n):
                h = (h * _MULT) ^ chars[k : k + m]
            h ^= h >> np.uint64(33)
            h *= _MIX1
            h ^= h >> np.uint64(33)
            h *= _MIX2
            h ^= h >> np.uint64(33)
            valid = doc[:m] == doc[n - 1 :]
            rows.append(doc[:m][valid])
            cols.append((h[valid] % np.uint64(n_features)).astype(np.int64))
    r = np.concatenate(rows)
    c = np.concatenate(cols)
    x = sparse.coo_matrix((np.ones(r.size, dtype=np.float32), (r, c)), shape=(len(arrays), n_features))
    return x.tocsr()


def tf_idf(counts: sparse.csr_matrix, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear tf x idf, then L2-normalise each row (on a copy, without intermediate matrices)."""
    x = counts.tocsr(copy=True)
    np.log1p(x.data, out=x.data)
    x.data *= idf[x.indices]
    lengths = np.diff(x.indptr)
    rows = np.repeat(np.arange(x.shape[0]), lengths)
    norms = np.sqrt(np.bincount(rows, weights=x.data.astype(np.float64) ** 2, minlength=x.shape[0]))
    norms[norms == 0] = 1.0
    x.data /= norms[rows].astype(x.data.dtype)
    return x


@dataclass
class LinearModel:
    """Multinomial linear model: scores = text_tfidf @ coef_text + scaled_dense @ coef_dense + intercept."""

    labels: list[str]
    idf: np.ndarray  # (N_FEATURES,) float32, zero for unseen / pruned n-grams
    coef_text: np.ndarray  # (N_FEATURES, C) float32
    coef_dense: np.ndarray  # (D, C)
    dense_mean: np.ndarray
    dense_scale: np.ndarray
    intercept: np.ndarray  # (C,)
    dense_names: list[str]
    meta: dict
    ngram_range: tuple[int, int] = NGRAM_RANGE

    def decision(self, texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """Raw class scores, shape (len(texts), C)."""
        counts = hash_counts(texts, self.ngram_range, len(self.idf))
        x = tf_idf(counts, self.idf)
        d = (np.asarray(dense, dtype=np.float32) - self.dense_mean) / self.dense_scale
        return np.asarray(x @ self.coef_text) + d @ self.coef_dense + self.intercept

    def proba(self, texts: Sequence[str], dense: np.ndarray) -> np.ndarray:
        """Softmax probabilities per class."""
        s = self.decision(texts, dense)
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        """Write the compact NPZ (only n-grams with a non-zero idf are stored)."""
        idx = np.flatnonzero(self.idf).astype(np.int32)
        np.savez_compressed(
            path,
            format=np.array(FORMAT),
            labels=np.array(self.labels),
            dense_names=np.array(self.dense_names),
            hash_index=idx,
            idf=self.idf[idx].astype(np.float16),
            coef_text=self.coef_text[idx].astype(np.float16),
            coef_dense=self.coef_dense.astype(np.float32),
            dense_mean=self.dense_mean.astype(np.float32),
            dense_scale=self.dense_scale.astype(np.float32),
            intercept=self.intercept.astype(np.float32),
            n_features=np.array(len(self.idf), dtype=np.int64),
            ngram_range=np.array(self.ngram_range, dtype=np.int64),
            meta=np.array(json.dumps(self.meta, sort_keys=True)),
        )

    @classmethod
    def load(cls, path: Path) -> LinearModel:
        """Read an NPZ written by ``save`` (never unpickles; rejects anything else with a DossierError)."""
        with _open_npz(path, FORMAT, "a censorship classifier") as z:
            n = int(z["n_features"])
            idx = z["hash_index"].astype(np.int64)
            if idx.size and (idx.min() < 0 or idx.max() >= n):
                raise DossierError(f"{path}: feature index out of range")
            idf = np.zeros(n, dtype=np.float32)
            idf[idx] = z["idf"].astype(np.float32)
            labels = [str(s) for s in z["labels"]]
            coef = np.zeros((n, len(labels)), dtype=np.float32)
            coef[idx] = z["coef_text"].astype(np.float32)
            lo, hi = (int(v) for v in z["ngram_range"])
            return cls(
                labels=labels, idf=idf, coef_text=coef, coef_dense=z["coef_dense"],
                dense_mean=z["dense_mean"], dense_scale=z["dense_scale"], intercept=z["intercept"],
                dense_names=[str(s) for s in z["dense_names"]], meta=json.loads(str(z["meta"])),
                ngram_range=(lo, hi),
            )


HEAD_FORMAT = "modeldossier-censorship-embedding-head/1"


@dataclass
class LowRank:
    """A low-rank update of one encoder weight: W (out, in) += scale * b @ a."""

    name: str  # e.g. "encoder.layer.3.attention.self.query"
    a: np.ndarray  # (r, in)
    b: np.ndarray  # (out, r)
    scale: float


@dataclass
class EmbeddingHead:
    """A linear head over sentence embeddings (optionally of an encoder with low-rank updates), fused with the
    n-gram model's probabilities."""

    labels: list[str]
    coef: np.ndarray  # (dim, C)
    intercept: np.ndarray  # (C,)
    meta: dict  # embedder sha256, fusion weight, tokens read, training note
    low_rank: list[LowRank] = field(default_factory=list)

    def proba(self, vectors: np.ndarray) -> np.ndarray:
        """Softmax probabilities per class for (n, dim) embeddings."""
        s = np.asarray(vectors, dtype=np.float32) @ self.coef + self.intercept
        s = s - s.max(axis=1, keepdims=True)
        e = np.exp(s)
        return e / e.sum(axis=1, keepdims=True)

    def save(self, path: Path) -> None:
        """Write the head as a plain NPZ."""
        arrays = {f"lr_{k}_{i}": getattr(u, k).astype(np.float16)
                  for i, u in enumerate(self.low_rank) for k in ("a", "b")}
        np.savez_compressed(path, format=np.array(HEAD_FORMAT), labels=np.array(self.labels),
                            coef=self.coef.astype(np.float32), intercept=self.intercept.astype(np.float32),
                            meta=np.array(json.dumps(self.meta, sort_keys=True)),
                            lr_names=np.array([u.name for u in self.low_rank], dtype=str),
                            lr_scales=np.array([u.scale for u in self.low_rank], dtype=np.float32), **arrays)

    @classmethod
    def load(cls, path: Path) -> EmbeddingHead:
        """Read an NPZ written by ``save`` (never unpickles)."""
        with _open_npz(path, HEAD_FORMAT, "an embedding head") as z:
            names = [str(s) for s in z["lr_names"]] if "lr_names" in z.files else []
            low_rank = [LowRank(name, z[f"lr_a_{i}"].astype(np.float32), z[f"lr_b_{i}"].astype(np.float32),
                                float(z["lr_scales"][i])) for i, name in enumerate(names)]
            head = cls(labels=[str(s) for s in z["labels"]], coef=z["coef"].astype(np.float32),
                       intercept=z["intercept"].astype(np.float32), meta=json.loads(str(z["meta"])),
                       low_rank=low_rank)
        if head.coef.ndim != 2 or head.coef.shape[1] != len(head.labels) or head.intercept.shape != (len(head.labels),):
            raise DossierError(f"{path}: embedding head shapes do not match its labels")
        for u in head.low_rank:
            if u.a.ndim != 2 or u.b.ndim != 2 or u.a.shape[0] != u.b.shape[1]:
                raise DossierError(f"{path}: low-rank update {u.name} has inconsistent shapes")
        return head
