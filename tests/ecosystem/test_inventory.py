"""Inventory on a fake machine: a real-layout HF cache (with a broken symlink and a partial download),
a model folder, a loose GGUF file and an Ollama store whose model layer is a GGUF written by gguf.GGUFWriter."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import gguf
import numpy as np
import pytest
from safetensors.numpy import save_file

from modeldossier.cli import main
from modeldossier.dossier import load
from modeldossier.ecosystem.inventory import (
    analyse,
    default_hf_cache,
    discover_hf_cache,
    discover_ollama,
    discover_paths,
)

# A pickle that would call os.system("id") if loaded; it is only ever parsed by the scanner.
EVIL_PICKLE = b"\x80\x02cposix\nsystem\nq\x00X\x02\x00\x00\x00idq\x01\x85q\x02Rq\x03."


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hf_repo(cache: Path, repo_id: str, files: dict[str, bytes], *, revision: str = "a" * 40,
            broken: dict[str, str] | None = None, incomplete: bytes | None = None, ref: bool = True) -> Path:
    """models--org--name/{blobs,refs/main,snapshots/<rev>/...} with files as relative symlinks into blobs."""
    repo = cache / ("models--" + repo_id.replace("/", "--"))
    snap = repo / "snapshots" / revision
    (repo / "blobs").mkdir(parents=True)
    snap.mkdir(parents=True)
    if ref:
        (repo / "refs").mkdir()
        (repo / "refs" / "main").write_text(revision)
    for name, data in files.items():
        blob = repo / "blobs" / _sha(data)
        blob.write_bytes(data)
        link = snap / name
        link.parent.mkdir(parents=True, exist_ok=True)
        link.symlink_to(os.path.relpath(blob, link.parent))
    for name, target in (broken or {}).items():
        (snap / name).symlink_to(f"../../blobs/{target}")
    if incomplete is not None:
        (repo / "blobs" / (_sha(incomplete) + ".incomplete")).write_bytes(incomplete)
    return repo


def tiny_gguf(path: Path, *, org: str = "Qwen", base: str | None = "Qwen/Qwen2.5-0.5B") -> bytes:
    writer = gguf.GGUFWriter(str(path), "qwen2")
    writer.add_name("Tiny Qwen Test")
    writer.add_organization(org)
    writer.add_license("apache-2.0")
    if base:
        writer.add_base_model_count(1)
        writer.add_base_model_name(0, base.split("/")[1])
        writer.add_base_model_organization(0, base.split("/")[0])
        writer.add_base_model_repo_url(0, f"https://huggingface.co/{base}")
    writer.add_array("tokenizer.ggml.tokens", ["<s>", "</s>", "hello", "world"])
    writer.add_tensor("tok_embd", np.zeros((4, 8), dtype=np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path.read_bytes()


def ollama_store(root: Path, tmp_path: Path) -> Path:
    store = root / "models"
    blobs = store / "blobs"
    blobs.mkdir(parents=True)
    model = tiny_gguf(tmp_path / "tiny.gguf")
    license_text = b"Apache License\nVersion 2.0, January 2004\n"
    layers = []
    for media, data in (("application/vnd.ollama.image.model", model),
                        ("application/vnd.ollama.image.license", license_text),
                        ("application/vnd.ollama.image.template", b"{{ .Prompt }}")):
        (blobs / f"sha256-{_sha(data)}").write_bytes(data)
        layers.append({"mediaType": media, "digest": f"sha256:{_sha(data)}", "size": len(data)})
    manifest = {"schemaVersion": 2, "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
                "config": {"mediaType": "application/vnd.docker.container.image.v1+json",
                           "digest": "sha256:" + "0" * 64, "size": 2}, "layers": layers}
    lib = store / "manifests" / "registry.ollama.ai" / "library"
    (lib / "tiny").mkdir(parents=True)
    (lib / "tiny" / "latest").write_text(json.dumps(manifest))
    missing = "f" * 64
    gone = {**manifest, "layers": [{"mediaType": "application/vnd.ollama.image.model",
                                    "digest": f"sha256:{missing}", "size": 10}]}
    (lib / "halfway").mkdir()
    (lib / "halfway" / "7b").write_text(json.dumps(gone))
    (blobs / f"sha256-{missing}-partial").write_bytes(b"GGUF\x03")
    (lib / "garbage").mkdir()
    (lib / "garbage" / "latest").write_text("{not json")
    hf = store / "manifests" / "hf.co" / "bartowski" / "Some-GGUF"
    hf.mkdir(parents=True)
    (hf / "Q4_K_M").write_text(json.dumps(manifest))
    return store


@pytest.fixture
def machine(tmp_path: Path) -> dict[str, Path]:
    cache = tmp_path / "hf" / "hub"
    config = json.dumps({"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2"}).encode()
    card = b"---\nlicense: apache-2.0\nbase_model: Qwen/Qwen2.5-0.5B\n---\n# a fine-tune\n"
    weights = tmp_path / "w.safetensors"
    save_file({"w": np.zeros((2, 2), dtype=np.float32)}, str(weights))
    hf_repo(cache, "us-user/qwen-finetune", {"config.json": config, "README.md": card,
                                             "model.safetensors": weights.read_bytes()})
    hf_repo(cache, "Qwen/Qwen2.5-0.5B", {"config.json": config},
            broken={"model.safetensors": "deadbeef" * 8}, incomplete=b"\x00" * 100)
    hf_repo(cache, "evil/pickled", {"config.json": b"{}", "pytorch_model.bin": EVIL_PICKLE})
    (cache / "models--ghost--never-finished" / "blobs").mkdir(parents=True)
    (cache / "models--ghost--never-finished" / "blobs" / ("1" * 64 + ".incomplete")).write_bytes(b"x")
    (cache / "datasets--x--y" / "snapshots").mkdir(parents=True)
    folder = tmp_path / "models" / "local-model"
    folder.mkdir(parents=True)
    (folder / "config.json").write_bytes(config)
    tiny_gguf(tmp_path / "models" / "loose.gguf", org="mistralai", base=None)
    return {"cache": cache, "ollama": ollama_store(tmp_path / "ollama", tmp_path), "models": tmp_path / "models",
            "tmp": tmp_path}


def test_hf_cache_layout(machine: dict[str, Path]) -> None:
    found = {c.name: c for c in discover_hf_cache(machine["cache"])}
    assert set(found) == {"us-user/qwen-finetune", "Qwen/Qwen2.5-0.5B", "evil/pickled", "ghost/never-finished"}
    ft = found["us-user/qwen-finetune"]
    assert ft.revision == "a" * 40 and ft.issues == []
    assert {f.path for f in ft.files} == {"config.json", "README.md", "model.safetensors"}
    qwen = found["Qwen/Qwen2.5-0.5B"]
    assert any(i.startswith("broken symlink: model.safetensors") for i in qwen.issues)
    assert any(i.startswith("partial download: blobs/") and "100 bytes" in i for i in qwen.issues)
    assert [f.path for f in qwen.files] == ["config.json"]
    ghost = found["ghost/never-finished"]
    assert ghost.root is None and any("never completed" in i for i in ghost.issues)


def test_ollama_store(machine: dict[str, Path]) -> None:
    found = {c.name: c for c in discover_ollama(machine["ollama"])}
    assert set(found) == {"tiny:latest", "halfway:7b", "garbage:latest", "hf.co/bartowski/Some-GGUF:Q4_K_M"}
    tiny = found["tiny:latest"]
    assert tiny.root is not None and tiny.root.read_bytes()[:4] == b"GGUF" and tiny.issues == []
    assert tiny.license_hint == "Apache License"
    half = found["halfway:7b"]
    assert half.root is None
    assert any("model blob missing" in i for i in half.issues) and any("partial download" in i for i in half.issues)
    assert any("unreadable manifest" in i for i in found["garbage:latest"].issues)


def test_paths_search(machine: dict[str, Path]) -> None:
    found, notes = discover_paths([machine["models"]])
    assert sorted((c.source, c.name) for c in found) == [("file", "loose.gguf"), ("folder", "local-model")]
    empty = machine["tmp"] / "empty"
    empty.mkdir()
    _, notes = discover_paths([empty])
    assert notes and "no model folder" in notes[0]
    found, _ = discover_paths([machine["cache"]])  # a cache given as a path is read as a cache
    assert len(found) == 4


def test_analyse_with_injected_capabilities(machine: dict[str, Path]) -> None:
    """Independent of the real scanner/provenance: injected fakes, and a failing one only marks its entry."""
    from modeldossier.artifacts.models import ArtifactsSection
    from modeldossier.provenance.models import CountryAttribution, ProvenanceSection

    def fake_origin(root, hub_id, *, online=None):
        cn = CountryAttribution(country="CN")
        return ProvenanceSection(author="Qwen", author_country=cn, lineage_root="Qwen/Qwen2.5-0.5B",
                                 lineage_root_country=cn, license="apache-2.0")

    def broken_scan(paths, *, quiet=False):
        raise RuntimeError("scanner bug")

    cands = discover_hf_cache(machine["cache"])
    results = [analyse(c, scan=broken_scan, origin=fake_origin) for c in cands]
    by_name = {r.entry.name: r.entry for r in results}
    ft = by_name["us-user/qwen-finetune"]
    assert ft.lineage_root_country == "CN" and ft.verdict == "scan failed"
    assert any("RuntimeError: scanner bug" in i for i in ft.issues)
    assert by_name["ghost/never-finished"].verdict == "nothing to scan"
    clean = analyse(cands[0], scan=lambda p, quiet=False: ArtifactsSection(), origin=None)
    assert clean.entry.verdict == "clean"


def test_cli_inventory_end_to_end(machine: dict[str, Path], capsys) -> None:
    out = machine["tmp"] / "dossiers"
    code = main(["inventory", str(machine["models"]), "--hf-cache", str(machine["cache"]),
                 "--ollama", str(machine["ollama"]), "--out", str(out), "--format", "json", "--quiet"])
    report = json.loads(capsys.readouterr().out)
    entries = {e["name"]: e for e in report["entries"]}
    assert len(entries) == 10
    assert code == 1  # the pickled model is dangerous
    evil = entries["evil/pickled"]
    assert evil["verdict"] in ("critical", "high") and evil["findings"] >= 1
    ft = entries["us-user/qwen-finetune"]
    assert ft["declared_base"] == "Qwen/Qwen2.5-0.5B" and ft["lineage_root_country"] == "CN"
    assert ft["license"] == "apache-2.0" and ft["verdict"] in ("clean", "info", "low")
    tiny = entries["tiny:latest"]
    assert tiny["source"] == "ollama" and tiny["author_country"] == "CN" and tiny["license"] == "apache-2.0"
    assert entries["loose.gguf"]["author_country"] == "FR"
    assert any("broken symlink" in i for i in entries["Qwen/Qwen2.5-0.5B"]["issues"])
    assert entries["halfway:7b"]["path"] is None
    written = sorted(p.name for p in out.glob("*.dossier.json"))
    assert "evil__pickled.dossier.json" in written and "tiny_latest.dossier.json" in written
    dossier = load(out / "us-user__qwen-finetune.dossier.json")
    assert dossier.subject.kind == "hub" and dossier.subject.revision == "a" * 40
    assert dossier.provenance is not None and dossier.artifacts is not None
    ghost = load(out / "ghost__never-finished.dossier.json")
    assert "never completed" in ghost.run.not_run["provenance"]
    # re-running merges into the same dossiers (no duplicates, records accumulate)
    main(["inventory", "--hf-cache", str(machine["cache"]), "--no-scan", "--out", str(out), "--quiet"])
    again = load(out / "us-user__qwen-finetune.dossier.json")
    assert len(again.run.records) == 2 and again.artifacts is not None


def test_cli_text_no_scan(machine: dict[str, Path], capsys, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    code = main(["inventory", "--ollama", str(machine["ollama"]), "--no-scan", "--quiet"])
    text = capsys.readouterr().out
    assert code == 0 and "tiny:latest" in text and "not scanned" in text
    assert "issue: halfway:7b: model blob missing" in text


def test_missing_path_exit_2(tmp_path: Path) -> None:
    assert main(["inventory", str(tmp_path / "nope"), "--quiet"]) == 2


def test_default_cache_locations(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("HF_HUB_CACHE", raising=False)
    monkeypatch.setenv("HF_HOME", str(tmp_path / "home"))
    assert default_hf_cache() == tmp_path / "home" / "hub"
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "direct"))
    assert default_hf_cache() == tmp_path / "direct"


def test_refs_main_cannot_escape_the_repo(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    repo = hf_repo(cache, "org/model", {"config.json": b"{}"})
    (repo / "refs" / "main").write_text("../../../../etc")
    (cand,) = discover_hf_cache(cache)
    assert any("invalid revision" in i for i in cand.issues)
    assert cand.root is not None and cand.root.parent == repo / "snapshots"


def test_ollama_manifest_with_bad_digest(tmp_path: Path) -> None:
    store = tmp_path / "models"
    lib = store / "manifests" / "registry.ollama.ai" / "library" / "x"
    lib.mkdir(parents=True)
    (store / "blobs").mkdir()
    (lib / "latest").write_text(json.dumps({"layers": [
        {"mediaType": "application/vnd.ollama.image.model", "digest": "sha256:../../../etc/passwd"}]}))
    (cand,) = discover_ollama(store)
    assert cand.root is None and any("no model layer with a sha256 digest" in i for i in cand.issues)


def test_snapshot_folder_given_as_path_keeps_its_hub_name(machine: dict[str, Path]) -> None:
    snap = machine["cache"] / "models--us-user--qwen-finetune" / "snapshots" / ("a" * 40)
    found, _ = discover_paths([snap])
    assert [(c.source, c.name) for c in found] == [("folder", "us-user/qwen-finetune")]


def test_missing_refs_main_is_an_issue_even_with_a_snapshot(tmp_path: Path) -> None:
    cache = tmp_path / "hub"
    hf_repo(cache, "acme/noref", {"config.json": b"{}"}, ref=False)
    (cand,) = discover_hf_cache(cache)
    assert cand.revision == "a" * 40  # the newest snapshot is still shown
    assert any(issue.startswith("no refs/main") and "newest snapshot" in issue for issue in cand.issues)
    hf_repo(cache, "acme/withref", {"config.json": b"{}"})
    found = {c.name: c for c in discover_hf_cache(cache)}
    assert not any("refs/main" in issue for issue in found["acme/withref"].issues)
