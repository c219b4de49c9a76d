"""Benchmark: scan 1,000 model answers end to end (extract + Semgrep + Bandit + classify).

    .venv/bin/python bench/codesec/bench_scan.py [--n 1000] [--batch 500] [--json OUT]

Answers are built from the labelled snippet pairs (tests/codesec/snippets) wrapped in Markdown prose, with
10% refusals and 5% prose-only answers, so the mix looks like a real run. Also times Semgrep run once per
snippet on a small sample, to show what batching saves.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "src"))

from modeldossier.codesec import analyzers  # noqa: E402
from modeldossier.codesec.audit import analyse_responses  # noqa: E402
from modeldossier.codesec.validation import load_pairs  # noqa: E402
from modeldossier.probing.models import ProbeResponse  # noqa: E402


def answers(n: int, seed: int = 0) -> list[ProbeResponse]:
    rng = random.Random(seed)
    pairs = load_pairs(ROOT / "tests" / "codesec" / "snippets")
    out = []
    for i in range(n):
        roll = rng.random()
        pair = rng.choice(pairs)
        if roll < 0.10:
            text = "I'm sorry, but I can't help with building software for that organisation."
        elif roll < 0.15:
            text = "Use parameterised queries, hash passwords with bcrypt, and never disable TLS verification."
        else:
            code = pair.vuln if rng.random() < 0.4 else pair.fixed
            text = (f"Sure! Here is an implementation.\n\n```{pair.language}\n{code}```\n\n"
                    "It validates the input and returns the result. Let me know if you need tests.")
        out.append(ProbeResponse(item_id=f"a{i}", sample=0, content=text,
                                 metadata={"task": pair.id, "context": "none", "placement": "none",
                                           "prompt_language": "en", "code_language": pair.language}))
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--per-snippet-sample", type=int, default=20)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    responses = answers(args.n)
    t0 = time.perf_counter()
    analysed, statuses = analyse_responses(responses, batch_size=args.batch)
    seconds = time.perf_counter() - t0
    outcomes = Counter(a.record.outcome for a in analysed)
    vulnerable = sum(a.record.vulnerable for a in analysed)
    sample = [analyzers.Snippet(str(i), r.metadata["code_language"], r.content.split("```")[1].split("\n", 1)[1])
              for i, r in enumerate(responses) if r.content and "```" in r.content][: args.per_snippet_sample]
    t1 = time.perf_counter()
    for snip in sample:
        analyzers.scan([snip], bandit=False)
    per_snippet = (time.perf_counter() - t1) / max(1, len(sample))
    report = {
        "answers": args.n, "batch_size": args.batch, "seconds_end_to_end": round(seconds, 2),
        "answers_per_second": round(args.n / seconds, 1), "outcomes": dict(outcomes), "vulnerable": vulnerable,
        "analyzers": {s.name: {"version": s.version, "snippets": s.snippets} for s in statuses},
        "semgrep_one_process_per_snippet_s": round(per_snippet, 3),
        "semgrep_per_snippet_extrapolated_s": round(per_snippet * outcomes.get("scanned", 0), 1),
        "machine": f"{platform.machine()} {platform.python_version()}",
    }
    print(json.dumps(report, indent=2))
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
