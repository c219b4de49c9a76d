"""origin_section end to end: tiny test models with lying cards, bad inputs, the bundled MiniLM and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.provenance import fingerprint
from modeldossier.provenance.origin import origin_section

MISTRAL_CONFIG = {"architectures": ["MistralForCausalLM"], "model_type": "mistral", "hidden_size": 4096,
                  "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8, "vocab_size": 32000}


def make_model(folder: Path, vocab: fingerprint.Vocab, card: str | None, config: dict | None) -> Path:
    """A tiny model folder: tokenizer.json rebuilt from a reference GGUF vocab, a card and a config."""
    folder.mkdir(parents=True, exist_ok=True)
    tok, _ = fingerprint.tokenizer_from_gguf(vocab)
    tok.save(str(folder / "tokenizer.json"))
    if card is not None:
        (folder / "README.md").write_text(card)
    if config is not None:
        (folder / "config.json").write_text(json.dumps(config))
    return folder


@pytest.fixture(scope="module")
def qwen_liar(tmp_path_factory, gguf_vocabs):
    """A 'fine-tune' whose card claims Mistral while its tokenizer is Qwen2's."""
    card = "---\nbase_model: mistralai/Mistral-7B-v0.1\nlicense: apache-2.0\n---\n# SuperChat 7B\n"
    return make_model(tmp_path_factory.mktemp("liar") / "superchat-7b", gguf_vocabs["qwen2"][0], card,
                      MISTRAL_CONFIG)


@pytest.fixture(scope="module")
def coder_liar(tmp_path_factory, gguf_vocabs):
    """A smaller liar for CLI tests: DeepSeek Coder's tokenizer under a Mistral card."""
    card = "---\nbase_model: mistralai/Mistral-7B-v0.1\n---\n"
    return make_model(tmp_path_factory.mktemp("liar") / "codechat", gguf_vocabs["deepseek-coder"][0], card, None)


def test_lying_card_is_flagged_as_undeclared_qwen_derivative(qwen_liar):
    section = origin_section(qwen_liar, None, online=False)
    assert section.declared_base == "mistralai/Mistral-7B-v0.1"
    assert section.observed_family == "Qwen2 (Alibaba)" and section.observed_confidence >= 0.9
    assert section.undeclared_derivative is True
    assert section.lineage_root_country.country == "CN"
    assert section.author_country.country is None  # local files, no author: unknown stays unknown
    assert any("undeclared derivative" in n for n in section.notes)
    assert any(e.kind == "vocab.identical" for e in section.observed)
    assert section.fingerprints[0].llama_cpp_pre == "qwen2"


def test_card_without_base_is_flagged(tmp_path, gguf_vocabs):
    folder = make_model(tmp_path / "mychat", gguf_vocabs["deepseek-coder"][0], "---\nlicense: mit\n---\n", None)
    section = origin_section(folder, None, online=False)
    assert section.observed_family == "DeepSeek Coder"
    assert section.declared_base is None and section.undeclared_derivative is True


def test_honest_card_is_not_flagged(tmp_path, gguf_vocabs):
    card = "---\nbase_model: deepseek-ai/deepseek-coder-6.7b-base\nbase_model_relation: finetune\n---\n"
    folder = make_model(tmp_path / "coder-ft", gguf_vocabs["deepseek-coder"][0], card, None)
    section = origin_section(folder, None, online=False)
    assert section.undeclared_derivative is False
    assert section.declared_base_relation == "finetune"
    assert section.lineage_root == "deepseek-ai/deepseek-coder-6.7b-base"
    assert section.lineage_root_country.country == "CN"


def test_unknown_vocab_stays_unknown(tmp_path):
    from tokenizers import Tokenizer, models, pre_tokenizers

    folder = tmp_path / "scratch"
    folder.mkdir()
    tok = Tokenizer(models.WordLevel({f"w{i}": i for i in range(500)} | {"[UNK]": 500}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.save(str(folder / "tokenizer.json"))
    section = origin_section(folder, None, online=False)
    assert section.observed_family is None and section.observed_confidence is None
    assert section.undeclared_derivative is None
    assert all(m.relation == "unrelated" for m in section.vocab_matches)


def test_minilm_resolves_to_bert_and_declared_base(minilm_dir):
    section = origin_section(minilm_dir, None, online=False)
    assert section.observed_family.startswith("BERT WordPiece")
    assert section.declared_base == "nreimers/MiniLM-L6-H384-uncased"
    assert section.undeclared_derivative is False
    assert section.license == "apache-2.0"
    assert section.fingerprints[0].llama_cpp_pre == "bert-bge"
    assert any(e.kind == "config.signature_exact" for e in section.observed)


def test_each_reference_gguf_names_its_own_family(vocab_dir):
    for name in ("phi-3", "mpt", "deepseek-coder"):
        section = origin_section(vocab_dir / f"ggml-vocab-{name}.gguf", None, online=False)
        assert section.undeclared_derivative is False, name
        assert any(e.kind == "gguf.general.architecture" for e in section.declared)
    phi = origin_section(vocab_dir / "ggml-vocab-phi-3.gguf", None, online=False)
    assert phi.observed_family == "Phi-3 (Microsoft)"
    assert any("Llama 2 (Meta)" in n for n in phi.notes)  # reuse of Llama-2's vocab is reported
    mpt = origin_section(vocab_dir / "ggml-vocab-mpt.gguf", None, online=False)
    assert "identical vocabularies" in mpt.observed_family


def test_missing_tokenizer_still_produces_the_rest(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(MISTRAL_CONFIG))
    (folder / "README.md").write_text("---\nbase_model: mistralai/Mistral-7B-v0.1\n---\n")
    section = origin_section(folder, None, online=False)
    assert any(e.kind == "tokenizer.fingerprint" and not e.available and "no tokenizer.json" in e.reason
               for e in section.observed)
    assert section.observed_family == "Mistral (Mistral AI)"  # exact config signature, low confidence
    assert section.observed_confidence == 0.5
    assert section.lineage_root_country.country == "FR"
    assert section.status == "partial"


def test_corrupt_tokenizer_and_broken_card(tmp_path):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / "tokenizer.json").write_text("{not json")
    (folder / "README.md").write_text("---\nbase_model: [unclosed\nlicense: x\n---\nbody\n")
    (folder / "config.json").write_text("[1, 2")
    section = origin_section(folder, None, online=False)
    unavailable = {e.kind: e.reason for e in [*section.declared, *section.observed] if not e.available}
    assert "unreadable card metadata" in unavailable["model_card.metadata"]
    assert "not a readable tokenizer.json" in unavailable["tokenizer.fingerprint"]
    assert "unreadable" in unavailable["config"]
    assert section.observed_family is None and section.status == "partial"


def test_gguf_base_model_keys_and_no_vocab(tmp_path):
    import gguf

    path = tmp_path / "ft.gguf"
    writer = gguf.GGUFWriter(str(path), "llama")
    writer.add_name("My Finetune")
    writer.add_string("general.organization", "Example Org")
    writer.add_uint32("general.base_model.count", 1)
    writer.add_string("general.base_model.0.name", "Llama 3.1 8B")
    writer.add_string("general.base_model.0.organization", "Meta Llama")
    writer.add_string("general.base_model.0.repo_url", "https://huggingface.co/meta-llama/Llama-3.1-8B")
    writer.add_string("general.license", "llama3.1")
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    section = origin_section(path, None, online=False)
    assert section.declared_base == "meta-llama/Llama-3.1-8B"
    assert section.license == "llama3.1"
    assert any(e.kind == "gguf.vocabulary" and "no tokenizer vocabulary" in e.reason for e in section.observed)
    assert section.lineage_root_country.country == "US"


def test_cli_json_text_and_dossier(coder_liar, tmp_path, capsys):
    assert main(["origin", str(coder_liar), "--offline", "--format", "json", "-q"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["undeclared_derivative"] is True and data["observed_family"] == "DeepSeek Coder"
    dossier = tmp_path / "d.dossier.json"
    assert main(["origin", str(coder_liar), "--offline", "-q", "--dossier", str(dossier)]) == 1
    out = capsys.readouterr().out
    assert "DeepSeek Coder" in out and "undeclared derivative" in out
    saved = json.loads(dossier.read_text())
    assert saved["provenance"]["observed_family"] == "DeepSeek Coder"
    assert saved["subject"]["name"] == "codechat"
    assert any(f["name"] == "registry_epoch.csv" for f in saved["run"]["records"][0]["data_files"])


def test_cli_bad_input_exit_2(tmp_path, capsys):
    assert main(["origin", str(tmp_path / "nope")]) == 2
    assert "no such file" in capsys.readouterr().err


def test_cli_offline_hub_id_without_cache(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))
    assert main(["origin", "someorg/not-cached-model", "--format", "json", "-q"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert any("offline" in n for n in data["notes"]) and data["status"] == "partial"


def test_folder_of_quantizations_fingerprints_vocab_once(tmp_path, vocab_dir):
    import shutil

    folder = tmp_path / "gpt2-quants"
    folder.mkdir()
    for quant in ("Q4_K_M", "Q8_0"):
        shutil.copy(vocab_dir / "ggml-vocab-gpt-2.gguf", folder / f"gpt2.{quant}.gguf")
    section = origin_section(folder, None, online=False)
    assert len(section.fingerprints) == 1
    assert any(e.kind == "gguf.vocabulary" and e.value == {"same_as": "gpt2.Q4_K_M.gguf"} for e in section.observed)
    assert section.observed_family == "GPT-2 (OpenAI)"


def test_chkhsh_table_decides_when_no_reference_vocab_matches(coder_liar, monkeypatch):
    """Without reference sketches, llama.cpp's chkhsh table still names the pre-tokenizer and its publisher."""
    from modeldossier.provenance import vocab

    monkeypatch.setattr(vocab, "references", lambda: ())
    section = origin_section(coder_liar, None, online=False)
    assert section.observed_family.startswith("deepseek-coder (llama.cpp pre-tokenizer")
    assert section.observed_confidence == 0.8
    assert section.undeclared_derivative is True and section.lineage_root_country.country == "CN"
