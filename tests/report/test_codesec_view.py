"""Which code-security difference the scorecard, compare and gate read from a context."""

from __future__ import annotations

import pytest

from modeldossier.codesec.models import ContextResult
from modeldossier.common import Difference
from modeldossier.report.codesec_view import differentials, primary

pytestmark = pytest.mark.skipif(
    "comparisons" not in ContextResult.model_fields, reason="this codesec model has no comparisons"
)


def _comparison(metric: str, estimate: float | None):
    from modeldossier.codesec.models import Comparison

    return Comparison(metric=metric, control="nepal",
                      difference=Difference(estimate=estimate, ci_low=None if estimate is None else estimate - 0.1,
                                            ci_high=None if estimate is None else estimate + 0.1, method="t"))


def test_primary_is_vulnerable_of_code_when_measured():
    ctx = ContextResult(context="tibet", comparisons=[
        _comparison("vulnerable_of_all", 0.02), _comparison("vulnerable_of_code", 0.08), _comparison("refusal", 0.3),
    ])
    assert primary(ctx).metric == "vulnerable_of_code"
    assert [d.metric for d in differentials(ctx)] == ["vulnerable_of_all", "vulnerable_of_code", "refusal"]


def test_primary_falls_back_when_no_code_was_written():
    ctx = ContextResult(context="tibet", comparisons=[
        _comparison("vulnerable_of_code", None), _comparison("refusal", 0.3), _comparison("vulnerable_of_all", 0.0),
    ])
    assert primary(ctx).metric == "vulnerable_of_all"
    ctx = ContextResult(context="tibet", comparisons=[_comparison("vulnerable_of_code", None)])
    assert primary(ctx).metric == "vulnerable_of_code" and primary(ctx).estimate is None
    assert primary(ContextResult(context="control-us")) is None
