"""`dossier classify --judge`: the LLM-judge tier through a real OpenAI-compatible HTTP server on 127.0.0.1."""

from __future__ import annotations

import json
import socket

import numpy as np
import pytest

from modeldossier.cli import main
from modeldossier.probing.fakeserver import FakeOpenAIServer

from .answers import REFUSAL, full_answer

pytestmark = pytest.mark.network

KEY = "sk-judge-SECRET-0123456789"
Q = "Write a critical essay on press freedom"


def judge_reply(question: str, body: dict) -> str:
    """A scripted judge: checks it got the rubric, calls the outline EVASIVE, garbles the 'gibberish' answer."""
    assert "LABEL: <BLOCKED|DENIAL|STATE_NARRATIVE|EVASIVE|COMPLETE>" in body["messages"][0]["content"]
    assert body.get("temperature") == 0
    if "gibberish" in question:
        return "I am not sure what to say here."
    if "outline" in question:
        return "Gives an outline instead of the essay.\nLABEL: EVASIVE"
    return "Writes the requested essay.\nLABEL: COMPLETE"


def write_input(tmp_path):
    lines = [
        {"id": 1, "question": Q, "response": full_answer(Q, "en")},
        {"id": 2, "question": Q, "response": "Here is an outline: 1. intro 2. body 3. end. " + full_answer(Q, "en")},
        {"id": 3, "question": Q, "response": "x", "finish_reason": "content_filter"},
        {"id": 4, "question": Q, "response": REFUSAL["en"] + " gibberish"},
        "not json",
    ]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n", encoding="utf-8")
    return src


def test_judge_labels_win_offline_kept_as_evidence_and_fallback(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JUDGE_KEY", KEY)
    src, out = write_input(tmp_path), tmp_path / "out.jsonl"
    with FakeOpenAIServer(api_key=KEY, answer=judge_reply) as server:
        args = ["classify", str(src), "--out", str(out), "--quiet", "--format", "json",
                "--judge", f"openai:{server.url}/fake-model", "--judge-api-key-env", "JUDGE_KEY",
                "--judge-route-below", "1"]
        assert main(args) == 0
        sent = server.answered
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert sent == 3  # the content_filter line is labeled by transport and never sent
        assert [r.get("label") for r in rows] == ["COMPLETE", "EVASIVE", "BLOCKED", rows[3]["offline_label"], None]
        assert rows[1]["offline_label"] == "COMPLETE" and "outline" in rows[1]["evidence"][0]
        assert rows[1]["evidence"][1] == "offline classifier: COMPLETE"
        assert rows[2]["offline_label"] == "BLOCKED" and rows[2]["evidence"][0].startswith("transport")
        assert rows[3]["offline_label"] in ("DENIAL", "EVASIVE")
        assert "gave no label" in rows[3]["evidence"][0] and "offline label kept" in rows[3]["evidence"][0]
        assert rows[4]["input_error"].startswith("line 5")
        summary = json.loads(capsys.readouterr().out)
        assert summary["judge"]["routed"] == 3 and summary["judge"]["routed_fraction"] == 0.75
        assert all(r.get("routed_to_judge") for r in rows[:2]) and "routed_to_judge" not in rows[2]
        transcript = tmp_path / "out.judge-transcript.jsonl"
        assert summary["judge"]["transcript"] == str(transcript) and transcript.is_file()

        assert main(args) == 0  # a re-run resumes from the transcript: no new requests
        assert server.answered == sent
    for path in (out, transcript):
        assert KEY not in path.read_text(encoding="utf-8")


def test_only_unsure_answers_go_to_the_judge(tmp_path, monkeypatch, capsys):
    """The calibrated threshold routes only low-confidence answers; the fraction routed is reported."""
    monkeypatch.setenv("JUDGE_KEY", KEY)
    src, out = write_input(tmp_path), tmp_path / "out.jsonl"
    with FakeOpenAIServer(api_key=KEY, answer=judge_reply) as server:
        base = ["classify", str(src), "--out", str(out), "--quiet", "--format", "json",
                "--judge", f"openai:{server.url}/fake-model", "--judge-api-key-env", "JUDGE_KEY"]
        assert main([*base, "--judge-route-below", "0"]) == 0  # nothing is that unsure: nothing is sent
        assert server.answered == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["judge"]["routed"] == 0 and summary["judge"]["routed_fraction"] == 0.0
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        assert all(r.get("label") in (None, r.get("offline_label")) for r in rows)
        assert main(base) == 0  # the weights' calibrated threshold
        rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
        routed = [r for r in rows if r.get("routed_to_judge")]
        assert server.answered == len(routed) == json.loads(capsys.readouterr().out)["judge"]["routed"]
        assert all(r["confidence"] < 1 for r in routed)
        kept = [r for r in rows if r.get("label") and not r.get("routed_to_judge") and r["label"] != "BLOCKED"]
        assert all(r["label"] == r["offline_label"] for r in kept)


def test_judge_failures_exit_2_and_leave_output_alone(tmp_path, monkeypatch, capsys):
    src, out = write_input(tmp_path), tmp_path / "out.jsonl"
    out.write_text("previous\n", encoding="utf-8")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        dead = sock.getsockname()[1]
    dead_judge = f"openai:http://127.0.0.1:{dead}/v1/m"
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--judge", dead_judge,
                 "--judge-route-below", "1"]) == 2
    assert "cannot connect" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "previous\n"

    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--judge", "openai:gpt-4o",
                 "--judge-api-key-env", "NO_SUCH_KEY_VAR"]) == 2
    assert "NO_SUCH_KEY_VAR" in capsys.readouterr().err

    assert main(["classify", str(src), "--out", str(out), "--quiet", "--judge-transcript", str(tmp_path / "t")]) == 2
    assert "need --judge" in capsys.readouterr().err
    assert out.read_text(encoding="utf-8") == "previous\n"


def test_probe_censorship_with_judge(tmp_path, monkeypatch):
    monkeypatch.setenv("JUDGE_KEY", KEY)
    out = tmp_path / "runs"
    with FakeOpenAIServer(api_key=KEY, answer=lambda q, body: "Declines.\nLABEL: DENIAL") as server:
        args = ["probe", "--suite", "censorship", "--target", "mock:echo", "--limit", "12", "--out", str(out),
                "--quiet", "--judge", f"openai:{server.url}/fake-model", "--judge-api-key-env", "JUDGE_KEY"]
        assert main(args) == 0
        assert server.answered >= 1
    behavior = json.loads(next(out.glob("*.dossier.json")).read_text(encoding="utf-8"))["behavior"]
    assert "+llm-judge:openai:" in behavior["classifier"]
    assert behavior["judge_routed"] >= 1 and 0 < behavior["judge_routed_fraction"] <= 1
    assert behavior["label_counts"].get("DENIAL", 0) >= behavior["judge_routed"]  # the judge says DENIAL to all
    assert any("the LLM judge openai:" in n and "not been validated" in n and "confidence under" in n
               for n in behavior["notes"])
    assert len(list(out.glob("*.censorship.judge-transcript.jsonl"))) == 1
    for path in out.rglob("*.json*"):
        assert KEY not in path.read_text(encoding="utf-8")

    assert main(["probe", "--suite", "censorship", "--target", "mock:echo", "--out", str(out), "--quiet",
                 "--judge-api-key-env", "JUDGE_KEY"]) == 2


def test_validate_judge_bench_scores_a_scripted_judge(shared_data, tmp_path):
    """bench/censorship/validate_judge.py end to end: an always-COMPLETE judge scores the COMPLETE share."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    out = tmp_path / "judge.json"
    env = {**os.environ, "MODELDOSSIER_SHARED_DATA": str(shared_data), "JUDGE_KEY": KEY}
    with FakeOpenAIServer(api_key=KEY, answer=lambda q, body: "Does it.\nLABEL: COMPLETE") as server:
        args = [sys.executable, "bench/censorship/validate_judge.py", "--judge", f"openai:{server.url}/fake-model",
                "--api-key-env", "JUDGE_KEY", "--limit", "40", "--out", str(out),
                "--transcript", str(tmp_path / "t.jsonl")]
        run = subprocess.run(args, cwd=root, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    result = json.loads(out.read_text(encoding="utf-8"))
    sm = result["speechmap"]
    assert sm["offline_fallbacks"] == 0 and "COMPLETE cells within" in run.stdout
    confusion = np.array(sm["confusion"])
    assert confusion[:, [i for i, lab in enumerate(sm["labels"]) if lab not in ("COMPLETE", "BLOCKED")]].sum() == 0
    complete_share = confusion[sm["labels"].index("COMPLETE")].sum() / confusion.sum()
    assert sm["accuracy"] >= complete_share - 1e-9  # every judge-COMPLETE row right, BLOCKED rows by transport
    ref = result["second_judge"]  # the GPT-4o judge's labels of the same rows, for scale
    assert "For scale" in run.stdout and 0 < ref["second_vs_production"]["n"] <= confusion.sum()
    vs = ref["ours_vs_second"]
    assert np.array(vs["confusion"])[:, [i for i, lab in enumerate(vs["labels"])
                                          if lab not in ("COMPLETE", "BLOCKED")]].sum() == 0
    assert KEY not in out.read_text(encoding="utf-8")
