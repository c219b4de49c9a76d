"""Target specs, provider defaults, env handling, response parsing helpers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from modeldossier.errors import DossierError
from modeldossier.probing.base import Target
from modeldossier.probing.openai_compat import OpenAICompatTarget, parse_retry_after, split_reasoning
from modeldossier.probing.runner import RetryPolicy
from modeldossier.probing.targets import PROVIDERS, parse_target, split_url


@pytest.mark.parametrize(
    ("url", "base", "model"),
    [
        ("http://h:8000/v1/qwen2.5-7b", "http://h:8000/v1", "qwen2.5-7b"),
        ("http://h:8000/v1/Qwen/Qwen2.5-7B-Instruct", "http://h:8000/v1", "Qwen/Qwen2.5-7B-Instruct"),
        ("https://open.bigmodel.cn/api/paas/v4/glm-4", "https://open.bigmodel.cn/api/paas/v4", "glm-4"),
        ("http://h:8080/mymodel", "http://h:8080", "mymodel"),
        ("http://h/compatible-mode/v1/qwen-max", "http://h/compatible-mode/v1", "qwen-max"),
    ],
)
def test_split_url(url, base, model):
    assert split_url(url) == (base, model)


@pytest.mark.parametrize(
    "url", ["http://h:8000/v1", "ftp://h/v1/m", "http://user:pw-secret@h/v1/m", "http://h/v1/m?api_key=pw-secret"]
)
def test_split_url_rejects(url):
    with pytest.raises(DossierError) as info:
        split_url(url)
    assert "pw-secret" not in str(info.value)


def test_openai_url_spec():
    t = parse_target("openai:http://localhost:8000/v1/Qwen/Qwen2.5-7B", environ={})
    assert isinstance(t, OpenAICompatTarget) and isinstance(t, Target)
    assert t.id == "openai:Qwen/Qwen2.5-7B" and t.base_url == "http://localhost:8000/v1"


def test_named_providers_defaults_and_env():
    env = {"DEEPSEEK_API_KEY": "sk-deep-123456", "VLLM_BASE_URL": "http://gpu:9000/v1"}
    t = parse_target("deepseek:deepseek-chat", environ=env)
    assert t.base_url == PROVIDERS["deepseek"].base_url and t.describe()["api_key"] == "from DEEPSEEK_API_KEY"
    assert "sk-deep" not in repr(t) and "sk-deep" not in str(t.describe())
    assert parse_target("vllm:m", environ=env).base_url == "http://gpu:9000/v1"
    assert parse_target("vllm:m", base_url="http://x:1/v1", environ=env).base_url == "http://x:1/v1"
    assert parse_target("ollama:llama3", environ={}).base_url == "http://localhost:11434/v1"
    assert parse_target("qwen:qwen-max", environ={"DASHSCOPE_API_KEY": "k-123456"}).describe()["api_key"] == (
        "from DASHSCOPE_API_KEY")
    t = parse_target("openrouter:qwen/qwen-2.5-72b", environ={"MY_KEY": "k-abcdef"}, api_key_env="MY_KEY")
    assert t.id == "openrouter:qwen/qwen-2.5-72b" and t.describe()["api_key"] == "from MY_KEY"


@pytest.mark.parametrize("url", ["http://h:1/v1?key=sk-zzzz9999", "ftp://h/v1", "http://u:sk-zzzz9999@h/v1"])
def test_bad_base_urls_are_refused_without_echoing_them(url):
    with pytest.raises(DossierError) as info:
        parse_target("vllm:m", base_url=url, environ={})
    assert "sk-zzzz9999" not in str(info.value)


def test_cloud_provider_without_key_is_a_clear_error():
    with pytest.raises(DossierError, match="MOONSHOT_API_KEY"):
        parse_target("moonshot:kimi", environ={})
    with pytest.raises(DossierError, match="ZHIPU_API_KEY"):
        parse_target("zhipu:glm-4", environ={})


@pytest.mark.parametrize("spec", ["nope:model", "justamodel", ":x", "deepseek:", "replay:", "transformers:"])
def test_bad_specs(spec):
    with pytest.raises(DossierError):
        parse_target(spec, environ={"DEEPSEEK_API_KEY": "k-123456"})


def test_transformers_target_missing_folder_or_backend(tmp_path):
    with pytest.raises(DossierError, match="no model folder"):
        parse_target(f"transformers:{tmp_path / 'nope'}")
    target = parse_target(f"transformers:{tmp_path}")
    assert target.id == f"transformers:{tmp_path.name}"
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError:
        import asyncio

        with pytest.raises(DossierError, match="transformers"):
            asyncio.run(target.open(max_connections=1))


def test_mock_script_file(tmp_path):
    path = tmp_path / "script.yaml"
    path.write_text("responses:\n  q1: hello\ndefault: other\n")
    t = parse_target(f"mock:{path}")
    assert t.id == "mock:script"
    (tmp_path / "bad.yaml").write_text("- a list\n")
    with pytest.raises(DossierError, match="mapping"):
        parse_target(f"mock:{tmp_path / 'bad.yaml'}")


@pytest.mark.parametrize(
    ("raw", "answer", "reasoning"),
    [
        ("plain", "plain", None),
        ("<think>hmm</think>The answer", "The answer", "hmm"),
        ("<think>a</think>x<think>b</think>y", "xy", "a\n\nb"),
        ("opened in template</think>final", "final", "opened in template"),
        ("<think>cut by the limit", "", "cut by the limit"),
        (None, None, None),
    ],
)
def test_split_reasoning(raw, answer, reasoning):
    assert split_reasoning(raw) == (answer, reasoning)


def test_retry_after_parsing():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after(None) is None and parse_retry_after("soon") is None
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < parse_retry_after(later) <= 30


def test_backoff_grows_and_honours_retry_after():
    import random

    policy, rng = RetryPolicy(base_delay=1, max_delay=8), random.Random(0)
    delays = [policy.delay(a, None, rng) for a in range(1, 7)]
    assert all(0.5 * min(8, 2 ** (a - 1)) <= d <= min(8, 2 ** (a - 1)) for a, d in zip(range(1, 7), delays))
    assert 5 <= policy.delay(1, 5.0, rng) <= 5.1
    assert policy.delay(1, 999.0, rng) <= policy.max_retry_after + 0.1


_PIECE = st.one_of(st.text(alphabet="abc xyz\n", max_size=8), st.sampled_from(["<think>", "</think>"]))


@given(st.lists(_PIECE, max_size=8))
def test_split_reasoning_never_loses_text(pieces):
    """Every character of the raw output ends up in the answer or the reasoning (malformed tag nesting included)."""
    raw = "".join(pieces)
    answer, reasoning = split_reasoning(raw)
    if raw.count("<think>") <= 1 and raw.count("</think>") <= 1:
        assert "think>" not in (answer or "")
    def letters(text: str) -> list[str]:
        return sorted("".join(text.replace("<think>", "").replace("</think>", "").split()))

    assert letters(raw) == letters((answer or "") + (reasoning or ""))


def test_error_snippet_redacts_a_key_across_the_cut():
    from modeldossier.probing.base import TargetError
    from modeldossier.probing.http11 import HTTPResult
    from modeldossier.probing.models import ChatMessage, ProbeItem

    key = "sk-" + "k" * 40
    target = OpenAICompatTarget(provider="openai", model="m", base_url="http://h/v1", api_key=key)
    body = ("x" * 290 + key + " rest").encode()
    item = ProbeItem(id="a", messages=[ChatMessage(role="user", content="q")])
    with pytest.raises(TargetError) as info:
        target._parse(item, 0, HTTPResult(401, {}, body), 0.1)
    assert "sk-kkk" not in info.value.message and "***" in info.value.message


@pytest.mark.parametrize(
    ("body", "content", "finish", "bad_body"),
    [
        (b'{"choices":[{"message":{"content":"ok"},"finish_reason":7}]}', "ok", "7", False),
        (b'{"choices":[{"message":{"content":"x \\ud800 y"},"finish_reason":"stop"}]}', "x \ufffd y", "stop", False),
        (b'{"choices":[{"message":{"content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]}}]}',
         "ab", None, False),
        (b'{"choices":[{"message":"hello","finish_reason":"stop"}]}', None, None, True),
        (b'{"choices":{"a":1}}', None, None, True),
        (b"[1, 2]", None, None, True),
    ],
)
def test_odd_replies_parse_or_fail_as_bad_body(body, content, finish, bad_body):
    from modeldossier.probing.base import TargetError
    from modeldossier.probing.http11 import HTTPResult
    from modeldossier.probing.models import ChatMessage, ProbeItem

    target = OpenAICompatTarget(provider="openai", model="m", base_url="http://h/v1", api_key=None)
    item = ProbeItem(id="a", messages=[ChatMessage(role="user", content="q")])
    if bad_body:
        with pytest.raises(TargetError) as info:
            target._parse(item, 0, HTTPResult(200, {}, body), 0.1)
        assert info.value.kind == "bad_body"
        return
    response = target._parse(item, 0, HTTPResult(200, {}, body), 0.1)
    assert (response.content, response.finish_reason) == (content, finish)
    response.model_dump_json()  # storable


@pytest.mark.parametrize(
    "spec",
    ["openai:127.0.0.1:8000/v1/m", "openai:ftp://h/v1/m", "openai:localhost:8000/v1/m", "openai:localhost/v1/m",
     "vllm:my-box.internal.example:8000/v1/m", "openai:[::1]:8000/v1/m", "openai:Http+unix://x/v1/m",
     "deepseek:api.deepseek.com/v1/deepseek-chat"],
)
def test_address_without_http_scheme_is_refused_not_sent_to_default_cloud(spec):
    with pytest.raises(DossierError, match="looks like an address"):
        parse_target(spec, environ={"OPENAI_API_KEY": "k", "VLLM_API_KEY": "k", "DEEPSEEK_API_KEY": "k"})


@pytest.mark.parametrize("spec", ["openai:HTTP://127.0.0.1:8000/v1/m", "openai:Https://127.0.0.1:8000/v1/m"])
def test_upper_case_scheme_is_a_url(spec):
    target = parse_target(spec, environ={"OPENAI_API_KEY": "k"})
    assert isinstance(target, OpenAICompatTarget)
    assert "127.0.0.1:8000" in target.base_url
    assert "api.openai.com" not in target.base_url


@pytest.mark.parametrize("model", ["qwen2.5:7b", "gpt-4.1", "Qwen/Qwen2.5-7B-Instruct", "llama3.1:8b-instruct-q4_K_M",
                                   "accounts/fireworks/models/deepseek-v3"])
def test_model_names_with_dots_and_tags_still_work(model):
    target = parse_target(f"openai:{model}", environ={"OPENAI_API_KEY": "k"})
    assert isinstance(target, OpenAICompatTarget)


@pytest.mark.parametrize("spec", ["openai:http://127.0.0.1:99999/v1/m", "openai:http://127.0.0.1:abc/v1/m",
                                  "openai:http://127.0.0.1:0/v1/m"])
def test_bad_port_is_a_clean_error(spec):
    with pytest.raises(DossierError, match="port"):
        parse_target(spec, environ={"OPENAI_API_KEY": "k"})


def test_bad_port_in_base_url_option_is_a_clean_error():
    with pytest.raises(DossierError, match="port"):
        parse_target("openai:m", base_url="http://127.0.0.1:70000/v1", environ={"OPENAI_API_KEY": "k"})
