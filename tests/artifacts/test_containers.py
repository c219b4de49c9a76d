"""Containers: torch zip tricks, tar, 7z, compressed streams, numpy, nesting limits."""

from __future__ import annotations

import gzip
import importlib.util
import io
import tarfile
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest

from modeldossier.artifacts.scanner import ScanLimits, scan_section

ROOT = Path(__file__).resolve().parents[2]


def _corpus():
    spec = importlib.util.spec_from_file_location("corpus_pickle", ROOT / "bench" / "scanner" / "corpus_pickle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


C = _corpus()
TENSORS = {"fc.weight": 8, "fc.bias": 2}
PAYLOAD = C.wrap(C.call(C.sg("os", "system"), C.s("touch /nonexistent/marker")), 2)


def scan(path: Path, **kw):
    section = scan_section([path], **kw)
    return section, {(f.rule_id, f.severity.value) for f in section.findings}


def test_benign_torch_zip_is_clean_and_storages_are_not_sniffed(tmp_path):
    path = C.torch_zip(tmp_path / "pytorch_model.bin", C.state_dict_pickle(TENSORS), TENSORS)
    section, found = scan(path)
    assert found == set()
    assert section.files[0].format == "torch-zip"
    members = [r.path for r in section.files[1:]]
    assert any(m.endswith("data.pkl") for m in members)
    assert not any("/data/" in m for m in members)


def test_torch_zip_extra_pickle_member_under_any_name(tmp_path):
    path = C.torch_zip(tmp_path / "m.pt", C.state_dict_pickle(TENSORS), TENSORS, extra={"extra/x.bin": PAYLOAD})
    _, found = scan(path)
    assert ("pickle.global.dangerous", "critical") in found


def test_bad_crc_is_reported_and_content_still_scanned(tmp_path):
    path = C.torch_zip(tmp_path / "m.pt", PAYLOAD, TENSORS)
    C.patch_zip(path, "data.pkl", crc=0xDEADBEEF)
    _, found = scan(path)
    assert {("zip.crc_mismatch", "medium"), ("pickle.global.dangerous", "critical")} <= found


def test_encrypted_flag_is_reported_and_content_still_scanned(tmp_path):
    path = C.torch_zip(tmp_path / "m.pt", PAYLOAD, TENSORS)
    C.patch_zip(path, "data.pkl", set_flags=0x1)
    _, found = scan(path)
    assert {("zip.flag.encrypted", "high"), ("pickle.global.dangerous", "critical")} <= found


def test_local_header_name_mismatch_is_read_like_a_lenient_loader(tmp_path):
    path = C.torch_zip(tmp_path / "m.pt", PAYLOAD, TENSORS)
    C.patch_local_name(path, "data.pkl", "archive/data.pkX")
    _, found = scan(path)
    assert {("zip.header_mismatch", "high"), ("pickle.global.dangerous", "critical")} <= found


def test_duplicate_member_names_are_all_scanned(tmp_path):
    with pytest.warns(UserWarning):
        path = C.torch_zip(tmp_path / "m.pt", C.state_dict_pickle(TENSORS), TENSORS, dup_pkl=PAYLOAD)
    _, found = scan(path)
    assert {("zip.duplicate_name", "high"), ("pickle.global.dangerous", "critical")} <= found


def test_zip_and_tar_member_traversal_and_links(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("../../evil.sh", "echo")
        z.writestr("/abs/path", "x")
    _, found = scan(tmp_path / "a.zip")
    assert ("archive.path_traversal", "high") in found
    with tarfile.open(tmp_path / "a.tar", "w") as t:
        link = tarfile.TarInfo("model/config.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "../../../etc/passwd"
        t.addfile(link)
        C._tar_add(t, "../up.pkl", PAYLOAD)
    section, found = scan(tmp_path / "a.tar")
    assert {("archive.link", "high"), ("archive.path_traversal", "high"),
            ("pickle.global.dangerous", "critical")} <= found


def test_compressed_streams(tmp_path):
    (tmp_path / "a.pkl.gz").write_bytes(gzip.compress(PAYLOAD))
    (tmp_path / "b.joblib").write_bytes(zlib.compress(PAYLOAD))
    (tmp_path / "c.bz2").write_bytes(__import__("bz2").compress(PAYLOAD))
    (tmp_path / "d.xz").write_bytes(__import__("lzma").compress(PAYLOAD))
    section = scan_section([tmp_path])
    flagged = {f.file.split("!")[0] for f in section.findings if f.rule_id == "pickle.global.dangerous"}
    assert flagged == {str(tmp_path / n) for n in ("a.pkl.gz", "b.joblib", "c.bz2", "d.xz")}


def test_zip_bomb_is_refused(tmp_path):
    with zipfile.ZipFile(tmp_path / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("data.pkl", b"\0" * (40 << 20))
    _, found = scan(tmp_path / "bomb.zip")
    assert ("archive.bomb", "high") in found


def test_gzip_bomb_is_cut(tmp_path):
    (tmp_path / "x.gz").write_bytes(gzip.compress(b"\0" * (80 << 20)))
    section, found = scan(tmp_path / "x.gz", limits=ScanLimits(max_ratio=50))
    assert ("archive.bomb", "high") in found


def test_7z_members_are_scanned(tmp_path):
    py7zr = pytest.importorskip("py7zr")
    with py7zr.SevenZipFile(tmp_path / "m.7z", "w") as z:
        z.writestr(PAYLOAD, "model/model.pkl")
        z.writestr(b"hello", "README.md")
    section, found = scan(tmp_path / "m.7z")
    assert ("pickle.global.dangerous", "critical") in found
    assert section.files[0].format == "7z"


def test_npy_object_array_pickle_is_walked_and_float_npy_is_clean(tmp_path):
    (tmp_path / "obj.npy").write_bytes(C.npy_object(C.wrap(C.call(C.sg("os", "system"), C.s("x")), 3)))
    np.save(tmp_path / "f.npy", np.ones((4, 4), dtype=np.float32))
    np.savez(tmp_path / "z.npz", a=np.ones(3), b=np.zeros(2))
    np.save(tmp_path / "benign_obj.npy", np.array([1, "a", None], dtype=object), allow_pickle=True)
    section = scan_section([tmp_path])
    by_file = {}
    for f in section.findings:
        by_file.setdefault(Path(f.file.split("!")[0]).name, set()).add((f.rule_id, f.severity.value))
    assert ("pickle.global.dangerous", "critical") in by_file["obj.npy"]
    assert "f.npy" not in by_file and "z.npz" not in by_file
    assert by_file["benign_obj.npy"] == {("numpy.object_array", "low")}


@pytest.mark.parametrize("raw", [
    b"\x93NUMPY\x01\x00\xff\xff{'descr'",
    b"\x93NUMPY\x01\x00\x20\x00" + b"__import__('os').system('x')    \n",
    b"\x93NUMPY\x07\x00",
])
def test_malformed_npy_headers(tmp_path, raw):
    (tmp_path / "a.npy").write_bytes(raw)
    _, found = scan(tmp_path / "a.npy")
    assert ("malformed.npy", "medium") in found


def test_archive_depth_limit(tmp_path):
    data = PAYLOAD
    for i in range(7):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            z.writestr(f"level{i}.bin", data)
        data = buf.getvalue()
    (tmp_path / "deep.zip").write_bytes(data)
    _, found = scan(tmp_path / "deep.zip")
    assert ("archive.too_deep", "medium") in found


def test_torchscript_globals_are_allowed_only_inside_torchscript(tmp_path):
    with zipfile.ZipFile(tmp_path / "ts.pt", "w") as z:
        z.writestr("m/data.pkl", C.wrap(C.sg("__torch__.Model", "Model") + b")\x81}b", 2))
        z.writestr("m/constants.pkl", C.wrap(C.call(C.sg("torch.jit._pickle", "build_intlist"), b"]"), 2))
        z.writestr("m/code/__torch__/model.py", "class Model(Module):\n  pass\n")
    section, found = scan(tmp_path / "ts.pt")
    assert section.files[0].format == "torchscript"
    assert not [f for f in section.findings if f.rule_id.startswith("pickle.")]
    (tmp_path / "plain.pkl").write_bytes(C.wrap(C.sg("__torch__.Model", "Model") + b")\x81}b", 2))
    _, found = scan(tmp_path / "plain.pkl")
    assert ("pickle.global.unknown", "high") in found


def test_legacy_torch_stops_at_raw_storage(tmp_path):
    raw = (C.wrap(b"\x8a\x0a" + C.TORCH_MAGIC, 2) + C.wrap(b"M\xe9\x03", 2) + C.wrap(b"}", 2)
           + C.state_dict_pickle(TENSORS) + C.wrap(b"]", 2) + bytes(range(256)) * 4)
    (tmp_path / "old.pt").write_bytes(raw)
    section, found = scan(tmp_path / "old.pt")
    assert section.files[0].format == "torch-legacy"
    assert found == set()


def test_zip_member_with_an_empty_name_does_not_crash(tmp_path):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("x", PAYLOAD)
    raw = bytearray(buf.getvalue())
    # drop the one-letter name from the central directory entry: the member name becomes ""
    cd = raw.find(b"PK\x01\x02")
    raw[cd + 28:cd + 30] = b"\x00\x00"
    del raw[cd + 46:cd + 47]
    eocd = raw.find(b"PK\x05\x06")
    size = int.from_bytes(raw[eocd + 12:eocd + 16], "little") - 1
    raw[eocd + 12:eocd + 16] = size.to_bytes(4, "little")
    (tmp_path / "e.zip").write_bytes(bytes(raw))
    section, found = scan(tmp_path / "e.zip")
    assert not [f for f in section.findings if f.rule_id == "scan.checker_error"]


def test_truncated_tar_member_is_a_finding(tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        C._tar_add(t, "model.pkl", PAYLOAD * 50)
    raw = buf.getvalue()
    (tmp_path / "cut.tar").write_bytes(raw[: 512 + 300])  # header + part of the data
    section, found = scan(tmp_path / "cut.tar")
    assert not [f for f in section.findings if f.rule_id == "scan.checker_error"]
    assert found & {("malformed.stream", "medium"), ("malformed.tar", "medium"), ("pickle.malformed", "medium")}


def _torch_zip(path, storage: bytes) -> None:
    import pickle as _pickle

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr("archive/data.pkl", _pickle.dumps({"w": 1}, protocol=2))
        archive.writestr("archive/data/0", storage)
        archive.writestr("archive/version", "3\n")


def test_tensor_crc_error_is_info_and_non_blocking(tmp_path):
    from modeldossier.artifacts.scanner import scan_section

    storage = bytes(range(256)) * 64
    _torch_zip(tmp_path / "ok.pt", storage)
    raw = bytearray((tmp_path / "ok.pt").read_bytes())
    at = raw.index(storage) + 100
    raw[at] ^= 0xFF  # one flipped bit of weight data; the CRC in the directory stays the old one
    (tmp_path / "bad.pt").write_bytes(bytes(raw))
    found = scan_section([tmp_path]).findings
    hits = [f for f in found if f.rule_id == "zip.crc_mismatch.tensor"]
    assert len(hits) == 1 and hits[0].file.endswith("bad.pt") and hits[0].severity.value == "info"
    assert hits[0].location == "member archive/data/0"
    assert not [f for f in found if f.severity.value not in ("info",)]


@pytest.mark.parametrize("name, expected", [("model.safetensors", True), ("pytorch_model.bin", True),
                                            ("weights.gguf", True), ("model.onnx", True), ("README.md", False),
                                            (".gitkeep", False)])
def test_empty_model_file_is_reported(tmp_path, name, expected):
    from modeldossier.artifacts.scanner import scan_section

    (tmp_path / name).write_bytes(b"")
    found = scan_section([tmp_path]).findings
    assert ([f.rule_id for f in found] == ["file.empty_model"]) is expected, found
    if expected:
        assert found[0].severity.value == "low"
