"""Malformed inputs found by fuzzing: each gives unavailable evidence, a note or a one-line DossierError, never a
crash, a hang or unbounded memory. Every input is generated in tmp_path."""

from __future__ import annotations

import json
import os
import struct
import threading
from pathlib import Path
from typing import Any

import pytest

from modeldossier.artifacts.sniff import is_gguf_file
from modeldossier.cli import main
from modeldossier.dossier import Dossier, Subject
from modeldossier.errors import DossierError
from modeldossier.provenance.declared import find_files
from modeldossier.provenance.models import ProvenanceSection
from modeldossier.provenance.origin import origin_section
from modeldossier.subject import list_files, resolve

U32, I32, BOOL, STR, ARR = 4, 5, 7, 8, 9
T = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "a", "b"]


def _s(x: str) -> bytes:
    raw = x.encode()
    return struct.pack("<Q", len(raw)) + raw


def _value(t: int, v: Any) -> bytes:
    if t == STR:
        return _s(v)
    if t == ARR:
        etype, items = v
        return struct.pack("<IQ", etype, len(items)) + b"".join(_value(etype, i) for i in items)
    return struct.pack({U32: "<I", I32: "<i", BOOL: "<?"}[t], v)


def write_gguf(path: Path, kvs: list[tuple[str, int, Any]]) -> Path:
    """A GGUF v3 file holding only the given key/values (no tensors)."""
    body = b"".join(_s(k) + struct.pack("<I", t) + _value(t, v) for k, t, v in kvs)
    path.write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, len(kvs)) + body)
    return path


def serializable(section: ProvenanceSection) -> str:
    """The section as the dossier writer would save it (pydantic refuses too-deep values)."""
    return Dossier(subject=Subject(kind="path", ref="x", name="x"), provenance=section).model_dump_json()


def model(name: str) -> tuple[str, int, Any]:
    return ("tokenizer.ggml.model", STR, name)


def tokens(items: list[Any], etype: int = STR) -> tuple[str, int, Any]:
    return ("tokenizer.ggml.tokens", ARR, (etype, items))


BAD_GGUF = {
    "bert-int-tokens": [model("bert"), tokens([1, 2, 3], U32)],
    "gpt2-int-tokens": [model("gpt2"), tokens([1, 2, 3], U32)],
    "gpt2-int-merges": [model("gpt2"), tokens(T), ("tokenizer.ggml.merges", ARR, (U32, [1, 2]))],
    "gpt2-merge-out-of-vocab": [model("gpt2"), tokens(T), ("tokenizer.ggml.merges", ARR, (STR, ["a b"]))],
    "pre-as-array": [model("gpt2"), tokens(T), ("tokenizer.ggml.pre", ARR, (STR, ["x"]))],
    "llama-unk-str": [model("llama"), tokens(T), ("tokenizer.ggml.unknown_token_id", STR, "x")],
    "llama-unk-negative": [model("llama"), tokens(T), ("tokenizer.ggml.unknown_token_id", I32, -1)],
    "llama-unk-huge": [model("llama"), tokens(T), ("tokenizer.ggml.unknown_token_id", U32, 10**6)],
    "llama-scores-str": [model("llama"), tokens(T), ("tokenizer.ggml.scores", ARR, (STR, T))],
    "bert-cls-999": [model("bert"), tokens(T), ("tokenizer.ggml.cls_token_id", U32, 999)],
    "bert-cls-str": [model("bert"), tokens(T), ("tokenizer.ggml.cls_token_id", STR, "x")],
    "gpt2-bos-str": [model("gpt2"), tokens(T), ("tokenizer.ggml.add_bos_token", BOOL, True),
                     ("tokenizer.ggml.bos_token_id", STR, "x")],
    "gpt2-bos-negative": [model("gpt2"), tokens(T), ("tokenizer.ggml.add_bos_token", BOOL, True),
                          ("tokenizer.ggml.bos_token_id", I32, -3)],
    "bos-token-is-template-syntax": [model("gpt2"), tokens([*T, "$B"]), ("tokenizer.ggml.add_bos_token", BOOL, True),
                                     ("tokenizer.ggml.bos_token_id", U32, 6)],
    "model-as-u32": [("tokenizer.ggml.model", U32, 7), tokens(T)],
    "bert-without-unk": [model("bert"), tokens(["[PAD]", "[CLS]", "[SEP]", "a"])],
}


@pytest.mark.parametrize("name", sorted(BAD_GGUF))
def test_gguf_tokenizer_metadata_of_wrong_type_is_evidence_not_a_crash(tmp_path, name):
    path = write_gguf(tmp_path / f"{name}.gguf", BAD_GGUF[name])
    section = origin_section(path, None, online=False)
    serializable(section)
    unavailable = [e for e in section.observed if e.kind == "gguf.vocabulary" and not e.available]
    assert section.fingerprints or unavailable
    for fp in section.fingerprints:
        assert fp.tokens_hash and fp.tokenizer_model in ("gpt2", "llama", "bert", None)
    for e in unavailable:
        assert e.reason and "\n" not in e.reason


def test_gguf_wrong_types_say_why(tmp_path):
    ints = write_gguf(tmp_path / "ints.gguf", BAD_GGUF["gpt2-int-tokens"])
    section = origin_section(ints, None, online=False)
    assert any("not a list of strings" in (e.reason or "") for e in section.observed)
    merges = write_gguf(tmp_path / "merges.gguf", BAD_GGUF["gpt2-int-merges"])
    (fp,) = origin_section(merges, None, online=False).fingerprints
    assert fp.chkhsh is None and "tokenizer.ggml.merges is not a list of strings" in fp.notes[0]
    unk = write_gguf(tmp_path / "unk.gguf", BAD_GGUF["llama-unk-negative"])
    (fp,) = origin_section(unk, None, online=False).fingerprints
    assert fp.chkhsh and any("unknown_token_id" in n and "ignored" in n for n in fp.notes)


def test_gguf_bad_metadata_cli_is_not_an_internal_error(tmp_path, capsys):
    path = write_gguf(tmp_path / "m.gguf", BAD_GGUF["bert-cls-999"])
    assert main(["origin", str(path), "--offline", "--format", "json", "-q"]) in (0, 1)
    assert "internal error" not in capsys.readouterr().err


def _tokenizer_folder(tmp_path: Path, tokenizer: dict[str, Any]) -> Path:
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text('{"model_type": "bert"}')
    (folder / "tokenizer.json").write_text(json.dumps(tokenizer))
    return folder


@pytest.mark.parametrize("tok_model", [
    {"type": "WordLevel", "vocab": {"a": 0}, "unk_token": "[UNK]"},
    {"type": "WordPiece", "vocab": {}, "unk_token": "[UNK]", "continuing_subword_prefix": "##",
     "max_input_chars_per_word": 100},
    {"type": "Unigram", "vocab": []},
])
def test_tokenizer_json_that_cannot_encode_gets_a_vocabulary_only_fingerprint(tmp_path, tok_model):
    folder = _tokenizer_folder(tmp_path, {"version": "1.0", "model": tok_model})
    section = origin_section(folder, None, online=False)
    (fp,) = section.fingerprints
    assert fp.chkhsh is None and "cannot encode the probe text" in fp.notes[0]


@pytest.mark.parametrize("single", [
    [{"Sequence": {"id": "B", "type_id": 0}}],
    [{"SpecialToken": {"id": "X", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}}],
])
def test_tokenizer_json_with_a_broken_template_is_refused_before_tokenizers_panics(tmp_path, single):
    folder = _tokenizer_folder(tmp_path, {
        "version": "1.0", "model": {"type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1}, "unk_token": "[UNK]"},
        "post_processor": {"type": "TemplateProcessing", "single": single, "pair": [], "special_tokens": {}}})
    (fp,) = origin_section(folder, None, online=False).fingerprints
    assert fp.chkhsh is None and "template is broken" in fp.notes[0]


def test_tokenizer_json_with_a_huge_sparse_id_is_refused(tmp_path):
    folder = _tokenizer_folder(tmp_path, {"version": "1.0", "model": {
        "type": "WordLevel", "vocab": {"a": 0, "[UNK]": 1, "zzz": 4_000_000_000}, "unk_token": "[UNK]"}})
    section = origin_section(folder, None, online=False)
    assert not section.fingerprints
    (e,) = [e for e in section.observed if e.kind == "tokenizer.fingerprint"]
    assert not e.available and "4000000000 is far above" in e.reason


DEEP_JSON = "[" * 100_000 + "]" * 100_000


@pytest.mark.parametrize(("name", "kind"), [("config.json", "config"), ("generation_config.json", "generation_config"),
                                            ("tokenizer_config.json", "tokenizer_config")])
def test_deeply_nested_json_is_unreadable_evidence(tmp_path, name, kind):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / name).write_text(DEEP_JSON)
    section = origin_section(tmp_path, None, online=False)
    (e,) = [e for e in section.declared if e.kind == kind]
    assert not e.available and e.reason == "unreadable: nested too deeply"


def test_huge_integer_json_is_unreadable_evidence(tmp_path):
    (tmp_path / "config.json").write_text('{"vocab_size": ' + "9" * 5000 + "}")
    section = origin_section(tmp_path, None, online=False)
    (e,) = [e for e in section.declared if e.kind == "config"]
    assert not e.available and "digits" in e.reason


def test_nested_and_huge_values_are_kept_short_and_serializable(tmp_path):
    nested = "[" * 300 + "]" * 300
    (tmp_path / "config.json").write_text('{"architectures": ' + nested + ', "rope_theta": 1' + "0" * 400 + "}")
    (tmp_path / "README.md").write_text("---\nlicense: " + "x" * 100_000 + "\n---\n")
    section = origin_section(tmp_path, None, online=False)
    serializable(section)
    values = {e.kind: e.value for e in section.declared}
    assert values["config.architectures"] == nested
    assert len(values["model_card.license"]) < 10_000


def test_deeply_nested_card_yaml_is_unreadable_evidence(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("---\nbase_model: " + "[" * 5000 + "]" * 5000 + "\n---\n")
    section = origin_section(tmp_path, None, online=False)
    (e,) = [e for e in section.declared if e.kind == "model_card.metadata"]
    assert not e.available and "nested too deeply" in e.reason


def test_billion_laughs_card_is_refused(tmp_path):
    names = "abcdef"  # 9**6 strings if expanded: enough to show the refusal, small enough not to hurt old code
    lines = ["a: &a [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"{c}: &{c} [" + ", ".join([f"*{p}"] * 9) + "]" for p, c in zip(names, names[1:], strict=False)]
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "README.md").write_text("---\n" + "\n".join(lines) + f"\nbase_model: *{names[-1]}\n---\n")
    section = origin_section(tmp_path, None, online=False)
    (e,) = [e for e in section.declared if e.kind == "model_card.metadata"]
    assert not e.available and "aliases" in e.reason
    assert section.declared_base is None


def test_card_scalar_aliases_still_read(tmp_path):
    (tmp_path / "README.md").write_text("---\nlicense: &l apache-2.0\nlicense_name: *l\nbase_model: org/base\n---\n")
    section = origin_section(tmp_path, None, online=False)
    assert section.license == "apache-2.0" and section.declared_base == "org/base"


@pytest.fixture
def fifo(tmp_path) -> Path:
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    (tmp_path / "config.json").write_text("{}")
    path = tmp_path / "m.gguf"
    os.mkfifo(path)
    return path


def test_a_fifo_named_gguf_is_not_opened(fifo):
    result: list[bool] = []
    reader = threading.Thread(target=lambda: result.append(is_gguf_file(fifo)), daemon=True)
    reader.start()
    reader.join(timeout=5)
    hung = reader.is_alive()
    if hung:  # the old code blocks in open(): release it by opening the write end
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(timeout=5)
    assert not hung and result == [False]


def test_list_files_and_find_files_skip_a_fifo(fifo):
    assert list_files(fifo.parent) == [fifo.parent / "config.json"]
    assert "gguf" not in find_files(fifo.parent)


def test_symlink_loop_does_not_refuse_the_folder(tmp_path):
    (tmp_path / "config.json").write_text("{}")
    (tmp_path / "target.txt").write_text("x")
    (tmp_path / "a").symlink_to("b")
    (tmp_path / "b").symlink_to("a")
    (tmp_path / "link.txt").symlink_to("target.txt")
    subject = resolve(str(tmp_path), hash_files=True).subject
    assert [f.path for f in subject.files] == ["config.json", "link.txt", "target.txt"]


def test_empty_path_is_an_error_not_the_working_directory(tmp_path, monkeypatch, capsys):
    (tmp_path / "config.json").write_text("{}")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(DossierError, match="^empty path$"):
        resolve("")
    assert main(["audit", "", "--no-hash", "-q", "-o", str(tmp_path / "runs")]) == 2
    assert "empty path" in capsys.readouterr().err
