"""One exit-code policy for every command (README "Exit codes").

0: the command ran and found nothing at or above the fail threshold; 1: it found something a deployer must act
on: a finding at or above ``--fail-on``, an undeclared derivative, a policy breach (or, with codesec
``--fail-on-difference``, a flagged differential); 2: usage or input error, one line on stderr.
Commands that only measure or render (probe, classify, report, compare, ecosystem, schema) exit 0 when they ran:
their numbers are judged by ``dossier gate``.
"""

from __future__ import annotations

from typing import Any

from modeldossier.common import Severity

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def failing_reasons(artifacts: Any, provenance: Any, fail_on: Severity) -> list[str]:
    """Why a result fails (empty: it passes): a finding at or above ``fail_on``, an undeclared derivative."""
    reasons = []
    worst = artifacts.worst() if artifacts is not None else None
    if worst is not None and worst.at_least(fail_on):
        reasons.append(f"a {worst.value} finding (--fail-on {fail_on.value})")
    if provenance is not None and provenance.undeclared_derivative is True:
        reasons.append("undeclared derivative")
    return reasons


def exit_code(artifacts: Any, provenance: Any, fail_on: Severity) -> int:
    """``EXIT_FINDINGS`` when ``failing_reasons`` gives any reason, else ``EXIT_OK``."""
    return EXIT_FINDINGS if failing_reasons(artifacts, provenance, fail_on) else EXIT_OK
