"""Fixtures for the codesec tests."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


@pytest.fixture(scope="session")
def semgrep_available() -> bool:
    """True when the pinned semgrep-core can be run."""
    from modeldossier.codesec.analyzers import find_semgrep

    return find_semgrep() is not None


@pytest.fixture
def need_semgrep(semgrep_available: bool) -> None:
    """Skip when Semgrep is not installed (pip install --no-deps semgrep==1.185.0)."""
    if not semgrep_available:
        pytest.skip("semgrep not installed")
