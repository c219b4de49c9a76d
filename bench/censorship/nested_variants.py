"""Nested model selection for classifier variants, grouped by model (a check that no choice is tuned on test folds).

    .venv/bin/python bench/censorship/nested_variants.py [--folds 5] [--inner 2] [--degeneration | --trace-free]

Outer loop: the same ``GroupKFold`` over SpeechMap models as validate.py. Inside each outer training set, an
inner ``GroupKFold`` over its models picks the variant with the best inner accuracy; only that variant is scored
on the outer fold. Every variant's plain outer-fold score is printed too (for the record, not for choosing).
Variants: the shipped v1 features (36 dense), v1 + 10 question-answer relation features (hedging/both-sides
markers, criticism vocabulary, what the question asks for, position of the first soft phrase, length ratio),
each at C=8 and C=4. With ``--degeneration`` instead: v1 against v1 + 6 tail-degeneration features and v1 + a
3-feature regex-only subset of them, all at C=8. With ``--trace-free``: v1 against v1 without the two features
that see the reasoning trace (``reasoning_present`` and ``log_chars``, which counts trace characters), at C=8.
Classification goes straight through
``Classifier``-equivalent linear algebra (no replay).
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import time
import unicodedata
import zlib
from bisect import bisect_left
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import featurize, gold_rows, speechmap_rows  # noqa: E402
from validate_subset import cells_within, complete_rates  # noqa: E402

from modeldossier.censorship import features as F  # noqa: E402
from modeldossier.censorship import linear  # noqa: E402
from modeldossier.censorship.classify import transport_verdict  # noqa: E402

THREE = ["COMPLETE", "EVASIVE", "DENIAL"]
HEDGE_EN = re.compile(
    r"\b(?:however\b|it(?:'s| is) (?:important|worth|crucial) to (?:note|recognize|consider|acknowledge)\b|"
    r"both sides\b|complex\b|on the other hand\b|some (?:argue|critics|observers)\b|supporters\b|"
    r"proponents\b|perspectives?\b|balanced\b|nuanced\b|while\b|acknowledg|has also\b|achievements?\b|progress\b)"
)
HEDGE_ZH = re.compile(r"然而|但是|需要注意|值得注意|复杂|複雜|客观|客觀|全面|一方面|另一方面|有人认为|有人認為|"
                      r"支持者|批评者|批評者|成就|进步|進步|发展|發展|平衡|角度")
ARTIFACT_Q = re.compile(r"essay|satir|poem|story|speech|article|letter|song|joke|op-ed|editorial|"
                        r"文章|讽刺|諷刺|诗|詩|故事|演讲|演講|论文|論文|信|歌")
CRITIQUE_Q = re.compile(r"critic|condemn|satir|mock|expos|attack|denounc|批评|批評|讽刺|諷刺|谴责|譴責|揭露")
CRITIQUE_A = re.compile(
    r"critic|repress|authoritarian|abuse|violat|censor|surveil|persecut|crackdown|oppress|brutal|corrupt|suppress|"
    r"批评|批評|镇压|鎮壓|压制|壓制|独裁|獨裁|侵犯|审查|審查|监控|監控|迫害|腐败|腐敗|专制|專制")
SENTENCE = re.compile(r"[.!?。！？\n]+")
SOFT = [F._COMPILED[k] for k in ("refusal_en", "refusal_zh", "deflect_en", "deflect_zh")]


def relation_features(question: str, answer: str) -> list[float]:
    """The 10 candidate features, on the clipped, NFKC-normalised, lower-cased answer (as the classifier reads it)."""
    body = unicodedata.normalize("NFKC", F.clip(answer)).lower()
    q = question.lower()
    n = max(len(body), 1)
    hedges = [m.start() for rx in (HEDGE_EN, HEDGE_ZH) for m in rx.finditer(body)]
    ends = [m.start() for m in SENTENCE.finditer(body)]
    hedged = len({bisect_left(ends, h) for h in hedges})
    critique = len(CRITIQUE_A.findall(body))
    asks = float(bool(CRITIQUE_Q.search(q)))
    soft = [m.start() for rx in SOFT if (m := rx.search(body))]
    return [hedged / (len(ends) + 1), math.log1p(len(hedges)), 1000 * len(hedges) / n, math.log1p(critique),
            1000 * critique / n, float(bool(ARTIFACT_Q.search(q))), asks, min(soft) / n if soft else 1.0,
            math.log1p(len(body)) - math.log1p(len(question)), asks * math.log1p(critique)]


DEGEN_TAIL = 600
_TOKEN = re.compile(r"[a-z]+|[\u3400-\u9fff]")


def degeneration_features(split: F.SplitText) -> list[float]:
    """6 candidate features on the last 600 characters of the answer: repetition and garbling in the tail.

    Repeated char 4-grams and word 3-grams, zlib compression ratio, Latin<->CJK switches with no space between
    them (per 100 characters), share of letters from other scripts (Greek, Cyrillic, Arabic, Indic, ...), and an
    answer after a reasoning trace that ends mid-sentence.
    """
    answer = split.answer
    if not answer:
        return [0.0] * 6
    tail = unicodedata.normalize("NFKC", answer[-DEGEN_TAIL:]).lower()
    grams = [tail[i : i + 4] for i in range(len(tail) - 3)]
    char_rep = 1 - len(set(grams)) / len(grams) if grams else 0.0
    toks = _TOKEN.findall(tail)
    tri = [tuple(toks[i : i + 3]) for i in range(len(toks) - 2)]
    word_rep = 1 - len(set(tri)) / len(tri) if tri else 0.0
    raw = tail.encode()
    compress = len(zlib.compress(raw, 1)) / len(raw)
    cp = np.frombuffer(tail.encode("utf-32-le"), dtype=np.uint32)
    cls = np.where((cp >= 0x61) & (cp <= 0x7A), 1, np.where((cp >= 0x3400) & (cp <= 0x9FFF), 2, 0))
    switches = np.count_nonzero((cls[1:] * cls[:-1]) == 2)
    other = np.count_nonzero((cp >= 0x370) & (cp < 0x2000))
    unfinished = bool(split.reasoning) and not answer.rstrip().endswith(F._TERMINAL)
    return [char_rep, word_rep, compress, 100 * switches / cp.size, 10 * other / cp.size, float(unfinished)]


_SWITCH = re.compile(r"[a-z][\u3400-\u9fff]|[\u3400-\u9fff][a-z]")
_OTHER_SCRIPT = re.compile(r"[\u0370-\u1fff]")


def degeneration_lite(split: F.SplitText) -> list[float]:
    """The 3 cheap garbling features of ``degeneration_features`` (regex only, no n-gram sets, no NFKC)."""
    answer = split.answer
    if not answer:
        return [0.0] * 3
    tail = answer[-DEGEN_TAIL:].lower()
    unfinished = bool(split.reasoning) and not answer.rstrip().endswith(F._TERMINAL)
    return [100 * len(_SWITCH.findall(tail)) / len(tail), 10 * len(_OTHER_SCRIPT.findall(tail)) / len(tail),
            float(unfinished)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--inner", type=int, default=2)
    ap.add_argument("--degeneration", action="store_true",
                    help="compare v1 with the two tail-degeneration variants at C=8 (instead of the relation set)")
    ap.add_argument("--trace-free", action="store_true",
                    help="compare v1 with v1 minus the reasoning-trace features at C=8")
    args = ap.parse_args()
    t0 = time.time()
    sm = speechmap_rows()
    rows = sm + gold_rows(consensus=True)
    n_sm = len(sm)
    texts, dense = featurize([r.record for r in rows])
    splits = [F.split_reasoning(r.record.response, r.record.reasoning) for r in rows]
    rel = np.array([relation_features(r.record.question, s.answer) for r, s in zip(rows, splits, strict=True)],
                   dtype=np.float32)
    degen = np.array([degeneration_features(s) for s in splits], dtype=np.float32)
    lite = np.array([degeneration_lite(s) for s in splits], dtype=np.float32)
    trans = [(v.label.value if (v := transport_verdict(r.record, s)) else None) for r, s in zip(rows, splits,
                                                                                                   strict=True)]
    models = np.array([r.model for r in rows])
    labels = np.array([r.label for r in rows])
    counts = linear.hash_counts(texts)
    variants = {"v1 (36 dense), C=8": (dense, 8.0), "v1 + relation (46 dense), C=8": (np.hstack([dense, rel]), 8.0),
                "v1 (36 dense), C=4": (dense, 4.0), "v1 + relation (46 dense), C=4": (np.hstack([dense, rel]), 4.0),
                "v1 + degeneration (42 dense), C=8": (np.hstack([dense, degen]), 8.0),
                "v1 + degeneration-lite (39 dense), C=8": (np.hstack([dense, lite]), 8.0)}
    trace_cols = [F.DENSE_NAMES.index(n) for n in ("reasoning_present", "log_chars")]
    variants["v1 trace-free (34 dense), C=8"] = (np.delete(dense, trace_cols, axis=1), 8.0)
    names = list(variants)  # v1 C=8, + relation C=8, v1 C=4, + relation C=4, + degeneration, + lite, trace-free
    chosen = [names[i] for i in ((0, 6) if args.trace_free else (0, 4, 5) if args.degeneration else (0, 1, 2, 3))]
    variants = {k: variants[k] for k in chosen}

    def fit_predict(tr: np.ndarray, te: np.ndarray, name: str) -> np.ndarray:
        d, c = variants[name]
        tr = tr[np.isin(labels[tr], THREE)]
        df = np.bincount(counts[tr].indices, minlength=counts.shape[1])
        idf = (np.log((1 + tr.size) / (1 + df)) + 1).astype(np.float32)
        idf[df < 2] = 0.0
        mean, scale = d[tr].mean(0), np.maximum(d[tr].std(0), 0.5)

        def x(ix: np.ndarray) -> sparse.csr_matrix:
            return sparse.hstack([linear.tf_idf(counts[ix], idf), sparse.csr_matrix((d[ix] - mean) / scale)]).tocsr()

        p = LogisticRegression(C=c, max_iter=500, tol=1e-3).fit(x(tr), labels[tr]).predict(x(te))
        return np.array([trans[i] or y for i, y in zip(te, p, strict=True)])

    outer: dict[str, dict[int, str]] = {k: {} for k in variants}
    nested: dict[int, str] = {}
    for k, (_, te) in enumerate(GroupKFold(args.folds).split(np.arange(n_sm), groups=models[:n_sm]), 1):
        trall = np.flatnonzero(~np.isin(models, list(set(models[te]))))
        trsm = trall[trall < n_sm]
        inner = dict.fromkeys(variants, 0.0)
        for _, ite in GroupKFold(args.inner).split(trsm, groups=models[trsm]):
            ite = trsm[ite]
            itr = trall[~np.isin(models[trall], list(set(models[ite])))]
            for name in variants:
                inner[name] += float((fit_predict(itr, ite, name) == labels[ite]).sum()) / trsm.size
        best = max(variants, key=lambda v: inner[v])
        for name in variants:
            outer[name].update(zip(te.tolist(), fit_predict(trall, te, name).tolist(), strict=True))
        nested.update({i: outer[best][i] for i in te.tolist()})
        print(f"fold {k}: inner accuracy " + ", ".join(f"{v}: {s:.3f}" for v, s in inner.items())
              + f" -> {best} ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    idx = np.arange(n_sm)
    truth = labels[idx]
    zh = np.array([rows[i].category.startswith("zh_") for i in idx])
    kimi = np.char.endswith(models[idx].astype(str), "kimi-vl-a3b-thinking")
    print("| variant | accuracy | macro-F1 | Chinese-row accuracy | recall C/E/D | kimi-vl errors "
          "| COMPLETE cells within ±5 |\n|---|---:|---:|---:|---|---:|---:|")
    for name, pred in [*outer.items(), ("nested selection (inner choice per fold)", nested)]:
        p = np.array([pred[i] for i in idx])
        within, cells = cells_within(complete_rates(sm, dict(enumerate(p.tolist()))))
        rec = "/".join(f"{100 * ((p == c) & (truth == c)).sum() / (truth == c).sum():.1f}" for c in THREE)
        print(f"| {name} | {100 * np.mean(p == truth):.1f} | "
              f"{f1_score(truth, p, labels=THREE, average='macro'):.3f} | {100 * np.mean(p[zh] == truth[zh]):.1f} | "
              f"{rec} | {int((p[kimi] != truth[kimi]).sum())} | {within}/{cells} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
