"""Combine declared and observed evidence into the provenance section: family, confidence, derivative flag,
author country and lineage-root country. Unknown stays unknown; every conclusion lists its evidence.

Confidence is an ordinal score from the strongest evidence kind, not a calibrated probability:
identical vocabulary 0.95, vocabulary reuse (>= 99% same token at same id) 0.9, llama.cpp chkhsh table match
0.8, exact config signature only 0.5. The vocabulary method's accuracy over the 16 reference vocabularies is
measured in docs/provenance.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from modeldossier.dossier import DataFile
from modeldossier.errors import DossierError
from modeldossier.provenance import config_signature, fingerprint, registry, vocab
from modeldossier.provenance.declared import Declared, read_declared
from modeldossier.provenance.hub import HubResult, offline_mode, walk
from modeldossier.provenance.models import CountryAttribution, Evidence, ProvenanceSection, VocabMatch

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
CONFIDENCE = {"identical": 0.95, "reuse": 0.9, "chkhsh": 0.8, "config": 0.5}


@dataclass
class Observed:
    """The observed family and where it came from."""

    family: str | None = None
    hub_author: str | None = None
    confidence: float | None = None
    basis: str | None = None
    name_keys: tuple[str, ...] = ()


def data_files() -> list[DataFile]:
    """The versioned data files the analysis reads, for the run record."""
    from modeldossier.runinfo import data_file

    directory = registry.data_dir()
    files = list(registry.default_registry().files)
    files.append(data_file(directory / fingerprint.CHKHSH_FILE, version=fingerprint.chkhsh_data()["version"]))
    files.append(data_file(directory / vocab.REFERENCES_FILE, version=vocab.references_version()))
    files.append(data_file(directory / vocab.SKETCHES_FILE, version=vocab.references_version()))
    files.append(data_file(directory / config_signature.SIGNATURES_FILE,
                           version=config_signature.signatures_version()))
    return files


def _family_author(family: str) -> str | None:
    for ref in vocab.references():
        if ref.info["family"] == family:
            return ref.info["hub_author"]
    for sig in config_signature.signatures():
        if sig["family"] == family:
            return sig["hub_author"]
    return None


def _rel(path: Path, root: Path | None) -> str:
    """A path as shown in the dossier: relative to the subject's folder (no local absolute paths)."""
    if root is not None and root.is_dir():
        try:
            return str(path.relative_to(root))
        except ValueError:
            pass
    return path.name


def _reason(exc: Exception) -> str:
    """A one-line reason for unavailable evidence: a DossierError's message, else the error type and first line
    (a third-party tokenizer library may raise anything for a malformed vocabulary)."""
    if isinstance(exc, DossierError):
        return str(exc)
    first = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else ""
    return f"tokenizer could not be read ({type(exc).__name__}{': ' + first if first else ''})"


def _fingerprints(declared: Declared, root: Path | None, section: ProvenanceSection) -> list[fingerprint.Vocab]:
    """Fingerprint the tokenizer file and each distinct GGUF vocabulary; a failure becomes unavailable evidence."""
    vocabs = []
    if declared.tokenizer_json is not None:
        source, read = declared.tokenizer_json, fingerprint.fingerprint_tokenizer_json
    else:
        source, read = declared.tokenizer_other, fingerprint.fingerprint_vocab_file
    if source is not None:
        try:
            fp, voc = read(source)
            fp.source = voc.source = _rel(source, root)
            section.fingerprints.append(fp)
            vocabs.append(voc)
        except Exception as exc:  # noqa: BLE001 - any failure here is unavailable evidence, never a crash
            section.observed.append(Evidence(kind="tokenizer.fingerprint", source=source.name,
                                             available=False, reason=_reason(exc)))
    elif root is not None and root.is_dir():
        section.observed.append(Evidence(kind="tokenizer.fingerprint", source="tokenizer.json", available=False,
                                         reason="no tokenizer.json, tokenizer.model or vocab.txt found"))
    seen: dict[str, str] = {}
    for path in declared.gguf_files:
        try:
            meta = declared.gguf_meta.get(path)
            digest = fingerprint.tokens_hash(fingerprint.gguf_vocab(path, meta).tokens)
            if digest in seen:  # quantizations of one model share the vocabulary: fingerprint it once
                section.observed.append(Evidence(kind="gguf.vocabulary", value={"same_as": seen[digest]},
                                                 source=_rel(path, root)))
                continue
            fp, voc = fingerprint.fingerprint_gguf(path, meta)
            fp.source = voc.source = seen[digest] = _rel(path, root)
            section.fingerprints.append(fp)
            vocabs.append(voc)
        except Exception as exc:  # noqa: BLE001 - any failure here is unavailable evidence, never a crash
            section.observed.append(Evidence(kind="gguf.vocabulary", source=_rel(path, root), available=False,
                                             reason=_reason(exc)))
    return vocabs


def _vocab_family(matches: list[VocabMatch], source: str, section: ProvenanceSection) -> Observed:
    best = [m for m in matches if m.relation in ("identical", "reuse")]
    for m in matches:
        if m.relation != "unrelated":
            section.observed.append(Evidence(
                kind=f"vocab.{m.relation}", source=source,
                value={"reference": m.reference, "family": m.family, "set_overlap": m.set_overlap,
                       "positional_overlap": m.positional_overlap}))
    if not best:
        return Observed()
    top = best[0]
    same = [m for m in best if m.relation == top.relation and abs(m.positional_overlap - top.positional_overlap)
            < 1e-3 and abs(m.set_overlap - top.set_overlap) < 1e-3]
    family = top.family
    if len(same) > 1:
        family = " = ".join(m.family for m in same) + " (identical vocabularies)"
        section.notes.append(f"the vocabulary is identical in {len(same)} references: "
                             f"{', '.join(m.reference for m in same)}; the tokenizer cannot tell them apart")
    ancestors = [m for m in best if m not in same]
    if ancestors:
        section.notes.append("the vocabulary also reuses: " + ", ".join(
            f"{m.family} ({m.positional_overlap:.1%} same token at same id)" for m in ancestors))
    keys = {k for ref in vocab.references() if ref.name in {m.reference for m in same}
            for k in ref.info.get("name_keys", [])}
    return Observed(family=family, hub_author=_family_author(top.family), confidence=CONFIDENCE[top.relation],
                    basis=f"vocabulary {top.relation} of reference {top.reference}", name_keys=tuple(sorted(keys)))


def _observe(section: ProvenanceSection, declared: Declared, vocabs: list[fingerprint.Vocab]) -> Observed:
    observed = Observed()
    if vocabs:
        fp = section.fingerprints[0]
        subject = vocab.SubjectVocab.from_tokens(vocabs[0].tokens, fp.tokens_hash)
        section.vocab_matches = vocab.compare_all(subject)
        observed = _vocab_family(section.vocab_matches, vocabs[0].source, section)
    for fp in section.fingerprints:
        if fp.chkhsh is None:
            continue
        section.observed.append(Evidence(kind="tokenizer.chkhsh", value=fp.chkhsh, source=fp.source))
        row = fingerprint.lookup_chkhsh(fp.chkhsh) or fingerprint.lookup_chkhsh(fp.raw_ids_hash)
        if row:
            section.observed.append(Evidence(kind="tokenizer.chkhsh_match", source=f"{fingerprint.CHKHSH_FILE}",
                                             value={"pre": row["pre"], "ref_repo": row["ref_repo"]}))
            if observed.family is None:
                keys = (_squash(re.split(r"[-_]", row["pre"])[0]), _squash(row["hub_author"]))
                observed = Observed(family=f"{row['pre']} (llama.cpp pre-tokenizer of {row['ref_repo']})",
                                    hub_author=row["hub_author"], confidence=CONFIDENCE["chkhsh"],
                                    basis="llama.cpp chkhsh table", name_keys=tuple(k for k in keys if k))
    if declared.config:
        for sig in config_signature.match(declared.config)[:3]:
            section.observed.append(Evidence(kind=f"config.signature_{sig.level}", source="config",
                                             value={"signature": sig.name, "family": sig.family,
                                                    "matched": list(sig.matched)}))
            if observed.family is None and sig.level == "exact":
                observed = Observed(family=sig.family, hub_author=sig.hub_author, confidence=CONFIDENCE["config"],
                                    basis=f"config signature {sig.name}")
    return observed


def _declared_base(declared: Declared, subject_author: str | None) -> tuple[str | None, str]:
    """The declared base model and which file said so."""
    if declared.base_models:
        return declared.base_models[0], "model card / GGUF general.base_model"
    name = declared.config.get("_name_or_path")
    if isinstance(name, str) and HUB_ID.match(name) and name.split("/")[0] != subject_author:
        return name, "config.json _name_or_path"
    return None, ""


def _declared_families(base: str | None) -> tuple[set[str], str | None]:
    """Families and organization a declared base repo id points to (empty when it cannot be related offline)."""
    if not base:
        return set(), None
    author, _, name = base.partition("/")
    families = {sig["family"] for sig in config_signature.signatures() if sig["name"].casefold() in name.casefold()}
    families |= {ref.info["family"] for ref in vocab.references() if ref.info["hub_author"].casefold() ==
                 author.casefold()}
    return families, registry.lookup(author).organization if name else None


def _subject_author(root: Path | None, hub_id: str | None, hub: HubResult, declared: Declared) -> str | None:
    if hub_id and hub.chain and hub.chain[0].author:
        return hub.chain[0].author
    if hub_id and "/" in hub_id:
        return hub_id.split("/", 1)[0]
    if root is not None:
        for part in reversed(root.resolve().parts):
            if part.startswith("models--"):
                return part.removeprefix("models--").split("--", 1)[0]
    if declared.organizations:
        return declared.organizations[0]
    return None


def _country(name: str | None, why: str) -> CountryAttribution:
    if not name:
        return CountryAttribution(evidence=[Evidence(kind="country", source="origin", available=False, reason=why)])
    result = registry.lookup(name)
    result.evidence.insert(0, Evidence(kind="country.basis", value=name, source="origin", reason=why))
    return result


def origin_section(root: Path | None, hub_id: str | None, *, online: bool | None = None) -> ProvenanceSection:
    """The provenance section for local files at ``root`` and/or a Hub id.

    ``online``: None = ask the Hub only when ``hub_id`` is given (and not HF_HUB_OFFLINE); False = never;
    True = also walk from the declared base when there is no Hub id.
    """
    section = ProvenanceSection()
    declared = read_declared(Path(root)) if root is not None else Declared()
    section.declared = declared.evidence
    section.license = declared.license

    hub = HubResult()
    start = hub_id
    if online is False:
        section.notes.append("offline (--offline): declared local evidence only")
    elif offline_mode():
        section.notes.append("offline (HF_HUB_OFFLINE=1): declared local evidence only")
    elif start or online:
        start = start or (declared.base_models[0] if declared.base_models else None)
        if start:
            hub = walk(start)
            section.notes.extend(hub.notes)
            if not hub.reached_network:
                section.notes.append("Hub not reached: declared local evidence only")
    section.lineage = hub.chain
    subject_link = hub.chain[0] if hub_id and hub.chain else None  # the chain starts at the declared base otherwise

    vocabs = _fingerprints(declared, Path(root) if root is not None else None, section)
    observed = _observe(section, declared, vocabs)
    section.observed_family, section.observed_confidence = observed.family, observed.confidence
    if observed.basis:
        section.observed.append(Evidence(kind="observed_family", value=observed.family, source=observed.basis))
    elif root is not None:
        section.notes.append("no tokenizer or config evidence matched a known family: observed family unknown")

    author = _subject_author(Path(root) if root is not None else None, hub_id, hub, declared)
    section.author = author
    base, base_source = _declared_base(declared, author)
    if subject_link and subject_link.base_models and not base:
        base, base_source = subject_link.base_models[0], "Hub baseModels / cardData"
    section.declared_base = base
    section.declared_base_relation = declared.base_relation or (subject_link.relation if subject_link else None)
    if base:
        section.declared.append(Evidence(kind="declared_base", value=base, source=base_source))
    if subject_link and not section.license:
        section.license = subject_link.license
    families, base_org = _declared_families(base)
    section.declared_family = " | ".join(sorted(families)) or None
    _flag_derivative(section, observed, families, base, base_org, author, [*declared.names, *(
        [hub_id] if hub_id else [])])

    section.author_country = _country(author, "author of the subject (Hub id, HF cache folder or GGUF "
                                      "general.organization)" if author else "no author known for local files")
    _lineage_root(section, hub, base, observed)
    if any(not e.available for e in section.observed) or (hub_id and online is not False and not hub.chain):
        section.status = "partial"
    return section


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _flag_derivative(section: ProvenanceSection, observed: Observed, families: set[str], base: str | None,
                     base_org: str | None, author: str | None, names: list[str]) -> None:
    if observed.family is None:
        section.undeclared_derivative = None
        return
    named = [n for n in names if any(k in _squash(n) for k in observed.name_keys)]
    if named and not base:
        section.undeclared_derivative = False
        section.declared.append(Evidence(kind="declared_name", value=named[0], source="file/model name",
                                         reason=f"the name names the observed family ({observed.family})"))
        return
    observed_org = registry.lookup(observed.hub_author).organization if observed.hub_author else None
    author_org = registry.lookup(author).organization if author else None
    consistent = (
        any(f in observed.family for f in families)
        or (observed_org is not None and observed_org in (base_org, author_org))
    )
    if consistent:
        section.undeclared_derivative = False
        return
    if base and not families and base_org is None:
        section.undeclared_derivative = None
        section.notes.append(f"declared base {base!r} could not be related to a known family offline")
        return
    section.undeclared_derivative = True
    said = f"declares base {base!r}" if base else "names no base model"
    section.notes.append(f"undeclared derivative: the model {said}, but its tokenizer matches {observed.family} "
                         f"({observed.basis})")


def _lineage_root(section: ProvenanceSection, hub: HubResult, base: str | None, observed: Observed) -> None:
    if hub.chain and hub.root is not None and not hub.cycle and not hub.truncated:
        section.lineage_root = hub.root.repo_id
        root_author = hub.root.author
        why = "author of the Hub lineage root"
    elif base:
        section.lineage_root = base
        root_author = base.split("/", 1)[0] if "/" in base else None
        why = "author of the declared base (chain not walked)"
    else:
        section.lineage_root = None
        root_author = None
        why = "no declared base"
    if section.undeclared_derivative and observed.hub_author:
        section.lineage_root_country = _country(observed.hub_author, "publisher of the observed tokenizer family "
                                                "(the declared lineage is contradicted by the tokenizer)")
        section.lineage_root_country.evidence.append(
            Evidence(kind="lineage_root.declared", value=section.lineage_root, source=why))
        return
    if root_author is None and observed.hub_author and section.undeclared_derivative is False:
        root_author, why = observed.hub_author, "publisher of the observed tokenizer family"
    section.lineage_root_country = _country(root_author, why)
