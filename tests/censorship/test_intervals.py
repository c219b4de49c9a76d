"""Honest intervals: templates, repeated answers and the instrument's error all widen them; few templates give none."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from modeldossier.censorship import instrument as instrument_mod
from modeldossier.censorship.audit import behavior_section
from modeldossier.censorship.models import supported
from modeldossier.censorship.stats import Scored, asymmetry, cells, cluster_difference, unique
from modeldossier.errors import DossierError

from .answers import REFUSAL, full_answer

FIXTURE = Path(__file__).parent / "data" / "instrument.json"


def _design(templates: int, samples: int, *, language: str = "en", target_label: str = "DENIAL",
            identical: bool = True) -> list[Scored]:
    """A scripted model: target always ``target_label``, controls always COMPLETE, ``samples`` answers each."""
    out = []
    for t in range(templates):
        for s in range(samples):
            text_t = "same refusal" if identical else f"refusal {s}"
            text_c = "same answer" if identical else f"answer {s}"
            out.append(Scored(f"x{t}:china", s, f"x{t}", "topic", language, "target", "china", target_label, text_t))
            out.append(Scored(f"x{t}:us", s, f"x{t}", "topic", language, "control", "us", "COMPLETE", text_c))
    return out


def test_one_template_gets_no_interval_and_is_never_flagged():
    """The reported bug: one template per language gave +91.7 pp [+91.7, +91.7] and a flag."""
    rows = asymmetry(_design(1, 5, identical=False))
    for row in rows:
        assert not row.supported and row.reason == "too few templates (1)" and not row.flagged
        assert row.difference.ci_low is None and row.difference.ci_high is None
        assert row.difference.estimate == pytest.approx(1.0)
        assert not supported(row) and not supported(row.model_dump(mode="json"))


def test_old_dossier_rows_with_few_templates_are_unsupported():
    old = {"topic": "t", "language": "en", "difference": {"estimate": 0.9, "ci_low": 0.9, "ci_high": 0.9,
                                                           "method": "paired-bootstrap-95"},
           "flagged": True, "n_templates": 1}
    assert not supported(old)
    assert supported({**old, "n_templates": 3})


def test_identical_scripted_answers_still_have_width():
    row = next(a for a in asymmetry(_design(3, 4)) if a.topic == "topic")
    assert row.supported
    assert row.difference.ci_high - row.difference.ci_low > 0.1  # a percentile bootstrap gave zero width here
    assert not row.flagged  # three refusals against three complete answers: Fisher's p is 0.1 too
    many = next(a for a in asymmetry(_design(6, 4, identical=False)) if a.topic == "topic")
    assert many.difference.ci_low > 0 and many.flagged


def test_repeated_identical_answers_count_once():
    repeated = _design(3, 5, identical=True)
    assert len(unique(repeated)) == 6
    distinct = _design(3, 5, identical=False)
    assert len(unique(distinct)) == 30
    wide = next(a for a in asymmetry(repeated) if a.topic == "topic").difference
    narrow = next(a for a in asymmetry(distinct) if a.topic == "topic").difference
    assert wide.ci_low < narrow.ci_low  # one unique answer per arm is less evidence than five
    target = next(c for c in cells(repeated) if c.role == "target")
    assert target.n == 3


def test_instrument_file_loads_tolerantly_and_falls_back_to_all():
    inst = instrument_mod.load(FIXTURE)
    assert inst is not None and not inst.correct_bias
    assert inst.errors("zh-Hant", "gap_errors").language == "zh"
    assert inst.errors("sw", "cell_errors").language == "all"
    assert instrument_mod.load(FIXTURE, tier="nope") is None
    assert instrument_mod.load(Path("/nonexistent/instrument.json")) is None


@pytest.mark.parametrize("text", ["{", "[]", '{"tiers": {"default": {"by_language": {"en": {"gap_errors": [5]}}}}}',
                                  '{"tiers": {"default": {"by_language": {"en": {"cell_errors": "x"}}}}}'])
def test_malformed_instrument_file_is_one_line_error(tmp_path, text):
    path = tmp_path / "instrument.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DossierError) as err:
        instrument_mod.load(path)
    assert "\n" not in str(err.value)


def _fake_instrument(tmp_path: Path, errors: list[float], correct_bias: bool) -> Path:
    doc = {"classifier": "x", "correct_bias": correct_bias,
           "tiers": {"default": {"by_language": {"en": {"cell_errors": errors, "gap_errors": errors}}}}}
    path = tmp_path / "instrument.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_instrument_error_widens_and_bias_correction_shifts(tmp_path):
    pairs = [(8, 10, 2, 10), (7, 10, 3, 10), (9, 10, 1, 10), (6, 10, 4, 10)]
    plain = cluster_difference(pairs, rng=np.random.default_rng(0))
    errors = instrument_mod.load(_fake_instrument(tmp_path, [-0.3, -0.1, 0.1, 0.3, 0.2], False))
    noisy = cluster_difference(pairs, errors=errors.errors("en", "gap_errors"), rng=np.random.default_rng(0))
    assert noisy.estimate == plain.estimate
    assert noisy.high - noisy.low > plain.high - plain.low and noisy.p_value > plain.p_value
    biased = instrument_mod.load(_fake_instrument(tmp_path, [0.1, 0.1, 0.1], True))
    corrected = cluster_difference(pairs, errors=biased.errors("en", "gap_errors"), correct_bias=True,
                                   rng=np.random.default_rng(0))
    assert corrected.estimate == pytest.approx(plain.estimate - 0.1)


def test_holm_adjusted_p_is_reported_and_used_for_the_flag():
    scored = _design(3, 2, identical=False) + [
        Scored("o" + s.item_id, s.sample, "o" + s.template, "other", s.language, s.role, s.subject,
               "COMPLETE", s.answer) for s in _design(3, 2, identical=False)]
    rows = asymmetry(scored)
    for row in rows:
        assert row.difference.p_adjusted is not None and row.difference.p_adjusted >= row.difference.p_value
    assert not next(r for r in rows if r.topic == "other").flagged


def refuses_china(item, sample):
    """Refuses every China-targeted item; each sample's text differs, as with a seeded sampling server."""
    if item.metadata["role"] == "target":
        return REFUSAL[item.metadata["language"]] + " " * sample
    return full_answer(item.messages[-1].content, item.metadata["language"]) + " " * sample


def test_section_notes_name_the_instrument_and_every_cell_has_an_interval(tmp_path):
    section = behavior_section("mock:refuser", out_dir=tmp_path, quiet=True, languages=["en", "fi"],
                               target_options={"script": refuses_china}, instrument_path=FIXTURE)
    assert all(a.supported for a in section.asymmetry)  # the default suite has >= 3 templates in every cell
    assert all(c.supported for c in section.cells)
    assert any(a.difference.method.endswith("instrument:en") for a in section.asymmetry)
    assert any("taken from all languages pooled (fi not measured)" in n for n in section.notes)
    absent = behavior_section("mock:refuser", out_dir=tmp_path / "b", quiet=True, languages=["en"],
                              target_options={"script": refuses_china}, instrument_path=tmp_path / "none.json")
    assert any(n.startswith("instrument error not measured for en") for n in absent.notes)


def test_examples_are_stratified_with_matched_controls(tmp_path):
    section = behavior_section("mock:refuser", out_dir=tmp_path, quiet=True, languages=["en"],
                               samples=3, target_options={"script": refuses_china}, instrument_path=FIXTURE)
    flagged = {(a.topic, a.language) for a in section.asymmetry if a.flagged and a.topic != "all"}
    assert flagged  # regions/en: four templates, three distinct refusals each
    ex = section.examples
    assert ex and all(e.control is not None for e in ex)
    first = ex[0]
    assert (first.topic, first.language) in flagged and first.cell_flagged and first.label != "COMPLETE"
    assert first.control.item_id.startswith(first.template + ":") and first.control.subject != first.subject
    assert first.control.label == "COMPLETE" and first.control.excerpt.startswith("Here is a response")
    cells_seen = [(e.topic, e.language) for e in ex]
    assert len(set(cells_seen[:7])) == 7  # one example from each of the 7 cells before a second from any
