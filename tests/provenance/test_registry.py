"""Organization / Hub author -> country registry."""

from __future__ import annotations

import pytest

from modeldossier.errors import DossierError
from modeldossier.provenance import registry
from modeldossier.provenance.registry import lookup, normalize

HUB_ORGS = {
    "Qwen": ("Alibaba", "CN"), "deepseek-ai": ("DeepSeek", "CN"), "meta-llama": ("Meta", "US"),
    "THUDM": ("Zhipu AI", "CN"), "zai-org": ("Zhipu AI", "CN"), "moonshotai": ("Moonshot AI", "CN"),
    "01-ai": ("01.AI", "CN"), "baichuan-inc": ("Baichuan", "CN"), "MiniMaxAI": ("MiniMax", "CN"),
    "tencent": ("Tencent", "CN"), "ByteDance-Seed": ("ByteDance", "CN"), "mistralai": ("Mistral AI", "FR"),
    "google": ("Google", "US"), "microsoft": ("Microsoft", "US"), "CohereForAI": ("Cohere", "CA"),
    "tiiuae": ("Technology Innovation Institute", "AE"), "allenai": ("Allen Institute for AI", "US"),
    "nvidia": ("NVIDIA", "US"), "ibm-granite": ("IBM", "US"), "internlm": ("Shanghai AI Lab", "CN"),
    "stepfun-ai": ("StepFun", "CN"), "XiaomiMiMo": ("Xiaomi", "CN"),
    "BAAI": ("Beijing Academy of Artificial Intelligence", "CN"),
    "stabilityai": ("Stability AI", "GB"), "xai-org": ("xAI", "US"),
    "IEIT-Yuan": ("Inspur", "CN"), "qihoo360": ("360 Security Technology", "CN"), "Tele-AI": ("China Telecom", "CN"),
    "Kwaipilot": ("Kuaishou Technology", "CN"), "vivo-ai": ("vivo AI lab", "CN"), "jdopensource": ("JD.com", "CN"),
    "xverse": ("XVERSE Technology", "CN"), "Infinigence": ("Infinigence AI", "CN"),
    "WisdomShell": ("WisdomShell", "CN"), "Skywork": ("Kunlun Tech", "CN"),
}


@pytest.mark.parametrize("hub, expected", sorted(HUB_ORGS.items()))
def test_hub_authors_resolve(hub, expected):
    result = lookup(hub)
    assert (result.organization, result.country) == expected
    assert result.evidence and result.evidence[0].available
    assert lookup(hub.lower()).country == expected[1]  # Hub names are case-insensitive
    assert lookup(f"{hub}/some-model-7B").country == expected[1]


def test_gguf_style_organization_names():
    """llama.cpp's converter writes Hub organizations as titles ('meta-llama' -> 'Meta Llama')."""
    assert lookup("Meta Llama").organization == "Meta"
    assert lookup("Deepseek Ai").country == "CN"
    assert lookup("Mistralai").country == "FR"


def test_organization_names_and_aliases():
    assert lookup("Alibaba Cloud").country == "CN"
    assert lookup("mistral-ai").organization == "Mistral AI"
    assert lookup("Zhipu").country == "CN"
    assert lookup("Meta AI").country == "US"


def test_epoch_only_organization_and_attribution():
    result = lookup("Tsinghua University")
    assert result.country == "CN"
    assert "Epoch AI" in result.source and "CC BY 4.0" in result.source


def test_multi_country_stays_ambiguous():
    result = lookup("Microsoft Research AI for Science")
    assert result.country is None
    assert set(result.countries) >= {"US", "CN"}
    assert any(not e.available and "several countries" in e.reason for e in result.evidence)


def test_unknown_stays_unknown():
    for name in ("no-such-org-xyz", "", "Qwenn"):
        result = lookup(name)
        assert result.country is None and result.organization is None
        assert not result.evidence[0].available


def test_community_namespace_has_no_country():
    result = lookup("sentence-transformers")
    assert result.organization == "Sentence Transformers" and result.country is None


def test_curated_entries_agree_with_epoch():
    reg = registry.default_registry()
    import yaml

    data = yaml.safe_load((registry.data_dir() / registry.CURATED).read_text())
    checked = 0
    for item in data["entries"]:
        if not item.get("epoch"):
            continue
        epoch = reg.epoch[normalize(item["epoch"])]
        assert item["country"] in epoch.countries, (item["organization"], epoch.countries)
        checked += 1
    assert checked >= 25


def test_data_files_carry_version_and_attribution():
    reg = registry.default_registry()
    assert reg.version and all(f.sha256 and f.version for f in reg.files)
    header = (registry.data_dir() / registry.EPOCH).read_text().splitlines()[:3]
    assert any("CC BY 4.0" in line and "Epoch AI" in line for line in header)


def test_broken_registry_is_a_clean_error(tmp_path):
    (tmp_path / registry.CURATED).write_text("entries: [unclosed")
    (tmp_path / registry.EPOCH).write_text("organization,countries,multinational,n_models\n")
    with pytest.raises(DossierError):
        registry.load(tmp_path)


def test_build_matches_shipped_file(shared_data):
    from modeldossier.provenance.build_registry import OUT, build

    assert build(shared_data / "provenance" / "epoch_ai_models" / "all_ai_models.csv") == OUT.read_text()


def test_agrees_with_independent_epoch_org_table(shared_data):
    """Cross-check against the Epoch-derived organizations table (local fixture, never shipped): of the
    organizations both know, at least 98% get a matching country."""
    import csv

    from modeldossier.provenance.build_registry import COUNTRY_ISO

    path = shared_data / "provenance" / "epoch_benchmarking_hub" / "organizations.csv"
    if not path.is_file():
        pytest.skip("organizations.csv fixture missing")
    known = agree = 0
    for row in csv.DictReader(path.read_text(encoding="utf-8").splitlines()):
        result = lookup(row["Organization"])
        theirs = {COUNTRY_ISO.get(c.strip()) for c in row["Country"].split(",")} - {None}
        if result.organization is None or not theirs or not (result.country or result.countries):
            continue
        known += 1
        agree += bool({result.country} & theirs) if result.country else bool(set(result.countries) & theirs)
    assert known > 300
    assert agree / known >= 0.98, (agree, known)
