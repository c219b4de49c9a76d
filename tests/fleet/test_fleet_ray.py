"""`dossier fleet --executor ray`: a local Ray started by the test, and (slow) a two-node cluster on one machine."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from modeldossier.cli import main

from .fleetkit import make_fleet, stable

ray = pytest.importorskip("ray", reason="Ray is not installed: pip install 'modeldossier[fleet]'")


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False,
             runtime_env={"env_vars": {"PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}})
    try:
        yield
    finally:
        ray.shutdown()


def test_ray_tasks_write_the_same_dossiers_as_the_local_pool(tmp_path: Path, local_ray: None) -> None:
    path = make_fleet(tmp_path, 6)
    code = main(["fleet", str(path), "--out", str(tmp_path / "ray"), "--executor", "ray", "--no-hash", "-q"])
    index = json.loads((tmp_path / "ray" / "fleet-index.json").read_text(encoding="utf-8"))
    assert code == 1 and index["executor"] == "ray" and index["counts"]["done"] == 6
    assert main(["fleet", str(path), "--out", str(tmp_path / "pool"), "--workers", "2", "--no-hash", "-q"]) == 1
    for dossier in sorted((tmp_path / "pool").glob("*.dossier.json")):
        assert stable(dossier) == stable(tmp_path / "ray" / dossier.name), dossier.name
    assert main(["fleet", str(path), "--out", str(tmp_path / "ray"), "--executor", "ray", "--no-hash", "-q"]) == 1
    again = json.loads((tmp_path / "ray" / "fleet-index.json").read_text(encoding="utf-8"))
    assert again["counts"]["skipped"] == 6


def test_address_without_ray_executor_is_a_usage_error(tmp_path: Path) -> None:
    path = make_fleet(tmp_path, 1)
    assert main(["fleet", str(path), "--out", str(tmp_path / "o"), "--address", "auto", "-q"]) == 2


@pytest.mark.slow
def test_two_node_cluster_places_tasks_on_both_nodes(tmp_path: Path) -> None:
    """``ray start --head`` plus a second ``ray start --address`` on this machine; the index names both nodes."""
    ray_cli = shutil.which("ray") or str(Path(sys.executable).with_name("ray"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p), "RAY_USAGE_STATS_ENABLED": "0"}
    port = "6390"
    temp = Path(tempfile.mkdtemp(prefix="rt", dir="/tmp"))  # Ray's socket paths must stay under 108 characters
    try:
        subprocess.run([ray_cli, "start", "--head", f"--port={port}", "--num-cpus=1", "--resources={\"head\": 1}",
                        "--include-dashboard=false", f"--temp-dir={temp}"], env=env, check=True, timeout=180,
                       capture_output=True)
        subprocess.run([ray_cli, "start", f"--address=127.0.0.1:{port}", "--num-cpus=1",
                        "--resources={\"second\": 1}"], env=env, check=True, timeout=180, capture_output=True)
        path = make_fleet(tmp_path, 8)
        subprocess.run(
            [sys.executable, "-m", "modeldossier.cli", "fleet", str(path), "--out", str(tmp_path / "out"),
             "--executor", "ray", "--address", f"127.0.0.1:{port}", "--no-hash", "-q", "--format", "json"],
            env=env, capture_output=True, text=True, timeout=600)
        index = json.loads((tmp_path / "out" / "fleet-index.json").read_text(encoding="utf-8"))
        assert index["counts"]["done"] == 8
        nodes = {s["worker"].split(":")[1] for s in index["subjects"] if s["worker"].startswith("ray-node:")}
        assert len(nodes) == 2, index["subjects"]  # tasks ran on both raylets
    finally:
        subprocess.run([ray_cli, "stop", "--force"], env=env, timeout=120, capture_output=True)
        shutil.rmtree(temp, ignore_errors=True)
