"""llama.cpp chkhsh method, raw-id and framing hashes, GGUF vocab reading."""

from __future__ import annotations

import csv
import re

import pytest
from tokenizers import processors

from modeldossier.errors import DossierError
from modeldossier.provenance import fingerprint
from modeldossier.provenance.gguf_meta import read_metadata

# Fixtures whose GGUF-rebuilt tokenizer reproduces llama.cpp's recorded ids for the probe text (the large ones
# are slow to rebuild and run with -m slow).
REPRODUCED = ("deepseek-coder", "bert-bge", "gpt-2", "starcoder")
REPRODUCED_SLOW = ("qwen2", "deepseek-llm", "llama-bpe", "mpt", "refact", "command-r")


def test_probe_text_is_llama_cpp_chktxt(vocab_dir):
    text = fingerprint.probe_text()
    assert text.startswith("\n \n\n \n\n\n \t") and text.endswith("We'Ve a'lL")
    inp = (vocab_dir / "tokenizer_tests" / "ggml-vocab-qwen2.gguf.inp").read_text().split("\n__ggml_vocab_test__\n")
    assert text in inp


def test_recorded_fixture_ids_reproduce_derived_hashes(shared_data, vocab_dir):
    """sha256(str(ids)) of llama.cpp's recorded ids equals the derived table, for every fixture and framing."""
    path = shared_data / "provenance" / "derived" / "chkhsh_from_tokenizer_tests.csv"
    rows = list(csv.DictReader(path.read_text().splitlines()))
    checked = 0
    for row in rows:
        tests = vocab_dir / "tokenizer_tests"
        inp = (tests / f"ggml-vocab-{row['fixture']}.gguf.inp").read_text().split("\n__ggml_vocab_test__\n")
        out = (tests / f"ggml-vocab-{row['fixture']}.gguf.out").read_text().split("\n")
        ids = [int(x) for x in out[inp.index(fingerprint.probe_text())].split()]
        variant = row["special_tokens_variant"]
        if variant == "no_special_tokens":
            framed = ids
        elif match := re.fullmatch(r"bos_(\d+)_prepended", variant):
            framed = [int(match.group(1)), *ids]
        elif variant == "cls_..._sep":
            framed = [101, *ids, 102]
        elif variant == "bos0_..._eos2":
            framed = [0, *ids, 2]
        else:
            raise AssertionError(f"unknown framing {variant}")
        assert fingerprint.hash_ids(framed) == row["sha256_of_str_list"], (row["fixture"], variant)
        checked += 1
    assert checked == len(rows) >= 35


def test_table_lookup():
    row = fingerprint.lookup_chkhsh("e636dc30a262dcc0d8c323492e32ae2b70728f4df7dfe9737d9f920a282b8aea")
    assert row["pre"] == "qwen2"
    assert fingerprint.lookup_chkhsh("0" * 64) is None and fingerprint.lookup_chkhsh(None) is None


@pytest.mark.parametrize("name", [*REPRODUCED, *(pytest.param(n, marks=pytest.mark.slow) for n in REPRODUCED_SLOW)])
def test_gguf_rebuild_reproduces_upstream_chkhsh(name, vocab_dir):
    fp, _ = fingerprint.fingerprint_gguf(vocab_dir / f"ggml-vocab-{name}.gguf")
    import json

    from modeldossier.provenance.registry import data_dir

    refs = {r["name"]: r for r in json.loads((data_dir() / "vocab_references.json").read_text())["references"]}
    upstream = set(refs[name]["upstream_chkhsh"].values())
    assert fp.chkhsh in upstream or fp.raw_ids_hash in upstream


def test_framing_hashed_separately(gguf_vocabs):
    """Same Qwen2 vocab with DeepSeek's BOS: raw ids hash unchanged, chkhsh becomes llama.cpp's deepseek-r1-qwen."""
    vocab, _ = gguf_vocabs["qwen2"]
    tok, _ = fingerprint.tokenizer_from_gguf(vocab)
    plain = fingerprint._fingerprint(tok, vocab, [])
    bos = vocab.tokens[151646]
    tok.post_processor = processors.TemplateProcessing(single=f"{bos} $A", special_tokens=[(bos, 151646)])
    framed = fingerprint._fingerprint(tok, vocab, [])
    assert framed.raw_ids_hash == plain.raw_ids_hash
    assert framed.chkhsh != plain.chkhsh and framed.framing == {"prefix": [151646], "suffix": []}
    assert framed.framing_hash != plain.framing_hash
    assert framed.llama_cpp_pre == "deepseek-r1-qwen"
    assert plain.llama_cpp_pre == "qwen2"


def test_minilm_tokenizer_json_is_bert_bge(minilm_dir):
    fp, vocab = fingerprint.fingerprint_tokenizer_json(minilm_dir / "tokenizer.json")
    assert fp.llama_cpp_pre == "bert-bge"
    assert fp.framing == {"prefix": [101], "suffix": [102]}
    assert fp.tokenizer_model == "WordPiece" and fp.vocab_size == 30522


def test_corrupt_tokenizer_json_is_clean_error(tmp_path):
    bad = tmp_path / "tokenizer.json"
    bad.write_text('{"model": {"type": "BPE", "vocab": ')
    with pytest.raises(DossierError, match="not a readable tokenizer.json"):
        fingerprint.fingerprint_tokenizer_json(bad)


def test_gguf_reader_bounds(tmp_path, vocab_dir):
    meta = read_metadata(vocab_dir / "ggml-vocab-aquila.gguf")
    assert meta["GGUF.version"] == 2 and "tokenizer.ggml.pre" not in meta
    data = (vocab_dir / "ggml-vocab-gpt-2.gguf").read_bytes()
    trunc = tmp_path / "t.gguf"
    trunc.write_bytes(data[:5000])
    with pytest.raises(DossierError, match="truncated"):
        read_metadata(trunc)
    junk = tmp_path / "j.gguf"
    junk.write_bytes(b"NOPE" + b"\0" * 100)
    with pytest.raises(DossierError, match="bad magic"):
        read_metadata(junk)


def test_gguf_without_vocab(tmp_path):
    import gguf

    path = tmp_path / "novocab.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("no-vocab")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    with pytest.raises(DossierError, match="no tokenizer vocabulary"):
        fingerprint.fingerprint_gguf(path)
