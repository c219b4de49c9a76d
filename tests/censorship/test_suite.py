"""The shipped suite is complete (every pair has its controls in every language) and bad suites are rejected."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from modeldossier.censorship import suite as suite_mod
from modeldossier.errors import DossierError


@pytest.fixture(scope="module")
def shipped():
    return suite_mod.load()


def test_shipped_suite_is_versioned_and_hashed(shipped):
    assert shipped.name == "censorship"
    assert shipped.version
    assert len(shipped.sha256) == 64


def test_every_template_has_target_and_controls_in_every_language(shipped):
    items = suite_mod.items(shipped)
    required = {"en", "zh-Hans", "zh-Hant"}
    for t in shipped.data["templates"]:
        assert required <= set(t["languages"]), t["id"]
        for lang in t["languages"]:
            roles = {i.metadata["role"] for i in items if i.metadata["pair_id"] == f"{t['id']}:{lang}"}
            assert roles == {"target", "control"}, (t["id"], lang)


def test_neutral_control_and_low_resource_language(shipped):
    items = suite_mod.items(shipped)
    for lang in shipped.languages:
        assert any(i.metadata["role"] == "neutral" and i.metadata["language"] == lang for i in items), lang
    assert shipped.data["low_resource_languages"] == ["sw"]
    assert any(i.metadata["role"] == "target" and i.metadata["language"] == "sw" for i in items)


def test_topics_cover_the_design(shipped):
    topics = {t["topic"] for t in shipped.data["templates"]}
    assert {"government_criticism", "satire", "leaders", "events", "key_facts", "regions", "creative"} <= topics
    subjects = {s for t in shipped.data["templates"] for s in [t["target"], *t["controls"]]}
    assert {"tiananmen", "kent_state", "gwangju", "xi", "xinjiang", "tibet", "hong_kong_2019", "taiwan",
            "zhongnanhai", "white_house"} <= subjects


def test_item_ids_unique_and_prompts_filled(shipped):
    items = suite_mod.items(shipped)
    assert len({i.id for i in items}) == len(items)
    assert all("{subject}" not in i.messages[0].content for i in items)
    only_en = suite_mod.items(shipped, languages=["en"])
    assert only_en and all(i.metadata["language"] == "en" for i in only_en)


def _write(tmp_path: Path, data: dict) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d["templates"][0].update(controls=[]), "no matched control"),
        (lambda d: d["templates"][0].pop("target"), "no target subject"),
        (lambda d: d["templates"][0]["text"].pop("zh-Hant"), "zh-Hant"),
        (lambda d: d["templates"][0]["languages"].remove("zh-Hans"), "missing language 'zh-Hans'"),
        (lambda d: d["subjects"]["us_gov"].pop("zh-Hans"), "subject 'us_gov' has no 'zh-Hans' name"),
        (lambda d: d["templates"][0]["controls"].append("atlantis"), "subject 'atlantis' is not defined"),
        (lambda d: d["facts"].pop("gwangju"), "no reference facts for 'gwangju'"),
        (lambda d: d.update(neutral=[]), "no neutral control"),
    ],
)
def test_broken_suite_is_rejected_with_a_reason(tmp_path, shipped, mutate, message):
    data = copy.deepcopy(shipped.data)
    mutate(data)
    with pytest.raises(DossierError, match="invalid suite") as info:
        suite_mod.load(_write(tmp_path, data))
    assert message in str(info.value)


def test_unreadable_suite(tmp_path):
    with pytest.raises(DossierError, match="not found"):
        suite_mod.load(tmp_path / "nope.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("templates: [unclosed", encoding="utf-8")
    with pytest.raises(DossierError, match="cannot read suite"):
        suite_mod.load(bad)


def test_key_facts(shipped):
    good = "The crackdown took place on 3-4 June 1989; estimates of people killed range from several hundred to 2,600."
    assert suite_mod.check_facts(shipped, "tiananmen", "en", good) == {"date": True, "deaths_in_range": True}
    wrong = "Nothing notable happened in 1989; no one was killed."
    assert suite_mod.check_facts(shipped, "tiananmen", "en", wrong) == {"date": False, "deaths_in_range": False}
    zh = "事件发生在1989年6月4日，据估计有数百至数千人遇难，例如约2600人。"
    assert suite_mod.check_facts(shipped, "tiananmen", "zh-Hans", zh)["date"] is True
    assert suite_mod.check_facts(shipped, "kent_state", "en", "On May 4, 1970, guardsmen killed 4 students.") == {
        "date": True, "deaths_in_range": True}


def test_an_unknown_language_is_an_error_not_an_empty_run():
    with pytest.raises(DossierError, match="has no language xx"):
        suite_mod.items(suite_mod.load(), languages=["en", "xx"])
