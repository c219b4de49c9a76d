"""Malformed GGUF headers: the metadata reader only ever raises DossierError, never anything else."""

from __future__ import annotations

import contextlib
import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldossier.errors import DossierError
from modeldossier.provenance.gguf_meta import read_metadata


def small_gguf() -> bytes:
    def s(text: str) -> bytes:
        raw = text.encode()
        return struct.pack("<Q", len(raw)) + raw

    kv = [
        s("general.architecture") + struct.pack("<I", 8) + s("llama"),
        s("general.name") + struct.pack("<I", 8) + s("tiny"),
        s("tokenizer.ggml.tokens") + struct.pack("<II", 9, 8) + struct.pack("<Q", 3) + s("a") + s("b") + s("ab"),
        s("tokenizer.ggml.scores") + struct.pack("<II", 9, 6) + struct.pack("<Q", 3) + struct.pack("<3f", 0, -1, -2),
        s("llama.block_count") + struct.pack("<I", 4) + struct.pack("<I", 2),
    ]
    return b"GGUF" + struct.pack("<IQQ", 3, 0, len(kv)) + b"".join(kv)


def test_small_gguf_parses(tmp_path):
    path = tmp_path / "t.gguf"
    path.write_bytes(small_gguf())
    meta = read_metadata(path)
    assert meta["tokenizer.ggml.tokens"] == ["a", "b", "ab"] and meta["llama.block_count"] == 2


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0, max_value=400), flips=st.lists(st.tuples(st.integers(0, 400),
                                                                             st.integers(0, 255)), max_size=4))
def test_mutated_headers_fail_cleanly(tmp_path, cut, flips):
    data = bytearray(small_gguf())
    for pos, value in flips:
        if pos < len(data):
            data[pos] = value
    path = tmp_path / "m.gguf"
    path.write_bytes(bytes(data[: cut or len(data)]))
    with contextlib.suppress(DossierError):
        read_metadata(path)


def test_deeply_nested_arrays_are_refused(tmp_path):
    key = b"x"
    body = struct.pack("<Q", len(key)) + key + struct.pack("<I", 9)
    body += (struct.pack("<I", 9) + struct.pack("<Q", 1)) * 50 + struct.pack("<I", 4) + struct.pack("<Q", 0)
    path = tmp_path / "deep.gguf"
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 1) + body)
    try:
        read_metadata(path)
    except DossierError as exc:
        assert "nested" in str(exc)
    else:
        raise AssertionError("nesting accepted")
