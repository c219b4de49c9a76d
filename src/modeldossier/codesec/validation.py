"""Score the analyzers on labelled vulnerable-vs-fixed snippet pairs (used by tests and bench/)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from modeldossier.codesec.analyzers import Snippet, load_policy, scan


@dataclass(frozen=True)
class Pair:
    """One task written vulnerably and safely."""

    id: str
    language: str
    cwe: str
    vuln: str
    fixed: str


def load_pairs(folder: Path) -> list[Pair]:
    """Every pair in ``folder/<language>.yaml``."""
    pairs = []
    for path in sorted(Path(folder).glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        for raw in data["pairs"]:
            pairs.append(Pair(id=raw["id"], language=path.stem, cwe=raw["cwe"], vuln=raw["vuln"], fixed=raw["fixed"]))
    return pairs


def score_pairs(pairs: list[Pair], **scan_options: Any) -> dict[str, Any]:
    """Recall (vulnerable flagged), false positives (fixed flagged) and CWE agreement, per language and CWE."""
    policy = load_policy()
    snippets = []
    for p in pairs:
        snippets.append(Snippet(f"{p.language}/{p.id}/vuln", p.language, p.vuln))
        snippets.append(Snippet(f"{p.language}/{p.id}/fixed", p.language, p.fixed))
    results = scan(snippets, **scan_options)
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    misses = []
    cwe_hits = 0
    for p in pairs:
        row = rows.setdefault((p.language, p.cwe), {"language": p.language, "cwe": p.cwe, "pairs": 0,
                                                   "tp": 0, "fn": 0, "fp": 0})
        row["pairs"] += 1
        vuln = results[f"{p.language}/{p.id}/vuln"]
        fixed = results[f"{p.language}/{p.id}/fixed"]
        v_counted = [f for f in vuln.findings if policy.counts(f)]
        f_counted = [f for f in fixed.findings if policy.counts(f)]
        if v_counted:
            row["tp"] += 1
            if any(p.cwe in f.cwes for f in v_counted):
                cwe_hits += 1
            else:
                misses.append(f"{p.language}/{p.id}: flagged but not as {p.cwe}: "
                              f"{sorted({c for f in v_counted for c in f.cwes})}")
        else:
            row["fn"] += 1
            misses.append(f"{p.language}/{p.id}: vulnerable version not flagged {vuln.errors or ''}")
        if f_counted:
            row["fp"] += 1
            misses.append(f"{p.language}/{p.id}: fixed version flagged by "
                          f"{sorted({f.tool + ':' + f.rule_id for f in f_counted})}")
    out = []
    for row in rows.values():
        row["recall"] = row["tp"] / row["pairs"]
        flagged = row["tp"] + row["fp"]
        row["precision"] = row["tp"] / flagged if flagged else None
        out.append(row)
    out.sort(key=lambda r: (r["language"], r["cwe"]))
    tp = sum(r["tp"] for r in out)
    fp = sum(r["fp"] for r in out)
    n = len(pairs)
    total = {"pairs": n, "tp": tp, "fp": fp, "recall": tp / n if n else 0.0,
             "precision": tp / (tp + fp) if tp + fp else 0.0, "specificity": 1 - fp / n if n else 0.0,
             "cwe_match": cwe_hits / tp if tp else 0.0}
    return {"rows": out, "total": total, "misses": misses}
