"""The pickle opcode walker: globals through every opcode and the memo, calls, streams, malformed data."""

from __future__ import annotations

import io
import pickle
import struct
import time
from collections import OrderedDict

import numpy as np
import pytest

from modeldossier.artifacts.allowlist import load_allowlist
from modeldossier.artifacts.pickle_scan import probe_pickle, scan_pickle
from modeldossier.common import Severity


def run(raw: bytes, **kw):
    return scan_pickle(io.BytesIO(raw), "x.pkl", len(raw), **kw)


def rules(raw: bytes) -> set[tuple[str, str]]:
    return {(f.rule_id, f.severity.value) for f in run(raw).findings}


def s(text: str) -> bytes:
    raw = text.encode()
    return b"\x8c" + bytes([len(raw)]) + raw


def sg(module: str, name: str) -> bytes:
    return s(module) + s(name) + b"\x93"


P4 = b"\x80\x04"


@pytest.mark.parametrize("protocol", range(6))
def test_plain_data_and_numpy_are_clean_in_every_protocol(protocol):
    data = {"a": [1, 2.5, "x", b"y", None, True], "o": OrderedDict(k=(1, 2)), "s": {1, 2}, "f": frozenset({3})}
    assert run(pickle.dumps(data, protocol=protocol)).findings == []
    if protocol >= 2:
        arrays = {"w": np.arange(6, dtype=np.float32).reshape(2, 3), "i": np.int64(3)}
        assert run(pickle.dumps(arrays, protocol=protocol)).findings == []


def test_global_opcode_protocol0_is_critical_with_offset_and_evidence():
    raw = b"cos\nsystem\n(S'touch x'\ntR."
    result = run(raw)
    [f] = result.findings
    assert f.rule_id == "pickle.global.dangerous" and f.severity is Severity.CRITICAL
    assert f.location == "offset 0 / opcode #1"
    assert f.evidence == "GLOBAL os.system"
    assert f.file == "x.pkl"


@pytest.mark.parametrize("body", [
    sg("builtins", "eval") + b"(" + s("1") + b"tR.",  # STACK_GLOBAL + REDUCE
    s("builtins") + b"q\x01" + b"0" + s("exec") + b"q\x02" + b"0" + b"h\x01h\x02\x93(" + s("1") + b"tR.",  # memo
    s("subprocess") + b"\x94" + b"0" + s("run") + b"\x94" + b"0" + b"j\x00\x00\x00\x00j\x01\x00\x00\x00\x93)R.",
    b"(" + sg("subprocess", "Popen") + s("ls") + b"o.",  # OBJ
    sg("subprocess", "Popen") + s("ls") + b"\x85\x81.",  # NEWOBJ
    sg("subprocess", "Popen") + s("ls") + b"\x85}\x92.",  # NEWOBJ_EX
])
def test_every_global_path_is_resolved(body):
    found = run(P4 + body).findings
    assert any(f.rule_id == "pickle.global.dangerous" for f in found), found


def test_inst_and_text_memo_protocol0():
    assert ("pickle.global.dangerous", "critical") in rules(b"(S'ls'\nisubprocess\ncall\n.")
    # PUT/GET text memo feeding the INST argument
    assert ("pickle.global.dangerous", "critical") in rules(b"(S'ls'\np0\ng0\nios\nsystem\n.")


def test_dotted_qualname_and_dunder_walks_are_dangerous():
    assert ("pickle.global.dangerous", "critical") in rules(P4 + sg("torch", "hub.load") + b")R.")
    assert ("pickle.global.dangerous", "critical") in rules(
        P4 + sg("collections", "OrderedDict.__init__.__globals__") + b".")


def test_unknown_global_is_medium_when_referenced_and_high_when_called():
    referenced = run(P4 + sg("mylib.models", "Thing") + b".").findings
    assert [(f.rule_id, f.severity) for f in referenced] == [("pickle.global.unknown", Severity.MEDIUM)]
    called = run(P4 + sg("mylib.models", "run") + b")R.").findings
    assert [(f.rule_id, f.severity) for f in called] == [("pickle.global.unknown", Severity.HIGH)]
    built = run(P4 + sg("mylib.models", "Thing") + b")\x81}b.").findings
    assert built[0].severity is Severity.HIGH  # BUILD -> __setstate__ of an unknown class


def test_unresolved_stack_global_operand_is_flagged():
    # module name computed by a call -> cannot be resolved statically
    raw = P4 + sg("builtins", "str") + b"(" + s("o") + b"tR" + s("system") + b"\x93)R."
    found = rules(raw)
    assert ("pickle.global.unresolved", "high") in found


def test_ext_opcodes_are_flagged():
    found = rules(b"\x80\x02\x82\x01(S'x'\ntR.")
    assert ("pickle.opcode.ext", "high") in found
    assert ("pickle.opcode.ext", "high") in rules(b"\x80\x02\x84\x01\x00\x00\x00).")


def test_every_concatenated_stream_is_walked():
    raw = pickle.dumps([1, 2]) + pickle.dumps({"a": 1}) + P4 + sg("os", "system") + b"(" + s("x") + b"tR."
    result = run(raw)
    assert result.streams == 3
    [f] = result.findings
    assert f.rule_id == "pickle.global.dangerous" and f.location.startswith("stream 2 ")


def test_payload_before_garbage_is_still_reported():
    raw = P4 + sg("os", "system") + b"(" + s("x") + b"tR" + b"\xff\xff"
    found = rules(raw)
    assert ("pickle.global.dangerous", "critical") in found and ("pickle.malformed", "medium") in found


def test_trailing_non_pickle_bytes_are_info_only():
    found = run(pickle.dumps({"a": 1}, protocol=4) + b"\x00\x01\x02").findings
    assert [(f.rule_id, f.severity) for f in found] == [("pickle.trailing_data", Severity.INFO)]


@pytest.mark.parametrize("raw, where", [
    (pickle.dumps(list(range(50)), protocol=4)[:40], "opcode"),
    (P4 + b"\x8d" + struct.pack("<Q", 2**62) + b"x", "offset 2"),
    (P4 + b"h\x05.", "memo"),
    (P4 + b"t.", "MARK"),
    (b"\x80\x09.", "protocol"),
])
def test_malformed_data_is_a_finding_not_an_exception(raw, where):
    found = run(raw).findings
    assert any(f.rule_id == "pickle.malformed" for f in found)
    text = " ".join(f"{f.location} {f.message}" for f in found)
    assert where in text


def test_huge_memo_and_stack_bombs_finish_quickly():
    start = time.perf_counter()
    run(P4 + b"(" * 100_000 + b".")
    run(P4 + b"]" * 100_000 + b".")
    assert time.perf_counter() - start < 20


def test_deadline_stops_the_walk_with_a_finding():
    raw = P4 + b"]" * 200_000 + b"."
    found = run(raw, deadline=time.monotonic() - 1).findings
    assert [f.rule_id for f in found] == ["scan.timeout"]


def test_joblib_dump_with_arrays_and_object_arrays_is_clean(tmp_path):
    joblib = pytest.importorskip("joblib")
    path = tmp_path / "m.joblib"
    joblib.dump({"f": np.ones((3, 4)), "o": np.array([1, "x", None], dtype=object), "i": np.arange(5)}, path)
    with open(path, "rb") as handle:
        result = scan_pickle(handle, str(path), path.stat().st_size)
    assert result.findings == []
    assert result.streams == 2  # the object array's nested pickle was walked too


def test_joblib_object_array_payload_is_found(tmp_path):
    joblib = pytest.importorskip("joblib")

    class Payload:  # pickled, never loaded
        def __reduce__(self):
            import os
            return (os.system, ("touch /nonexistent/marker",))

    path = tmp_path / "evil.joblib"
    joblib.dump({"o": np.array([1, Payload()], dtype=object), "f": np.ones(3)}, path)
    with open(path, "rb") as handle:
        found = scan_pickle(handle, str(path), path.stat().st_size).findings
    assert any(f.rule_id == "pickle.global.dangerous" for f in found)


def test_embedded_pickles_in_bytes_constants_are_handed_over():
    inner = P4 + sg("os", "system") + b"(" + s("x") + b"tR."
    raw = P4 + sg("torch.storage", "_load_from_bytes") + b"(B" + struct.pack("<I", len(inner)) + inner + b"tR."
    seen = []
    result = run(raw, embedded=lambda data, where: seen.append((data, where)) or [])
    assert seen and seen[0][0] == inner and "offset" in seen[0][1]
    assert any(f.rule_id == "pickle.global.dangerous" for f in result.findings)


def test_probe_recognises_text_pickles_but_not_prose():
    assert probe_pickle(b"cos\nsystem\n(S'ls'\ntR.")
    assert probe_pickle(b"(lp0\nI1\na.")
    assert not probe_pickle(b"Install the package with pip.\n")
    assert not probe_pickle(b"(see the README)\n")


def test_allowlist_is_versioned_and_classifies():
    allow = load_allowlist()
    assert allow.version
    assert allow.classify("torch._utils", "_rebuild_tensor_v2")[0] == "safe"
    assert allow.classify("sklearn.ensemble._forest", "RandomForestClassifier")[0] == "safe"
    assert allow.classify("torch.jit._pickle", "build_intlist")[0] == "safe"
    assert allow.classify("builtins", "getattr")[0] == "dangerous"
    assert allow.classify("asyncio.unix_events", "_UnixSelectorEventLoop")[0] == "dangerous"
    assert allow.classify("pkgutil", "resolve_name")[0] == "dangerous"
    assert allow.classify("operator", "attrgetter")[0] == "dangerous"
    assert allow.classify("sklearn.utils", "some_function")[0] == "unknown"
    assert allow.classify("ossify", "x")[0] == "unknown"  # prefix match is per dotted part
