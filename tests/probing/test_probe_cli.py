"""`dossier probe` with offline targets: outputs, options, and bad input (exit 2, one line)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier import dossier as dio
from modeldossier.cli import main
from modeldossier.commands.probe import parse_params, split_list
from modeldossier.errors import DossierError

SUITE = """\
name: tiny
version: "3"
params: {temperature: 0.2}
items:
  - id: a
    prompt: {en: hello, zh: 你好}
    metadata: {topic: greet}
  - id: b
    prompt: {en: bye, zh: 再见}
  - id: c
    prompt: {en: blocked please}
"""


@pytest.fixture()
def suite(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.yaml"
    path.write_text(SUITE, encoding="utf-8")
    return path


@pytest.fixture()
def script(tmp_path: Path) -> Path:
    path = tmp_path / "script.yaml"
    path.write_text(
        "responses:\n"
        "  c@en: {content: null, blocked: true, finish_reason: content_filter}\n"
        "  你好: ['', '<unused>']\n"
        "default: an answer\n",
        encoding="utf-8",
    )
    return path


def test_generic_suite_writes_transcript_summary_and_dossier(tmp_path, suite, script, capsys):
    out = tmp_path / "out"
    code = main(["probe", "--target", f"mock:{script}", "--suite", str(suite), "--out", str(out), "--samples", "2",
                 "--quiet", "--format", "json", "--param", "max_tokens=16", "--dossier", str(out / "m.json")])
    assert code == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["suite"] == "tiny" and summary["suite_version"] == "3" and summary["samples"] == 2
    overall = summary["overall"]
    assert overall["n"] == 10 and overall["blocked"] == 2 and overall["empty"] == 1 and overall["answered"] == 7
    assert summary["by_language"]["zh"]["n"] == 4 and summary["by_language"]["en"]["blocked"] == 2
    assert (out / "mock_script.tiny.summary.json").is_file()
    transcript = out / "mock_script.tiny.transcript.jsonl"
    lines = [json.loads(x) for x in transcript.read_text(encoding="utf-8").splitlines()]
    assert sum(e["event"] == "response" for e in lines) == 10
    record = dio.load(out / "m.json").run.records[-1]
    assert record.command == "probe" and record.data_files[0].name == "suite:tiny"
    assert record.settings["params"] == {"max_tokens": 16}


def test_languages_and_limit(tmp_path, suite, capsys):
    out = tmp_path / "out"
    assert main(["probe", "-t", "mock:echo", "-s", str(suite), "-o", str(out), "-l", "zh", "--quiet",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["n"] == 2
    assert main(["probe", "-t", "mock:echo", "-s", str(suite), "-o", str(out / "2"), "--limit", "1", "--quiet",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["overall"]["n"] == 1


def test_second_run_resumes_and_no_cache_still_resumes(tmp_path, suite, capsys):
    args = ["probe", "-t", "mock:echo", "-s", str(suite), "-o", str(tmp_path), "--quiet", "--format", "json"]
    assert main(args) == 0
    capsys.readouterr()
    assert main([*args, "--no-cache"]) == 0
    run = json.loads(capsys.readouterr().out)["run"]
    assert run["resumed"] == 5 and run["fetched"] == 0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "nope:x"], "unknown target provider"),
        (["--target", "mock:echo", "--suite", "no-such-suite"], "unknown suite"),
        (["--target", "mock:echo", "--param", "novalue"], "KEY=VALUE"),
        (["--target", "deepseek:deepseek-chat"], "DEEPSEEK_API_KEY"),
    ],
)
def test_bad_input_is_one_line_exit_2(tmp_path, suite, capsys, monkeypatch, args, message):
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    if "--suite" not in args:
        args = [*args, "--suite", str(suite)]
    assert main(["probe", *args, "--out", str(tmp_path), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_malformed_suite_names_the_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("version: 1\nitems:\n  - id: a\n    prompt: x\n    topic: y\n", encoding="utf-8")
    assert main(["probe", "-t", "mock:echo", "-s", str(bad), "-o", str(tmp_path), "--quiet"]) == 2
    assert f"{bad}:5: items.0.topic" in capsys.readouterr().err


def test_param_and_list_parsing():
    assert parse_params(["temperature=0.7", "stop=[\"x\"]", "name=plain text", "seed=1"]) == {
        "temperature": 0.7, "stop": ["x"], "name": "plain text", "seed": 1}
    assert split_list(["en,zh", " ru "]) == ["en", "zh", "ru"] and split_list(None) is None
    with pytest.raises(DossierError):
        parse_params(["=1"])


@pytest.mark.parametrize("value", ["stream=true", "stream=1", "stream=yes"])
def test_stream_param_is_refused(value):
    with pytest.raises(DossierError, match="stream"):
        parse_params([value])


def test_stream_false_is_accepted():
    assert parse_params(["stream=false"]) == {"stream": False}


def test_every_request_failing_is_an_error_exit_even_when_quiet(tmp_path, suite, capsys):
    script = tmp_path / "dead.yaml"
    script.write_text("default: {fail: {status: 503, retry_after: 0, message: down}}\n",
                      encoding="utf-8")
    out = tmp_path / "out"
    code = main(["probe", "--target", f"mock:{script}", "--suite", str(suite), "--out", str(out), "--quiet"])
    assert code == 2
    err = capsys.readouterr().err
    assert "every request failed" in err
    assert (out / "mock_dead.tiny.transcript.jsonl").is_file()  # the errors are kept for the re-run


def test_every_request_failing_on_the_censorship_suite_is_an_error_exit(tmp_path, capsys):
    script = tmp_path / "dead.yaml"
    script.write_text("default: {fail: {status: 503, retry_after: 0, message: down}}\n",
                      encoding="utf-8")
    code = main(["probe", "--target", f"mock:{script}", "--suite", "censorship", "--out", str(tmp_path / "o"),
                 "--quiet", "--limit", "4"])
    assert code == 2
    assert "every request failed" in capsys.readouterr().err
