"""End to end against the real llama.cpp server (llama-cpp-python) on a tiny random-weights GGUF.

Slow: needs ``llama-cpp-python[server]`` (the ``bench`` extra; builds from source). It is looked for in this
interpreter, then in ``.bench-venv``, or at ``$LLAMA_CPP_PYTHON``; the test skips when none has it.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from modeldossier.cli import main

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tiny_gguf import write_tiny_llama  # noqa: E402

pytestmark = [pytest.mark.slow, pytest.mark.network]
ROOT = Path(__file__).resolve().parents[2]


def llama_python() -> str | None:
    """An interpreter that can import llama_cpp.server."""
    candidates = [os.environ.get("LLAMA_CPP_PYTHON"), sys.executable, str(ROOT / ".bench-venv" / "bin" / "python")]
    for python in filter(None, candidates):
        if Path(python).exists() and subprocess.run([python, "-c", "import llama_cpp.server"],
                                                     capture_output=True, timeout=120).returncode == 0:
            return python
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory, shared_data):
    python = llama_python()
    if python is None:
        pytest.skip("llama-cpp-python[server] is not installed (pip install -e '.[bench]' or .bench-venv)")
    vocab = shared_data / "provenance" / "llama_cpp_vocab" / "ggml-vocab-llama-spm.gguf"
    if not vocab.is_file():
        pytest.skip(f"vocab GGUF missing: {vocab}")
    model = write_tiny_llama(vocab, tmp_path_factory.mktemp("gguf") / "tiny.gguf")
    port = free_port()
    log = tmp_path_factory.mktemp("log") / "server.log"
    with open(log, "wb") as handle:
        proc = subprocess.Popen(
            [python, "-m", "llama_cpp.server", "--model", str(model), "--model_alias", "tiny", "--host",
             "127.0.0.1", "--port", str(port), "--n_ctx", "512", "--n_threads", "1"],
            stdout=handle, stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.time() + 180
        while time.time() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"llama.cpp server exited {proc.returncode}: {log.read_text()[-2000:]}")
            try:
                with urllib.request.urlopen(f"{url}/models", timeout=2) as reply:  # noqa: S310 - local URL
                    if reply.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"llama.cpp server did not come up: {log.read_text()[-2000:]}")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_probe_end_to_end_against_llama_cpp_server(llama_server, tmp_path, capsys):
    suite = tmp_path / "suite.yaml"
    suite.write_text(
        "name: smoke\nversion: 1\nitems:\n"
        "  - id: a\n    prompt: {en: 'What is the capital of France?', zh: '法国的首都是哪里？'}\n"
        "  - id: b\n    prompt: Write one word.\n"
    )
    out = tmp_path / "out"
    args = ["probe", "--target", f"llamacpp:{llama_server}/tiny", "--suite", str(suite), "--out", str(out),
            "--samples", "2", "--param", "max_tokens=8", "--param", "temperature=0.7", "--param", "seed=1",
            "--max-connections", "2", "--quiet", "--format", "json"]
    assert main(args) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["overall"]["n"] == 6 and summary["overall"]["errors"] == 0
    assert summary["run"]["fetched"] == 6
    transcript = out / "llamacpp_tiny.smoke.transcript.jsonl"
    lines = [json.loads(line) for line in transcript.read_text().splitlines()]
    responses = [e["response"] for e in lines if e["event"] == "response"]
    assert len(responses) == 6
    for response in responses:
        assert response["http_status"] == 200 and isinstance(response["content"], str)
        assert response["finish_reason"] in ("stop", "length")
        assert response["usage"]["completion_tokens"] <= 8 and response["provider_model"] == "tiny"
    # the same command again: everything comes from the transcript, nothing is asked
    assert main(args) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["run"]["resumed"] == 6 and again["run"]["fetched"] == 0
    # --refresh asks again (new transcript; the old one is kept beside it)
    assert main([*args, "--refresh"]) == 0
    fresh = json.loads(capsys.readouterr().out)
    assert fresh["run"]["fetched"] == 6 and fresh["run"]["previous_transcript"]
