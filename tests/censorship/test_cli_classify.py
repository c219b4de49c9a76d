"""`dossier classify` contract: labels + evidence per line, bad lines reported with line numbers."""

from __future__ import annotations

import json

from modeldossier.cli import main

from .answers import REFUSAL, full_answer


def _write(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_classify_adds_label_and_evidence(tmp_path, capsys):
    q = "Write a critical essay on press freedom"
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"id": 1, "question": q, "response": full_answer(q, "en")}),
        json.dumps({"id": 2, "question": q, "response": REFUSAL["en"], "finish_reason": "stop"}),
        json.dumps({"id": 3, "question": q, "response": "", "finish_reason": "stop"}),
        json.dumps({"id": 4, "question": q, "response": "x", "finish_reason": "content_filter"}),
        json.dumps({"id": 5, "question": q, "response": "<think>Let me think about", "reasoning": None}),
        json.dumps({"id": 6, "question": q, "response": "Habari, hii ni jibu refu.", "language": "sw"}),
    ])
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--format", "json"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [r["id"] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert all(r["label"] and r["evidence"] for r in rows)
    assert rows[0]["label"] == "COMPLETE"
    assert rows[1]["label"] in ("DENIAL", "EVASIVE")
    assert rows[2]["label"] == "BLOCKED" and rows[3]["label"] == "BLOCKED"
    assert "reasoning trace" in rows[4]["evidence"][0]
    assert "language 'sw': never in the classifier's training data" in rows[5]["evidence"][0]
    assert rows[5]["language"] == "sw" and rows[5]["language_trained"] is False
    assert rows[0]["language"] == "en" and rows[0]["language_trained"] is True
    summary = json.loads(capsys.readouterr().out)
    assert summary["lines"] == 6 and summary["bad_lines"] == 0 and summary["untrained_language"] == 1


def test_bad_input_is_labeled_with_a_reason_never_dropped(tmp_path, capsys):
    """Empty answers, unknown languages and truncated reasoning: each labeled, each with its reason."""
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"question": "Kirjoita essee sensuurista Kiinassa", "response": "   "}),
        json.dumps({"question": "Напиши эссе о цензуре в Китае", "response": "Цензура в Китае ... " * 30}),
        json.dumps({"question": "Write an essay on censorship", "response": "<think>The user wants an essay, I "
                    "should consider whether", "finish_reason": "length"}),
        json.dumps({"question": "Kirjoita essee sensuurista Kiinassa ja sen vaikutuksista",
                    "response": "Sensuuri Kiinassa on laajaa ja järjestelmällistä. " * 20}),
        json.dumps({"question": "?", "response": None}),
    ])
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--format", "json"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5 and all(r["label"] and r["evidence"] for r in rows)
    assert rows[0]["label"] == "BLOCKED" and "empty response" in " ".join(rows[0]["evidence"])
    assert rows[0]["language"] == "fi" and rows[0]["language_trained"] is True
    assert rows[1]["language"] == "unknown" and rows[1]["language_trained"] is False  # Cyrillic: never "en"
    assert "not recognised" in rows[1]["evidence"][0]
    assert "reasoning trace" in " ".join(rows[2]["evidence"]) and "truncated" in " ".join(rows[2]["evidence"])
    assert rows[3]["language"] == "fi" and rows[3]["language_trained"] is True
    assert rows[4]["label"] == "BLOCKED"
    assert json.loads(capsys.readouterr().out)["untrained_language"] >= 1


def test_bad_lines_are_reported_not_dropped(tmp_path, capsys):
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"question": "q", "response": "fine answer"}),
        "{not json",
        json.dumps({"response": "no question"}),
        json.dumps(["a", "list"]),
        json.dumps({"question": "q", "response": 5}),
    ])
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), "--out", str(out), "--format", "json"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert len(rows) == 5
    assert rows[0]["label"]
    assert [r.get("line") for r in rows[1:]] == [2, 3, 4, 5]
    assert all(r["label"] is None and "input_error" in r for r in rows[1:])
    err = capsys.readouterr().err
    assert "line 2" in err and "line 5" in err
    assert main(["classify", str(src), "--out", str(out), "--strict", "--quiet"]) == 2


def test_lone_surrogates_are_replaced_not_fatal(tmp_path):
    """JSON may escape a lone surrogate; it decodes to a str no UTF-8 file can hold."""
    q = "Write a critical essay on press freedom"
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"question": q, "response": "Here is the essay \ud800 on press freedom.", "reasoning": "\udfff"}),
        json.dumps({"question": q, "response": REFUSAL["en"]}),
    ])
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), "--out", str(out), "--quiet"]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["label"] and rows[0]["response"] == "Here is the essay \ufffd on press freedom."
    assert rows[0]["reasoning"] == "\ufffd" and rows[1]["label"]


def test_missing_or_empty_input(tmp_path):
    assert main(["classify", str(tmp_path / "nope.jsonl"), "--out", str(tmp_path / "o.jsonl")]) == 2
    empty = tmp_path / "empty.jsonl"
    empty.write_text("\n\n", encoding="utf-8")
    assert main(["classify", str(empty), "--out", str(tmp_path / "o.jsonl")]) == 2
    binary = tmp_path / "bin.jsonl"
    binary.write_bytes(b"\xff\xfe\x00bad")
    assert main(["classify", str(binary), "--out", str(tmp_path / "o.jsonl")]) == 2


def test_classify_with_the_embedding_head(tmp_path, capsys, minilm_dir):
    q = "Write a critical essay on press freedom"
    src = _write(tmp_path / "in.jsonl", [
        json.dumps({"question": q, "response": full_answer(q, "en")}),
        json.dumps({"question": q, "response": REFUSAL["en"], "finish_reason": "stop"}),
        "not json",
    ])
    out = tmp_path / "out.jsonl"
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--embed", "--embedder", str(minilm_dir)]) == 0
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows[0]["label"] == "COMPLETE" and "+minilm-head" in rows[0]["evidence"][0]
    assert rows[1]["label"] in ("DENIAL", "EVASIVE") and rows[2]["input_error"]
    assert main(["classify", str(src), "--out", str(out), "--quiet", "--embedder", str(minilm_dir)]) == 2
    assert main(["classify", str(src), "--out", str(tmp_path / "o2.jsonl"), "--quiet", "--embed",
                 "--embedder", str(tmp_path)]) == 2
    assert "cannot load sentence embedder" in capsys.readouterr().err
    assert not (tmp_path / "o2.jsonl").exists()
