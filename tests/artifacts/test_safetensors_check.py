"""safetensors header checks: bounds, JSON, duplicates, dtype/shape vs byte ranges, overlaps; O(header) reads."""

from __future__ import annotations

import io
import json
import struct
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from modeldossier.artifacts.safetensors_check import MAX_HEADER, scan
from modeldossier.common import Severity


def build(header: dict | str | bytes, data: bytes = b"", length: int | None = None) -> bytes:
    raw = header if isinstance(header, bytes) else (header if isinstance(header, str) else json.dumps(header)).encode()
    return struct.pack("<Q", len(raw) if length is None else length) + raw + data


def run(blob: bytes) -> list:
    return scan(io.BytesIO(blob), "x.safetensors", len(blob))


def rules(blob: bytes) -> set[str]:
    return {f.rule_id for f in run(blob)}


GOOD = {"__metadata__": {"format": "pt"}, "a": {"dtype": "F32", "shape": [2, 2], "data_offsets": [0, 16]},
        "b": {"dtype": "BF16", "shape": [4], "data_offsets": [16, 24]}}


def test_valid_file_has_no_findings():
    assert run(build(GOOD, b"\0" * 24)) == []


def test_sub_byte_dtype_sizes():
    header = {"q": {"dtype": "F4", "shape": [4], "data_offsets": [0, 2]}}
    assert run(build(header, b"\0\0")) == []


def test_truncated_and_oversized_lengths():
    assert rules(b"\1\2") == {"malformed.safetensors.header"}
    assert rules(build(GOOD, b"", length=10_000)) == {"malformed.safetensors.header"}
    huge = run(struct.pack("<Q", MAX_HEADER + 1) + b"{}")
    assert [f.rule_id for f in huge] == ["safetensors.header.too_large"] and huge[0].severity is Severity.HIGH


def test_invalid_json_and_non_object():
    assert rules(build("{not json")) == {"malformed.safetensors.header"}
    assert rules(build("[1, 2]")) == {"malformed.safetensors.header"}
    assert rules(build(b"{\xff\xfe}")) == {"malformed.safetensors.header"}
    assert rules(build("[" * 100_000 + "]" * 100_000)) == {"malformed.safetensors.header"}


def test_duplicate_keys_are_high():
    text = '{"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}, ' \
           '"a": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}'
    found = run(build(text, b"\0" * 4))
    dup = [f for f in found if f.rule_id == "safetensors.header.duplicate_key"]
    assert dup and dup[0].severity is Severity.HIGH and dup[0].location == "key a"


def test_metadata_must_be_strings():
    header = {"__metadata__": {"n": 3}, **{k: v for k, v in GOOD.items() if k != "__metadata__"}}
    assert rules(build(header, b"\0" * 24)) == {"safetensors.metadata.type"}


def test_dtype_shape_and_size_mismatch():
    assert "safetensors.tensor.dtype" in rules(build({"a": {"dtype": "F33", "shape": [1], "data_offsets": [0, 4]}},
                                                     b"\0" * 4))
    assert "safetensors.tensor.shape" in rules(build({"a": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}},
                                                     b"\0" * 4))
    assert rules(build({"a": {"dtype": "F32", "shape": [2], "data_offsets": [0, 4]}}, b"\0" * 4)) == {
        "safetensors.tensor.size_mismatch"}


def test_out_of_bounds_and_overlap_are_high():
    oob = run(build({"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\0" * 8))
    assert {f.rule_id for f in oob} == {"safetensors.tensor.out_of_bounds"}
    assert oob[0].severity is Severity.HIGH
    overlap = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
               "b": {"dtype": "F32", "shape": [2], "data_offsets": [8, 16]}}
    found = run(build(overlap, b"\0" * 16))
    assert [f.rule_id for f in found] == ["safetensors.tensor.overlap"]
    assert rules(build({"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 4]}}, b"\0" * 8)) >= {
        "safetensors.tensor.offsets"}


def test_gap_and_trailing_bytes_are_info():
    header = {"a": {"dtype": "F32", "shape": [1], "data_offsets": [8, 12]}}
    found = run(build(header, b"\0" * 20))
    assert {f.rule_id for f in found} == {"safetensors.data.gap", "safetensors.data.trailing"}
    assert all(f.severity is Severity.INFO for f in found)


class _CountingStream(io.BytesIO):
    def __init__(self, data: bytes):
        super().__init__(data)
        self.bytes_read = 0

    def read(self, n: int = -1) -> bytes:  # type: ignore[override]
        out = super().read(n)
        self.bytes_read += len(out)
        return out


def test_reads_only_the_header():
    """O(header): a file with 64 MiB of tensor data is judged after reading 8 + header bytes."""
    header = {"a": {"dtype": "U8", "shape": [64 << 20], "data_offsets": [0, 64 << 20]}}
    blob = build(header, bytes(64 << 20))
    stream = _CountingStream(blob)
    assert scan(stream, "big.safetensors", len(blob)) == []
    assert stream.bytes_read == 8 + len(json.dumps(header))


def test_real_minilm_model_is_clean_and_fast(minilm_dir):
    path = minilm_dir / "model.safetensors"
    start = time.perf_counter()
    with open(path, "rb") as handle:
        found = scan(handle, path.name, path.stat().st_size)
    elapsed = time.perf_counter() - start
    assert [f for f in found if f.severity.at_least(Severity.MEDIUM)] == []
    assert elapsed < 0.5, f"header check took {elapsed:.3f}s"


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=64), st.integers(min_value=0, max_value=2**64 - 1), st.booleans())
def test_fuzz_never_raises(tail, length, use_length):
    blob = build(tail, tail, length if use_length else None)
    for f in run(blob):
        assert f.rule_id and f.severity


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(max_size=5), st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=4), c, max_size=3), max_leaves=8),
    max_size=4))
def test_fuzz_structured_headers_never_raise(header):
    run(build(header, b"\0" * 32))


def test_absurd_numbers_are_findings_not_checker_errors():
    huge_shape = {"a": {"dtype": "F32", "shape": [2**600, 2**600], "data_offsets": [0, 4]}}
    found = run(build(huge_shape, b"\0" * 4))
    assert "safetensors.tensor.size_mismatch" in {f.rule_id for f in found}
    assert any("more than 2^" in f.message for f in found)
    long_int = '{"a": {"dtype": "F32", "shape": [' + "9" * 5000 + '], "data_offsets": [0, 4]}}'
    found = run(build(long_int, b"\0" * 4))
    assert [f.rule_id for f in found] == ["malformed.safetensors.header"]
