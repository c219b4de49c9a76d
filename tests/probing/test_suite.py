"""Suite files: validation with line numbers, language expansion, content hash."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from modeldossier.errors import DossierError
from modeldossier.probing.suite import load_suite, resolve_suite

GOOD = """\
name: demo
version: "2"
system: Be brief.
params: {temperature: 0.7}
items:
  - id: a
    prompt: hello
    metadata: {topic: greeting}
  - id: b
    prompt: {en: hi, zh: 你好}
  - id: c
    messages:
      - {role: user, content: raw}
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "suite.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_load_expands_languages_and_pins_hash(tmp_path):
    path = write(tmp_path, GOOD)
    suite = load_suite(path)
    assert [i.id for i in suite.items] == ["a", "b@en", "b@zh", "c"]
    assert suite.version == "2" and suite.params == {"temperature": 0.7}
    assert suite.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    a = suite.items[0]
    assert [m.role for m in a.messages] == ["system", "user"] and a.metadata["topic"] == "greeting"
    assert suite.items[2].metadata == {"base_id": "b", "language": "zh"}
    assert [m.role for m in suite.items[3].messages] == ["user"]  # explicit messages are used as written
    assert [i.id for i in load_suite(path, languages=["zh"]).items] == ["b@zh"]
    with pytest.raises(DossierError, match="no items in language"):
        load_suite(path, languages=["fr"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("version: 1\nitems:\n  - id: a\n    prompt: x\n  - id: b\n    promt: y\n", r":6: items\.1\.promt"),
        ("version: 1\nitems:\n  - id: a\n    prompt: x\n  - id: b\n", r":5: items\.1: .*exactly one"),
        ("items:\n  - id: a\n    prompt: x\n", r":1: version: Field required"),
        ("version: 1\nitems: []\n", r":2: items"),
        ("version: 1\nitems:\n  - id: a\n    prompt: x\n  - id: a\n    prompt: y\n", r":5: items\.1\.id: duplicate"),
        ("version: 1\nitems:\n  - id: a\n    prompt: [x\n", r":\d+: not valid YAML"),
        ("- just a list\n", r":1: a suite must be a mapping"),
        ("version: 1\nitems:\n  - id: 'has space'\n    prompt: x\n", r":3: items\.0\.id"),
    ],
)
def test_malformed_suites_name_line_and_field(tmp_path, text, expected):
    with pytest.raises(DossierError, match=expected):
        load_suite(write(tmp_path, text))


def test_resolve(tmp_path):
    with pytest.raises(DossierError, match="unknown suite"):
        resolve_suite("no-such-suite-name", data_dir=tmp_path)
    (tmp_path / "suites").mkdir()
    (tmp_path / "suites" / "mine.yaml").write_text(GOOD)
    assert resolve_suite("mine", data_dir=tmp_path) == tmp_path / "suites" / "mine.yaml"
    with pytest.raises(DossierError, match="not found"):
        resolve_suite(str(tmp_path / "missing.yaml"))
