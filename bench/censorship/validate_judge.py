"""Validate the optional LLM-judge tier against the SpeechMap judge labels and the human gold (needs an endpoint).

    .venv/bin/python bench/censorship/validate_judge.py --judge openai:http://HOST:8000/v1/MODEL [--api-key-env V]
    .venv/bin/python bench/censorship/validate_judge.py --judge deepseek:deepseek-chat --limit 200   # a quick look

The judge needs no training, so every row is out-of-sample: each SpeechMap response and each us_hard gold
response goes through ``llm_judge.second_opinion`` exactly as ``dossier classify --judge`` sends it (transport
labels are not sent; a reply without a usable label keeps the offline label and is counted: the shipped
offline weights were trained on these rows, so a run with many fallbacks reads optimistic). Prints accuracy,
macro-F1, κ, per-class recall, the COMPLETE cells and China-vs-US gaps within ±5 points, and the gold agreement,
in the same form as validate.py, next to the historical GPT-4o judge's labels of the same rows. Requests are
recorded in bench/out/judge-<target>.transcript.jsonl; a re-run resumes. Not run by run_all.py (it uses the network).
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import gold_rows, speechmap_rows  # noqa: E402
from validate_subset import (  # noqa: E402
    CATS,
    ROOT,
    cells_within,
    complete_rates,
    metrics,
    second_judge_reference,
    three,
)

from modeldossier.censorship.classify import Classifier  # noqa: E402
from modeldossier.censorship.llm_judge import JudgeSettings, second_opinion  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--judge", required=True, help="provider:model of the judge (any OpenAI-compatible target)")
    ap.add_argument("--base-url", default=None, help="override the provider's base URL")
    ap.add_argument("--api-key-env", default=None, help="environment variable holding the judge's API key")
    ap.add_argument("--connections", type=int, default=8, help="concurrent judge requests")
    ap.add_argument("--limit", type=int, default=None, help="only every k-th row, about this many (quick look)")
    ap.add_argument("--out", type=Path, default=None, help="JSON results (default bench/out/judge-<target>.json)")
    ap.add_argument("--transcript", type=Path, default=None,
                    help="judge transcript (default bench/out/judge-<target>.transcript.jsonl)")
    args = ap.parse_args()
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", args.judge)[-80:]
    options = {k: v for k, v in {"base_url": args.base_url, "api_key_env": args.api_key_env}.items() if v}
    transcript = args.transcript or ROOT / f"bench/out/judge-{slug}.transcript.jsonl"
    settings = JudgeSettings(args.judge, transcript, args.connections, options)
    settings.transcript.parent.mkdir(parents=True, exist_ok=True)
    offline = Classifier.load()
    sm, gold = speechmap_rows(), gold_rows(consensus=True)
    if args.limit:
        sm, gold = sm[:: max(1, len(sm) // args.limit)], gold[:: max(1, len(gold) // args.limit)]
    results: dict = {"judge": args.judge, "rows": len(sm), "gold_rows": len(gold)}
    for name, rows in (("speechmap", sm), ("gold_v4", gold)):
        records = [r.record for r in rows]
        verdicts = second_opinion(records, offline.classify_many(records), settings)
        fallbacks = sum("gave no label" in (v.evidence[0] if v.evidence else "") for v in verdicts)
        pred = [three(v) for v in verdicts]
        results[name] = {**metrics([r.label for r in rows], pred), "offline_fallbacks": fallbacks}
        if name == "speechmap":
            table = complete_rates(rows, dict(enumerate(pred)))
            ok, total = cells_within(table)
            gaps = {lang: [abs(e[f"gap {lang}"]["diff"]) <= 0.05 for e in table.values() if f"gap {lang}" in e]
                    for lang in ("EN", "ZH")}
            results[name] |= {"complete_rates": table, "cells_within_5": [ok, total],
                              "gaps_within_5": {k: [sum(v), len(v)] for k, v in gaps.items()}}
            for cat in CATS.values():
                ids = [i for i, r in enumerate(rows) if CATS.get(r.category) == cat]
                results[name][cat] = metrics([rows[i].label for i in ids], [pred[i] for i in ids])
            results["second_judge"] = second_judge_reference(rows, dict(enumerate(pred)))
    print(f"### LLM judge `{args.judge}` vs SpeechMap judge labels ({len(sm)} rows) and human gold ({len(gold)})\n")
    print("| slice | n | accuracy | macro-F1 (3 labels) | κ | recall C/E/D | offline fallbacks |")
    print("|---|---:|---:|---:|---:|---|---:|")
    for name, m in [("SpeechMap, all", results["speechmap"]),
                    *[(cat, results["speechmap"][cat]) for cat in CATS.values()], ("gold v4", results["gold_v4"])]:
        recall = "/".join(f"{100 * m['recall'].get(k, 0):.1f}" for k in ("COMPLETE", "EVASIVE", "DENIAL"))
        print(f"| {name} | {m['n']} | {100 * m['accuracy']:.1f} | {m['macro_f1_3']:.3f} | {m['kappa']:.3f} "
              f"| {recall} | {m.get('offline_fallbacks', '')} |")
    ok, total = results["speechmap"]["cells_within_5"]
    gaps = results["speechmap"]["gaps_within_5"]
    print(f"\nCOMPLETE cells within ±5 points: {ok}/{total}; China-vs-US gap within ±5: "
          f"EN {gaps['EN'][0]}/{gaps['EN'][1]}, ZH {gaps['ZH'][0]}/{gaps['ZH'][1]}")
    ref = results["second_judge"]
    sp, ov = ref["second_vs_production"], ref["ours_vs_second"]
    print(f"\nFor scale, the historical GPT-4o judge on the same rows vs the production judge: accuracy "
          f"{100 * sp['accuracy']:.1f}, macro-F1 {sp['macro_f1_3']:.3f}, cells {ref['second_cells'][0]}/"
          f"{ref['second_cells'][1]}, gaps {ref['second_gaps'][0]}/{ref['second_gaps'][1]}. "
          f"This judge vs GPT-4o: accuracy {100 * ov['accuracy']:.1f}, macro-F1 {ov['macro_f1_3']:.3f}.")
    out = args.out or ROOT / f"bench/out/judge-{slug}.json"
    out.write_text(json.dumps(results, indent=1, ensure_ascii=False), encoding="utf-8")
    print(f"\n(results: {out.relative_to(ROOT) if out.is_relative_to(ROOT) else out})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
