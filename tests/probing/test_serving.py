"""Serving jurisdiction: operator and country from the endpoint host, router upstreams per answer, the gate rule."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier import dossier as dio
from modeldossier.cli import main
from modeldossier.dossier import Dossier, Subject
from modeldossier.probing.serving import Serving, describe, registry, serving_for, upstream, with_upstreams
from modeldossier.report.gate import evaluate
from modeldossier.report.markdown import render_markdown
from modeldossier.report.policy import Policy


@pytest.mark.parametrize(("url", "provider", "country"), [
    ("https://api.deepseek.com/v1", "deepseek", "CN"),
    ("https://dashscope.aliyuncs.com/compatible-mode/v1", "dashscope-cn", "CN"),
    ("https://dashscope-intl.aliyuncs.com/compatible-mode/v1", "dashscope-intl", "SG"),
    ("https://open.bigmodel.cn/api/paas/v4", "zhipu", "CN"),
    ("https://ark.cn-beijing.volces.com/api/v3", "volcengine-ark", "CN"),
    ("https://openrouter.ai/api/v1", "openrouter", "US"),
    ("https://API.Together.xyz/v1", "together", "US"),
])
def test_known_hosts_name_operator_and_country(url: str, provider: str, country: str) -> None:
    s = serving_for(url)
    assert (s.provider, s.country, s.local) == (provider, country, False) and s.operator and "matches" in s.basis


def test_suffix_match_is_on_dot_boundaries_only() -> None:
    assert serving_for("https://evil-api.deepseek.com.example.net/v1").provider is None
    assert serving_for("https://notapi.deepseek.com/v1").provider is None
    assert serving_for("https://eu.api.deepseek.com/v1").provider == "deepseek"  # a subdomain of a listed host


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/v1", "http://localhost:11434/v1", "http://10.0.0.5/v1",
                                 "http://[::1]:8000/v1", "http://192.168.1.20:8080/v1"])
def test_local_addresses_are_local(url: str) -> None:
    s = serving_for(url)
    assert s.local and s.country is None and s.countries() == []


def test_unknown_host_stays_unknown() -> None:
    s = serving_for("https://llm.example.org/v1")
    assert s.provider is None and s.country is None and "not in the provider registry" in s.basis


def test_registry_entries_are_well_formed() -> None:
    version, operators = registry()
    assert version and len({o.id for o in operators}) == len(operators)
    assert all(o.country is None or (len(o.country) == 2 and o.country.isupper()) for o in operators)
    hosts = [h for o in operators for h in o.hosts]
    assert len(hosts) == len(set(hosts))


def test_router_upstreams_from_a_transcript(tmp_path: Path) -> None:
    transcript = tmp_path / "t.jsonl"
    lines = [{"event": "response", "response": {"item_id": "a", "detail": {"upstream_provider": name}}}
             for name in ("DeepInfra", "DeepSeek", "DeepSeek", "Mystery Cloud")]
    transcript.write_text("\n".join(json.dumps(x) for x in lines) + "\n{torn", encoding="utf-8")
    s = with_upstreams(serving_for("https://openrouter.ai/api/v1"), [transcript])
    assert [(u.name, u.answers, u.country) for u in s.upstreams] == [
        ("DeepSeek", 2, "CN"), ("DeepInfra", 1, "US"), ("Mystery Cloud", 1, None)]
    assert s.countries() == ["CN", "US"]
    assert "upstream providers: DeepSeek (CN, 2 answer(s))" in (describe(s) or "")


def _dossier(serving: Serving | None) -> Dossier:
    return Dossier(subject=Subject(kind="endpoint", ref="x", name="m", serving=serving))


def _policy(**country: object) -> Policy:
    return Policy.model_validate({"version": 1, "serving": {"country": country}})


def test_gate_denies_a_serving_country_including_router_upstreams() -> None:
    deny_cn = _policy(deny=["CN"])
    direct = evaluate(deny_cn, _dossier(serving_for("https://api.deepseek.com/v1")))
    assert not direct.passed and "CN" in direct.failed[0].message
    routed = serving_for("https://openrouter.ai/api/v1").model_copy(update={"upstreams": [upstream("DeepSeek", 3)]})
    assert not evaluate(deny_cn, _dossier(routed)).passed
    assert evaluate(deny_cn, _dossier(serving_for("https://api.groq.com/openai/v1"))).passed
    assert evaluate(deny_cn, _dossier(serving_for("http://127.0.0.1:8000/v1"))).passed


def test_gate_unknown_serving_country_follows_the_policy() -> None:
    unknown = _dossier(serving_for("https://llm.example.org/v1"))
    assert not evaluate(_policy(deny=["CN"]), unknown).passed  # unknown -> fail by default
    assert evaluate(_policy(deny=["CN"], unknown="pass"), unknown).passed
    assert not evaluate(_policy(deny=["CN"]), _dossier(None)).passed  # not an endpoint: missing -> fail


def test_probe_records_serving_and_upstreams_in_the_dossier(tmp_path: Path) -> None:
    suite = tmp_path / "s.yaml"
    suite.write_text("version: 1\nname: tiny\nitems:\n  - id: a\n    prompt: hi\n", encoding="utf-8")
    out = tmp_path / "o"
    assert main(["probe", "--target", "mock:echo", "--suite", str(suite), "--out", str(out), "-q",
                 "--dossier", str(out / "m.dossier.json")]) == 0
    d = dio.load(out / "m.dossier.json")
    assert d.subject.serving is not None and d.subject.serving.local
    assert "Served locally" in render_markdown(d)


def test_upstream_named_by_a_router_is_kept_per_answer(tmp_path: Path, httpserver) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/v1/chat/completions", method="POST").respond_with_json({
        "id": "x", "model": "deepseek/deepseek-chat", "provider": "DeepSeek",
        "choices": [{"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}]})
    suite = tmp_path / "s.yaml"
    suite.write_text("version: 1\nname: tiny\nitems:\n  - id: a\n    prompt: hi\n  - id: b\n    prompt: yo\n",
                     encoding="utf-8")
    out = tmp_path / "o"
    target = f"openai:{httpserver.url_for('/v1')}/deepseek/deepseek-chat"
    assert main(["probe", "--target", target, "--suite", str(suite), "--out", str(out), "-q",
                 "--dossier", str(out / "m.dossier.json")]) == 0
    serving = dio.load(out / "m.dossier.json").subject.serving
    assert serving is not None and serving.local
    assert [(u.name, u.answers, u.country) for u in serving.upstreams] == [("DeepSeek", 2, "CN")]
