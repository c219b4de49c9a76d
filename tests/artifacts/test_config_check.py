"""Config-driven instantiation (`_target_`, NeMo CVE-2025-23304 class) wherever configs are found."""

from __future__ import annotations

import io
import json
import struct
import tarfile

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from modeldossier.artifacts import config_check
from modeldossier.artifacts.scanner import scan_section
from modeldossier.common import Severity

NEMO_CONFIG = (b"sample_rate: 16000\nencoder:\n  _target_: nemo.collections.asr.modules.ConformerEncoder\n"
               b"  d_model: 176\noptim:\n  name: adamw\n  sched:\n    _target_: os.system\n    command: id\n")


def _rules(found, severity=None):
    return {f.rule_id for f in found if severity is None or f.severity == severity}


def _nemo(tmp_path, config: bytes, *, gz: bool = False):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz" if gz else "w") as tar:
        for member, data in (("./model_config.yaml", config), ("./model_weights.ckpt", b"\0" * 64)):
            info = tarfile.TarInfo(member)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    path = tmp_path / "asr.nemo"
    path.write_bytes(buf.getvalue())
    return path


@pytest.mark.parametrize("gz", [False, True])
def test_nemo_archive_with_os_system_target_is_critical(tmp_path, gz):
    found = scan_section([_nemo(tmp_path, NEMO_CONFIG, gz=gz)]).findings
    hits = [f for f in found if f.rule_id == "config.target.dangerous"]
    assert hits and hits[0].severity == Severity.CRITICAL and hits[0].evidence == "os.system"
    assert hits[0].location == "optim.sched._target_" and "model_config.yaml" in hits[0].file
    unknown = [f for f in found if f.rule_id == "config.target.unknown"]
    assert unknown and unknown[0].severity == Severity.LOW  # the library class is listed for review, not blocked


def test_benign_nemo_config_is_not_blocking(tmp_path):
    benign = NEMO_CONFIG.replace(b"os.system", b"torch.optim.lr_scheduler.CosineAnnealingLR")
    found = scan_section([_nemo(tmp_path, benign)]).findings
    assert not [f for f in found if f.severity.rank >= Severity.MEDIUM.rank]


def _safetensors(meta: dict[str, str]) -> bytes:
    header = json.dumps({"__metadata__": meta, "w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    return struct.pack("<Q", len(header)) + header + b"\0" * 4


def test_safetensors_metadata_config_is_checked(tmp_path):
    cfg = json.dumps({"model": {"_target_": "subprocess.Popen", "args": ["sh"]}})
    (tmp_path / "a.safetensors").write_bytes(_safetensors({"format": "pt", "config": cfg}))
    (tmp_path / "b.safetensors").write_bytes(_safetensors({"format": "pt",
                                                           "config": "model:\n  _target_: builtins.eval\n"}))
    found = scan_section([tmp_path]).findings
    by_file = {f.file.rsplit("/", 1)[-1]: f for f in found if f.rule_id == "config.target.dangerous"}
    assert set(by_file) == {"a.safetensors", "b.safetensors"}
    assert by_file["a.safetensors"].location == "key __metadata__.config: model._target_"


@pytest.mark.parametrize("name, text", [
    ("config.json", json.dumps({"architectures": ["M"], "tok": {"_target_": "builtins.exec", "_args_": ["1"]}})),
    ("hparams.yaml", "trainer:\n  callbacks:\n    - _target_: posix.system\n      command: id\n"),
    ("train.yml", "x: {_target_: 'importlib.import_module', name: evil}\n"),
    ("cfg.json", json.dumps({"_target_": "\u006fs.system"})),
    ("partial.yaml", "f:\n  _target_: shutil.rmtree\n  _partial_: true\n"),
    ("call.yaml", "f:\n  _call_: runpy.run_path\n"),
    ("bare.yaml", "f:\n  _target_: eval\n"),
])
def test_plain_configs_next_to_weights(tmp_path, name, text):
    (tmp_path / name).write_text(text)
    found = scan_section([tmp_path]).findings
    assert "config.target.dangerous" in _rules(found, Severity.CRITICAL), found


def test_duplicate_key_cannot_hide_a_target(tmp_path):
    # the safe parser keeps the last value; the sweep still sees the first one
    (tmp_path / "dup.yaml").write_text("a:\n  _target_: os.system\n  _target_: torch.optim.Adam\n")
    found = scan_section([tmp_path]).findings
    assert "config.target.dangerous" in _rules(found)


def test_interpolated_target_is_high_and_damaged_yaml_still_swept(tmp_path):
    (tmp_path / "a.yaml").write_text("x:\n  _target_: ${oc.env:TARGET}\n")
    (tmp_path / "b.yaml").write_text("x: [unclosed\n  _target_: os.system\n")
    found = scan_section([tmp_path]).findings
    assert any(f.rule_id == "config.target.computed" and f.severity == Severity.HIGH for f in found)
    assert any(f.rule_id == "config.target.dangerous" and f.file.endswith("b.yaml") for f in found)


def test_alias_bomb_config_is_bounded(tmp_path):
    lines = ["a0: &a0 [_target_, os.system]"]
    lines += [f"a{i}: &a{i} [*a{i - 1}, *a{i - 1}, *a{i - 1}, *a{i - 1}]" for i in range(1, 14)]
    (tmp_path / "bomb.yaml").write_text("\n".join(lines) + "\nx:\n  _target_: os.system\n")
    found = scan_section([tmp_path]).findings
    assert "config.target.dangerous" in _rules(found)


def test_no_marker_no_work():
    assert config_check.check_text(b"a: 1\nb: [2, 3]\n", "x.yaml") == []
    assert config_check.check_text(b'{"_target_": true}', "x.json") == []


_PIECES = ["_target_", ": ", "os.system", "torch.optim.Adam", "${oc.env:X}", "\n", "  ", "- ", "{", "}", "[", "]",
           "'", '"', ",", "_partial_: true", "_call_", "&a", "*a", "#", "\\u006f", "..", "builtins.", "eval",
           "!!python/"]


def _case(pieces: list[str]) -> None:
    raw = "".join(pieces).encode()
    for f in config_check.check_text(raw, "fuzz.yaml"):
        assert f.rule_id.startswith("config.") and f.severity


@settings(max_examples=int(__import__("os").environ.get("DOSSIER_FUZZ_EXAMPLES", "150")), deadline=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(_PIECES), max_size=40))
def test_fuzz_config_parser(pieces):
    _case(pieces)
