"""Random-mutation fuzzing of the non-pickle checkers: counts exceptions, slowest case and findings.

Fast in-process loop (no hypothesis shrinking), for the ≥100k-case reliability run:

    python bench/scanner/fuzz_formats.py [CASES_PER_FORMAT] [SEED]

Exit 1 when any checker raised. HDF5 cases fork a child each (the reader runs isolated), so they are fewer.
"""

from __future__ import annotations

import io
import json
import random
import sys
import time
import traceback
import zipfile
from collections.abc import Callable
from pathlib import Path

import h5py
import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "artifacts"))
from test_config_check import _PIECES as CONFIG_PIECES  # noqa: E402
from test_formats_fuzz import PY_PIECES, TEMPLATE_PIECES, _gguf_seed, _mutate, _onnx_seed, _st_seed  # noqa: E402

from modeldossier.artifacts import (  # noqa: E402
    code_check,
    config_check,
    gguf_check,
    keras_check,
    onnx_check,
    safetensors_check,
)
from modeldossier.artifacts.chat_template import check_template  # noqa: E402

KEYS = ["class_name", "module", "config", "function", "function_type", "registered_name", "layers", "name",
        "auto_map", "chat_template", "code", "custom_pipelines", "impl"]
VALUES = [None, True, 1, -5, "Lambda", "__lambda__", "os", "keras.layers", "TFOpLambda", "io.write_file", "exec",
          "builtins", "a--b.c", "{{ x.__class__ }}", "Custom>X"]


def _keras_zip_seed() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.json", "{}")
        archive.writestr("config.json", json.dumps({"class_name": "Sequential", "config": {
            "layers": [{"class_name": "Dense", "module": "keras.layers"}] * 20}}))
        archive.writestr("model.weights.h5", b"\0" * 64)
    return buf.getvalue()


def _h5_seed() -> bytes:
    buf = io.BytesIO()
    with h5py.File(buf, "w") as h5:
        h5.attrs["model_config"] = json.dumps({"class_name": "Sequential", "config": {"layers": []}})
        h5.create_dataset("w/k", data=np.zeros(8))
        h5["w/e"] = h5py.ExternalLink("x.h5", "/a")
    return buf.getvalue()


def _bytes(rng: random.Random, seed: bytes, scan: Callable) -> Callable[[], list]:
    def case() -> list:
        if len(seed) > 400:  # spread edits over the whole file
            edits = [(rng.randrange(len(seed)), rng.randbytes(rng.randrange(1, 10))) for _ in range(rng.randrange(7))]
        else:
            edits = [(rng.randrange(400), rng.randbytes(rng.randrange(1, 10))) for _ in range(rng.randrange(7))]
        blob = _mutate(seed, edits, rng.randrange(65))
        return scan(io.BytesIO(blob), "fuzz", len(blob))
    return case


def _json_value(rng: random.Random, depth: int = 0):
    roll = rng.random()
    if depth > 6 or roll < 0.4:
        return rng.choice(VALUES)
    if roll < 0.7:
        return [_json_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(KEYS): _json_value(rng, depth + 1) for _ in range(rng.randrange(5))}


def cases(rng: random.Random) -> dict[str, Callable[[], list]]:
    def template() -> list:
        return check_template("".join(rng.choice(TEMPLATE_PIECES) for _ in range(rng.randrange(40))), "t", "k")

    def python() -> list:
        raw = "".join(rng.choice(PY_PIECES) for _ in range(rng.randrange(30))).encode()
        return code_check.scan(io.BytesIO(raw), "m.py", len(raw))

    def configs() -> list:
        value = _json_value(rng)
        raw = json.dumps({"config": value, "auto_map": value, "custom_pipelines": value,
                          "chat_template": value if isinstance(value, str | list) else None}).encode()
        return keras_check.check_config_text(raw, "m", "w") + code_check.scan_json(io.BytesIO(raw), "c.json", len(raw))

    def targets() -> list:
        raw = "".join(rng.choice(CONFIG_PIECES) for _ in range(rng.randrange(50))).encode()
        return config_check.check_text(raw, "c.yaml")

    return {
        "instantiation": targets,
        "safetensors": _bytes(rng, _st_seed(), safetensors_check.scan),
        "gguf": _bytes(rng, _gguf_seed(), gguf_check.scan),
        "onnx": _bytes(rng, _onnx_seed(), onnx_check.scan),
        "onnx-stream": _bytes(rng, _onnx_seed(), onnx_check._scan_streaming),
        "keras-zip": _bytes(rng, _keras_zip_seed(), keras_check.scan),
        "chat-template": template,
        "python": python,
        "json-configs": configs,
        "hdf5": _bytes(rng, _h5_seed(), lambda s, n, z: keras_check.scan_hdf5(s, n, z, timeout=10)),
    }


def main(argv: list[str]) -> int:
    per_format = int(argv[0]) if argv else 20_000
    rng = random.Random(int(argv[1]) if len(argv) > 1 else 0)
    failures = total = 0
    print(f"{'format':<14} {'cases':>7} {'errors':>6} {'seconds':>8} {'slowest s':>9}  top findings")
    for name, case in cases(rng).items():
        n = per_format // 10 if name == "hdf5" else per_format
        errors, slowest, counts = 0, 0.0, {}
        start = time.perf_counter()
        for _ in range(n):
            t = time.perf_counter()
            try:
                for f in case():
                    counts[f.rule_id] = counts.get(f.rule_id, 0) + 1
            except Exception:
                errors += 1
                if errors == 1:
                    traceback.print_exc()
            slowest = max(slowest, time.perf_counter() - t)
        total += n
        failures += errors
        top = ", ".join(f"{k}={v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:3])
        print(f"{name:<14} {n:>7} {errors:>6} {time.perf_counter() - start:>8.1f} {slowest:>9.3f}  {top}")
    print(f"total cases {total}, exceptions {failures}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
