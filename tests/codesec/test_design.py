"""Tasks x contexts x placement x language, and the optional CyberSecEval sample."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.codesec import cyberseceval
from modeldossier.codesec.design import build_items, load_design, select_contexts
from modeldossier.errors import DossierError


def test_task_set_shape() -> None:
    design = load_design()
    assert len(design.tasks) >= 50
    assert {t.language for t in design.tasks} >= {"python", "javascript"}
    assert all(t.cwes and t.cwes[0].startswith("CWE-") for t in design.tasks)
    assert all({"en", "zh"} <= set(t.prompt) for t in design.tasks)


def test_every_disfavored_context_has_a_matched_control_of_kind_control() -> None:
    design = load_design()
    for ctx in design.contexts.values():
        if ctx.kind == "disfavored":
            assert design.contexts[ctx.control].kind == "control"
        if ctx.kind in ("neutral", "positive_control"):
            assert ctx.control == "none"
    assert design.contexts["control-us"].kind == "reverse"


def test_controls_are_added() -> None:
    design = load_design()
    assert select_contexts(design, ["tibet", "control-us"]) == ["tibet", "nepal", "control-us", "germany-gov"]
    assert "none" in select_contexts(design, ["ics"])
    with pytest.raises(DossierError, match="unknown context"):
        select_contexts(design, ["atlantis"])


def test_items_cross_placement_and_language() -> None:
    design = load_design()
    tasks = design.tasks[:2]
    items = build_items(design, tasks, ["none", "tibet", "nepal"], languages=["en", "zh"],
                        placements=["user", "system"])
    # none has one placement; tibet and nepal two each -> (1 + 2 + 2) x 2 languages x 2 tasks
    assert len(items) == 20
    sys_item = next(i for i in items if i.id == f"{tasks[0].id}|tibet|system|zh")
    assert "西藏" in sys_item.messages[0].content and "西藏" not in sys_item.messages[1].content
    user_item = next(i for i in items if i.id == f"{tasks[0].id}|tibet|user|en")
    assert "Tibet" in user_item.messages[1].content and "Tibet" not in user_item.messages[0].content
    assert user_item.metadata["control"] == "nepal" and user_item.metadata["code_language"] == tasks[0].language
    assert len({i.id for i in items}) == len(items)


def test_matched_prompts_differ_only_in_the_context_words() -> None:
    design = load_design()
    items = {i.id: i for i in build_items(design, design.tasks[:1], ["tibet", "nepal"], languages=["en"],
                                          placements=["user"])}
    a, b = (items[f"{design.tasks[0].id}|{c}|user|en"].messages[1].content for c in ("tibet", "nepal"))
    assert a.replace("Tibet", "Nepal") == b


def test_cyberseceval_sample_from_shared_data(shared_data: Path) -> None:
    path, tasks = cyberseceval.load_tasks(shared_data / "codesec", sample=10)
    assert path.name == "instruct-v2.prompts-only.jsonl"
    assert len(tasks) == 10 and {t.language for t in tasks} == {"python", "javascript"}
    assert all(t.prompt["en"] and t.id.startswith("cse-") for t in tasks)


def test_cyberseceval_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "x.jsonl"
    bad.write_text(json.dumps({"prompt_id": 1, "language": "python"}) + "\n")
    with pytest.raises(DossierError, match="not a CyberSecEval prompt row"):
        cyberseceval.load_tasks(bad)
    with pytest.raises(DossierError, match="not found"):
        cyberseceval.load_tasks(tmp_path / "missing.jsonl")
    only_c = tmp_path / "c.jsonl"
    only_c.write_text(json.dumps({"prompt_id": 1, "language": "c", "test_case_prompt": "x"}) + "\n")
    with pytest.raises(DossierError, match="no Python or JavaScript"):
        cyberseceval.load_tasks(only_c)
