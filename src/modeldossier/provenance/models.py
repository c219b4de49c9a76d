"""The `provenance` section: who made the model, what it derives from, under which jurisdiction."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from modeldossier.common import Model, Section


class Evidence(Model):
    """One fact and where it came from; `available` is False with a reason when it could not be read."""

    kind: str = Field(description="e.g. model_card.base_model, config.architectures, tokenizer.chkhsh")
    value: Any = None
    source: str = Field(description="file, URL or data file the value came from")
    available: bool = True
    reason: str | None = None


class CountryAttribution(Model):
    """A country for an organization, with how we know. `country` is null when unknown or ambiguous."""

    query: str | None = Field(default=None, description="the organization or Hub author that was looked up")
    organization: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2, or null when unknown/ambiguous")
    countries: list[str] = Field(
        default_factory=list, description="every ISO code the source lists for the organization"
    )
    multinational: bool = Field(default=False, description="the source also labels the organization multinational")
    source: str | None = Field(default=None, description="which registry table answered (hand-checked or Epoch AI)")
    evidence: list[Evidence] = Field(default_factory=list)


class TokenizerFingerprint(Model):
    """Hashes that identify a tokenizer without shipping its vocabulary."""

    source: str = Field(description="tokenizer.json or GGUF file the fingerprint was computed from")
    origin: Literal["tokenizer.json", "gguf", "tokenizer.model", "tiktoken", "vocab.txt"]
    tokenizer_model: str | None = Field(default=None, description="BPE, WordPiece, Unigram, or GGUF gpt2/llama/bert")
    vocab_size: int = 0
    chkhsh: str | None = Field(
        default=None, description="llama.cpp method: sha256(str(ids)) of the probe text, with the tokenizer's framing"
    )
    raw_ids_hash: str | None = Field(default=None, description="same, without any special tokens")
    framing: dict[str, list[int]] = Field(default_factory=dict, description="special-token ids added before/after")
    framing_hash: str | None = Field(default=None, description="sha256 of the framing alone")
    tokens_hash: str | None = Field(default=None, description="sha256 of the newline-joined token list by id")
    llama_cpp_pre: str | None = Field(default=None, description="llama.cpp pre-tokenizer name the hash matches")
    notes: list[str] = Field(default_factory=list)


class VocabMatch(Model):
    """Overlap of the subject's vocabulary with one reference vocabulary."""

    reference: str
    family: str
    set_overlap: float = Field(description="Jaccard index of the two token sets")
    positional_overlap: float = Field(description="fraction of the larger vocab with the same token at the same id")
    relation: Literal["identical", "reuse", "renumbered", "shared-ancestry", "unrelated"] = Field(
        description="renumbered: same tokens at other ids (set overlap high, with a margin over the runner-up)")


class HubLink(Model):
    """One model in the Hub base-model chain."""

    repo_id: str
    author: str | None = None
    sha: str | None = None
    created_at: str | None = None
    license: str | None = None
    downloads: int | None = None
    downloads_all_time: int | None = None
    base_models: list[str] = Field(default_factory=list)
    relation: str | None = None


class ProvenanceSection(Section):
    """Declared and observed lineage plus country evidence."""

    declared: list[Evidence] = Field(default_factory=list)
    observed: list[Evidence] = Field(default_factory=list)
    declared_base: str | None = None
    declared_base_relation: str | None = None
    declared_family: str | None = Field(default=None, description="family implied by the declared base/config")
    observed_family: str | None = None
    observed_confidence: float | None = Field(default=None, ge=0.0, le=1.0)
    undeclared_derivative: bool | None = Field(
        default=None, description="true when the observed family differs from (or is missing in) what is declared"
    )
    author: str | None = None
    lineage: list[HubLink] = Field(default_factory=list, description="Hub chain from the subject to the root")
    lineage_root: str | None = Field(
        default=None, description="the root whose country is lineage_root_country; lineage_root_basis says which")
    lineage_root_basis: Literal["hub", "declared", "observed"] | None = Field(
        default=None, description="hub: root of the walked Hub chain; declared: the declared base; observed: the "
        "tokenizer family (when the declaration is contradicted or absent)")
    declared_lineage_root: str | None = Field(default=None, description="root by the declarations (Hub chain/base)")
    observed_lineage_root: str | None = Field(default=None, description="root by the tokenizer evidence (a family)")
    license: str | None = None
    fingerprints: list[TokenizerFingerprint] = Field(default_factory=list)
    vocab_matches: list[VocabMatch] = Field(default_factory=list)
    author_country: CountryAttribution = Field(default_factory=CountryAttribution)
    lineage_root_country: CountryAttribution = Field(default_factory=CountryAttribution)
