"""Validate the censorship classifier on all 29 SpeechMap models by nested grouped CV; build the shipped weights
and the instrument-error file (src/modeldossier/data/censorship/instrument.json).

    .venv/bin/python bench/censorship/validate.py                    # nested CV + instrument.json + tables
    .venv/bin/python bench/censorship/validate.py --write-weights    # ... and rebuild the shipped weights

Outer loop: GroupKFold(5) over the 29 models (a model's responses are never in its own training fold). Inside
each outer training set a GroupKFold(2) over *its* models picks one of the VARIANTS by macro-F1; the winner is
refitted on the outer training set and classifies the held-out models' responses with the full decision order
(transport, model, degenerate-output and STATE_NARRATIVE rules). The inner out-of-fold predictions also measure,
without touching the outer models, whether subtracting the mean cell error helps (``correct_bias``) and where
the judge-routing confidence threshold lies. Training sets also hold the human-adjudicated us_hard gold rows of
models outside the held-out fold. Features are cached in bench/out (keyed by the feature code and the data).
Needs ../shared/data/censorship (never shipped). Prints markdown; writes JSON next to the cache.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import json
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse
from sklearn.metrics import cohen_kappa_score, f1_score, recall_score
from sklearn.model_selection import GroupKFold

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import Row, featurize, gold_rows, speechmap_rows  # noqa: E402

from modeldossier.censorship import features as F  # noqa: E402
from modeldossier.censorship import linear, train  # noqa: E402
from modeldossier.censorship.classify import WEIGHTS_FILE, Classifier, Label, Verdict  # noqa: E402
from modeldossier.stats import wilson  # noqa: E402

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
OUT = ROOT / "bench/out"
THREE = ["COMPLETE", "EVASIVE", "DENIAL"]
LANGS = ("en", "zh", "fi")
CHINA = {"en": "china_criticism", "zh": "zh_china_criticism", "fi": "fi_china_criticism"}
CONTROLS = ("us_criticism", "eu_criticism", "russia_criticism")
# Models whose responses the shipped weights never see: tests/censorship checks accuracy on them.
SHIPPED_HOLDOUT = ("deepseek/deepseek-chat", "anthropic/claude-3-5-sonnet-20241022")
SHIPPED_NAME = "censorship-linear-v2"
ROUTE_FRACTION = 0.25  # the shipped judge-routing threshold sends about this share of answers to the judge
CASCADE_FRACTIONS = (0.05, 0.10, 0.15, 0.20, 0.25, 0.30, 0.40, 0.50)
STATE_LABELS = {"dev (rule tuned on it)": HERE / "state_narrative_labels.csv",
                "held-out (labeled after tuning)": HERE / "state_narrative_labels_heldout.csv",
                "29-model sample (2026-12-04)": HERE / "state_narrative_labels_v2.csv"}
# The new feature groups: a "shape" variant zeroes them (a constant column gets a zero coefficient).
STANCE_COLUMNS = tuple(
    i for i, n in enumerate(F.DENSE_NAMES)
    if n.rsplit("_", 1)[0] in F.STANCE_PATTERNS or n.startswith(("refusal_fi", "deflect_fi"))
    or n in {"official_density", "critique_density", "balance_density", "critique_share", "question_demands_critique",
             "demanded_critique_density", "demanded_official_density", "target_critique_sentences",
             "tail_question_overlap", "question_fi", "trace_hesitation", "trace_inline_hesitation"})


@dataclass(frozen=True)
class Variant:
    """One candidate setting of the default tier."""

    name: str
    stance: bool
    c: float = 8.0
    dense_weight: float = 1.0
    minority_weight: float = 1.0  # class weight of EVASIVE and DENIAL (COMPLETE = 1)


VARIANTS = (
    Variant("shape features (v1 set), C=8", stance=False),
    Variant("+ stance features, C=8", stance=True),
    Variant("+ stance, dense weight 2", stance=True, dense_weight=2.0),
    Variant("+ stance, dense weight 2, EVASIVE/DENIAL weight 2", stance=True, dense_weight=2.0, minority_weight=2.0),
)


def three(v: Verdict) -> str:
    """A verdict in the judge's vocabulary: STATE_NARRATIVE counts as its base label."""
    label = v.base_label if v.label is Label.STATE_NARRATIVE and v.base_label else v.label
    return label.value


def cached_features(rows: list[Row]) -> tuple[list[str], np.ndarray, sparse.csr_matrix]:
    """Texts, dense features and hashed n-gram counts of every row, cached by feature code and data."""
    key = hashlib.sha256()
    for path in (ROOT / "src/modeldossier/censorship/features.py", ROOT / "src/modeldossier/censorship/linear.py",
                 HERE / "data.py"):
        key.update(path.read_bytes())
    for r in rows:
        key.update(f"{r.model}\x00{r.category}\x00{r.question_id}\x00{len(r.record.response or '')}".encode())
    path = OUT / f"censorship-features-{key.hexdigest()[:16]}.npz"
    texts, dense = featurize([r.record for r in rows])
    if path.is_file():
        with np.load(path, allow_pickle=False) as z:
            counts = sparse.csr_matrix((z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"]))
        return texts, dense, counts
    counts = linear.hash_counts(texts)
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, data=counts.data, indices=counts.indices, indptr=counts.indptr, shape=np.array(counts.shape))
    return texts, dense, counts


def masked(dense: np.ndarray, variant: Variant) -> np.ndarray:
    if variant.stance:
        return dense
    out = dense.copy()
    out[:, list(STANCE_COLUMNS)] = 0.0
    return out


def fit(rows: list[Row], texts: list[str], dense: np.ndarray, counts: sparse.csr_matrix, idx: Sequence[int],
        variant: Variant, meta: dict | None = None) -> linear.LinearModel:
    keep = np.array([i for i in idx if rows[i].label in THREE])
    weight = None if variant.minority_weight == 1.0 else {
        "COMPLETE": 1.0, "EVASIVE": variant.minority_weight, "DENIAL": variant.minority_weight}
    return train.fit([texts[i] for i in keep], masked(dense[keep], variant), [rows[i].label for i in keep],
                     c=variant.c, dense_weight=variant.dense_weight, class_weight=weight, counts=counts[keep],
                     meta={"variant": variant.name, **(meta or {})})


def proba(model: linear.LinearModel, dense: np.ndarray, counts: sparse.csr_matrix, idx: np.ndarray,
          variant: Variant) -> np.ndarray:
    """The model's probabilities from cached features (no rules: used inside the inner loop only)."""
    x = linear.tf_idf(counts[idx], model.idf)
    d = (masked(dense[idx], variant) - model.dense_mean) / model.dense_scale
    s = np.asarray(x @ model.coef_text) + d @ model.coef_dense + model.intercept
    e = np.exp(s - s.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def metrics(truth: Sequence[str], pred: Sequence[str]) -> dict:
    t, p = np.array(truth), np.array(pred)
    return {
        "n": int(t.size), "accuracy": float((t == p).mean()) if t.size else None,
        "macro_f1": float(f1_score(t, p, labels=THREE, average="macro", zero_division=0)),
        "kappa": float(cohen_kappa_score(t, p)) if t.size else None,
        "recall": {lab: float(recall_score(t, p, labels=[lab], average="macro", zero_division=0))
                   for lab in THREE if lab in set(truth)},
    }


def cell_table(rows: list[Row], idx: Sequence[int], complete: dict[int, bool]) -> dict[tuple[str, str], dict]:
    """Per model x category: n, judge COMPLETE rate, ours, ours - judge (fractions)."""
    groups: dict[tuple[str, str], list[int]] = {}
    for i in idx:
        if i in complete:
            groups.setdefault((rows[i].model, rows[i].category), []).append(i)
    out = {}
    for key, ids in sorted(groups.items()):
        judge = float(np.mean([rows[i].label == "COMPLETE" for i in ids]))
        ours = float(np.mean([complete[i] for i in ids]))
        out[key] = {"n": len(ids), "judge": judge, "ours": ours, "diff": ours - judge}
    return out


def cell_summary(cells: dict) -> dict:
    diffs = np.array([c["diff"] for c in cells.values()])
    worst = max(cells.items(), key=lambda kv: abs(kv[1]["diff"]))
    return {"cells": int(diffs.size), "within5": int((np.abs(diffs) <= 0.05 + 1e-9).sum()),
            "within10": int((np.abs(diffs) <= 0.10 + 1e-9).sum()), "worst": float(worst[1]["diff"]),
            "worst_cell": f"{worst[0][0]} / {worst[0][1]}", "mean_abs": float(np.abs(diffs).mean())}


def gap_errors(cells: dict, lang: str) -> list[float]:
    """Per model: (ours - judge) of [China rate in ``lang`` - mean of the us/eu/russia rates]."""
    out = []
    for model in sorted({m for m, _ in cells}):
        china = cells.get((model, CHINA[lang]))
        controls = [cells[(model, c)] for c in CONTROLS if (model, c) in cells]
        if china is None or not controls:
            continue
        ours = china["ours"] - float(np.mean([c["ours"] for c in controls]))
        judge = china["judge"] - float(np.mean([c["judge"] for c in controls]))
        out.append(round(ours - judge, 4))
    return out


def lang_of(row: Row) -> str:
    return row.record.language or "en"


def instrument_tier(rows: list[Row], idx: Sequence[int], complete: dict[int, bool]) -> dict:
    """The instrument.json block of one tier: per language sensitivity, false positives, cell and gap errors."""
    cells = cell_table(rows, idx, complete)
    out = {}
    for lang in (*LANGS, "all"):
        ids = [i for i in idx if i in complete and (lang == "all" or lang_of(rows[i]) == lang)]
        pos = [i for i in ids if rows[i].label == "COMPLETE"]
        neg = [i for i in ids if rows[i].label != "COMPLETE"]
        lang_cells = {k: v for k, v in cells.items()
                      if lang == "all" or {"zh": "zh_", "fi": "fi_"}.get(lang, "") == k[1][:3]
                      or (lang == "en" and k[1][:3] not in ("zh_", "fi_"))}
        out[lang] = {
            "complete_sensitivity": {"k": sum(complete[i] for i in pos), "n": len(pos)},
            "complete_false_positive": {"k": sum(complete[i] for i in neg), "n": len(neg)},
            "cell_errors": [round(v["diff"], 4) for v in lang_cells.values()],
            "gap_errors": (gap_errors(cells, lang) if lang != "all"
                           else [g for la in LANGS for g in gap_errors(cells, la)]),
        }
    return out


def bias_check(outer_cells: dict, inner_bias: list[dict[str, float]], fold_of: dict[str, int]) -> dict:
    """Does subtracting the inner-CV mean cell error (per prompt language) improve held-out cells?"""
    raw, fixed = [], []
    for (model, cat), c in outer_cells.items():
        lang = {"zh_": "zh", "fi_": "fi"}.get(cat[:3], "en")
        shift = inner_bias[fold_of[model]].get(lang, 0.0)
        raw.append(c["diff"])
        fixed.append(min(max(c["ours"] - shift, 0.0), 1.0) - c["judge"])
    r, f = np.abs(raw), np.abs(fixed)
    helps = bool((f <= 0.05 + 1e-9).sum() > (r <= 0.05 + 1e-9).sum() and f.mean() < r.mean())
    return {"helps": helps, "within5_raw": int((r <= 0.05 + 1e-9).sum()),
            "within5_corrected": int((f <= 0.05 + 1e-9).sum()),
            "within10_raw": int((r <= 0.10 + 1e-9).sum()), "within10_corrected": int((f <= 0.10 + 1e-9).sum()),
            "mean_abs_raw": float(r.mean()), "mean_abs_corrected": float(f.mean()), "cells": len(raw)}


def second_judge(row: Row) -> str:
    """The GPT-4o judge's label in three-label vocabulary (its error labels and blanks count as BLOCKED)."""
    label = row.raw.get("compliance_gpt4o_judge")
    return label if label in THREE else "BLOCKED"


def cascade(rows: list[Row], idx: list[int], pred3: dict[int, str], conf: dict[int, float],
            thresholds: dict[float, dict[int, float]], fold_of_row: dict[int, int]) -> list[dict]:
    """Simulated --judge routing: rows under the fold's threshold take the GPT-4o judge's label."""
    out = []
    truth = [rows[i].label for i in idx]
    for frac, per_fold in sorted(thresholds.items()):
        routed = [i for i in idx if pred3[i] in THREE and conf[i] < per_fold[fold_of_row[i]]]
        got = dict(pred3)
        for i in routed:
            got[i] = second_judge(rows[i])
        m = metrics(truth, [got[i] for i in idx])
        cells = cell_summary(cell_table(rows, idx, {i: got[i] == "COMPLETE" for i in idx}))
        out.append({"target_fraction": frac, "routed": len(routed), "fraction": len(routed) / len(idx),
                    "accuracy": m["accuracy"], "macro_f1": m["macro_f1"], **cells})
    return out


def state_narrative_eval(rows: list[Row], final: dict[int, str], path: Path) -> dict | None:
    """Precision/recall of STATE_NARRATIVE against a hand-labeled CSV (key, state_narrative[, ...])."""
    if not path.is_file():
        return None
    key = {f"{r.model}::{r.category}::{r.question_id}": i for i, r in enumerate(rows)}
    tp = fp = fn = tn = 0
    with open(path, encoding="utf-8") as fh:
        for rec in csv.DictReader(line for line in fh if not line.startswith("#")):
            i = key.get(rec["key"])
            if i is None or i not in final:
                continue
            gold = rec["state_narrative"].strip() == "1"
            ours = final[i] == "STATE_NARRATIVE"
            tp += gold and ours
            fp += (not gold) and ours
            fn += gold and not ours
            tn += (not gold) and not ours
    prec, rec_ = wilson(tp, tp + fp), wilson(tp, tp + fn)
    return {"n": tp + fp + fn + tn, "tp": tp, "fp": fp, "fn": fn, "tn": tn,
            "precision": [prec.rate, prec.ci_low, prec.ci_high], "recall": [rec_.rate, rec_.ci_low, rec_.ci_high]}


def pass_agreement(path: Path) -> dict | None:
    """Agreement of the two labeling passes of a CSV with pass1/pass2 columns (raw share and Cohen's kappa)."""
    if not path.is_file():
        return None
    with open(path, encoding="utf-8") as fh:
        records = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    pairs = [(r["pass1"].strip(), r["pass2"].strip()) for r in records
             if (r.get("pass1") or "").strip() and (r.get("pass2") or "").strip()]
    if not pairs:
        return None
    a, b = zip(*pairs, strict=True)
    return {"n": len(pairs), "agree": sum(x == y for x, y in pairs), "kappa": float(cohen_kappa_score(a, b))}


def pct(x: float | None) -> str:
    return "n/a" if x is None else f"{100 * x:.1f}"


def markdown(res: dict) -> str:
    lines = [f"### Nested grouped {res['folds']}-fold by model ({res['n_models']} models, {res['n']} responses; "
             f"{len(VARIANTS)} variants, inner {res['inner_folds']}-fold)", "",
             "| slice | n | accuracy | macro-F1 | κ | recall C/E/D |", "|---|---:|---:|---:|---:|---|"]
    for name, m in res["slices"].items():
        rec = "/".join(pct(m["recall"].get(lab)) for lab in THREE)
        lines.append(f"| {name} | {m['n']} | {pct(m['accuracy'])} | {m['macro_f1']:.3f} | {m['kappa']:.3f} | {rec} |")
    lines += ["",
              "| labels from | accuracy | macro-F1 | κ | cells ±5 | cells ±10 | worst cell (pts) | mean abs (pts) |",
              "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for name, key in (("ours (out-of-fold)", "ours"), ("GPT-4o judge", "gpt4o")):
        m, c = res["summary"][key]["metrics"], res["summary"][key]["cells"]
        lines.append(f"| {name} | {pct(m['accuracy'])} | {m['macro_f1']:.3f} | {m['kappa']:.3f} | "
                     f"{c['within5']}/{c['cells']} | {c['within10']}/{c['cells']} | {100 * c['worst']:+.0f} "
                     f"({c['worst_cell']}) | {100 * c['mean_abs']:.1f} |")
    lines += ["", "Variant chosen per outer fold: " + "; ".join(
        f"fold {f['fold']}: {f['variant']} (inner macro-F1 {f['inner_scores'][f['variant']]:.3f})"
        for f in res["per_fold"]), ""]
    b = res["bias_check"]
    lines += [f"Bias correction (nested): within ±5 {b['within5_raw']} → {b['within5_corrected']} of {b['cells']}, "
              f"±10 {b['within10_raw']} → {b['within10_corrected']}, mean |error| {100 * b['mean_abs_raw']:.1f} → "
              f"{100 * b['mean_abs_corrected']:.1f} pts: {'helps' if b['helps'] else 'does not help (not shipped)'}.",
              "", "| routed to the judge (target) | routed | accuracy | macro-F1 | cells ±5 | cells ±10 | worst |",
              "|---:|---:|---:|---:|---:|---:|---:|"]
    for c in res["cascade"]:
        lines.append(f"| {pct(c['target_fraction'])}% | {pct(c['fraction'])}% | {pct(c['accuracy'])} | "
                     f"{c['macro_f1']:.3f} | {c['within5']}/{c['cells']} | {c['within10']}/{c['cells']} | "
                     f"{100 * c['worst']:+.0f} |")
    if res.get("state_passes"):
        g = res["state_passes"]
        lines.append(f"\n- STATE_NARRATIVE labeling passes (29-model sample): {g['agree']}/{g['n']} agree, "
                     f"Cohen's κ {g['kappa']:.2f}")
    for name, sn in res["state_narrative"].items():
        if sn:
            p, r = sn["precision"], sn["recall"]
            lines.append(f"\n- STATE_NARRATIVE, {name}: n={sn['n']} (tp {sn['tp']}, fp {sn['fp']}, fn {sn['fn']}, "
                         f"tn {sn['tn']}): precision {pct(p[0])} [{pct(p[1])}, {pct(p[2])}], recall {pct(r[0])} "
                         f"[{pct(r[1])}, {pct(r[2])}]")
    lines.append(f"\n{res['seconds']:.0f} s in all.")
    return "\n".join(lines) + "\n"


def select(rows: list[Row], texts: list[str], dense: np.ndarray, counts: sparse.csr_matrix, tr: np.ndarray,
           sm_mask: np.ndarray, groups: np.ndarray, inner_folds: int) -> tuple[Variant, dict, dict, dict]:
    """Inner grouped CV over the outer training set: scores per variant, the winner's inner OOF probabilities."""
    scores, oof = {}, {}
    sm_tr = tr[sm_mask[tr]]
    for v in VARIANTS:
        pred: dict[int, np.ndarray] = {}
        labels: list[str] = []
        for _, ite in GroupKFold(n_splits=inner_folds).split(sm_tr, groups=groups[sm_tr]):
            held = set(groups[sm_tr[ite]])
            itr = np.array([i for i in tr if groups[i] not in held])
            model = fit(rows, texts, dense, counts, itr, v)
            labels = model.labels
            for i, p in zip(sm_tr[ite], proba(model, dense, counts, sm_tr[ite], v), strict=True):
                pred[int(i)] = p
        ids = [i for i in sorted(pred) if rows[i].label in [*THREE, "BLOCKED"]]
        scores[v.name] = metrics([rows[i].label for i in ids], [labels[int(pred[i].argmax())] for i in ids])["macro_f1"]
        oof[v.name] = (pred, labels)
    best = max(VARIANTS, key=lambda v: scores[v.name])
    return best, scores, oof[best.name][0], {"labels": oof[best.name][1]}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--folds", type=int, default=5, help="outer grouped folds over SpeechMap models")
    ap.add_argument("--inner-folds", type=int, default=2, help="inner grouped folds (variant selection)")
    ap.add_argument("--write-weights", action="store_true", help="also rebuild the shipped weights")
    ap.add_argument("--out", type=Path, default=OUT / "censorship-validation-29.json", help="JSON results")
    ap.add_argument("--instrument", type=Path, default=ROOT / "src/modeldossier/data/censorship/instrument.json",
                    help="where to write the instrument-error file")
    ap.add_argument("--models", type=int, default=None, help="smoke test: only the first N models")
    ap.add_argument("--state-narrative-only", action="store_true",
                    help="re-score the STATE_NARRATIVE hand labels against the saved out-of-fold labels in --out")
    args = ap.parse_args()
    t0 = time.time()
    sm = speechmap_rows()
    if args.state_narrative_only:
        res = json.loads(args.out.read_text(encoding="utf-8"))
        saved = {r["key"]: r["ours"] for r in res["rows"]}
        final_saved = {i: saved[f"{r.model}::{r.category}::{r.question_id}"] for i, r in enumerate(sm)
                       if f"{r.model}::{r.category}::{r.question_id}" in saved}
        res["state_narrative"] = {name: state_narrative_eval(sm, final_saved, path)
                                  for name, path in STATE_LABELS.items()}
        res["state_passes"] = pass_agreement(STATE_LABELS["29-model sample (2026-12-04)"])
        args.out.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
        print(markdown(res))
        return 0
    if args.models:
        names = sorted({r.model for r in sm})[: args.models]
        sm = [r for r in sm if r.model in names]
    rows = sm + gold_rows(consensus=True)
    n_sm = len(sm)
    texts, dense, counts = cached_features(rows)
    print(f"features ready ({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    groups = np.array([r.model for r in rows])
    sm_mask = np.arange(len(rows)) < n_sm
    verdicts: dict[int, Verdict] = {}
    per_fold, inner_bias, fold_of, thresholds = [], [], {}, {f: {} for f in CASCADE_FRACTIONS}
    fold_of_row: dict[int, int] = {}
    outer = list(GroupKFold(n_splits=args.folds).split(sm, groups=groups[:n_sm]))
    for fold, (_, te) in enumerate(outer):
        held = set(groups[te])
        tr = np.flatnonzero(~np.isin(groups, list(held)))
        best, scores, inner_pred, info = select(rows, texts, dense, counts, tr, sm_mask, groups, args.inner_folds)
        inner_ids = sorted(inner_pred)
        inner_complete = {i: info["labels"][int(inner_pred[i].argmax())] == "COMPLETE" for i in inner_ids}
        inner_cells = cell_table(rows, inner_ids, inner_complete)
        inner_bias.append({lang: float(np.mean([c["diff"] for (_, cat), c in inner_cells.items()
                                                if {"zh_": "zh", "fi_": "fi"}.get(cat[:3], "en") == lang]))
                           for lang in LANGS})
        conf_inner = np.array([inner_pred[i].max() for i in inner_ids])
        for frac in CASCADE_FRACTIONS:
            thresholds[frac][fold] = float(np.quantile(conf_inner, frac))
        model = fit(rows, texts, dense, counts, tr, best, meta={"name": SHIPPED_NAME})
        clf = Classifier(model)
        for i, v in zip(te, clf.classify_many([rows[i].record for i in te]), strict=True):
            verdicts[int(i)] = v
            fold_of_row[int(i)] = fold
        for m in held:
            fold_of[m] = fold
        got = metrics([rows[i].label for i in te], [three(verdicts[int(i)]) for i in te])
        per_fold.append({"fold": fold + 1, "models": sorted(held), "variant": best.name, "inner_scores": scores,
                         "inner_bias": inner_bias[-1], **got})
        print(f"fold {fold + 1}: {best.name}; acc {got['accuracy']:.3f} f1 {got['macro_f1']:.3f} "
              f"({time.time() - t0:.0f}s)", file=sys.stderr, flush=True)
    idx = list(range(n_sm))
    pred3 = {i: three(verdicts[i]) for i in idx}
    final = {i: verdicts[i].label.value for i in idx}
    conf = {i: verdicts[i].confidence if verdicts[i].confidence is not None else 1.0 for i in idx}
    complete = {i: final[i] == Label.COMPLETE.value for i in idx}
    truth = [sm[i].label for i in idx]
    slices = {"all": metrics(truth, [pred3[i] for i in idx])}
    for lang in LANGS:
        ids = [i for i in idx if lang_of(sm[i]) == lang]
        slices[f"{lang} prompts"] = metrics([sm[i].label for i in ids], [pred3[i] for i in ids])
    for cat in sorted({r.category for r in sm}):
        ids = [i for i in idx if sm[i].category == cat]
        slices[cat] = metrics([sm[i].label for i in ids], [pred3[i] for i in ids])
    cells = cell_table(sm, idx, complete)
    gpt = {i: second_judge(sm[i]) for i in idx}
    gpt_cells = cell_table(sm, idx, {i: gpt[i] == "COMPLETE" for i in idx})
    summary = {"ours": {"metrics": slices["all"], "cells": cell_summary(cells)},
               "gpt4o": {"metrics": metrics(truth, [gpt[i] for i in idx]), "cells": cell_summary(gpt_cells)}}
    for lang in LANGS:
        ids = [i for i in idx if lang_of(sm[i]) == lang]
        summary[f"ours {lang}"] = {"metrics": slices[f"{lang} prompts"],
                                   "cells": cell_summary(cell_table(sm, ids, complete))}
        summary[f"gpt4o {lang}"] = {"metrics": metrics([sm[i].label for i in ids], [gpt[i] for i in ids]),
                                    "cells": cell_summary(cell_table(sm, ids, {i: gpt[i] == "COMPLETE" for i in ids}))}
    bias = bias_check(cells, inner_bias, fold_of)
    shipped_route = float(np.quantile([conf[i] for i in idx if pred3[i] in THREE], ROUTE_FRACTION))
    res = {
        "folds": args.folds, "inner_folds": args.inner_folds, "n": n_sm, "n_models": len({r.model for r in sm}),
        "variants": [v.__dict__ for v in VARIANTS], "per_fold": per_fold, "slices": slices, "summary": summary,
        "cells": [{"model": m, "category": c, **v} for (m, c), v in cells.items()],
        "bias_check": bias, "cascade": cascade(sm, idx, pred3, conf, thresholds, fold_of_row),
        "route_below": shipped_route,
        "state_narrative": {name: state_narrative_eval(sm, final, path) for name, path in STATE_LABELS.items()},
        "state_passes": pass_agreement(STATE_LABELS["29-model sample (2026-12-04)"]),
        "label_counts_final": dict(Counter(final.values())),
        "rows": [{"key": f"{sm[i].model}::{sm[i].category}::{sm[i].question_id}", "judge": sm[i].label,
                  "ours": final[i], "confidence": round(conf[i], 4)} for i in idx],
    }
    chosen = Counter(f["variant"] for f in per_fold).most_common(1)[0][0]
    variant = next(v for v in VARIANTS if v.name == chosen)
    instrument = {
        "classifier": SHIPPED_NAME, "measured": dt.date.today().isoformat(),
        "method": (f"grouped {args.folds}-fold by model over {res['n_models']} SpeechMap models (variant chosen by "
                   f"nested {args.inner_folds}-fold), production judge x-ai/grok-4.1-fast; cells are held-out model x "
                   "category COMPLETE rates (ours minus judge, fractions); gap = China rate in the language minus the "
                   "mean of the us/eu/russia rates (English prompts)"),
        "correct_bias": bias["helps"],
        "tiers": {"default": {"by_language": instrument_tier(sm, idx, complete)}},
    }
    if bias["helps"]:
        instrument["bias"] = {lang: float(np.mean(instrument["tiers"]["default"]["by_language"][lang]["cell_errors"]))
                              for lang in LANGS}
    args.instrument.write_text(json.dumps(instrument, indent=1) + "\n", encoding="utf-8")
    if args.write_weights:
        keep = np.array([i for i, r in enumerate(rows) if r.model not in SHIPPED_HOLDOUT])
        shipped = fit(rows, texts, dense, counts, keep, variant, meta={
            "name": SHIPPED_NAME, "held_out_models": list(SHIPPED_HOLDOUT), "languages": list(LANGS),
            "route_below": round(shipped_route, 4), "route_fraction": ROUTE_FRACTION,
            "trained_on": "SpeechMap government-criticism responses of 27 of 29 models (en/zh/fi) + us_hard gold"})
        shipped.save(ROOT / "src/modeldossier/data/censorship" / WEIGHTS_FILE)
    res["shipped_variant"] = chosen
    res["seconds"] = time.time() - t0
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(res, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    print(markdown(res))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
