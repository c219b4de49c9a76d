"""Live query against a local server that speaks the Hub's /api/models listing (no network needed)."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

from modeldossier.ecosystem.hub import fetch_snapshot, paced, parse_tags
from modeldossier.ecosystem.snapshot import load_snapshot
from modeldossier.errors import DossierError

DATA = Path(__file__).parent / "data"
pytestmark = pytest.mark.network


def _page(name: str) -> list[dict]:
    return json.loads((DATA / name).read_text())


@pytest.fixture
def hub(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> dict:
    """A fake Hub with two pages; records the query strings it saw."""
    seen: list[dict] = []

    def handler(request: Request) -> Response:
        args = request.args.to_dict(flat=False)
        seen.append(args)
        if args.get("limit") == ["1"] and "sort" not in args:  # the reachability check
            return Response(json.dumps(_page("hub_models_page1.json")[:1]), content_type="application/json")
        if "cursor" in args:
            return Response(json.dumps(_page("hub_models_page2.json")), content_type="application/json")
        next_url = httpserver.url_for("/api/models") + "?cursor=page2&sort=downloads"
        return Response(json.dumps(_page("hub_models_page1.json")), content_type="application/json",
                        headers={"Link": f'<{next_url}>; rel="next"'})

    httpserver.expect_request("/api/models").respond_with_handler(handler)
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("").rstrip("/"))
    monkeypatch.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
    monkeypatch.setenv("HF_TOKEN", "")
    return {"seen": seen, "cache": tmp_path / "cache"}


def test_parse_tags() -> None:
    bases, relation, license_ = parse_tags(
        ["base_model:Qwen/Qwen2.5-7B", "base_model:finetune:Qwen/Qwen2.5-7B", "license:apache-2.0", 7]
    )
    assert (bases, relation, license_) == (["Qwen/Qwen2.5-7B"], "finetune", "apache-2.0")
    assert parse_tags(None) == ([], None, None)


def test_fetch_pages_and_writes_snapshot(hub: dict, tmp_path: Path) -> None:
    out = tmp_path / "live.parquet"
    result = fetch_snapshot(out, limit=100, cache_dir=hub["cache"], min_interval_s=0)
    assert result.rows == 5 and not result.from_cache
    listing = [q for q in hub["seen"] if "sort" in q]
    assert listing[0]["sort"] == ["downloads"]
    assert set(listing[0]["expand"]) >= {"author", "createdAt", "downloads", "downloadsAllTime", "tags"}
    assert listing[1]["cursor"] == ["page2"]
    snap = load_snapshot(out)
    assert snap.snapshot_date == result.fetched_at[:10]
    rows = {r[0]: r[1:] for r in snap.con.execute(
        "SELECT id, author, base_model, base_model_relation, license, downloads, downloads_all_time, "
        "strftime(created_at, '%Y-%m-%d'), library FROM models").fetchall()}
    assert rows["bartowski/Qwen2.5-7B-Instruct-GGUF"][:4] == (
        "bartowski", ["Qwen/Qwen2.5-7B-Instruct"], "quantized", "apache-2.0")
    assert rows["some-user/merged-7b"][1:3] == (
        ["Qwen/Qwen2.5-7B-Instruct", "meta-llama/Llama-3.1-8B-Instruct"], "merge")
    assert rows["Qwen/Qwen2.5-7B-Instruct"][4:] == (1843210, 25113422, "2024-09-16", "transformers")
    assert rows["sentence-transformers/all-MiniLM-L6-v2"][1] is None


def test_second_fetch_comes_from_cache(hub: dict, tmp_path: Path) -> None:
    fetch_snapshot(tmp_path / "a.jsonl", limit=100, cache_dir=hub["cache"], min_interval_s=0)
    requests = len(hub["seen"])
    again = fetch_snapshot(tmp_path / "b.jsonl", limit=100, cache_dir=hub["cache"], min_interval_s=0)
    assert again.from_cache and again.rows == 5 and len(hub["seen"]) == requests
    stale = fetch_snapshot(tmp_path / "c.jsonl", limit=100, cache_dir=hub["cache"], min_interval_s=0,
                           max_age_s=-1)
    assert not stale.from_cache and len(hub["seen"]) > requests
    assert (tmp_path / "b.jsonl").read_text() == (tmp_path / "a.jsonl").read_text()


def test_limit_stops_paging(hub: dict, tmp_path: Path) -> None:
    result = fetch_snapshot(tmp_path / "s.jsonl", limit=2, cache_dir=hub["cache"], min_interval_s=0)
    assert result.rows == 2
    assert not any("cursor" in q for q in hub["seen"])


def test_server_error_is_one_line(httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    httpserver.expect_request("/api/models").respond_with_data("down", status=503)
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("").rstrip("/"))
    with pytest.raises(DossierError, match="--snapshot") as info:
        fetch_snapshot(tmp_path / "s.jsonl", limit=5, cache_dir=tmp_path / "c")
    assert "HTTP 503" in str(info.value)


def test_network_down_suggests_snapshot(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    with pytest.raises(DossierError, match="cannot reach the Hugging Face Hub.*--snapshot"):
        fetch_snapshot(tmp_path / "s.jsonl", limit=5, cache_dir=tmp_path / "c")
    assert not (tmp_path / "s.jsonl").exists()


def test_paced_waits_between_pages() -> None:
    now = [0.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    out = list(paced(range(7), page_size=3, min_interval_s=2.0, sleep=sleep, clock=lambda: now[0]))
    assert out == list(range(7)) and slept == [2.0, 2.0]


def test_failure_midway_leaves_no_fresh_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import httpx2

    from modeldossier.ecosystem import hub as hub_mod

    monkeypatch.setattr(hub_mod, "check_reachable", lambda url: None)
    items = _page("hub_models_page1.json")

    def flaky(**kwargs):
        yield from items
        raise httpx2.ConnectError("connection reset")

    with pytest.raises(DossierError, match="ConnectError.*--snapshot"):
        fetch_snapshot(tmp_path / "s.jsonl", limit=10, cache_dir=tmp_path / "c", list_models=flaky)
    assert not (tmp_path / "s.jsonl").exists()
    calls = []

    def good(**kwargs):
        calls.append(kwargs)
        return iter(items)

    result = fetch_snapshot(tmp_path / "s.jsonl", limit=10, cache_dir=tmp_path / "c", list_models=good)
    assert result.rows == 2 and not result.from_cache
    assert calls[0]["sort"] == "downloads" and "downloadsAllTime" in calls[0]["expand"]


def test_cli_live_against_fake_hub(hub: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    from modeldossier.cli import main

    monkeypatch.setenv("MODELDOSSIER_CACHE", str(hub["cache"]))
    out = tmp_path / "eco"
    assert main(["ecosystem", "--live", "--limit", "50", "--attribution", "lineage-root", "--out", str(out),
                 "--format", "json", "--quiet"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["snapshot"]["source"] == "live" and data["snapshot"]["rows"] == 5
    assert list(out.glob("hub-snapshot-50-*.parquet"))
    shares = {c["country"]: c["models"] for c in data["by_country"]}
    assert shares.get("CN") == 3  # Qwen instruct, its GGUF (bartowski) and the merge (first parent Qwen)


def test_offline_mode_uses_cache_or_refuses(hub: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(DossierError, match="HF_HUB_OFFLINE"):
        fetch_snapshot(tmp_path / "a.jsonl", limit=100, cache_dir=hub["cache"])
    assert hub["seen"] == []
    monkeypatch.delenv("HF_HUB_OFFLINE")
    fetch_snapshot(tmp_path / "a.jsonl", limit=100, cache_dir=hub["cache"], min_interval_s=0)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert fetch_snapshot(tmp_path / "b.jsonl", limit=100, cache_dir=hub["cache"]).from_cache
