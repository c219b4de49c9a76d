"""Shared types for the scanner benchmark corpora (pickle family and other formats)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

Label = Literal["malicious", "benign", "malformed"]


@dataclass(frozen=True)
class Sample:
    """One corpus file: where it is, what it should be judged as, and which technique it shows."""

    path: Path
    label: Label
    technique: str
