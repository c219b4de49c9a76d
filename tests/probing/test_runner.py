"""Runner with scripted targets: ordering, resume, cache, retries, fatal errors, transcripts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.errors import DossierError
from modeldossier.probing.base import TargetError
from modeldossier.probing.cache import ResponseCache
from modeldossier.probing.models import ChatMessage, ProbeItem, ProbeResponse
from modeldossier.probing.runner import RetryPolicy, RunStats, run_probes
from modeldossier.probing.scripted import MockTarget
from modeldossier.probing.targets import parse_target

FAST = RetryPolicy(max_attempts=4, base_delay=0.001, max_delay=0.005, max_retry_after=0.01)


def make_items(n: int, prefix: str = "q") -> list[ProbeItem]:
    return [
        ProbeItem(id=f"{prefix}{i}", messages=[ChatMessage(role="user", content=f"question {i}")],
                  metadata={"topic": "t", "i": i})
        for i in range(n)
    ]


def events(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_results_in_item_then_sample_order_with_metadata(tmp_path):
    target = MockTarget(lambda item, s: f"{item.id}/{s}")
    out = run_probes(make_items(5), target, samples=3, transcript=tmp_path / "t.jsonl", max_connections=4)
    assert [(r.item_id, r.sample) for r in out] == [(f"q{i}", s) for i in range(5) for s in range(3)]
    assert all(r.content == f"{r.item_id}/{r.sample}" for r in out)
    assert out[4].metadata == {"topic": "t", "i": 1}
    lines = events(tmp_path / "t.jsonl")
    assert lines[0]["event"] == "header" and lines[0]["target"]["id"] == "mock:echo"
    assert sum(e["event"] == "response" for e in lines) == 15


def test_resume_skips_done_and_adds_new_samples(tmp_path):
    target = MockTarget(lambda item, s: "a")
    run_probes(make_items(4), target, samples=1, transcript=tmp_path / "t.jsonl")
    assert target.calls == 4
    out = run_probes(make_items(4), target, samples=2, transcript=tmp_path / "t.jsonl")
    assert target.calls == 8 and len(out) == 8
    keys = [(e["response"]["item_id"], e["response"]["sample"]) for e in events(tmp_path / "t.jsonl")
            if e["event"] == "response"]
    assert len(keys) == len(set(keys)) == 8


def test_limit_keeps_first_items(tmp_path):
    out = run_probes(make_items(10), MockTarget(), transcript=tmp_path / "t.jsonl", limit=3)
    assert [r.item_id for r in out] == ["q0", "q1", "q2"]


def test_cache_hits_skip_the_target_and_refresh_bypasses(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    target = MockTarget(lambda item, s: f"answer {s}")
    run_probes(make_items(6), target, samples=2, transcript=tmp_path / "a.jsonl", cache=cache)
    assert target.calls == 12
    stats = RunStats()
    out = run_probes(make_items(6), target, samples=2, transcript=tmp_path / "b.jsonl", cache=cache, stats=stats)
    assert target.calls == 12 and stats.cached == 12 and all(r.cached for r in out)
    assert out[1].content == "answer 1"  # sample index is part of the key
    out = run_probes(make_items(6), target, samples=2, transcript=tmp_path / "b.jsonl", cache=cache, refresh=True)
    assert target.calls == 24 and not any(r.cached for r in out)
    assert len(list(tmp_path.glob("b.*.jsonl"))) == 1  # the old transcript was moved aside, not deleted


def test_cache_key_depends_on_params_and_target(tmp_path):
    cache = ResponseCache(tmp_path / "cache.sqlite")
    a, b = MockTarget(name="a"), MockTarget(name="b")
    run_probes(make_items(2), a, params={"temperature": 0}, transcript=tmp_path / "1.jsonl", cache=cache)
    run_probes(make_items(2), a, params={"temperature": 1}, transcript=tmp_path / "2.jsonl", cache=cache)
    run_probes(make_items(2), b, params={"temperature": 0}, transcript=tmp_path / "3.jsonl", cache=cache)
    assert a.calls == 4 and b.calls == 2
    assert len(cache) == 6


def test_retryable_errors_are_retried_then_recorded(tmp_path):
    attempts: dict[str, int] = {}

    def script(item, sample):
        attempts[item.id] = attempts.get(item.id, 0) + 1
        if item.id == "q0" and attempts[item.id] < 3:
            raise TargetError("HTTP 503", status=503, retryable=True)
        if item.id == "q1":
            raise TargetError("HTTP 500", status=500, retryable=True)
        return "ok"

    out = run_probes(make_items(3), MockTarget(script), transcript=tmp_path / "t.jsonl", retry=FAST)
    assert out[0].content == "ok" and out[0].attempts == 3
    assert out[1].error == "HTTP 500" and out[1].attempts == 4
    errors = [e for e in events(tmp_path / "t.jsonl") if e["event"] == "error"]
    assert sum(e["final"] for e in errors) == 1 and len(errors) == 2 + 4
    # a re-run retries only the failed item
    attempts.clear()
    run_probes(make_items(3), MockTarget(script), transcript=tmp_path / "t.jsonl", retry=FAST)
    assert attempts == {"q1": 4}


def test_fatal_error_stops_and_keeps_what_was_collected(tmp_path):
    def script(item, sample):
        if item.id == "q5":
            raise TargetError("HTTP 401 bad key", status=401, fatal=True)
        return "ok"

    with pytest.raises(DossierError, match="401 bad key.*kept in"):
        run_probes(make_items(10), MockTarget(script), transcript=tmp_path / "t.jsonl", max_connections=1)
    lines = events(tmp_path / "t.jsonl")
    assert sum(e["event"] == "response" for e in lines) == 5
    assert lines[-1]["event"] == "error" and lines[-1]["http_status"] == 401


def test_endpoint_going_away_mid_run_stops_the_run(tmp_path):
    def script(item, sample):
        if int(item.id[1:]) >= 3:
            raise TargetError("cannot connect", retryable=True, kind="unreachable")
        return "ok"

    with pytest.raises(DossierError, match="cannot connect.*3 answer"):
        run_probes(make_items(20), MockTarget(script), transcript=tmp_path / "t.jsonl", max_connections=1,
                   retry=FAST)
    lines = events(tmp_path / "t.jsonl")
    assert sum(e["event"] == "response" for e in lines) == 3
    assert sum(e["event"] == "error" for e in lines) == FAST.max_attempts  # one item's attempts, then stop


def test_transcript_of_another_target_is_refused(tmp_path):
    run_probes(make_items(2), MockTarget(name="one"), transcript=tmp_path / "t.jsonl")
    with pytest.raises(DossierError, match="written for target 'mock:one'"):
        run_probes(make_items(2), MockTarget(name="two"), transcript=tmp_path / "t.jsonl")


def test_changed_prompt_in_transcript_is_refused(tmp_path):
    run_probes(make_items(2), MockTarget(), transcript=tmp_path / "t.jsonl")
    changed = [ProbeItem(id="q0", messages=[ChatMessage(role="user", content="something else")])]
    with pytest.raises(DossierError, match="different prompt"):
        run_probes(changed, MockTarget(), transcript=tmp_path / "t.jsonl")


def test_not_a_transcript_is_refused(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"hello": 1}\n')
    with pytest.raises(DossierError, match="not a modeldossier transcript"):
        run_probes(make_items(1), MockTarget(), transcript=path)


def test_torn_last_line_is_cut_and_item_reasked(tmp_path):
    path = tmp_path / "t.jsonl"
    target = MockTarget()
    run_probes(make_items(3), target, transcript=path)
    text = path.read_text()
    path.write_text(text[: len(text) - 40])  # the last response line is now torn
    out = run_probes(make_items(3), target, transcript=path)
    assert target.calls == 4 and len(out) == 3
    assert all(json.loads(line) for line in path.read_text().splitlines())


def test_bad_arguments(tmp_path):
    with pytest.raises(DossierError, match="duplicate"):
        run_probes(make_items(2) + make_items(1), MockTarget(), transcript=tmp_path / "t.jsonl")
    with pytest.raises(DossierError, match="samples"):
        run_probes(make_items(1), MockTarget(), samples=0, transcript=tmp_path / "t.jsonl")


def test_target_bug_becomes_error_response(tmp_path):
    def script(item, sample):
        raise RuntimeError("boom")

    out = run_probes(make_items(1), MockTarget(script), transcript=tmp_path / "t.jsonl")
    assert out[0].error == "RuntimeError: boom"


def test_mock_mapping_and_blocked(tmp_path):
    target = parse_target("mock:", script={
        "responses": {"q0": {"content": None, "finish_reason": "content_filter", "blocked": True},
                      "question 1": ["first", "second"]},
        "default": "fallback",
    })
    out = run_probes(make_items(3), target, samples=2, transcript=tmp_path / "t.jsonl")
    assert out[0].blocked and out[2].content == "first" and out[3].content == "second"
    assert out[4].content == "fallback"


def test_replay_target_answers_from_a_transcript(tmp_path):
    run_probes(make_items(3), MockTarget(lambda i, s: f"A{i.id}{s}"), samples=2, transcript=tmp_path / "t.jsonl")
    replay = parse_target(f"replay:{tmp_path / 't.jsonl'}")
    assert replay.id == "replay:mock:echo"
    out = run_probes(make_items(4), replay, samples=2, transcript=tmp_path / "r.jsonl")
    assert [r.content for r in out[:2]] == ["Aq00", "Aq01"]
    assert out[6].error is not None  # q3 was never recorded
    # by question text when ids differ
    renamed = [ProbeItem(id="other", messages=[ChatMessage(role="user", content="question 2")])]
    out = run_probes(renamed, replay, transcript=tmp_path / "r2.jsonl")
    assert out[0].content == "Aq20"


def test_replay_simple_published_format(tmp_path):
    path = tmp_path / "pub.jsonl"
    path.write_text('{"id": "x", "question": "q?", "response": "an answer"}\n')
    out = run_probes([ProbeItem(id="x", messages=[ChatMessage(role="user", content="q?")])],
                     parse_target(f"replay:{path}"), transcript=tmp_path / "r.jsonl")
    assert out[0].content == "an answer"


@pytest.mark.parametrize(
    ("last_line", "message"),
    [
        ('{"id": "y", "question": "q2", "response": "ok", "finish_reason": {"a": 1}}',
         "pub.jsonl:2: not a transcript line (finish_reason: Input should be a valid string)"),
        ("[1, 2]", "pub.jsonl:2: not a transcript line (not an object)"),
    ],
)
def test_replay_rejects_a_whole_bad_last_line(tmp_path, last_line, message):
    """Only a torn (undecodable) last line is forgiven as an interrupted write; a complete bad one is an error."""
    path = tmp_path / "pub.jsonl"
    path.write_text('{"id": "x", "question": "q?", "response": "an answer"}\n' + last_line + "\n")
    with pytest.raises(DossierError) as info:
        parse_target(f"replay:{path}")
    assert message in str(info.value)
    path.write_text('{"id": "x", "question": "q?", "response": "an answer"}\n{"id": "y", "quest')
    assert parse_target(f"replay:{path}").id == "replay:pub"


def test_response_model_roundtrip():
    r = ProbeResponse(item_id="a", detail={"x": 1})
    assert ProbeResponse.model_validate_json(r.model_dump_json()) == r


def test_truncated_at_any_byte_resumes_to_exactly_once(tmp_path):
    """Whatever byte a crash stops the transcript at, a re-run ends with every answer exactly once."""
    full = tmp_path / "full.jsonl"
    run_probes(make_items(4), MockTarget(), samples=2, transcript=full)
    data = full.read_bytes()
    for cut in range(0, len(data), max(1, len(data) // 60)):
        path = tmp_path / f"cut{cut}.jsonl"
        path.write_bytes(data[:cut])
        target = MockTarget()
        out = run_probes(make_items(4), target, samples=2, transcript=path)
        assert len(out) == 8
        keys = [(e["response"]["item_id"], e["response"]["sample"]) for e in events(path)
                if e["event"] == "response"]
        assert sorted(keys) == sorted((f"q{i}", s) for i in range(4) for s in range(2)), cut
        complete = data[:cut][: data[:cut].rfind(b"\n") + 1]  # whole lines survive; a torn one is cut
        assert target.calls == 8 - complete.count(b'"event":"response"'), cut
