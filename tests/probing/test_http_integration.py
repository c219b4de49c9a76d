"""The production OpenAI-compatible client against a real HTTP server on 127.0.0.1 that injects faults."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.errors import DossierError
from modeldossier.probing.cache import ResponseCache
from modeldossier.probing.fakeserver import FakeOpenAIServer
from modeldossier.probing.models import ChatMessage, ProbeItem
from modeldossier.probing.runner import RetryPolicy, RunStats, run_probes
from modeldossier.probing.targets import parse_target

pytestmark = pytest.mark.network

KEY = "sk-test-SECRET-0123456789abcdef"
FAST = RetryPolicy(max_attempts=5, base_delay=0.01, max_delay=0.05)


def items(n: int) -> list[ProbeItem]:
    return [ProbeItem(id=f"q{i}", messages=[ChatMessage(role="user", content=f"question {i}")],
                      metadata={"language": "en"}) for i in range(n)]


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def assert_no_key(*paths: Path) -> None:
    for path in paths:
        for file in ([path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]):
            assert KEY.encode() not in file.read_bytes(), f"API key leaked into {file}"


@pytest.fixture()
def server():
    with FakeOpenAIServer(api_key=KEY, slow_seconds=1.5) as srv:
        yield srv


@pytest.mark.parametrize("client", ["lean", "httpx"])
def test_faults_are_retried_and_answers_recorded_once(server, tmp_path, client):
    server.faults = {
        "question 1": ["429"],
        "question 2": ["500", "503"],
        "question 3": ["slow"],
        "question 4": ["garbage"],
        "question 5": ["reset"],
        "question 6": ["garbage"] * 10,  # never recovers -> error event, not a crash
        "question 7": ["filter"],
        "question 8": ["400block"],
    }
    target = parse_target(f"openai:{server.url}/fake-model", api_key=KEY, timeout=0.5, http_client=client)
    cache = ResponseCache(tmp_path / "cache.sqlite")
    stats = RunStats()
    started = time.perf_counter()
    out = run_probes(items(12), target, samples=1, transcript=tmp_path / "t.jsonl", cache=cache,
                     max_connections=4, retry=FAST, stats=stats)
    cache.close()
    assert len(out) == 12
    by_id = {r.item_id: r for r in out}
    assert by_id["q0"].content == "You asked: question 0" and by_id["q0"].attempts == 1
    assert by_id["q0"].provider_model == "fake-model-served" and by_id["q0"].usage["total_tokens"] > 0
    assert by_id["q0"].http_status == 200 and by_id["q0"].latency_s > 0
    assert by_id["q1"].attempts == 2 and by_id["q1"].error is None
    assert by_id["q2"].attempts == 3 and by_id["q2"].error is None
    assert by_id["q3"].attempts == 2 and by_id["q3"].error is None  # timed out once at 0.5 s
    assert by_id["q4"].attempts == 2 and by_id["q4"].error is None
    assert by_id["q5"].attempts == 2 and by_id["q5"].error is None
    assert by_id["q6"].error is not None and "bad response body" in by_id["q6"].error and by_id["q6"].attempts == 5
    assert by_id["q7"].blocked and by_id["q7"].finish_reason == "content_filter"
    assert by_id["q8"].blocked and by_id["q8"].http_status == 400 and "data_inspection" in by_id["q8"].detail[
        "block_reason"]
    # Retry-After: 1 was honoured (the wait recorded and the elapsed time)
    log = events(tmp_path / "t.jsonl")
    waits = [e["retry_in"] for e in log if e["event"] == "error" and e["item_id"] == "q1"]
    assert waits and waits[0] >= 1.0
    assert time.perf_counter() - started >= 1.0
    responses = [(e["response"]["item_id"], e["response"]["sample"]) for e in log if e["event"] == "response"]
    assert len(responses) == len(set(responses)) == 11
    assert log[0]["target"]["api_key"] == "from option"
    assert_no_key(tmp_path)
    assert stats.retries >= 7 and stats.failed == 1

    # second run: everything done is resumed, the failed one is asked again (and fails again)
    server.faults = {}
    out2 = run_probes(items(12), target, transcript=tmp_path / "t.jsonl", retry=FAST)
    assert {r.item_id for r in out2 if r.error} == set()
    assert server.attempts["question 6"] == 6


def test_reasoning_split_from_think_blocks(tmp_path):
    with FakeOpenAIServer() as srv:
        target = parse_target(f"vllm:{srv.url}/fake-model")
        out = run_probes([ProbeItem(id="t", messages=[ChatMessage(role="user", content="why [think]")])], target,
                         transcript=tmp_path / "t.jsonl")
    assert out[0].content == "You asked: why [think]"
    assert out[0].reasoning == "considering: why [think]"


@pytest.mark.parametrize("client", ["lean", "httpx"])
def test_wrong_key_fails_fast_without_leaking_it(server, tmp_path, client):
    wrong = "sk-wrong-KEY-9876543210"
    target = parse_target(f"openai:{server.url}/fake-model", api_key=wrong, http_client=client)
    with pytest.raises(DossierError) as info:
        run_probes(items(50), target, transcript=tmp_path / "t.jsonl", max_connections=4, retry=FAST)
    message = str(info.value)
    assert "HTTP 401" in message and wrong not in message and "***" in message
    assert wrong.encode() not in (tmp_path / "t.jsonl").read_bytes()
    assert server.requests < 10  # stopped early, did not hammer the endpoint


def test_cli_wrong_key_unknown_model_unreachable_exit_2(server, tmp_path, monkeypatch, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text("version: 1\nitems:\n" + "".join(f"  - id: q{i}\n    prompt: question {i}\n" for i in range(5)))
    monkeypatch.setenv("VLLM_API_KEY", KEY)
    out = tmp_path / "out"
    # good run first: it writes a transcript that must survive the failures below
    assert main(["probe", "--target", f"vllm:{server.url}/fake-model", "--suite", str(suite), "--out", str(out),
                 "--quiet", "--dossier", str(out / "d.json")]) == 0
    transcript = out / "vllm_fake-model.suite.transcript.jsonl"
    before = transcript.read_bytes()
    capsys.readouterr()

    monkeypatch.setenv("VLLM_API_KEY", "sk-bad-" + KEY[::-1])
    assert main(["probe", "--target", f"vllm:{server.url}/fake-model", "--suite", str(suite), "--out", str(out),
                 "--quiet", "--no-cache", "--refresh"]) == 2
    err = capsys.readouterr().err
    assert "HTTP 401" in err and "VLLM_API_KEY" in err and KEY[::-1] not in err
    assert len(err.strip().splitlines()) == 1
    rotated = [p for p in out.glob("vllm_fake-model.suite.*.jsonl") if p != transcript]
    assert rotated and rotated[0].read_bytes() == before  # refresh moved the old answers aside, nothing lost

    monkeypatch.setenv("VLLM_API_KEY", KEY)
    assert main(["probe", "--target", f"vllm:{server.url}/no-such-model", "--suite", str(suite), "--out",
                 str(out), "--quiet"]) == 2
    assert "404" in capsys.readouterr().err

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    started = time.perf_counter()
    assert main(["probe", "--target", f"openai:http://127.0.0.1:{dead}/v1/m", "--suite", str(suite), "--out",
                 str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "cannot connect" in err and time.perf_counter() - started < 30
    assert_no_key(out)


def test_transcript_of_other_target_refused_by_cli(server, tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text("version: 1\nitems:\n  - id: a\n    prompt: question 1\n")
    out = tmp_path / "out"
    target = parse_target(f"openai:{server.url}/fake-model", api_key=KEY)
    run_probes(items(1), target, transcript=out / "openai_other.suite.transcript.jsonl")
    # a transcript file written for openai:fake-model placed where openai:other's would go
    before = (out / "openai_other.suite.transcript.jsonl").read_bytes()
    assert main(["probe", "--target", f"openai:{server.url}/other", "--suite", str(suite), "--out", str(out),
                 "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "written for target 'openai:fake-model'" in err and "not 'openai:other'" in err
    assert (out / "openai_other.suite.transcript.jsonl").read_bytes() == before
    assert main(["probe", "--target", f"openai:{server.url}/other", "--suite", str(suite), "--out", str(out),
                 "--quiet", "--api-key-env", "NOPE_UNSET"]) == 2
    assert "NOPE_UNSET is not set" in capsys.readouterr().err


DRIVER = """
import sys
from pathlib import Path
from modeldossier.probing.runner import run_probes
from modeldossier.probing.suite import load_suite
from modeldossier.probing.targets import parse_target
suite, url, transcript = sys.argv[1:4]
run_probes(load_suite(suite).items, parse_target("llamacpp:" + url + "/fake-model"), samples=2,
           transcript=Path(transcript), max_connections=4)
"""


def test_resume_after_sigkill_gives_every_answer_exactly_once(tmp_path):
    n = 120
    suite = tmp_path / "suite.yaml"
    suite.write_text("version: 1\nitems:\n" + "".join(f"  - id: q{i}\n    prompt: question {i}\n" for i in range(n)))
    transcript = tmp_path / "out" / "t.jsonl"
    with FakeOpenAIServer(delay=0.02) as srv:
        cmd = [sys.executable, "-c", DRIVER, str(suite), srv.url, str(transcript)]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.time() + 60
        while time.time() < deadline and proc.poll() is None:
            if transcript.exists() and transcript.read_bytes().count(b'"event":"response"') >= 40:
                break
            time.sleep(0.01)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
        assert proc.returncode == -signal.SIGKILL, proc.stderr.read().decode()[-2000:]
        first = transcript.read_bytes().count(b'"event":"response"')
        assert 40 <= first < 2 * n, "the run must be killed in the middle"
        asked_before = srv.answered
        rerun = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert rerun.returncode == 0, rerun.stderr
    lines = events(transcript)
    keys = [(e["response"]["item_id"], e["response"]["sample"]) for e in lines if e["event"] == "response"]
    assert len(keys) == len(set(keys)) == 2 * n
    assert sum(e["event"] == "header" for e in lines) == 1
    # the re-run asked only for what was missing (answers flushed before the kill were not re-asked)
    assert srv.answered - asked_before <= 2 * n - first + 4


def test_model_moved_to_another_port_resumes_but_cache_is_per_url(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    with FakeOpenAIServer() as first:
        run_probes(items(3), parse_target(f"vllm:{first.url}/fake-model"), transcript=tmp_path / "t.jsonl",
                   cache=cache)
    with FakeOpenAIServer() as second:
        assert second.port != first.port
        stats = RunStats()
        out = run_probes(items(5), parse_target(f"vllm:{second.url}/fake-model"), transcript=tmp_path / "t.jsonl",
                         cache=cache, stats=stats)
        assert stats.resumed == 3 and stats.fetched == 2 and len(out) == 5
        stats = RunStats()
        run_probes(items(5), parse_target(f"vllm:{second.url}/fake-model"), transcript=tmp_path / "new.jsonl",
                   cache=cache, stats=stats)
        assert stats.cached == 2 and stats.fetched == 3  # answers from the old URL are not reused from the cache
    cache.close()
