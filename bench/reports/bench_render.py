"""Time and size of report rendering, comparison and gate evaluation on synthetic dossiers.

Run: .venv/bin/python bench/reports/bench_render.py   (prints a Markdown table; no network, no browser)
"""

from __future__ import annotations

import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))

from modeldossier.report.compare import compare  # noqa: E402
from modeldossier.report.compare_format import render_html as compare_html  # noqa: E402
from modeldossier.report.gate import evaluate  # noqa: E402
from modeldossier.report.html import plotly_js, render_html  # noqa: E402
from modeldossier.report.markdown import render_markdown  # noqa: E402
from modeldossier.report.policy import load_policy  # noqa: E402
from report.factories import full_dossier, hostile_dossier, partial_dossier  # noqa: E402


def timed(fn, repeat: int = 7) -> tuple[float, object]:
    times, out = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), out


def main() -> None:
    plotly_js()  # one-off load of the 4.8 MB bundle, cached per process
    full, partial, hostile = full_dossier(), partial_dossier(), hostile_dossier()
    many = [full_dossier(f"m/{i}", scale=i / 20, gap=i / 100) for i in range(20)]
    policy, _ = load_policy(ROOT / "examples" / "policy-strict.yaml")
    rows = []
    for label, fn in (
        ("HTML, full dossier (4 sections, 7 charts)", lambda: render_html(full)),
        ("HTML, hostile dossier", lambda: render_html(hostile)),
        ("HTML, partial dossier (no charts, no JS)", lambda: render_html(partial)),
        ("Markdown, full dossier", lambda: render_markdown(full)),
        ("compare 20 dossiers -> HTML", lambda: compare_html(compare(many))),
        ("compare 1 vs cohort of 20 -> HTML", lambda: compare_html(compare(many[:1], many, "cohort"))),
        ("gate, strict policy, full dossier", lambda: str(evaluate(policy, full).to_dict())),
    ):
        seconds, out = timed(fn)
        rows.append((label, seconds * 1000, len(str(out).encode("utf-8"))))
    print("| what | median ms (7 runs) | output bytes |")
    print("|---|---|---|")
    for label, ms, size in rows:
        print(f"| {label} | {ms:.1f} | {size:,} |")


if __name__ == "__main__":
    main()
