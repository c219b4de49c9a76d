"""Languages the classifier was never trained on: labeled, counted, and named in the behaviour section."""

from __future__ import annotations

from modeldossier.censorship.audit import behavior_section


def test_untrained_language_note_in_behavior_section(tmp_path):
    """Answers in a suite language the classifier never saw (sw) are labeled, counted and named in the notes."""
    section = behavior_section("mock:echo", out_dir=tmp_path, quiet=True, languages=["sw"], limit=6)
    assert section.n_responses > 0 and sum(section.label_counts.values()) == section.n_responses
    note = next(n for n in section.notes if "never trained on" in n)
    assert "in sw" in note and "trained on en, zh, fi" in note
