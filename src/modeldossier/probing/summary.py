"""A plain summary of a probe run (for suites that have no analysis of their own)."""

from __future__ import annotations

import math
from collections import Counter
from typing import Any

from pydantic import Field

from modeldossier.common import Model, Rate
from modeldossier.probing.models import ProbeResponse
from modeldossier.stats import wilson


class GroupCounts(Model):
    """Outcome counts for one group of responses (all, or one language)."""

    n: int = 0
    answered: int = 0
    empty: int = 0
    blocked: int = 0
    errors: int = 0
    truncated: int = Field(default=0, description="finish_reason=length")
    with_reasoning: int = 0
    blocked_rate: Rate | None = None


class ProbeSummary(Model):
    """What came back from one run of a suite against one target."""

    target: str
    suite: str
    suite_version: str | None = None
    suite_sha256: str | None = None
    samples: int = 1
    transcript: str | None = None
    overall: GroupCounts
    by_language: dict[str, GroupCounts] = Field(default_factory=dict)
    latency_p50_s: float | None = None
    latency_p95_s: float | None = None
    completion_tokens: int = 0
    provider_models: dict[str, int] = Field(default_factory=dict)
    errors: dict[str, int] = Field(default_factory=dict, description="error message (first 80 chars) -> count")
    run: dict[str, Any] = Field(default_factory=dict, description="resumed / cached / fetched / retries / seconds")


def _counts(responses: list[ProbeResponse]) -> GroupCounts:
    counts = GroupCounts(n=len(responses))
    for r in responses:
        if r.error is not None:
            counts.errors += 1
        elif r.blocked:
            counts.blocked += 1
        elif not (r.content or "").strip():
            counts.empty += 1
        else:
            counts.answered += 1
        counts.truncated += r.finish_reason == "length"
        counts.with_reasoning += bool(r.reasoning)
    counts.blocked_rate = wilson(counts.blocked, counts.n - counts.errors)
    return counts


def _quantile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 4)


def summarize(responses: list[ProbeResponse], *, target: str, suite: str, **facts: Any) -> ProbeSummary:
    """Counts per outcome and language, latency quantiles (fresh answers only), token use, error mix."""
    languages: dict[str, list[ProbeResponse]] = {}
    for r in responses:
        languages.setdefault(str(r.metadata.get("language", "")), []).append(r)
    latencies = [r.latency_s for r in responses if r.latency_s is not None and not r.cached]
    tokens = sum(_tokens(r.usage) for r in responses)
    return ProbeSummary(
        target=target,
        suite=suite,
        overall=_counts(responses),
        by_language={lang: _counts(rs) for lang, rs in sorted(languages.items()) if lang},
        latency_p50_s=_quantile(latencies, 0.5),
        latency_p95_s=_quantile(latencies, 0.95),
        completion_tokens=tokens,
        provider_models=dict(Counter(r.provider_model for r in responses if r.provider_model)),
        errors=dict(Counter((r.error or "")[:80] for r in responses if r.error is not None)),
        **facts,
    )


def _tokens(usage: dict[str, Any] | None) -> int:
    """``completion_tokens`` when the server sent a finite number, else 0 (servers send odd things)."""
    value = (usage or {}).get("completion_tokens")
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        return 0
    return max(0, int(value))
