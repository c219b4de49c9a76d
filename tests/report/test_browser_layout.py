"""Layout in real headless Chromium at 1280 px, per page kind (report, compare, ecosystem): no horizontal
overflow, the verdict line visible without scrolling, no console errors.

Needs Debian `chromium` + `chromium-driver` (scripts/install-browser.sh) and selenium (dev extra).
Set DOSSIER_SCREENSHOTS=<folder> to keep a screenshot of each page.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.report import compare_format
from modeldossier.report.compare import compare
from modeldossier.report.html import render_html

from .factories import full_dossier
from .test_browser import _problems

pytestmark = pytest.mark.browser

WIDTH, HEIGHT = 1280, 800
LONG = "x" * 400  # an unbreakable 400-character value (file name, rule id, context)


def _wide_dossier():
    d = full_dossier("acme/" + "very-long-model-name-" * 8)
    d.artifacts.files[1].path = LONG
    d.artifacts.files[1].findings[0].file = LONG
    d.artifacts.files[1].findings[0].evidence = LONG
    d.codesec.contexts[1].context = "context-" + LONG
    d.provenance.observed[0].value = {"reference": LONG, "set_overlap": 0.98}
    return d


def _load(browser, path: Path) -> list[dict]:
    from selenium.webdriver.support.ui import WebDriverWait

    browser.set_window_size(WIDTH, HEIGHT)
    browser.get_log("browser")
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "return document.readyState === 'complete' && Array.from(document.querySelectorAll('div.chart'))"
            ".every(n => n.querySelector('svg.main-svg'))"
        )
    )
    shots = os.environ.get("DOSSIER_SCREENSHOTS")
    if shots:
        Path(shots).mkdir(parents=True, exist_ok=True)
        browser.save_screenshot(str(Path(shots) / (path.stem + ".png")))
    return browser.get_log("browser")


def _overflow(browser) -> int:
    """How many pixels the page is wider than the window (0: no horizontal scroll bar)."""
    return browser.execute_script(
        "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth) - window.innerWidth"
    )


def _verdict_in_view(browser) -> bool:
    return browser.execute_script(
        "var v = document.querySelector('#verdict p'); if (!v) return false;"  # the verdict sentence itself
        "var r = v.getBoundingClientRect(); return r.top >= 0 && r.bottom <= window.innerHeight && r.height > 0;"
    )


def test_report_page(browser, tmp_path):
    page = tmp_path / "report.html"
    page.write_text(render_html(_wide_dossier()), encoding="utf-8")
    logs = _load(browser, page)
    assert browser.execute_script("return window.innerWidth") <= WIDTH
    assert _overflow(browser) <= 0
    assert _verdict_in_view(browser)
    assert "Verdict: Do not load this model." in browser.find_element("id", "verdict").text
    assert _problems(logs) == []


def test_compare_page(browser, tmp_path):
    a, b = _wide_dossier(), full_dossier("acme/other", scale=0.0, gap=0.0)
    page = tmp_path / "compare.html"
    page.write_text(compare_format.render_html(compare([a, b], [], None)), encoding="utf-8")
    logs = _load(browser, page)
    assert _overflow(browser) <= 0
    assert _verdict_in_view(browser)
    assert "metric(s) differ" in browser.find_element("id", "verdict").text
    assert _problems(logs) == []


def _row(id_: str, created: str, downloads: int, all_time: int, base: list[str] | None = None) -> dict:
    return {"id": id_, "author": id_.split("/")[0], "created_at": created, "downloads": downloads,
            "downloads_all_time": all_time, "base_model": base, "base_model_relation": "finetune" if base else None}


ROWS = [
    _row("Qwen/Qwen2.5-7B", "2025-01-10T08:00:00", 100_000, 1_000_000),
    _row("meta-llama/Llama-3.1-8B", "2025-01-15T08:00:00", 200_000, 2_000_000),
    _row("us-user/qwen-ft", "2025-02-01T08:00:00", 50_000, 100_000, ["Qwen/Qwen2.5-7B"]),
    _row("mistralai/Mistral-7B", "2025-03-10T08:00:00", 100_000, 200_000),
    _row("anon/" + LONG, "2025-03-20T08:00:00", 7, 7, ["meta-llama/Llama-3.1-8B"]),
]


def test_ecosystem_page(browser, tmp_path, monkeypatch):
    from modeldossier.ecosystem import attribution
    from modeldossier.ecosystem.snapshot import write_snapshot

    countries = {"Qwen": "CN", "deepseek-ai": "CN", "meta-llama": "US", "us-user": "US", "mistralai": "FR"}
    monkeypatch.setattr(attribution, "registry_country_of", lambda: (countries.get, "test registry", []))
    snapshot = tmp_path / "hub.jsonl"
    write_snapshot(ROWS, snapshot, snapshot_date="2025-08-31")
    assert main(["ecosystem", "--snapshot", str(snapshot), "--format", "html", "--out", str(tmp_path / "eco"),
                 "-q"]) == 0
    page = tmp_path / "eco" / "ecosystem.html"
    logs = _load(browser, page)
    assert _overflow(browser) <= 0
    assert _verdict_in_view(browser)
    assert "Largest share of 30-day downloads: US" in browser.find_element("id", "verdict").text
    assert _problems(logs) == []
