"""Independent samples: with ``--param seed=S`` each sample sends seed S + sample index; the cache stays stable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from modeldossier.probing.cache import ResponseCache
from modeldossier.probing.fakeserver import FakeOpenAIServer
from modeldossier.probing.models import ChatMessage, ProbeItem
from modeldossier.probing.openai_compat import sample_params
from modeldossier.probing.runner import run_probes
from modeldossier.probing.targets import parse_target

pytestmark = pytest.mark.network


def _seeded(question: str, body: dict[str, Any]) -> str:
    """A deterministic server: the answer depends only on the question and the request's seed."""
    return f"{question} / seed {body.get('seed')}"


def _items() -> list[ProbeItem]:
    return [ProbeItem(id="q", messages=[ChatMessage(role="user", content="question")], metadata={})]


def test_sample_params_vary_only_an_integer_seed() -> None:
    assert sample_params({"seed": 7, "temperature": 0.7}, 3) == {"seed": 10, "temperature": 0.7}
    assert sample_params({"temperature": 0.7}, 3) == {"temperature": 0.7}
    assert sample_params({"seed": True}, 2) == {"seed": True}
    assert sample_params({"seed": "x"}, 2) == {"seed": "x"}


def test_seeded_samples_differ_and_cache_is_stable(tmp_path: Path) -> None:
    with FakeOpenAIServer(answer=_seeded) as server:
        target = parse_target(f"openai:{server.url}/fake-model")
        cache = ResponseCache(tmp_path / "cache.sqlite")
        first = run_probes(_items(), target, samples=4, params={"seed": 11}, transcript=tmp_path / "a.jsonl",
                           cache=cache, quiet=True)
        asked = server.answered
        again = run_probes(_items(), parse_target(f"openai:{server.url}/fake-model"), samples=4,
                           params={"seed": 11}, transcript=tmp_path / "b.jsonl", cache=cache, quiet=True)
        cache.close()
    texts = [r.content for r in first]
    assert texts == [f"question / seed {11 + s}" for s in range(4)]  # old code: four copies of seed 11
    assert asked == 4 and server.answered == 4  # the re-run is served from the cache
    assert [r.content for r in again] == texts
