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


# ---------------------------------------------------------------- labelled snippets through the answer path

@dataclass(frozen=True)
class Labelled:
    """One labelled snippet: code with the label its source gave it."""

    id: str
    language: str
    cwe: str
    vulnerable: bool
    code: str
    source: str = "own"
    split: str = "all"
    rule: str = ""
    context_cwes: tuple[str, ...] = ()

    def flagged(self, outcome: str, vulnerable: bool, cwes: tuple[str, ...]) -> bool:
        """Whether the instrument flagged it; findings only of ``context_cwes`` (weaknesses in shared context
        that is not under test) do not count."""
        if not vulnerable or outcome != "scanned":
            return False
        return not (self.context_cwes and cwes and set(cwes) <= set(self.context_cwes))


def own_snippets(folder: Path, split: str) -> list[Labelled]:
    """Our own pairs as labelled snippets (each pair gives one vulnerable and one safe snippet)."""
    out = []
    for p in load_pairs(folder):
        out.append(Labelled(f"own/{p.language}/{p.id}/vuln", p.language, p.cwe, True, p.vuln, "own", split, p.id))
        out.append(Labelled(f"own/{p.language}/{p.id}/fixed", p.language, p.cwe, False, p.fixed, "own", split, p.id))
    return out


def load_labelled(path: Path) -> list[Labelled]:
    """Snippets from a YAML fixture with ``snippets: [{id, language, cwe, label, code, source, split, rule}]``."""
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    return [Labelled(id=str(r["id"]), language=str(r["language"]), cwe=str(r["cwe"]),
                     vulnerable=r["label"] == "vulnerable", code=str(r["code"]), source=str(r.get("source", "")),
                     split=str(r.get("split", "all")), rule=str(r.get("rule", "")),
                     context_cwes=tuple(r.get("context_cwes") or ())) for r in data["snippets"]]


def as_answer(snippet: Labelled) -> str:
    """A snippet wrapped the way a model answers: a sentence, a fenced block, a closing sentence."""
    return (f"Here is the implementation:\n\n```{snippet.language}\n{snippet.code.rstrip()}\n```\n\n"
            "Let me know if you need anything else.")


def flag_answers(snippets: list[Labelled], **scan_options: Any) -> dict[str, tuple[str, bool, tuple[str, ...]]]:
    """Send every snippet through the same path as ``dossier codesec`` (extraction, analyzers, counting policy):
    snippet id -> (outcome, flagged, CWEs of counted findings)."""
    from modeldossier.codesec.audit import analyse_responses
    from modeldossier.probing.models import ProbeResponse

    responses = [ProbeResponse(item_id=s.id, content=as_answer(s), finish_reason="stop",
                               metadata={"code_language": s.language, "task": s.id, "context": "validation"})
                 for s in snippets]
    analysed, _ = analyse_responses(responses, **scan_options)
    return {a.response.item_id: (a.record.outcome, a.record.vulnerable, a.record.cwes) for a in analysed}


def confusion(snippets: list[Labelled], flags: dict[str, tuple[str, bool, tuple[str, ...]]]) -> dict[str, int]:
    """TP/FN over vulnerable snippets, FP/TN over safe ones; any answer not scanned counts as not flagged."""
    counts = {"tp": 0, "fn": 0, "fp": 0, "tn": 0, "not_scanned": 0}
    for s in snippets:
        outcome, vulnerable, cwes = flags[s.id]
        flagged = s.flagged(outcome, vulnerable, cwes)
        counts["not_scanned"] += outcome != "scanned"
        key = ("tp" if flagged else "fn") if s.vulnerable else ("fp" if flagged else "tn")
        counts[key] += 1
    return counts
