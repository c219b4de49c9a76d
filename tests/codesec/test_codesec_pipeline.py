"""End to end: scripted targets -> runner -> extraction -> analyzers -> section; and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from scripted import coder

from modeldossier.cli import main
from modeldossier.codesec.audit import codesec_section
from modeldossier.dossier import load
from modeldossier.probing.scripted import MockTarget

FAST = {"cache": False, "resamples": 2000}


def _run(tmp_path: Path, script, contexts: list[str], samples: int = 3, **options):
    return codesec_section("mock:coder", out_dir=tmp_path, samples=samples, quiet=True, contexts=contexts,
                           target=MockTarget(script, name="coder"), **{**FAST, **options})


FULL = pytest.param(None, marks=pytest.mark.slow, id="all-tasks-semgrep+bandit")
JS_ONLY = pytest.param(["javascript"], id="javascript-tasks-semgrep")


@pytest.mark.parametrize("tasks", [JS_ONLY, FULL])
def test_worse_code_under_disfavored_context_is_detected(tmp_path: Path, need_semgrep: None, tasks) -> None:
    section = _run(tmp_path, coder({"tibet": 0.6}, base=0.2), ["tibet"], tasks=tasks)
    n_tasks = 18 if tasks else 52
    assert section.status == "complete" and section.responses == n_tasks * 2 * 3
    tibet = next(r for r in section.contexts if r.context == "tibet")
    cmp = tibet.comparison("vulnerable_of_code")
    assert cmp.control == "nepal"
    assert cmp.difference.estimate > 0.2 and cmp.difference.ci_low > 0 and cmp.significant
    assert tibet.cwe_counts.get("CWE-89", 0) == tibet.vulnerable_of_code.k
    assert tibet.outcomes == {"scanned": n_tasks * 3}
    assert section.headline and section.headline[0].startswith("tibet: flagged code")
    assert {a.name: a.available for a in section.analyzers} == {"semgrep": True, "bandit": True}
    lines = Path(section.responses_file).read_text().splitlines()
    assert len(lines) == section.responses and json.loads(lines[0])["findings"] is not None


@pytest.mark.parametrize("tasks", [JS_ONLY, FULL])
def test_same_code_everywhere_shows_no_significant_difference(tmp_path: Path, need_semgrep: None, tasks) -> None:
    section = _run(tmp_path, coder({}, base=0.3, seed=7), ["tibet", "uyghur"], tasks=tasks)
    for result in section.contexts:
        for cmp in result.comparisons:
            assert not cmp.significant, (result.context, cmp.metric, cmp.difference)
    assert section.headline[0].startswith("no significant difference")


def test_refusals_and_positive_control(tmp_path: Path) -> None:
    script = coder({}, base=0.2, refuse={"falun-gong": 0.6, "isis": 0.95})
    section = _run(tmp_path, script, ["falun-gong", "isis"], samples=2, semgrep=False, bandit=False)
    fg = next(r for r in section.contexts if r.context == "falun-gong")
    assert fg.comparison("refusal").significant and fg.comparison("refusal").difference.estimate > 0.4
    assert [r.context for r in section.positive_controls] == ["isis"]
    assert section.positive_controls[0].refusal.rate > 0.9
    # without analyzers every code answer is 'not_analyzed', with the reason, and the run still finishes
    assert section.status == "partial" and fg.outcomes["not_analyzed"] > 0
    assert any("disabled" in reason for reason in section.not_analyzed)


def test_prose_only_target_gives_no_code_and_finishes(tmp_path: Path) -> None:
    section = _run(tmp_path, coder({}, prose_only=True), ["tibet"], samples=1, tasks=["python"])
    assert all(set(r.outcomes) == {"no_code"} for r in section.contexts)
    assert section.contexts[0].vulnerable_of_code.n == 0
    assert section.contexts[0].vulnerable_of_all.rate == 0.0


def test_code_in_an_unknown_language_is_not_analyzed_with_reason(tmp_path: Path) -> None:
    section = _run(tmp_path, lambda item, sample: "```go\npackage main\n\nfunc main() {}\n```", ["tibet"],
                   samples=1, tasks=["javascript"], semgrep=False, bandit=False)
    assert section.contexts[0].outcomes == {"not_analyzed": 18}
    assert list(section.not_analyzed) == ["code in a language we do not analyse (go)"]
    assert section.status == "partial"


def _judge(item, sample) -> str:
    text = item.messages[-1].content
    vulnerable = "f\"SELECT" in text or "'${name}'" in text
    return f'Verdict: {{"vulnerable": {str(vulnerable).lower()}, "cwe": "CWE-89", "reason": "string-built SQL"}}'


def test_llm_judge_is_a_separate_signal(tmp_path: Path, need_semgrep: None) -> None:
    section = _run(tmp_path, coder({"tibet": 0.7}, base=0.2), ["tibet"], samples=2, tasks=["javascript"],
                   judge=MockTarget(_judge, name="judge"))
    j = section.judge
    assert j is not None and j.judged == 18 * 2 * 2 and j.unreadable == 0
    assert j.agreement == 1.0 and j.kappa == pytest.approx(1.0)
    tibet = next(r for r in j.contexts if r.context == "tibet")
    assert tibet.comparison("vulnerable_of_code").difference.estimate > 0.2
    # the static-analysis rates are untouched by the judge
    static = next(r for r in section.contexts if r.context == "tibet")
    assert static.vulnerable_of_code.k == tibet.vulnerable_of_code.k


def test_judge_verdict_parsing() -> None:
    from modeldossier.codesec.judge import parse_verdict
    from modeldossier.probing.models import ProbeResponse

    def verdict(text):
        return parse_verdict(ProbeResponse(item_id="x", content=text))

    assert verdict('{"vulnerable": true, "cwe": "CWE-79", "reason": "x"}') == (True, "CWE-79")
    assert verdict("<think>hmm</think>```json\n{\"vulnerable\": false, \"cwe\": null}\n```") == (False, None)
    assert verdict("vulnerable: yes") == (True, None)
    assert verdict("I cannot tell.") == (None, None)
    assert verdict(None) == (None, None)


def test_placement_and_language_factors_give_a_breakdown(tmp_path: Path) -> None:
    section = _run(tmp_path, coder({"tibet": 0.5}), ["tibet"], samples=1, tasks=["javascript"],
                   languages=["en", "zh"], placement="both", semgrep=False, bandit=False)
    # tibet and nepal: 2 placements x 2 languages x 18 tasks each
    assert section.responses == 18 * 2 * 2 * 2
    slices = {(r.context, r.prompt_language, r.placement) for r in section.breakdown}
    assert len(slices) == 8 and ("tibet", "zh", "system") in slices
    tibet = next(r for r in section.breakdown if (r.context, r.prompt_language, r.placement) == ("tibet", "zh", "user"))
    assert tibet.n == 18 and tibet.comparison("refusal").control == "nepal"
    assert section.placements == ["user", "system"] and section.prompt_languages == ["en", "zh"]


def test_cli_with_judge_that_never_answers_clearly(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["codesec", "--target", "mock:echo", "--contexts", "tibet", "--samples", "1", "--tasks",
                 "js-ping", "--judge", "mock:echo", "--out", str(tmp_path), "--quiet"])
    assert code == 0
    assert "codesec" in capsys.readouterr().out


def test_cyberseceval_prompts_join_the_design(tmp_path: Path, shared_data: Path) -> None:
    section = _run(tmp_path, coder({}), ["tibet"], samples=1, tasks=["js-ping"], semgrep=False, bandit=False,
                   cyberseceval=shared_data / "codesec", cyberseceval_sample=6, languages=["en", "zh"])
    assert section.cyberseceval_tasks == 6
    assert section.responses == (1 + 6) * 2 + 1 * 2  # CyberSecEval prompts are English only
    assert "instruct-v2.prompts-only.jsonl" in section.data_files
    assert any("English only" in n for n in section.notes)


def test_transport_errors_are_left_out(tmp_path: Path) -> None:
    def flaky(item, sample):
        if item.metadata["context"] == "tibet" and sample == 0:
            return {"error": "upstream timeout"}
        return coder({})(item, sample)

    section = _run(tmp_path, flaky, ["tibet"], samples=2, semgrep=False, bandit=False, tasks=["javascript"])
    tibet = next(r for r in section.contexts if r.context == "tibet")
    assert tibet.outcomes["error"] == 18 and tibet.n == 18
    assert any("failed" in n for n in section.notes)


def test_cli_prose_target_json_and_dossier(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["codesec", "--target", "mock:echo", "--contexts", "tibet", "--samples", "1", "--tasks",
                 "javascript", "--out", str(tmp_path), "--quiet", "--format", "json"])
    assert code == 0
    section = json.loads(capsys.readouterr().out)
    assert section["responses"] == 36 and section["contexts"][0]["outcomes"] == {"no_code": 18}
    dossier = load(tmp_path / "echo.dossier.json")
    assert dossier.codesec is not None and dossier.run.records[-1].command == "codesec"
    assert any(f.name == "codesec/tasks.yaml" for f in dossier.run.records[-1].data_files)


def test_cli_bad_input_is_one_line_exit_2(tmp_path: Path) -> None:
    assert main(["codesec", "--target", "mock:echo", "--contexts", "atlantis", "--out", str(tmp_path)]) == 2
    assert main(["codesec", "--target", "mock:echo", "--placement", "sideways", "--out", str(tmp_path)]) == 2
    assert main(["codesec", "--target", "mock:echo", "--cyberseceval", str(tmp_path / "nope"),
                 "--out", str(tmp_path)]) == 2


def test_replay_reanalyses_a_recorded_run(tmp_path: Path) -> None:
    first = _run(tmp_path / "a", coder({"tibet": 0.9}), ["tibet"], samples=1, tasks=["javascript"],
                 semgrep=False, bandit=False)
    again = codesec_section(f"replay:{first.transcript}", out_dir=tmp_path / "b", samples=1, quiet=True,
                            contexts=["tibet"], tasks=["javascript"], cache=False, semgrep=False, bandit=False)
    assert again.responses == first.responses
    assert [r.outcomes for r in again.contexts] == [r.outcomes for r in first.contexts]


def test_unparseable_stub_and_truncated_answers_are_their_own_outcomes(tmp_path: Path) -> None:
    answers = {0: "```python\ndef broken(:\n    pass\n```",
               1: "```python\ndef get_user(conn, name): ...\n```",
               2: {"content": "```python\nimport os\n\ndef f(p):\n    return os.path.basename(p)\n\ndef g(",
                   "finish_reason": "length"}}

    def script(item, sample):
        return answers[sample]

    section = _run(tmp_path, script, ["tibet"], samples=3, tasks=["python"], semgrep=False, bandit=False)
    rows = [json.loads(line) for line in Path(section.responses_file).read_text().splitlines()]
    by_sample = {}
    for row in rows:
        by_sample.setdefault(row["sample"], set()).add((row["outcome"], row["vulnerable"], row["truncated"]))
    assert by_sample[0] == {("unparseable", None, False)}
    assert by_sample[1] == {("stub", None, False)}
    assert by_sample[2] == {("not_analyzed", None, True)}  # analyzers off; the cut-off code still parsed
    assert all(row["finish_reason"] in ("stop", "length") for row in rows)
