"""Hub lineage walk against recorded model_info answers served by a local HTTP server (real huggingface_hub
client, HF_ENDPOINT pointed at pytest-httpserver)."""

from __future__ import annotations

import socket

import pytest

from modeldossier.provenance import hub
from modeldossier.provenance.origin import origin_section

pytestmark = pytest.mark.network


def info(repo_id: str, base: str | list[str] | None = None, relation: str | None = "finetune",
         license_: str = "apache-2.0") -> dict:
    """A model_info answer shaped like the Hub's /api/models/{id} JSON (fields we read plus some we ignore)."""
    bases = [base] if isinstance(base, str) else (base or [])
    data = {
        "_id": "65f0c0ffee0000000000" + str(abs(hash(repo_id)) % 10000).zfill(4),
        "id": repo_id,
        "author": repo_id.split("/")[0],
        "sha": "a" * 40,
        "createdAt": "2024-09-16T11:55:40.000Z",
        "lastModified": "2024-09-25T14:32:05.000Z",
        "downloads": 1234,
        "downloadsAllTime": 98765,
        "tags": ["transformers", "safetensors", "text-generation"],
        "cardData": {"license": license_, "language": ["en"], **({"base_model": base} if base else {})},
    }
    if bases:
        data["baseModels"] = {"relation": relation, "models": [{"id": b} for b in bases]}
    return data


@pytest.fixture
def hub_server(httpserver, monkeypatch):
    monkeypatch.setenv("HF_ENDPOINT", httpserver.url_for("").rstrip("/"))
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_TOKEN", "")

    def serve(*answers: dict) -> None:
        for answer in answers:
            httpserver.expect_request(f"/api/models/{answer['id']}").respond_with_json(answer)
    return serve


def test_chain_to_root(hub_server, httpserver):
    hub_server(
        info("someuser/qwen-chat-ft", "Qwen/Qwen2.5-7B-Instruct"),
        info("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"),
        info("Qwen/Qwen2.5-7B"),
    )
    result = hub.walk("someuser/qwen-chat-ft")
    assert [link.repo_id for link in result.chain] == ["someuser/qwen-chat-ft", "Qwen/Qwen2.5-7B-Instruct",
                                                      "Qwen/Qwen2.5-7B"]
    assert result.root.repo_id == "Qwen/Qwen2.5-7B" and not result.cycle
    first = result.chain[0]
    assert first.downloads_all_time == 98765 and first.relation == "finetune" and first.sha == "a" * 40
    assert first.created_at.startswith("2024-09-16")
    sent = [req for req, _ in httpserver.log if req.path.startswith("/api/models/")]
    assert len(sent) == 3 and "downloadsAllTime" in sent[0].query_string.decode()


def test_cycle_is_detected(hub_server):
    hub_server(info("a/one", "b/two"), info("b/two", "a/one"))
    result = hub.walk("a/one")
    assert result.cycle and [link.repo_id for link in result.chain] == ["a/one", "b/two"]
    assert any("cycle" in n for n in result.notes)


def test_depth_limit(hub_server):
    hub_server(*(info(f"org/m{i}", f"org/m{i + 1}") for i in range(6)))
    result = hub.walk("org/m0", max_depth=3)
    assert result.truncated and len(result.chain) == 3


def test_missing_repo_is_a_note(hub_server, httpserver):
    httpserver.expect_request("/api/models/ghost/none").respond_with_json(
        {"error": "Repository not found"}, status=404, headers={"X-Error-Code": "RepoNotFound"})
    result = hub.walk("ghost/none")
    assert not result.chain and "not found" in result.notes[0]


def test_multiple_bases_follow_first_with_note(hub_server):
    hub_server(info("x/merge", ["Qwen/Qwen2.5-7B", "meta-llama/Llama-3.1-8B"], relation="merge"),
               info("Qwen/Qwen2.5-7B"))
    result = hub.walk("x/merge")
    assert result.root.repo_id == "Qwen/Qwen2.5-7B" and any("2 base models" in n for n in result.notes)


def test_offline_env_never_calls(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    result = hub.walk("Qwen/Qwen2.5-7B")
    assert not result.chain and "offline" in result.notes[0]


def test_unreachable_hub_is_a_note(monkeypatch):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{port}")
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    result = hub.walk("Qwen/Qwen2.5-7B", timeout=2)
    assert not result.chain and result.notes and not result.reached_network


def test_origin_section_with_hub_id(hub_server):
    hub_server(
        info("someuser/qwen-chat-ft", "Qwen/Qwen2.5-7B-Instruct", license_="other"),
        info("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"),
        info("Qwen/Qwen2.5-7B"),
    )
    section = origin_section(None, "someuser/qwen-chat-ft")
    assert section.lineage_root == "Qwen/Qwen2.5-7B" and len(section.lineage) == 3
    assert section.lineage_root_country.country == "CN"
    assert section.author == "someuser" and section.author_country.country is None
    assert section.declared_base == "Qwen/Qwen2.5-7B-Instruct" and section.license == "other"


def test_origin_section_offline_flag_skips_hub(hub_server, httpserver):
    section = origin_section(None, "someuser/qwen-chat-ft", online=False)
    assert not httpserver.log and any("offline" in n for n in section.notes)


def test_online_walks_declared_base_for_local_files(hub_server, tmp_path):
    hub_server(info("Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"), info("Qwen/Qwen2.5-7B"))
    folder = tmp_path / "local-ft"
    folder.mkdir()
    (folder / "README.md").write_text("---\nbase_model: Qwen/Qwen2.5-7B-Instruct\n---\n")
    (folder / "config.json").write_text('{"model_type": "qwen2"}')
    section = origin_section(folder, None, online=True)
    assert [link.repo_id for link in section.lineage] == ["Qwen/Qwen2.5-7B-Instruct", "Qwen/Qwen2.5-7B"]
    assert section.lineage_root == "Qwen/Qwen2.5-7B" and section.lineage_root_country.country == "CN"
    assert section.author is None and section.declared_base == "Qwen/Qwen2.5-7B-Instruct"
    local = origin_section(folder, None)  # default: no Hub id -> no network
    assert local.lineage == [] and local.lineage_root == "Qwen/Qwen2.5-7B-Instruct"
