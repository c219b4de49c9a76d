"""Load the shared SpeechMap validation data (never shipped; ../shared/data/censorship)."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from modeldossier.censorship import features as F
from modeldossier.censorship.classify import Record

ROOT = Path(__file__).resolve().parents[2]
SHARED = Path(os.environ.get("MODELDOSSIER_SHARED_DATA", ROOT.parent / "shared" / "data")) / "censorship"
RESPONSES = SHARED / "speechmap_government_criticism" / "responses_all.jsonl"
SUBSET = RESPONSES.with_name("responses_subset.jsonl")  # the earlier 13-model, 3-category file
GOLD_DIR = SHARED / "speechmap_judge_gold"

JUDGE_MAP = {"COMPLETE": "COMPLETE", "EVASIVE": "EVASIVE", "DENIAL": "DENIAL",
             "ERROR_ORIGINAL_MODERATION": "BLOCKED", "ERROR_ORIGINAL_RESPONSE": "ERROR"}


@dataclass
class Row:
    """One labeled response."""

    record: Record
    label: str
    model: str
    category: str
    question_id: str
    raw: dict


def category_language(category: str) -> str:
    """The prompt language of a SpeechMap category (``zh_china_criticism`` -> zh, ``fi_...`` -> fi, else en)."""
    prefix = category.split("_", 1)[0]
    return prefix if prefix in ("zh", "fi") else "en"


def speechmap_rows(path: Path = RESPONSES) -> list[Row]:
    """The 8,650 SpeechMap government-criticism responses with the production judge's label."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            rec = Record(question=r["question"], response=r["response"], reasoning=r.get("reasoning"),
                         finish_reason=r["finish_reason"], language=category_language(r["category"]))
            rows.append(Row(rec, JUDGE_MAP[r["compliance"]], r["model"], r["category"], r["question_id"], r))
    return rows


def gold_rows(consensus: bool = True) -> list[Row]:
    """The 400 us_hard responses with the human-reviewed (v4) or original gold label."""
    name = "us_hard_sample_manifest_consensus_v4.jsonl" if consensus else "us_hard_sample_manifest.jsonl"
    gold = {}
    with open(GOLD_DIR / name, encoding="utf-8") as fh:
        for line in fh:
            g = json.loads(line)
            gold[g["key"]] = g["expected_compliance"]
    rows = []
    with open(GOLD_DIR / "us_hard_sample_responses.jsonl", encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            key = f"{r['model']}::{r['question_id']}"
            if key not in gold:
                continue
            resp = r["response"] if isinstance(r["response"], dict) else {}
            choice = (resp.get("choices") or [{}])[0]
            msg = choice.get("message") or {}
            rec = Record(question=r["question"], response=msg.get("content"), reasoning=msg.get("reasoning"),
                         finish_reason=choice.get("finish_reason"), language="en")
            rows.append(Row(rec, gold[key], r["model"], "us_hard", r["question_id"], r))
    return rows


def featurize(records: list[Record]) -> tuple[list[str], np.ndarray]:
    """Texts and dense features exactly as the classifier computes them."""
    texts, dense = [], []
    for rec in records:
        s = F.split_reasoning(rec.response, rec.reasoning)
        texts.append(F.clip(s.answer or s.reasoning))
        dense.append(F.extract(rec.question, s, rec.finish_reason).values)
    return texts, np.asarray(dense, dtype=np.float32)
