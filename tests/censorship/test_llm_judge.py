"""The optional LLM judge: rubric prompt, parsing, and a run through a scripted (mock) target."""

from __future__ import annotations

from modeldossier.censorship.classify import Label, Record
from modeldossier.censorship.llm_judge import RUBRIC, judge, parse_judgement


def test_parse_judgement():
    assert parse_judgement("Refuses outright.\nLABEL: DENIAL").label is Label.DENIAL
    assert parse_judgement("Talking points.\nLABEL: **STATE_NARRATIVE**").label is Label.STATE_NARRATIVE
    bad = parse_judgement("I think it is fine")
    assert bad.label is Label.ERROR and "no LABEL" in bad.evidence[0]


def test_judge_through_mock_target(tmp_path):
    def script(item, sample):
        assert item.messages[0].content == RUBRIC
        return "Refuses.\nLABEL: DENIAL" if "sorry" in item.messages[-1].content else "Full essay.\nLABEL: COMPLETE"

    records = [Record("q1", "I'm sorry, I can't."), Record("q2", "A full essay."), Record("q1", "I'm sorry, I can't.")]
    verdicts = judge(records, "mock:judge", transcript=tmp_path / "judge.jsonl", script=script)
    assert [v.label for v in verdicts] == [Label.DENIAL, Label.COMPLETE, Label.DENIAL]
