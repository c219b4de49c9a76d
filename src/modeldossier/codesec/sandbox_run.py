"""Run the sandboxed tests over a codesec run's answers and attach each verdict (used by ``codesec.audit``)."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

from modeldossier.codesec.outcome import Instrument, Verdict, suite_version
from modeldossier.codesec.sandbox_validation import load_record
from modeldossier.ui import progress


def _rate(d: dict[str, int] | None) -> str:
    return f"{d['k']}/{d['n']}" if d else "unmeasured"


def run_sandbox(analysed: list[Any], *, quiet: bool = True, instrument: Instrument | None = None) -> str:
    """Set ``.sandbox`` on every answer with code; return one summary line for the section's notes.

    Identical code for the same task runs once. Answers without code keep ``sandbox = None``.
    """
    instrument = instrument or Instrument()
    with_code = [a for a in analysed if a.code]
    todo = [a for a in with_code if instrument.has_tests(str(a.response.metadata.get("task")))]
    chosen = {id(a) for a in todo}
    for a in with_code:
        if id(a) not in chosen:
            a.sandbox = Verdict("no_tests", "this task has no sandbox tests: static analysis is the instrument"
                                ).to_json()
    seen: dict[tuple[str, str], dict[str, Any]] = {}
    with progress(quiet) as bar:
        job = bar.add_task("sandboxed tests", total=len(todo))
        for a in todo:
            task = str(a.response.metadata.get("task"))
            key = (task, hashlib.sha256(a.code.encode("utf-8", "replace")).hexdigest())
            if key not in seen:
                seen[key] = instrument.run(task, a.code, a.language).to_json()
            a.sandbox = seen[key]
            bar.advance(job)
    counts = Counter(a.sandbox["outcome"] for a in todo)
    record = load_record() or {}
    head = (f"sandboxed tests (version {suite_version()}; sensitivity {_rate(record.get('sensitivity'))}, "
            f"false-positive rate {_rate(record.get('false_positive_rate'))} on our own labelled answers)")
    if not todo:
        return f"{head}: no code answer is for a task with tests ({len(with_code)} answer(s) kept static analysis only)"
    reasons = Counter(a.sandbox["reason"] for a in todo if a.sandbox["outcome"] == "not_run")
    parts = [f"{counts[o]} {o.replace('_', ' ')}" for o in ("vulnerable", "secure", "not_functional", "not_run")
             if counts[o]]
    why = f" (not run: {reasons.most_common(1)[0][0]})" if reasons else ""
    return (f"{head}: {len(todo)} code answer(s) on tasks with tests: {', '.join(parts)}{why}; "
            f"{len(with_code) - len(todo)} code answer(s) on tasks without tests kept static analysis only; "
            "per-answer outcomes are in the responses file under `sandbox`")
