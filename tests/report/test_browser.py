"""The HTML report in a real headless Chromium: scorecard, every chart drawn, no console errors, no XSS.

Needs Debian `chromium` + `chromium-driver` (scripts/install-browser.sh) and selenium (dev extra).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from modeldossier.report.html import render_html

from .factories import XSS, hostile_dossier, partial_dossier

pytestmark = pytest.mark.browser


def _open(browser, directory: Path, dossier) -> list[dict]:
    page = directory / "report.html"
    page.write_text(render_html(dossier), encoding="utf-8")
    browser.get_log("browser")  # drop anything from a previous page
    browser.get(page.as_uri())
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(browser, 60).until(
        lambda d: d.execute_script(
            "return Array.from(document.querySelectorAll('div.chart')).every(n => n.querySelector('svg.main-svg'))"
        )
    )
    return browser.get_log("browser")


def _problems(logs: list[dict]) -> list[str]:
    return [entry["message"] for entry in logs if entry.get("level") in ("SEVERE", "WARNING")]


@pytest.fixture(scope="module")
def hostile_page(browser, tmp_path_factory):
    """The full report of a dossier whose model output and names try to inject script (loaded once: 4.8 MB JS)."""
    return _open(browser, tmp_path_factory.mktemp("hostile"), hostile_dossier())


def test_scorecard_and_every_chart_render(browser, hostile_page):
    from selenium.webdriver.common.by import By

    tiles = browser.find_elements(By.CSS_SELECTOR, ".scorecard .tile")
    assert [t.get_attribute("id") for t in tiles] == [
        "score-artifacts", "score-provenance", "score-behavior", "score-codesec"
    ]
    assert all(t.is_displayed() and t.text.strip() for t in tiles)
    assert browser.find_element(By.ID, "score-artifacts").get_attribute("data-colour") == "red"
    charts = browser.find_elements(By.CSS_SELECTOR, "div.chart")
    assert len(charts) == 7  # COMPLETE, DENIAL, EVASIVE, STATE_NARRATIVE rates, asymmetry, 2 codesec
    for chart in charts:
        assert chart.find_elements(By.CSS_SELECTOR, "svg.main-svg"), chart.get_attribute("id")
        # bars or markers were actually drawn, not just empty axes
        assert chart.find_elements(By.CSS_SELECTOR, "g.trace path, g.trace .point"), chart.get_attribute("id")
        assert chart.size["height"] > 200
    assert _problems(hostile_page) == []


def test_script_in_model_output_is_shown_as_text(browser, hostile_page):
    from selenium.webdriver.common.by import By

    assert browser.execute_script("return window.__xss === undefined")
    assert browser.find_elements(By.CSS_SELECTOR, "img[src='x']") == []
    # exactly our two inline scripts run; the rest are JSON data blocks
    executable = browser.execute_script(
        "return Array.from(document.scripts).filter(s => s.type === '' || s.type === 'text/javascript').length"
    )
    assert executable == 2
    findings = browser.find_element(By.ID, "findings").text
    assert "<script>window.__xss=1;alert(1)</script>" in findings
    assert XSS in browser.find_element(By.TAG_NAME, "body").text
    examples = browser.find_elements(By.ID, "examples")  # the model's answer, when the section keeps examples
    if examples:
        assert f"Sure! {XSS} That is all." in examples[0].text
    # the chart axis shows the hostile topic as text as well
    assert "<script>window.__xss=1" in browser.find_element(By.ID, "chart-labels-0").text
    assert _problems(hostile_page) == []


def test_partial_report_without_charts_shows_not_run(browser, tmp_path):
    logs = _open(browser, tmp_path, partial_dossier())
    from selenium.webdriver.common.by import By

    assert "not run: no --target given" in browser.find_element(By.ID, "not-run-behavior").text
    assert browser.find_element(By.ID, "score-codesec").get_attribute("data-colour") == "grey"
    assert _problems(logs) == []
