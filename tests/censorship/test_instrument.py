"""The instrument-error file: the shipped one loads, and every malformed one is a clear DossierError."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from modeldossier.censorship.classify import CLASSIFIER_ID
from modeldossier.censorship.instrument_schema import Count, load_instrument, parse_instrument
from modeldossier.errors import DossierError

GOOD = {
    "classifier": "censorship-linear-v2", "measured": "2026-12-04", "method": "grouped k-fold by model",
    "correct_bias": False,
    "tiers": {"default": {"by_language": {
        "en": {"complete_sensitivity": {"k": 9, "n": 10}, "complete_false_positive": {"k": 1, "n": 4},
               "cell_errors": [0.02, -0.04], "gap_errors": [0.01]},
        "all": {"complete_sensitivity": {"k": 9, "n": 10}, "complete_false_positive": {"k": 1, "n": 4},
                "cell_errors": [0.02, -0.04], "gap_errors": [0.01]}}}},
}


def test_shipped_file_matches_the_shipped_weights():
    inst = load_instrument()
    assert inst.classifier == CLASSIFIER_ID
    errors = inst.errors("fi")
    assert errors.complete_sensitivity.n > 0 and errors.cell_errors and errors.gap_errors
    assert set(inst.tiers["default"]) >= {"en", "zh", "fi", "all"}
    assert inst.errors("zh-Hans") is inst.tiers["default"]["zh"]
    assert inst.errors("sw") is inst.tiers["default"]["all"]  # a language never measured: the pooled error


def test_parse_and_frozen(tmp_path: Path):
    path = tmp_path / "i.json"
    path.write_text(json.dumps(GOOD), encoding="utf-8")
    inst = load_instrument(path)
    assert inst.errors("en").complete_sensitivity == Count(9, 10)
    assert inst.errors("en").cell_errors == (0.02, -0.04)
    with pytest.raises(dataclasses.FrozenInstanceError):
        inst.correct_bias = True  # type: ignore[misc]
    with pytest.raises(TypeError):
        inst.tiers["default"]["xx"] = inst.errors()  # type: ignore[index]


def _broken(change) -> dict:
    data = copy.deepcopy(GOOD)
    change(data)
    return data


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d.pop("classifier"), "'classifier' must be a str"),
    (lambda d: d.update(measured="yesterday"), "not a YYYY-MM-DD date"),
    (lambda d: d.update(correct_bias="no"), "'correct_bias' must be a bool"),
    (lambda d: d["tiers"]["default"]["by_language"].pop("all"), "an 'all' entry"),
    (lambda d: d["tiers"]["default"]["by_language"]["en"].update(cell_errors=[0.1, "x"]), "fractions in"),
    (lambda d: d["tiers"]["default"]["by_language"]["en"].update(gap_errors=[float("nan")]), "fractions in"),
    (lambda d: d["tiers"]["default"]["by_language"]["en"].update(cell_errors=[3.0]), "fractions in"),
    (lambda d: d["tiers"]["default"]["by_language"]["en"]["complete_sensitivity"].update(k=11), "0 <= k <= n"),
    (lambda d: d["tiers"]["default"]["by_language"]["en"].pop("gap_errors"), "expected the keys"),
    (lambda d: d.update(tiers={"embed": d["tiers"]["default"]}), "no 'default' tier"),
])
def test_malformed_files_raise_one_clear_error(change, message):
    with pytest.raises(DossierError, match=message):
        parse_instrument(_broken(change))


def test_unreadable_and_non_json(tmp_path: Path):
    with pytest.raises(DossierError, match="cannot read"):
        load_instrument(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(DossierError, match="not JSON"):
        load_instrument(bad)
    with pytest.raises(DossierError, match="expected a JSON object"):
        parse_instrument([1, 2])
