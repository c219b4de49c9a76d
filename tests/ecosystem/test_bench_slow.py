"""The 1M-row aggregation goal (< 10 s on the 2-core dev machine); slow, run by bench/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_one_million_rows_under_ten_seconds(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "ecosystem" / "bench_aggregate.py"), "--rows", "1000000",
         "--out", str(tmp_path)], capture_output=True, text=True, timeout=600, check=True,
    )
    data = json.loads(result.stdout)
    for rule in ("uploader", "lineage-root"):
        assert data[rule]["models_in_window"] > 0
        assert data[rule]["total_s"] < 10, data
