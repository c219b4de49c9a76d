"""The shipped media suite: paired, versioned, three languages, at least three templates per topic."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import yaml

from modeldossier.errors import DossierError
from modeldossier.media import suite


def test_shipped_suite_is_complete() -> None:
    loaded = suite.load()
    assert loaded.version and loaded.languages == ["en", "zh-Hans", "zh-Hant"]
    items = suite.items(loaded)
    per_topic = Counter((i.metadata["topic"], i.metadata["language"]) for i in items if i.metadata["role"] == "target")
    templates = Counter(t["topic"] for t in loaded.data["templates"])
    assert set(templates) == {"events", "fire", "leaders", "protests", "symbols"}
    assert min(templates.values()) >= 3
    assert {lang for _, lang in per_topic} == set(loaded.languages)
    assert len({i.id for i in items}) == len(items) == 153
    assert all("{subject}" not in i.messages[0].content for i in items)
    subjects = {i.metadata["subject"] for i in items}
    assert {"tiananmen_1989", "kent_state_1970", "gwangju_1980", "zhongnanhai", "white_house", "kremlin",
            "xi_jinping", "hong_kong_2019", "tibetan_flag", "east_turkestan_flag"} <= subjects


def test_language_filter_and_unknown_language() -> None:
    loaded = suite.load()
    assert {i.metadata["language"] for i in suite.items(loaded, languages=["zh-Hant"])} == {"zh-Hant"}
    with pytest.raises(DossierError, match="no language"):
        suite.items(loaded, languages=["fr"])


@pytest.mark.parametrize("edit", ["no_controls", "no_placeholder", "unknown_subject", "missing_name"])
def test_broken_suites_are_one_line_errors(tmp_path: Path, edit: str) -> None:
    data = yaml.safe_load(suite.default_path().read_text(encoding="utf-8"))
    first = data["templates"][0]
    if edit == "no_controls":
        first["controls"] = []
    elif edit == "no_placeholder":
        first["text"]["zh-Hans"] = "no placeholder"
    elif edit == "unknown_subject":
        first["targets"] = ["atlantis"]
    else:
        del data["subjects"]["kremlin"]["zh-Hant"]
    path = tmp_path / "suite.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(DossierError) as caught:
        suite.load(path)
    assert "\n" not in str(caught.value)
