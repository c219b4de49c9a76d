"""End to end: ``dossier probe --target transformers:DIR`` on a tiny random-weights Llama, CPU only.

Slow: needs ``torch`` and ``transformers``, which are not in the product environment. They are looked for at
``$TRANSFORMERS_PYTHON``, then in this interpreter, then in ``.bench-venv``; the test skips when none has both.
The model (2 layers, 32 dims, a 40-token word-level vocabulary, a minimal Jinja chat template) is built in a
temporary folder by a subprocess under that interpreter, so nothing needs the network or a model hub.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]

TEMPLATE = (
    "{% for m in messages %}<{{ m['role'] }}> {{ m['content'] }} </s> {% endfor %}"
    "{% if add_generation_prompt %}<assistant>{% endif %}"
)

BUILD = textwrap.dedent(
    """
    import json, sys
    from pathlib import Path
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out, template, auto_map = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    words = ["<unk>", "<s>", "</s>", "<pad>", "<user>", "<assistant>", "<system>"] + [
        "the", "a", "capital", "of", "france", "is", "paris", "what", "write", "one", "word", "hello", "yes",
        "no", "?", ".", ",", "city", "river", "blue", "red", "green", "cat", "dog", "sun", "moon", "tree",
        "sea", "sky",
    ]
    vocab = {w: i for i, w in enumerate(words)}
    tok = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, unk_token="<unk>", bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>")
    fast.chat_template = template
    fast.save_pretrained(out)
    torch.manual_seed(0)
    config = LlamaConfig(hidden_size=32, num_hidden_layers=2, num_attention_heads=2, num_key_value_heads=2,
                         intermediate_size=64, vocab_size=len(words), max_position_embeddings=256,
                         bos_token_id=1, eos_token_id=2, pad_token_id=3)
    LlamaForCausalLM(config).save_pretrained(out, safe_serialization=True)
    if auto_map != "0":  # a folder that asks for remote code: the loader must never import it
        cfg = json.loads((out / "config.json").read_text())
        cfg["auto_map"] = {"AutoModelForCausalLM": "evil.EvilModel", "AutoConfig": "evil.EvilConfig"}
        if auto_map == "unknown":  # an architecture only the folder's own code knows
            cfg["model_type"] = "evil-arch"
        tcfg = json.loads((out / "tokenizer_config.json").read_text())
        tcfg["auto_map"] = {"AutoTokenizer": ["evil.EvilTokenizer", None]}
        (out / "tokenizer_config.json").write_text(json.dumps(tcfg))
        (out / "config.json").write_text(json.dumps(cfg))
        (out / "evil.py").write_text("open(__file__ + '.executed', 'w').write('x')\\nraise SystemExit(99)\\n")
    print("built", out)
    """
)


def _can_import(python: str) -> bool:
    """torch and transformers, and the product's own dependencies (the CLI runs under that interpreter)."""
    probe = "import torch, transformers, tokenizers, scipy, pydantic, typer, httpx, jinja2, yaml"
    try:
        return subprocess.run([python, "-c", probe], capture_output=True, timeout=300).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def transformers_python() -> str | None:
    """An interpreter that can import torch and transformers."""
    candidates = [os.environ.get("TRANSFORMERS_PYTHON"), sys.executable,
                  str(ROOT / ".bench-venv" / "bin" / "python")]
    for python in filter(None, candidates):
        if Path(python).exists() and _can_import(python):
            return python
    return None


@pytest.fixture(scope="module")
def python() -> str:
    found = transformers_python()
    if found is None:
        pytest.skip("no interpreter with torch + transformers and the project's dependencies (set "
                    "TRANSFORMERS_PYTHON, or: .bench-venv/bin/pip install -e . torch==2.13.0 transformers==5.23.0)")
    return found


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT / "src"), env.get("PYTHONPATH")]))
    env.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", CUDA_VISIBLE_DEVICES="", TOKENIZERS_PARALLELISM="false",
               OMP_NUM_THREADS="1")
    return env


def build_model(python: str, folder: Path, *, auto_map: str = "0") -> Path:
    done = subprocess.run([python, "-c", BUILD, str(folder), TEMPLATE, auto_map],
                          capture_output=True, text=True, timeout=600, env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    return folder


def dossier(python: str, *args: str) -> subprocess.CompletedProcess[str]:
    code = "import sys; from modeldossier.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.run([python, "-c", code, *args], capture_output=True, text=True, timeout=600, env=_env())


@pytest.fixture(scope="module")
def tiny_model(python, tmp_path_factory) -> Path:
    return build_model(python, tmp_path_factory.mktemp("hf") / "tiny-llama")


def test_probe_end_to_end_with_transformers(python, tiny_model, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: smoke\nversion: 1\nitems:\n"
                     "  - id: a\n    prompt: what is the capital of france ?\n"
                     "  - id: b\n    prompt: write one word .\n")
    out = tmp_path / "out"
    args = ["probe", "--target", f"transformers:{tiny_model}", "--suite", str(suite), "--samples", "2",
            "--param", "max_tokens=8", "--out", str(out), "--quiet", "--format", "json"]
    first = dossier(python, *args)
    assert first.returncode == 0, first.stderr[-3000:]
    summary = json.loads(first.stdout)
    assert summary["overall"]["n"] == 4 and summary["overall"]["errors"] == 0
    assert summary["run"]["fetched"] == 4

    transcripts = list(out.glob("*.smoke.transcript.jsonl"))
    assert len(transcripts) == 1
    events = [json.loads(line) for line in transcripts[0].read_text().splitlines()]
    assert events[0]["event"] == "header" and events[0]["target"]["kind"] == "transformers"
    assert events[0]["target"]["revision"]
    want_sha = hashlib.sha256(TEMPLATE.encode()).hexdigest()
    assert events[0]["target"]["chat_template_sha256"] == want_sha  # known before the model is loaded
    responses = [e["response"] for e in events if e["event"] == "response"]
    assert sorted((r["item_id"], r["sample"]) for r in responses) == [("a", 0), ("a", 1), ("b", 0), ("b", 1)]
    for response in responses:
        assert response["error"] is None
        assert response["content"] or response["finish_reason"] in ("stop", "length")
        assert isinstance(response["content"], str)
        assert response["finish_reason"] in ("stop", "length")
        assert response["detail"]["generation"]["do_sample"] is False
        assert 1 <= response["usage"]["completion_tokens"] <= 8
        assert response["detail"]["chat_template_sha256"] == want_sha
        # the recorded prompt is the rendered chat template
        assert response["detail"]["prompt"].startswith("<user> ") and response["detail"]["prompt"].endswith(
            "<assistant>")
    # greedy decoding (no temperature): both samples of an item agree
    by_item = {}
    for r in responses:
        by_item.setdefault(r["item_id"], set()).add(r["content"])
    assert all(len(v) == 1 for v in by_item.values())

    again = dossier(python, *args)
    assert again.returncode == 0, again.stderr[-3000:]
    resumed = json.loads(again.stdout)
    assert resumed["run"]["resumed"] == 4 and resumed["run"]["fetched"] == 0
    lines_after = transcripts[0].read_text().splitlines()
    assert sum(json.loads(line)["event"] == "response" for line in lines_after) == 4


def test_changed_chat_template_is_not_resumed(python, tiny_model, tmp_path):
    model = tmp_path / "tiny-llama"
    shutil.copytree(tiny_model, model)
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: tpl\nversion: 1\nitems:\n  - id: a\n    prompt: hello\n")
    args = ["probe", "--target", f"transformers:{model}", "--suite", str(suite), "--param", "max_tokens=4",
            "--out", str(tmp_path / "out"), "--quiet", "--format", "json"]
    assert dossier(python, *args).returncode == 0
    (model / "chat_template.jinja").write_text(TEMPLATE.replace("<assistant>", "<assistant> "))
    again = dossier(python, *args)  # another template is another revision: the old answers do not count
    assert again.returncode == 2 and "revision" in again.stderr and "Traceback" not in again.stderr
    fresh = dossier(python, *args, "--refresh")
    assert fresh.returncode == 0, fresh.stderr[-3000:]
    assert json.loads(fresh.stdout)["run"]["fetched"] == 1


def test_sampling_parameters_and_seed(python, tiny_model, tmp_path):
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: samp\nversion: 1\nitems:\n  - id: a\n    prompt: hello\n")
    args = ["probe", "--target", f"transformers:{tiny_model}", "--suite", str(suite), "--samples", "2",
            "--param", "max_tokens=6", "--param", "temperature=1.5", "--param", "seed=7",
            "--quiet", "--format", "json", "--no-cache"]
    runs = []
    for out in (tmp_path / "one", tmp_path / "two"):
        done = dossier(python, *args, "--out", str(out))
        assert done.returncode == 0, done.stderr[-3000:]
        assert json.loads(done.stdout)["overall"]["errors"] == 0
        events = [json.loads(line) for line in next(out.glob("*.transcript.jsonl")).read_text().splitlines()]
        responses = [e["response"] for e in events if e["event"] == "response"]
        answers = sorted((r["sample"], r["content"], r["detail"]["generation"]["do_sample"]) for r in responses)
        runs.append(answers)
    assert all(do_sample for _, _, do_sample in runs[0])
    assert runs[0] == runs[1]  # seeded sampling is reproducible across processes


SPY = textwrap.dedent(
    """
    import asyncio, sys
    from pathlib import Path
    import transformers
    from modeldossier.errors import DossierError
    from modeldossier.probing.hf_local import TransformersTarget
    from modeldossier.probing.models import ProbeItem
    calls = []
    for name in ("AutoTokenizer", "AutoModelForCausalLM"):
        cls = getattr(transformers, name)
        def spy(klass, *a, _orig=cls.from_pretrained.__func__, **kw):
            calls.append(kw.get("trust_remote_code", "unset"))
            return _orig(klass, *a, **kw)
        cls.from_pretrained = classmethod(spy)
    target = TransformersTarget(Path(sys.argv[1]))
    try:
        asyncio.run(target.open(max_connections=1))
        item = ProbeItem(id="a", messages=[{"role": "user", "content": "hello"}])
        r = asyncio.run(target.complete(item, params={"max_tokens": 3}, sample=0))
        print("loaded", type(target._model).__module__, r.error)
    except DossierError as exc:
        print("refused", exc)
    print("trust", calls)
    """
)


@pytest.mark.parametrize("kind", ["known", "unknown"])
def test_remote_code_is_never_run(python, tmp_path, kind):
    folder = build_model(python, tmp_path / "remote", auto_map=kind)
    done = subprocess.run([python, "-c", SPY, str(folder)], capture_output=True, text=True, timeout=600,
                          env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert not (folder / "evil.py.executed").exists()
    calls = done.stdout.split("trust ")[-1].strip()
    assert calls.startswith("[False") and "True" not in calls and "unset" not in calls
    if kind == "known":  # llama is built in: the native class loads, the folder's code is ignored
        assert done.stdout.startswith("loaded transformers.models.llama") and "loaded" in done.stdout
        assert done.stdout.split()[2] == "None"  # no error while generating
    else:  # only the folder's code knows the architecture: refused, one line
        assert done.stdout.startswith("refused transformers: cannot load"), done.stdout


def test_pickle_weights_are_refused(python, tiny_model, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_model, folder)
    (folder / "model.safetensors").rename(folder / "pytorch_model.bin")
    done = subprocess.run([python, "-c", SPY, str(folder)], capture_output=True, text=True, timeout=600,
                          env=_env())
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.startswith("refused") and "pytorch_model.bin" in done.stdout and "trust []" in done.stdout


def test_bad_folder_is_one_line_error(python, tmp_path):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "no-such-architecture"}')
    suite = tmp_path / "suite.yaml"
    suite.write_text("name: s\nversion: 1\nitems:\n  - id: a\n    prompt: hello\n")
    done = dossier(python, "probe", "--target", f"transformers:{folder}", "--suite", str(suite),
                   "--out", str(tmp_path / "out"), "--quiet")
    assert done.returncode == 2, done.stderr[-3000:]
    assert "Traceback" not in done.stderr and "transformers:" in done.stderr
