"""Generated model folders for fleet tests: benign (tiny safetensors), malicious (pickle that calls os.system)
and corrupt (garbage safetensors), plus helpers to compare dossiers without their timestamps."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from safetensors.numpy import save_file

EVIL_PICKLE = b"cos\nsystem\n(S'echo hi'\ntR."  # GLOBAL os.system, then REDUCE: never executed, only scanned


def make_folder(root: Path, kind: str, i: int) -> Path:
    """One model folder of ``kind`` (benign, malicious, corrupt) named ``{kind}-{i}``."""
    folder = root / f"{kind}-{i:03d}"
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps({"model_type": "bert", "hidden_size": 8 + i % 4}),
                                        encoding="utf-8")
    if kind == "benign":
        save_file({"w": np.full((4, 4), i, dtype=np.float32)}, str(folder / "model.safetensors"))
    elif kind == "malicious":
        (folder / "pytorch_model.bin").write_bytes(EVIL_PICKLE)
    elif kind == "corrupt":
        (folder / "model.safetensors").write_bytes(b"\xff" * 64)
    else:
        raise ValueError(kind)
    return folder


def make_fleet(root: Path, n: int) -> Path:
    """``n`` folders cycling benign, malicious, corrupt, and a YAML manifest listing them; returns the manifest."""
    kinds = ("benign", "malicious", "corrupt")
    lines = ["version: 1", "subjects:"]
    for i in range(n):
        folder = make_folder(root / "models", kinds[i % 3], i)
        lines.append(f"  - model: {folder.relative_to(root)}")
    manifest = root / "fleet.yaml"
    manifest.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return manifest


def stable(dossier: Path) -> dict[str, Any]:
    """A dossier without what differs between two runs of the same inputs (times, durations, host details)."""
    data = json.loads(dossier.read_text(encoding="utf-8"))
    data.pop("run", None)
    data.pop("created_at", None)
    artifacts = data.get("artifacts") or {}
    for key in ("seconds", "duration", "elapsed", "started_at", "finished_at"):
        artifacts.pop(key, None)
    for record in artifacts.get("files") or []:
        record.pop("seconds", None)
    return json.loads(json.dumps(data, sort_keys=True).replace(str(dossier.parent.parent), "ROOT"))
