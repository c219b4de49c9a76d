"""Proof that scanning never runs a payload: every sample would create a marker file if it were loaded."""

from __future__ import annotations

import gzip
import importlib.util
import io
import os
import pickle
import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

from modeldossier.artifacts.scanner import scan_section

ROOT = Path(__file__).resolve().parents[2]


def _corpus():
    spec = importlib.util.spec_from_file_location("corpus_pickle", ROOT / "bench" / "scanner" / "corpus_pickle.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


C = _corpus()


def _payloads(marker: Path) -> dict[str, bytes]:
    cmd = C.s(f"touch {marker}")
    code = C.s(f"open({str(marker)!r}, 'w').write('ran')")
    system = C.wrap(C.call(C.sg("os", "system"), cmd), 2)
    exec_ = C.wrap(C.call(C.sg("builtins", "exec"), code))
    tensors = {"w": 4}
    zbuf = io.BytesIO()
    path_zip = marker.parent / "_tmp.pt"
    C.torch_zip(path_zip, system, tensors)
    zbuf.write(path_zip.read_bytes())
    path_zip.unlink()
    tbuf = io.BytesIO()
    with tarfile.open(fileobj=tbuf, mode="w") as t:
        C._tar_add(t, "m.pkl", exec_)
    return {
        "a.pkl": system,
        "b.pkl": exec_,
        "c.pt": zbuf.getvalue(),
        "d.npy": C.npy_object(C.wrap(C.call(C.sg("os", "system"), cmd), 3)),
        "e.tar": tbuf.getvalue(),
        "f.pkl.gz": gzip.compress(exec_),
        "g.txt": b"cos\nsystem\n(S'touch " + str(marker).encode() + b"'\ntR.",
    }


def test_payloads_are_real(tmp_path):
    """Control: the payload pickles do create the marker when (deliberately) unpickled in a child process."""
    marker = tmp_path / "control_marker"
    raw = _payloads(marker)["b.pkl"]
    (tmp_path / "b.pkl").write_bytes(raw)
    subprocess.run([sys.executable, "-c", f"import pickle; pickle.load(open({str(tmp_path / 'b.pkl')!r}, 'rb'))"],
                   check=True, timeout=60)
    assert marker.exists()


def test_scanning_never_creates_the_marker(tmp_path, monkeypatch):
    marker = tmp_path / "MARKER"
    folder = tmp_path / "model"
    folder.mkdir()
    for name, raw in _payloads(marker).items():
        (folder / name).write_bytes(raw)

    def forbidden(*args, **kwargs):
        raise AssertionError("the scanner called an unpickling function")

    for name in ("load", "loads", "Unpickler"):
        monkeypatch.setattr(pickle, name, forbidden)
    section = scan_section([folder])
    assert not marker.exists()
    flagged = {Path(f.file.split("!")[0]).name for f in section.findings if f.severity.value == "critical"}
    assert flagged == set(_payloads(tmp_path / "x").keys())


def test_cli_scan_in_a_child_process_never_creates_the_marker(tmp_path):
    marker = tmp_path / "MARKER"
    folder = tmp_path / "model"
    folder.mkdir()
    for name, raw in _payloads(marker).items():
        (folder / name).write_bytes(raw)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    proc = subprocess.run([sys.executable, "-m", "modeldossier.cli", "scan", str(folder), "-q", "--format", "json"],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 1, proc.stderr
    assert not marker.exists()


@pytest.mark.parametrize("name", ["pickle", "torch", "numpy"])
def test_scanner_modules_never_reference_loaders(name):
    """Static guard: the scanner's own source never calls pickle.load(s), torch.load or allow_pickle=True."""
    src = "\n".join(p.read_text() for p in (ROOT / "src/modeldossier/artifacts").glob("*.py")
                    if p.name in {"pickle_scan.py", "scanner.py", "containers.py", "sniff.py", "allowlist.py"})
    bad = {"pickle": ["pickle.load(", "pickle.loads(", "Unpickler("], "torch": ["torch.load("],
           "numpy": ["allow_pickle=True", "np.load(", "numpy.load("]}[name]
    assert not [b for b in bad if b in src]


def test_zip_members_never_extracted_to_disk(tmp_path):
    with zipfile.ZipFile(tmp_path / "t.zip", "w") as z:
        z.writestr("../../escaped.txt", "x")
    scan_section([tmp_path / "t.zip"])
    assert not (tmp_path.parent / "escaped.txt").exists()
