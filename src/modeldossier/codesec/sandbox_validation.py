"""Measure the sandbox instrument on labelled answers: sensitivity and false-positive rate, per slice.

Two slices, both our own code, kept apart because they measure different things:
- ``reference``: the known-vulnerable / known-secure / broken answers written next to the tests
  (``data/codesec/tests/<task>/reference/{vulnerable,secure,broken}-*``). They measure the test author.
- ``static-pairs``: the vulnerable/fixed pairs written earlier for the static analyzers
  (``tests/codesec/snippets*``), mapped to the tasks whose function or route they implement. They were not
  written for these tests, so they are the fairer estimate.
Sensitivity = labelled-vulnerable answers whose outcome is ``vulnerable`` / labelled-vulnerable answers that got
a verdict (``not_functional`` counts as a miss); false-positive rate = labelled-secure answers flagged
``vulnerable`` / labelled-secure answers with a verdict. ``not_run`` answers are counted apart.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from modeldossier.codesec.outcome import Instrument, Verdict, suite_dir, suite_version

# static-analyzer pairs (tests/codesec/snippets*) that implement one of the tasks with tests: pair id -> task
STATIC_PAIRS: dict[tuple[str, str, str], str] = {
    ("snippets", "python", "sqli-fstring"): "py-search-products",
    ("snippets", "python", "cmdi-shell-true"): "py-ping-host",
    ("snippets", "python", "cmdi-os-system"): "py-convert-image",
    ("snippets", "python", "pickle-redis"): "py-session-cache",
    ("snippets", "python", "yaml-load"): "py-yaml-config",
    ("snippets", "python", "md5-password"): "py-password-hashing",
    ("snippets", "python", "sha256-salted-password"): "py-password-hashing",
    ("snippets", "python", "path-traversal-download"): "py-file-download",
    ("snippets", "python", "upload-no-secure-filename"): "py-file-upload",
    ("snippets", "python", "tar-extractall"): "py-archive-extract",
    ("snippets", "python", "xss-fstring"): "py-greeting-page",
    ("snippets", "python", "eval-calc"): "py-calculator",
    ("snippets", "python", "sqli-concat-var"): "py-user-lookup-mysql",
    ("snippets", "python", "plaintext-password-insert"): "py-register-user",
    ("snippets", "python", "ssrf-preview"): "py-link-preview",
    ("snippets_holdout", "python", "sqli-percent-format"): "py-sorted-orders",
    ("snippets_holdout", "python", "cmdi-popen-tar"): "py-backup-dir",
    ("snippets_holdout", "python", "sha1-password"): "py-password-hashing",
    ("snippets_holdout", "python", "api-key-random"): "py-api-key",
    ("snippets", "javascript", "md5-password"): "js-password-hash",
    ("snippets", "javascript", "createcipher"): "js-encrypt",
    ("snippets", "javascript", "static-iv"): "js-encrypt",
    ("snippets", "javascript", "math-random-token"): "js-reset-token",
}
LABELS = ("vulnerable", "secure", "broken")


@dataclass(frozen=True)
class Labelled:
    """One labelled answer."""

    slice: str
    task: str
    name: str
    label: str  # vulnerable | secure | broken
    code: str
    language: str


def reference_answers(root: Path | None = None) -> list[Labelled]:
    """The reference slice: every tests/<task>/reference/<label>-*.{py,js}."""
    out = []
    for path in sorted((root or suite_dir()).glob("*/reference/*")):
        label = path.name.split("-", 1)[0]
        if label in LABELS and path.suffix in (".py", ".js"):
            out.append(Labelled("reference", path.parent.parent.name, path.stem, label,
                                path.read_text(encoding="utf-8"), "python" if path.suffix == ".py" else "javascript"))
    return out


def static_pair_answers(snippets_root: Path) -> list[Labelled]:
    """The static-pairs slice from ``snippets_root`` (the folder holding snippets/ and snippets_holdout/)."""
    from modeldossier.safeyaml import safe_yaml

    out = []
    for (folder, language, pair_id), task in STATIC_PAIRS.items():
        path = snippets_root / folder / f"{language}.yaml"
        if not path.is_file():
            continue
        pairs = {p["id"]: p for p in safe_yaml(path.read_text(encoding="utf-8"))["pairs"]}
        pair = pairs.get(pair_id)
        if pair is None:
            continue
        out.append(Labelled("static-pairs", task, f"{folder}/{pair_id}/vuln", "vulnerable", pair["vuln"], language))
        out.append(Labelled("static-pairs", task, f"{folder}/{pair_id}/fixed", "secure", pair["fixed"], language))
    return out


def score(rows: list[tuple[Labelled, Verdict]]) -> dict[str, Any]:
    """Sensitivity, false-positive rate and the other outcomes of labelled answers."""
    def count(label: str, outcome: str | None = None, *, ran: bool = True) -> int:
        return sum(1 for a, v in rows if a.label == label and (outcome is None or v.outcome == outcome)
                   and (not ran or v.outcome != "not_run"))

    return {
        "sensitivity": {"k": count("vulnerable", "vulnerable"), "n": count("vulnerable")},
        "false_positive_rate": {"k": count("secure", "vulnerable"), "n": count("secure")},
        "vulnerable_not_functional": count("vulnerable", "not_functional"),
        "secure_not_functional": count("secure", "not_functional"),
        "broken_not_functional": {"k": count("broken", "not_functional"), "n": count("broken")},
        "not_run": sum(1 for _, v in rows if v.outcome == "not_run"),
        "answers": len(rows),
    }


def measure(answers: list[Labelled], instrument: Instrument | None = None,
            progress: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run every labelled answer and score each slice and all together; also per-answer rows."""
    instrument = instrument or Instrument()
    rows = []
    for i, a in enumerate(answers):
        rows.append((a, instrument.run(a.task, a.code, a.language)))
        if progress:
            progress(i + 1)
    slices = {name: score([r for r in rows if r[0].slice == name]) for name in sorted({a.slice for a in answers})}
    return {"all": score(rows), "slices": slices,
            "rows": [{"slice": a.slice, "task": a.task, "name": a.name, "label": a.label, "outcome": v.outcome,
                      "reason": v.reason, "seconds": round(v.seconds, 3)} for a, v in rows],
            "tasks_with_tests": len(instrument.tests)}


def instrument_record(result: dict[str, Any], answers: list[Labelled], today: dt.date | None = None
                      ) -> dict[str, Any]:
    """The instrument-sandbox.json record for a measurement."""
    by_slice = {s: sum(1 for a in answers if a.slice == s and a.label != "broken") for s in result["slices"]}
    what = "; ".join(f"{s}: {n} labelled answers" for s, n in sorted(by_slice.items()))
    return {
        "instrument": "sandbox", "version": suite_version(), "measured": (today or dt.date.today()).isoformat(),
        "validation_set": f"our own labelled answers ({what}); the reference slice measures the test author",
        "sensitivity": result["all"]["sensitivity"], "false_positive_rate": result["all"]["false_positive_rate"],
        "tasks_with_tests": result["tasks_with_tests"],
    }


def record_path() -> Path:
    """Where the measured record lives (package data)."""
    return suite_dir().parent / "instrument-sandbox.json"


def load_record() -> dict[str, Any] | None:
    """The shipped measurement, or None when there is none."""
    path = record_path()
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None
