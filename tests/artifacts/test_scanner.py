"""Format sniffing by content, the folder walk (symlinks, special files), and dispatch to format checkers."""

from __future__ import annotations

import json
import os
import pickle
import struct
import zipfile

import pytest

from modeldossier.artifacts import scanner, sniff
from modeldossier.artifacts.models import Finding
from modeldossier.artifacts.scanner import scan_section
from modeldossier.common import Severity

EVIL = b"\x80\x04\x8c\x02os\x8c\x06system\x93(\x8c\x01xtR."


@pytest.mark.parametrize("name, raw, expected", [
    ("model.safetensors", EVIL, "pickle"),
    ("notes.txt", b"cos\nsystem\n(S'ls'\ntR.", "pickle"),
    ("data.bin", pickle.dumps([1, 2], protocol=1), "pickle"),
    ("x.gguf", b"GGUF\x03\x00\x00\x00" + b"\0" * 16, "gguf"),
    ("x.h5", b"\x89HDF\r\n\x1a\n" + b"\0" * 16, "hdf5"),
    ("x.npy", b"\x93NUMPY\x01\x00", "npy"),
    ("x.7z", b"7z\xbc\xaf\x27\x1c\x00\x04", "7z"),
    ("x.gz", b"\x1f\x8b\x08\x00", "gzip"),
    ("x.json", b'{"a": 1}', "json"),
    ("config.json", b'{"auto_map": {"AutoModel": "m.M"}}', "hf-config"),
    ("tokenizer_config.json", b'{"chat_template": "{{ x }}"}', "hf-config"),
    ("run.py", b"import os\nprint(1)\n", "python-source"),
    ("chat_template.jinja", b"{{ messages[0]['content'] }}", "chat-template"),
    ("README.md", b"# A model\n\nIt works.\n", "text"),
    ("empty.bin", b"", "empty"),
    ("rand.bin", bytes(range(256)) * 4, "binary"),
])
def test_sniff_by_content(name, raw, expected):
    assert sniff.sniff_bytes(raw, name) == expected


def test_sniff_safetensors_header_and_zip_kinds(tmp_path):
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    assert sniff.sniff_bytes(struct.pack("<Q", len(header)) + header + b"\0" * 4) == "safetensors"
    kinds = {"torch.pt": ["archive/data.pkl", "archive/version"],
             "script.pt": ["m/constants.pkl", "m/code/__torch__/a.py", "m/data.pkl"],
             "a.npz": ["a.npy", "b.npy"], "a.keras": ["config.json", "metadata.json", "model.weights.h5"],
             "plain.zip": ["readme.txt"]}
    expected = {"torch.pt": "torch-zip", "script.pt": "torchscript", "a.npz": "npz", "a.keras": "keras-zip",
                "plain.zip": "zip"}
    for name, members in kinds.items():
        with zipfile.ZipFile(tmp_path / name, "w") as z:
            for m in members:
                z.writestr(m, "x")
        with open(tmp_path / name, "rb") as handle:
            assert sniff.sniff(handle, (tmp_path / name).stat().st_size, name) == expected[name]


def test_folder_walk_reports_symlinks_and_special_files(tmp_path):
    model = tmp_path / "model"
    model.mkdir()
    (model / "ok.pkl").write_bytes(pickle.dumps({"a": 1}))
    (tmp_path / "outside.pkl").write_bytes(EVIL)
    os.symlink(tmp_path / "outside.pkl", model / "escape.pkl")
    os.symlink(model / "ok.pkl", model / "inside_link.pkl")
    os.symlink(model / "loop_a", model / "loop_b")
    os.symlink(model / "loop_b", model / "loop_a")
    os.symlink(tmp_path, model / "dirlink")
    (model / "sub").mkdir()
    os.symlink("sub", model / "inner_dirlink")
    os.mkfifo(model / "pipe")
    section = scan_section([model])
    found = {(f.rule_id, os.path.basename(f.file)) for f in section.findings}
    assert ("fs.symlink.escape", "escape.pkl") in found
    assert ("fs.symlink.broken", "loop_a") in found and ("fs.symlink.broken", "loop_b") in found
    assert ("fs.special_file", "pipe") in found
    assert ("fs.symlink.escape", "dirlink") in found  # a folder link out of the root is an escape too
    assert ("fs.symlink.directory", "inner_dirlink") in found
    assert not [f for f in section.findings if f.rule_id.startswith("pickle.")]  # outside file never read
    assert [r.path for r in section.files if r.format == "pickle"] == [str(model / "ok.pkl")]


def test_hf_cache_snapshot_symlinks_are_followed(tmp_path):
    repo = tmp_path / "models--org--name"
    (repo / "blobs").mkdir(parents=True)
    snap = repo / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (repo / "blobs" / "1234").write_bytes(EVIL)
    os.symlink("../../blobs/1234", snap / "pytorch_model.bin")
    section = scan_section([snap])
    assert any(f.rule_id == "pickle.global.dangerous" and f.file.endswith("pytorch_model.bin")
               for f in section.findings)


def test_hash_and_counts(tmp_path):
    (tmp_path / "a.pkl").write_bytes(EVIL)
    section = scan_section([tmp_path], hash_files=True)
    import hashlib

    assert section.files[0].sha256 == hashlib.sha256(EVIL).hexdigest()
    assert section.counts["critical"] == 1 and section.worst() is Severity.CRITICAL
    assert section.allowlist_version and section.scanner_version and section.bytes_scanned == len(EVIL)


def test_missing_checker_is_an_info_finding(tmp_path, monkeypatch):
    monkeypatch.setitem(scanner.CHECKERS, "gguf", "modeldossier.artifacts.no_such_checker")
    (tmp_path / "m.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\0" * 16)
    section = scan_section([tmp_path])
    assert [(f.rule_id, f.severity) for f in section.findings] == [("scanner.unsupported_format", Severity.INFO)]


def test_crashing_checker_is_contained(tmp_path, monkeypatch):
    class Boom:
        @staticmethod
        def scan(stream, name, size):
            raise ValueError("boom")

    monkeypatch.setattr(scanner.importlib, "import_module", lambda name: Boom)
    (tmp_path / "m.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\0" * 16)
    (tmp_path / "b.pkl").write_bytes(EVIL)
    section = scan_section([tmp_path])
    rules = {f.rule_id for f in section.findings}
    assert {"scan.checker_error", "pickle.global.dangerous"} <= rules
    assert section.status == "partial"


def test_checker_protocol_receives_stream_at_zero_and_display_name(tmp_path, monkeypatch):
    seen = []

    class Spy:
        @staticmethod
        def scan(stream, name, size):
            seen.append((stream.tell(), name, size, stream.read(4)))
            return [Finding(rule_id="x.y", severity=Severity.LOW, message="m", file=name)]

    real = scanner.importlib.import_module
    monkeypatch.setattr(scanner.importlib, "import_module",
                        lambda name: Spy if name.endswith("gguf_check") else real(name))
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as z:
        z.writestr("inner/m.gguf", b"GGUF" + b"\0" * 20)
    section = scan_section([tmp_path / "a.zip"])
    assert seen == [(0, f"{tmp_path / 'a.zip'}!inner/m.gguf", 24, b"GGUF")]
    assert section.files[1].member_of == str(tmp_path / "a.zip")


def test_real_model_folder_has_no_findings_at_medium_or_above(minilm_dir):
    section = scan_section([minilm_dir])
    serious = [f for f in section.findings if f.severity.at_least(Severity.MEDIUM)]
    assert serious == []
    formats = {os.path.basename(r.path): r.format for r in section.files}
    assert formats["model.safetensors"] == "safetensors" and formats["README.md"] == "text"


def test_hard_time_limit_stops_a_checker_that_never_returns(tmp_path, monkeypatch):
    import time

    class Stuck:
        @staticmethod
        def scan(stream, name, size):
            end = time.monotonic() + 30
            while time.monotonic() < end:
                pass
            return []

    real = scanner.importlib.import_module
    monkeypatch.setattr(scanner.importlib, "import_module",
                        lambda name: Stuck if name.endswith("gguf_check") else real(name))
    (tmp_path / "m.gguf").write_bytes(b"GGUF\x03\x00\x00\x00" + b"\0" * 16)
    (tmp_path / "z.pkl").write_bytes(EVIL)
    start = time.monotonic()
    section = scan_section([tmp_path], limits=scanner.ScanLimits(seconds_per_file=1))
    assert time.monotonic() - start < 20
    rules = {(os.path.basename(f.file), f.rule_id) for f in section.findings}
    assert ("m.gguf", "scan.timeout") in rules and ("z.pkl", "pickle.global.dangerous") in rules


def test_huge_sparse_files_are_scanned_in_bounded_time(tmp_path):
    import time

    pkl, blob = tmp_path / "big.pkl", tmp_path / "big.bin"
    try:
        with open(pkl, "wb") as handle:
            handle.write(EVIL[:-1])  # a payload, then 50 GB of zero bytes (an invalid opcode)
            handle.truncate(50 * 1024**3)
        with open(blob, "wb") as handle:
            handle.truncate(50 * 1024**3)
    except OSError:
        pytest.skip("this file system cannot hold sparse files")
    start = time.monotonic()
    section = scan_section([tmp_path])
    assert time.monotonic() - start < 30
    rules = {(os.path.basename(f.file), f.rule_id) for f in section.findings}
    assert {("big.pkl", "pickle.global.dangerous"), ("big.pkl", "pickle.malformed")} <= rules
    assert not [r for r in rules if r[0] == "big.bin"]


def test_fifo_given_directly_is_a_finding_not_a_hang(tmp_path):
    import os

    from modeldossier.artifacts.scanner import scan_section

    fifo = tmp_path / "model.bin"
    os.mkfifo(fifo)
    section = scan_section([fifo], quiet=True)
    assert [f.rule_id for f in section.findings] == ["fs.special_file"]


SECRET_LINKS = ["~/.cache/huggingface/token", "~/.ssh/id_rsa", "/etc/shadow", "../../../../.ssh/id_ed25519",
                "/root/.aws/credentials", "/proc/self/environ"]


@pytest.mark.parametrize("exists", [True, False])
def test_symlink_verdict_does_not_depend_on_the_target_existing(tmp_path, monkeypatch, exists):
    home = tmp_path / "home"
    monkeypatch.setenv("HOME", str(home))
    model = tmp_path / "a" / "b" / "model"
    model.mkdir(parents=True)
    token = home / ".cache" / "huggingface" / "token"
    if exists:
        token.parent.mkdir(parents=True)
        token.write_text("hf_secret")
    os.symlink(str(token), model / "tokenizer.model")  # the absolute path a hostile repo would carry
    os.symlink("../../../../elsewhere/weights.bin", model / "weights.bin")
    for i, target in enumerate(SECRET_LINKS):
        os.symlink(target, model / f"s{i}.bin")
    found = {os.path.basename(f.file): (f.rule_id, f.severity) for f in scan_section([model]).findings}
    assert found["weights.bin"] == ("fs.symlink.escape", Severity.HIGH)
    assert found["tokenizer.model"] == ("fs.symlink.secret", Severity.CRITICAL)
    for i in range(len(SECRET_LINKS)):
        assert found[f"s{i}.bin"] == ("fs.symlink.secret", Severity.CRITICAL), SECRET_LINKS[i]


def test_symlink_judgement_is_lexical():
    roots = ("/data/model",)
    assert scanner.judge_link("w.bin", "/data/model", roots).inside
    assert scanner.judge_link("../model/sub/w.bin", "/data/model", roots).inside
    assert not scanner.judge_link("../other/w.bin", "/data/model", roots).inside
    assert scanner.judge_link("../../../.ssh/id_rsa", "/data/model/x", roots).secret
    assert scanner.judge_link("/etc/passwd", "/data/model", roots).secret
    assert not scanner.judge_link("/data/model/tokenizer.json", "/data/model", roots).secret


@pytest.mark.parametrize("name, rule, severity", [
    ("model\u202egnp.py", "fs.name.bidi", Severity.HIGH),
    ("weights\u2066.bin", "fs.name.bidi", Severity.HIGH),
    ("config\u200f.json", "fs.name.bidi", Severity.HIGH),
    ("tok\u061cenizer.json", "fs.name.bidi", Severity.HIGH),
    ("model\u200b.safetensors", "fs.name.invisible", Severity.MEDIUM),
    ("a\x1b[31mred.txt", "fs.name.invisible", Severity.MEDIUM),
    ("ok\u3164.txt", "fs.name.invisible", Severity.MEDIUM),
])
def test_file_names_with_bidi_or_invisible_characters(tmp_path, name, rule, severity):
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / name).write_text("hello\n")
    found = [f for f in scan_section([tmp_path]).findings if f.rule_id.startswith("fs.name.")]
    assert [(f.rule_id, f.severity) for f in found] == [(rule, severity)]
    assert found[0].evidence.isascii() or all(ord(c) > 0x7f and c.isprintable() for c in found[0].evidence
                                               if not c.isascii())
    assert "\\u" in found[0].evidence and not any(0x202a <= ord(c) <= 0x202e for c in found[0].evidence)


def test_plain_unicode_names_are_fine(tmp_path):
    for name in ("模型.safetensors", "café.json", "модель.txt", "😀.md"):
        (tmp_path / name).write_text("x\n")
    assert not [f for f in scan_section([tmp_path]).findings if f.rule_id.startswith("fs.name.")]


def test_archive_member_names_are_checked(tmp_path):
    with zipfile.ZipFile(tmp_path / "a.zip", "w") as archive:
        archive.writestr("readme\u202etxt.exe", "x")
    found = [f for f in scan_section([tmp_path]).findings if f.rule_id == "fs.name.bidi"]
    assert found and found[0].evidence.endswith("readme\\u202etxt.exe")
