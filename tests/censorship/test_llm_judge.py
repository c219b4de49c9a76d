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


def test_combine_keeps_offline_on_failure_and_a_base_label_for_state_narrative():
    from modeldossier.censorship.classify import Verdict
    from modeldossier.censorship.llm_judge import combine

    offline = Verdict(Label.COMPLETE, ["model: COMPLETE=0.9"], confidence=0.9)
    kept = combine(offline, parse_judgement("no label here"), "openai:m")
    assert kept.label is Label.COMPLETE and "offline label kept" in kept.evidence[0]
    narrative = combine(offline, parse_judgement("Talking points.\nLABEL: STATE_NARRATIVE"), "openai:m")
    assert narrative.label is Label.STATE_NARRATIVE and narrative.base_label is Label.EVASIVE
    assert narrative.evidence[1] == "offline classifier: COMPLETE"
    refused = combine(Verdict(Label.DENIAL, []), parse_judgement("x\nLABEL: STATE_NARRATIVE"), "openai:m")
    assert refused.base_label is Label.DENIAL
