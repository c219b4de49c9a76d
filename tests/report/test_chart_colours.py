"""Chart colours carry one meaning across charts; counts get thousands separators."""

from __future__ import annotations

from modeldossier.report.charts import COUNTRY_COLOURS, WINDOW_COLOURS, label_rate_charts
from modeldossier.report.html import render_html

from .factories import HAS_ROLE, behavior, full_dossier


def test_language_keeps_its_colour_and_controls_are_hatched():
    charts = label_rate_charts(behavior())
    assert len(charts) >= 2
    colour_of: dict[str, str] = {}
    for chart in charts:
        for trace in chart.figure["data"]:
            language = trace["name"].split(" · ")[0]
            colour = trace["marker"]["color"]
            assert colour_of.setdefault(language, colour) == colour, (chart.id, trace["name"])
            if HAS_ROLE and trace["name"].endswith("control"):
                assert trace["marker"]["pattern"]["shape"] == "/" and trace["marker"]["opacity"] < 1
    assert len(set(colour_of.values())) == len(colour_of)  # distinct languages, distinct hues


def test_window_colours_never_look_like_a_country():
    assert not set(WINDOW_COLOURS.values()) & set(COUNTRY_COLOURS.values())
    assert COUNTRY_COLOURS["CN"] != COUNTRY_COLOURS["US"]


def test_ecosystem_charts_use_the_country_colour(tmp_path, monkeypatch):
    from modeldossier.ecosystem.html import country_chart, month_chart

    report = _report(tmp_path, monkeypatch)
    bars = {t["name"]: t["marker"]["color"] for t in month_chart(report).figure["data"]}
    assert bars["CN"] == COUNTRY_COLOURS["CN"] and bars["US"] == COUNTRY_COLOURS["US"]
    windows = [t["marker"]["color"] for t in country_chart(report).figure["data"]]
    assert windows == [WINDOW_COLOURS["30-day"], WINDOW_COLOURS["all-time"]]


def _report(tmp_path, monkeypatch):
    import json

    from modeldossier.cli import main
    from modeldossier.ecosystem import attribution
    from modeldossier.ecosystem.models import EcosystemReport
    from modeldossier.ecosystem.snapshot import write_snapshot

    countries = {"Qwen": "CN", "meta-llama": "US"}
    monkeypatch.setattr(attribution, "registry_country_of", lambda: (countries.get, "test registry", []))
    rows = [{"id": "Qwen/a", "created_at": "2025-01-01", "downloads": 1500, "downloads_all_time": 9000},
            {"id": "meta-llama/b", "created_at": "2025-02-01", "downloads": 2500, "downloads_all_time": 3000}]
    path = tmp_path / "s.jsonl"
    write_snapshot(rows, path)
    out = tmp_path / "eco"
    assert main(["ecosystem", "--snapshot", str(path), "--out", str(out), "-q"]) == 0
    return EcosystemReport.model_validate(json.loads((out / "ecosystem.json").read_text()))


def test_counts_have_thousands_separators():
    d = full_dossier()
    d.artifacts.bytes_scanned = 1_204_612
    page = render_html(d)
    assert "1,204,612 bytes" in page and "1,204,000" in page  # scanned bytes and a file size
