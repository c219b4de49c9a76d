"""Fit the censorship linear model from labeled responses (used by bench/ and to rebuild shipped weights)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression

from modeldossier.censorship import linear
from modeldossier.censorship.features import DENSE_NAMES

SCALE_FLOOR = 0.5


def fit(
    texts: Sequence[str],
    dense: np.ndarray,
    labels: Sequence[str],
    *,
    c: float = 8.0,
    dense_weight: float = 0.5,
    min_df: int = 2,
    class_weight: str | dict | None = None,
    ngram_range: tuple[int, int] = linear.NGRAM_RANGE,
    n_features: int = linear.N_FEATURES,
    meta: dict | None = None,
    counts: sparse.csr_matrix | None = None,
) -> linear.LinearModel:
    """Train a multinomial logistic regression on char n-gram tf-idf + standardised dense features.

    ``counts`` (``linear.hash_counts`` of ``texts``, computed once by a caller that fits many folds) saves hashing.
    """
    if counts is None:
        counts = linear.hash_counts(texts, ngram_range, n_features)
    df = np.bincount(counts.indices, minlength=n_features)
    n = counts.shape[0]
    idf = (np.log((1 + n) / (1 + df)) + 1).astype(np.float32)
    idf[df < min_df] = 0.0
    x_text = linear.tf_idf(counts, idf)
    dense = np.asarray(dense, dtype=np.float32)
    mean = dense.mean(axis=0)
    # a floor on the scale keeps rare binary features (seen in one model's outputs) from dominating
    scale = np.maximum(dense.std(axis=0), SCALE_FLOOR) / dense_weight
    # only n-grams with a non-zero idf can carry weight: fitting on those columns alone gives the same model and
    # keeps the optimiser's vectors small (its per-iteration cost grows with the number of parameters)
    active = np.flatnonzero(idf)
    x = sparse.hstack([x_text[:, active], sparse.csr_matrix((dense - mean) / scale)]).tocsr()
    classes = sorted(set(labels))
    # newton-cg: same objective as lbfgs, about 3x faster here (lbfgs spends its time in the optimiser's own
    # vector updates over the many n-gram weights) and as accurate on held-out rows
    clf = LogisticRegression(C=c, max_iter=500, tol=1e-3, class_weight=class_weight, solver="newton-cg")
    clf.fit(x, list(labels))
    order = [list(clf.classes_).index(k) for k in classes]
    coef = clf.coef_[order].T.astype(np.float32)
    if len(classes) == 2:  # binary LR has one row; expand to two symmetric columns
        coef = np.hstack([-clf.coef_.T, clf.coef_.T]).astype(np.float32)
        intercept = np.array([-clf.intercept_[0], clf.intercept_[0]], dtype=np.float32)
    else:
        intercept = clf.intercept_[order].astype(np.float32)
    coef_text = np.zeros((n_features, len(classes)), dtype=np.float32)
    coef_text[active] = coef[: active.size]
    return linear.LinearModel(
        labels=classes, idf=idf, coef_text=coef_text, coef_dense=coef[active.size :], dense_mean=mean,
        dense_scale=scale, intercept=intercept, dense_names=list(DENSE_NAMES),
        meta={"c": c, "dense_weight": dense_weight, "min_df": min_df, "n_train": n,
              "class_weight": class_weight if isinstance(class_weight, str | type(None)) else "custom",
              **(meta or {})},
        ngram_range=ngram_range,
    )


def fit_head(vectors: np.ndarray, labels: Sequence[str], *, c: float = 4.0, fuse_weight: float = 0.5,
             meta: dict | None = None) -> linear.EmbeddingHead:
    """Train the sentence-embedding head (multinomial LR on unit vectors)."""
    classes = sorted(set(labels))
    if len(classes) < 3:
        raise ValueError(f"the embedding head needs at least three labels to train, got {classes}")
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(np.asarray(vectors, dtype=np.float32), list(labels))
    order = [list(clf.classes_).index(k) for k in classes]
    return linear.EmbeddingHead(labels=classes, coef=clf.coef_[order].T.astype(np.float32),
                                intercept=clf.intercept_[order].astype(np.float32),
                                meta={"c": c, "fuse_weight": fuse_weight, "n_train": len(labels), **(meta or {})})
