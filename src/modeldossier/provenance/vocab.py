"""Vocabulary overlap against reference vocabularies: set overlap (Jaccard) and positional overlap.

Positional overlap (same token at the same id) separates *reuse* of a vocabulary (Phi-3 reuses Llama-2's) from
*shared ancestry* (Qwen2 and Llama-3 share 64% of their tokens at unrelated ids). The package ships compact
hashed sketches of the 16 llama.cpp reference vocabularies (no token text): a bottom-k sketch of 64-bit token
hashes for Jaccard and the hashes at a fixed sample of ids for positional overlap. `compare_exact` computes
both numbers exactly from two full token lists (used for validation and with a user-supplied reference folder).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from modeldossier.errors import DossierError
from modeldossier.provenance.models import VocabMatch

REFERENCES_FILE = "vocab_references.json"
SKETCHES_FILE = "vocab_sketches.npz"
SKETCH_K = 2048
POSITIONS = 2048
REUSE = 0.99
MIN_POSITIONS = 32  # sampled ids inside both vocabularies needed to estimate the same-id fraction
SHARED = 0.5
RENUMBERED = 0.75  # set overlap of a vocabulary whose ids were reordered (pruned, renumbered)
RENUMBERED_MARGIN = 0.1  # ... ahead of the best reference with a different vocabulary


def token_hashes(tokens: list[str]) -> np.ndarray:
    """64-bit blake2b hash of each token's UTF-8 bytes, by id."""
    blake = hashlib.blake2b
    digests = b"".join([blake(token.encode("utf-8"), digest_size=8).digest() for token in tokens])
    return np.frombuffer(digests, dtype="<u8").astype(np.uint64)


def positions_sample(n: int, k: int = POSITIONS) -> np.ndarray:
    """A fixed, evenly spaced sample of ids in [0, n) (all ids when n <= k)."""
    if n <= k:
        return np.arange(n, dtype=np.int64)
    return np.unique(np.linspace(0, n - 1, k).round().astype(np.int64))


@dataclass(frozen=True)
class Reference:
    """One reference vocabulary: its facts and its hashed sketch."""

    info: dict[str, Any]
    bottomk: np.ndarray
    pos_ids: np.ndarray
    pos_hashes: np.ndarray

    @property
    def name(self) -> str:
        return self.info["name"]


def _data_dir() -> Path:
    from modeldossier.provenance.registry import data_dir

    return data_dir()


@lru_cache(maxsize=1)
def references() -> tuple[Reference, ...]:
    """The packaged reference sketches (read once)."""
    directory = _data_dir()
    try:
        doc = json.loads((directory / REFERENCES_FILE).read_text(encoding="utf-8"))
        with np.load(directory / SKETCHES_FILE, allow_pickle=False) as arrays:
            return tuple(
                Reference(info=ref, bottomk=arrays[f"{ref['name']}.bottomk"], pos_ids=arrays[f"{ref['name']}.pos_ids"],
                          pos_hashes=arrays[f"{ref['name']}.pos_hashes"])
                for ref in doc["references"]
            )
    except (OSError, ValueError, KeyError) as exc:
        raise DossierError(f"reference vocabulary data unreadable in {directory}: {exc}") from None


def references_version() -> str:
    """Version string of the packaged reference data."""
    return json.loads((_data_dir() / REFERENCES_FILE).read_text(encoding="utf-8"))["version"]


def relation(set_overlap: float, positional: float, identical: bool = False) -> str:
    """Name the relation between two vocabularies from their overlaps."""
    if identical:
        return "identical"
    if positional >= REUSE:
        return "reuse"
    if set_overlap >= SHARED:
        return "shared-ancestry"
    return "unrelated"


@dataclass(frozen=True)
class SubjectVocab:
    """A subject vocabulary prepared for comparison (hashes by id, sorted unique hashes)."""

    hashes: np.ndarray
    unique: np.ndarray
    tokens_hash: str | None

    @classmethod
    def from_tokens(cls, tokens: list[str | None], tokens_hash: str | None = None) -> SubjectVocab:
        hashes = token_hashes([t or "" for t in tokens])
        return cls(hashes=hashes, unique=np.unique(hashes), tokens_hash=tokens_hash)


def compare_sketch(subject: SubjectVocab, ref: Reference) -> VocabMatch:
    """Estimated overlaps of ``subject`` with one packaged reference."""
    sub_k = subject.unique[:SKETCH_K]
    union = np.union1d(sub_k, ref.bottomk)[:SKETCH_K]
    both = np.intersect1d(np.intersect1d(union, sub_k, assume_unique=True), ref.bottomk, assume_unique=True)
    jaccard = float(len(both) / len(union)) if len(union) else 0.0
    n_sub, n_ref = len(subject.hashes), int(ref.info["n_tokens"])
    valid = ref.pos_ids < n_sub
    matches = int(np.count_nonzero(subject.hashes[ref.pos_ids[valid]] == ref.pos_hashes[valid]))
    matched_ids = matches / max(len(ref.pos_ids), 1) * n_ref
    positional = min(1.0, matched_ids / max(min(n_sub, n_ref), 1))
    if np.count_nonzero(valid) < MIN_POSITIONS:  # a toy vocabulary: a few matching ids say nothing
        positional = 0.0
    identical = subject.tokens_hash is not None and subject.tokens_hash == ref.info["tokens_hash"]
    return VocabMatch(reference=ref.name, family=ref.info["family"], set_overlap=round(jaccard, 4),
                      positional_overlap=round(positional, 4),
                      relation=relation(jaccard, positional, identical))  # type: ignore[arg-type]


def compare_all(subject: SubjectVocab) -> list[VocabMatch]:
    """Overlaps with every packaged reference, best first (relation, then positional, then set overlap).

    When no reference is reused in place, a reference whose token set overlaps by at least RENUMBERED, ahead of
    every reference with a different token set by RENUMBERED_MARGIN, is marked `renumbered`: the same tokens
    with the positions gone (a pruned or reordered vocabulary)."""
    matches = [compare_sketch(subject, ref) for ref in references()]
    _mark_renumbered(matches)
    strength = {"identical": 4, "reuse": 3, "renumbered": 2, "shared-ancestry": 1, "unrelated": 0}
    return sorted(matches, key=lambda m: (strength[m.relation], m.positional_overlap, m.set_overlap), reverse=True)


def _mark_renumbered(matches: list[VocabMatch]) -> None:
    if not matches or any(m.relation in ("identical", "reuse") for m in matches):
        return
    by_set = sorted(matches, key=lambda m: m.set_overlap, reverse=True)
    top = by_set[0]
    tied = [m for m in by_set if top.set_overlap - m.set_overlap < 0.005]
    rest = [m.set_overlap for m in by_set if m not in tied]
    runner_up = rest[0] if rest else 0.0
    if top.set_overlap >= RENUMBERED and top.set_overlap - runner_up >= RENUMBERED_MARGIN:
        for m in tied:
            m.relation = "renumbered"


def continues(subject: SubjectVocab, ref: Reference, start: int) -> tuple[int, int]:
    """(sampled ids in [start, min(len(subject), len(ref))), how many of them hold the reference's token): does
    the subject go on with the reference's tokens past ``start``?"""
    end = min(len(subject.hashes), int(ref.info["n_tokens"]))
    inside = (ref.pos_ids >= start) & (ref.pos_ids < end)
    ids = ref.pos_ids[inside]
    return int(len(ids)), int(np.count_nonzero(subject.hashes[ids] == ref.pos_hashes[inside]))


def compare_exact(tokens_a: list[str | None], tokens_b: list[str | None]) -> tuple[float, float]:
    """Exact (Jaccard of token sets, same-token-same-id fraction of the shorter vocabulary)."""
    set_a, set_b = {t for t in tokens_a if t}, {t for t in tokens_b if t}
    union = len(set_a | set_b)
    jaccard = len(set_a & set_b) / union if union else 0.0
    n = min(len(tokens_a), len(tokens_b))
    same = sum(1 for a, b in zip(tokens_a[:n], tokens_b[:n], strict=True) if a and a == b)
    return jaccard, (same / n if n else 0.0)
