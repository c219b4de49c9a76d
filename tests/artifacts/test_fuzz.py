"""Fuzz the scanner with mutated pickles, zips and .npy headers: no traceback, no hang, only findings.

CI runs a small number of cases; `python bench/scanner/fuzz.py` runs 100k+.
"""

from __future__ import annotations

import io
import os
import pickle
import struct
import time
import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldossier.artifacts.scanner import ScanLimits, scan_section

EXAMPLES = int(os.environ.get("DOSSIER_FUZZ_EXAMPLES", "60"))


def _seeds() -> list[bytes]:
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as z:
        z.writestr("archive/data.pkl", pickle.dumps({"w": [1.0, 2.0]}, protocol=2))
        z.writestr("archive/data/0", b"\0" * 16)
    npy = io.BytesIO()
    np.save(npy, np.arange(4, dtype=np.float32))
    return [
        pickle.dumps({"a": [1, 2.5, "x"], "b": (None, True)}, protocol=4),
        pickle.dumps([np.arange(3)], protocol=2),
        b"cos\nsystem\n(S'ls'\ntR.",
        b"\x80\x04\x8c\x02os\x8c\x06system\x93(\x8c\x01xtR.",
        zbuf.getvalue(),
        npy.getvalue(),
        b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"{'descr': '|O', 'fortran_order': False, 'shape': (1,), }"
        + pickle.dumps([1], protocol=3),
    ]


SEEDS = _seeds()


@st.composite
def mutated(draw) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 8))):
        op = draw(st.sampled_from(["flip", "insert", "delete", "truncate", "dup"]))
        if not data:
            break
        at = draw(st.integers(0, len(data) - 1))
        if op == "flip":
            data[at] = draw(st.integers(0, 255))
        elif op == "insert":
            data[at:at] = draw(st.binary(min_size=1, max_size=8))
        elif op == "delete":
            del data[at:at + draw(st.integers(1, 8))]
        elif op == "truncate":
            del data[at:]
        else:
            data[at:at] = data[at:at + draw(st.integers(1, 32))]
    return bytes(data)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                     HealthCheck.too_slow])
@given(raw=mutated(), name=st.sampled_from(["m.pkl", "m.pt", "m.npy", "m.safetensors", "m.bin"]))
def test_mutated_inputs_never_raise_or_hang(tmp_path, raw, name):
    path = tmp_path / name
    path.write_bytes(raw)
    start = time.perf_counter()
    section = scan_section([path], limits=ScanLimits(seconds_per_file=10))
    assert time.perf_counter() - start < 30
    assert not [f for f in section.findings if f.rule_id == "scan.checker_error"], section.findings
