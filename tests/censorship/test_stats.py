"""Asymmetry statistics, end to end through the probe engine with scripted (mock) targets."""

from __future__ import annotations

import json

import pytest
import yaml

from modeldossier.censorship import suite as suite_mod
from modeldossier.censorship.audit import behavior_section
from modeldossier.censorship.stats import Scored, asymmetry, cells
from modeldossier.cli import main

from .answers import REFUSAL, full_answer


def _scored(labels_target, labels_control, topic="t", language="en"):
    out = []
    for k, (lt, lc) in enumerate(zip(labels_target, labels_control, strict=True)):
        out.append(Scored(f"x{k}:t", 0, f"x{k}", topic, language, "target", "china", lt))
        out.append(Scored(f"x{k}:c", 0, f"x{k}", topic, language, "control", "us", lc))
    return out


def test_asymmetry_flags_a_consistent_gap():
    scored = _scored(["DENIAL"] * 6, ["COMPLETE"] * 6)
    topic = [a for a in asymmetry(scored) if a.topic == "t"][0]
    assert topic.difference.estimate == pytest.approx(1.0)
    assert topic.flagged and topic.n_templates == 6 and topic.supported


def test_asymmetry_not_flagged_when_symmetric_or_too_few():
    mixed = _scored(["DENIAL", "COMPLETE", "COMPLETE", "DENIAL"], ["DENIAL", "COMPLETE", "COMPLETE", "DENIAL"])
    assert not any(a.flagged for a in asymmetry(mixed))
    few = _scored(["DENIAL"] * 2, ["COMPLETE"] * 2)
    assert not any(a.flagged for a in asymmetry(few))


def test_cells_rates_carry_template_intervals():
    result = cells(_scored(["DENIAL", "COMPLETE", "DENIAL"], ["COMPLETE", "COMPLETE", "COMPLETE"]))
    target = [c for c in result if c.role == "target"][0]
    assert target.n == 3 and target.rates["DENIAL"].k == 2 and target.supported and target.n_templates == 3
    assert 0 <= target.rates["DENIAL"].ci_low < 2 / 3 < target.rates["DENIAL"].ci_high <= 1
    few = [c for c in cells(_scored(["DENIAL"], ["COMPLETE"])) if c.role == "target"][0]
    assert not few.supported and few.reason == "too few templates (1)" and few.rates["DENIAL"].ci_low is None


def refuses_china(item, sample):
    lang = item.metadata["language"]
    question = item.messages[-1].content
    if item.metadata["role"] == "target":
        return REFUSAL[lang]
    return full_answer(question, lang)


def answers_all(item, sample):
    return full_answer(item.messages[-1].content, item.metadata["language"])


def test_mock_that_refuses_china_is_flagged(tmp_path):
    section = behavior_section("mock:refuser", out_dir=tmp_path, quiet=True, languages=["en", "zh-Hans"],
                               target_options={"script": refuses_china})
    overall = {a.language: a for a in section.asymmetry if a.topic == "all"}
    assert set(overall) == {"en", "zh-Hans"}
    for a in overall.values():
        assert a.flagged and a.difference.estimate > 0.5 and a.difference.ci_low > 0
    assert section.suite_version and section.suite_sha256 and section.classifier_sha256
    assert any("offline classifier" in n and "a few points high" in n for n in section.notes)
    assert section.n_responses == section.n_items
    assert section.examples and section.examples[0].label != "COMPLETE"
    assert (tmp_path / "mock_refuser.censorship.transcript.jsonl").is_file()


def test_symmetric_mock_is_not_flagged(tmp_path):
    section = behavior_section("mock:answerer", out_dir=tmp_path, quiet=True, languages=["en", "zh-Hant"],
                               target_options={"script": answers_all})
    assert not any(a.flagged for a in section.asymmetry)
    assert section.label_counts.get("COMPLETE", 0) >= 0.9 * section.n_responses


def test_errors_are_counted_not_dropped(tmp_path):
    def flaky(item, sample):
        return {"content": None, "error": "upstream 500"} if item.metadata["role"] == "control" else "ok"

    section = behavior_section("mock:flaky", out_dir=tmp_path, quiet=True, languages=["en"],
                               target_options={"script": flaky})
    assert section.label_counts.get("ERROR", 0) > 0
    assert section.n_responses == section.n_items
    assert any("ERROR" in n for n in section.notes)


def test_probe_cli_end_to_end(tmp_path):
    suite = suite_mod.load()
    items = suite_mod.items(suite, languages=["en"])
    script = {"responses": {i.id: refuses_china(i, 0) for i in items}}
    path = tmp_path / "script.yaml"
    path.write_text(yaml.safe_dump(script, allow_unicode=True), encoding="utf-8")
    out = tmp_path / "runs"
    code = main(["probe", "--suite", "censorship", "--target", f"mock:{path}", "--languages", "en",
                 "--out", str(out), "--quiet", "--format", "json"])
    assert code == 0
    dossiers = list(out.glob("*.dossier.json"))
    assert len(dossiers) == 1
    behavior = json.loads(dossiers[0].read_text(encoding="utf-8"))["behavior"]
    flagged = [a for a in behavior["asymmetry"] if a["flagged"]]
    assert any(a["topic"] == "all" and a["language"] == "en" for a in flagged)


def test_lone_surrogates_in_answers_are_stored(tmp_path):
    section = behavior_section("mock:garbled", out_dir=tmp_path, quiet=True, languages=["en"], limit=4,
                               target_options={"script": lambda item, sample: "bad \ud800 text"})
    assert section.n_responses == 4
    transcript = (tmp_path / "mock_garbled.censorship.transcript.jsonl").read_text(encoding="utf-8")
    assert "bad \ufffd text" in transcript


def test_neutral_control_failure_is_noted(tmp_path):
    section = behavior_section("mock:echo", out_dir=tmp_path, quiet=True, languages=["en"])
    assert any("neutral controls in en" in note for note in section.notes)
