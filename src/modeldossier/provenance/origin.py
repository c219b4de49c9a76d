"""Combine declared and observed evidence into the provenance section: family, confidence, derivative flag,
author country and lineage-root country. Unknown stays unknown; every conclusion lists its evidence.

Confidence is an ordinal score from the strongest evidence kind, not a calibrated probability:
identical vocabulary 0.95, vocabulary reuse (>= 99% same token at same id) 0.9, llama.cpp chkhsh table match
0.8, exact config signature only 0.5. The vocabulary method's accuracy over the 16 reference vocabularies is
measured in docs/provenance.md.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from modeldossier.errors import DossierError
from modeldossier.provenance import config_signature, fingerprint, lineage, registry, spm, vocab
from modeldossier.provenance.declared import Declared, read_declared
from modeldossier.provenance.hub import HubResult, offline_mode, walk
from modeldossier.provenance.models import CountryAttribution, Evidence, ProvenanceSection, VocabMatch

if TYPE_CHECKING:
    from modeldossier.dossier import DataFile

HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")
CONFIDENCE = {"identical": 0.95, "reuse": 0.9, "chkhsh": 0.8, "renumbered": 0.7, "config": 0.5}


@dataclass
class Observed:
    """The observed family and where it came from."""

    family: str | None = None
    hub_author: str | None = None
    confidence: float | None = None
    basis: str | None = None
    name_keys: tuple[str, ...] = ()
    reference: str | None = None
    extended_by: int = 0
    prefix_of: str | None = None
    prefix_pre: str | None = None
    chkhsh_repo: str | None = None


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
    files.append(data_file(directory / lineage.LINEAGE_FILE, version=lineage.lineage_version()))
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


def _with_country(family: str, author: str | None) -> str:
    """'Llama 2 (Meta)' -> 'Llama 2 (Meta, US)' with the publisher's registry country, when one is known."""
    country = registry.lookup(author).country if author else None
    if not country:
        return family
    return f"{family[:-1]}, {country})" if family.endswith(")") else f"{family} ({country})"


def _script(piece: str) -> str:
    """The writing system of most letters in a token (byte-level tokens are decoded first)."""
    inverse = spm.byte_decoder()
    if piece and all(ch in inverse for ch in piece):
        piece = bytes(inverse[ch] for ch in piece).decode("utf-8", errors="ignore")
    counts: dict[str, int] = {}
    for ch in piece:
        if not ch.isalpha():
            continue
        name = unicodedata.name(ch, "")
        word = name.split(" ", 1)[0]
        script = "CJK" if word in ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "BOPOMOFO") else word.title() or "other"
        counts[script] = counts.get(script, 0) + 1
    return max(counts, key=lambda k: counts[k]) if counts else "symbols"


def _extension_script(pieces: list[str]) -> str:
    counts: dict[str, int] = {}
    for piece in pieces:
        script = _script(piece)
        counts[script] = counts.get(script, 0) + 1
    top = max(counts, key=lambda k: counts[k]) if counts else "symbols"
    return f"mostly {top}" if counts and counts[top] * 2 > len(pieces) else "mixed scripts"


def _vocab_family(matches: list[VocabMatch], subject: vocab.SubjectVocab, tokens: list[str | None], source: str,
                  section: ProvenanceSection) -> Observed:
    best = [m for m in matches if m.relation in ("identical", "reuse", "renumbered")]
    for m in matches:
        if m.relation != "unrelated":
            value = {"reference": m.reference, "family": m.family, "set_overlap": m.set_overlap,
                     "positional_overlap": m.positional_overlap}
            reason = ("same tokens at other ids: set overlap with a margin over every other vocabulary, positions "
                      "gone" if m.relation == "renumbered" else None)
            section.observed.append(Evidence(kind=f"vocab.{m.relation}", source=source, value=value, reason=reason))
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
    ancestors = [m for m in best if m not in same and m.relation != "renumbered"]
    if ancestors:
        section.notes.append("the vocabulary also reuses: " + ", ".join(
            f"{m.family} ({m.positional_overlap:.1%} same token at same id)" for m in ancestors))
    refs = {ref.name: ref for ref in vocab.references()}
    ref = refs[top.reference]
    keys = {k for r in refs.values() if r.name in {m.reference for m in same} for k in r.info.get("name_keys", [])}
    observed = Observed(family=family, hub_author=_family_author(top.family), confidence=CONFIDENCE[top.relation],
                        basis=f"vocabulary {top.relation} of reference {top.reference}",
                        name_keys=tuple(sorted(keys)), reference=top.reference)
    n_sub, n_ref = len(tokens), int(ref.info["n_tokens"])
    if top.relation == "renumbered":
        others = [m.set_overlap for m in matches if m not in same]
        section.notes.append(
            f"the token ids are reordered ({top.positional_overlap:.1%} same token at same id): the family rests on "
            f"set overlap, {top.set_overlap:.2f} with {top.family} against {max(others, default=0.0):.2f} for the "
            f"next vocabulary")
    elif n_sub < n_ref:
        observed = _prefix(observed, subject, tokens, ref, section)
    elif n_sub - n_ref >= max(1000, n_ref // 10):
        extra = [t for t in tokens[n_ref:] if t]
        script = _extension_script(extra)
        observed.extended_by = len(extra)
        observed.family = f"{family}, extended by {len(extra):,} pieces ({script})"
        section.notes.append(
            f"vocabulary from {_with_country(family, observed.hub_author)}, extended by {len(extra):,} pieces "
            f"({script}): the tokenizer alone does not tell who extended it, so the lineage-root country is left "
            f"undetermined unless declared evidence decides it")
    return observed


def _prefix(observed: Observed, subject: vocab.SubjectVocab, tokens: list[str | None], ref: vocab.Reference,
            section: ProvenanceSection) -> Observed:
    """A subject shorter than the reference it reuses: a known prefix vocabulary (cl100k_base of Llama 3) when it
    starts with exactly that prefix and does not go on with the reference's tokens; else flagged for the chkhsh."""
    n_sub, n_ref = len(tokens), int(ref.info["n_tokens"])
    for prefix in lineage.prefixes(ref.name):
        n = int(prefix["n_tokens"])
        if n_sub < n or fingerprint.tokens_hash(tokens[:n]) != prefix["tokens_sha256"]:
            continue
        sampled, held = vocab.continues(subject, ref, n)
        if sampled and held * 2 >= sampled:
            continue
        section.notes.append(
            f"the first {n:,} tokens are exactly {prefix['name']}, which {ref.info['family']} extends; the "
            f"vocabulary ({n_sub:,} ids) does not go on with {ref.info['family']}'s tokens, so the size decides: "
            f"{prefix['family']}")
        section.observed.append(Evidence(kind="vocab.prefix", source=lineage.LINEAGE_FILE,
                                         value={"prefix": prefix["name"], "of": ref.name, "n_tokens": n},
                                         reason=str(prefix.get("evidence", ""))))
        return Observed(family=prefix["family"], hub_author=prefix["hub_author"], confidence=CONFIDENCE["reuse"],
                        basis=f"vocabulary prefix {prefix['name']} of reference {ref.name}",
                        name_keys=observed.name_keys, prefix_pre=prefix.get("chkhsh_pre"))
    if n_sub < 0.97 * n_ref:
        observed.prefix_of = ref.name
    return observed


def _chkhsh_family(row: dict) -> tuple[str, str | None, str | None]:
    """(family, publisher's Hub author, reference name) for a llama.cpp chkhsh table row."""
    pre = row["pre"]
    refs = {ref.name: ref for ref in vocab.references()}
    mapped = lineage.chkhsh_vocab(pre)
    name = mapped[0] if mapped else next((r.name for r in refs.values() if r.info.get("tokenizer_pre") == pre), None)
    if name in refs:
        return refs[name].info["family"], refs[name].info["hub_author"], name
    for ref_name in refs:
        for prefix in lineage.prefixes(ref_name):
            if prefix.get("chkhsh_pre") == pre:
                return prefix["family"], prefix["hub_author"], None
    return f"{pre} (llama.cpp pre-tokenizer of {row['ref_repo']})", row["hub_author"], None


def _observe(section: ProvenanceSection, declared: Declared, vocabs: list[fingerprint.Vocab]) -> Observed:
    observed = Observed()
    if vocabs:
        fp = section.fingerprints[0]
        subject = vocab.SubjectVocab.from_tokens(vocabs[0].tokens, fp.tokens_hash)
        section.vocab_matches = vocab.compare_all(subject)
        observed = _vocab_family(section.vocab_matches, subject, vocabs[0].tokens, vocabs[0].source, section)
    for fp in section.fingerprints:
        if fp.chkhsh is None:
            continue
        section.observed.append(Evidence(kind="tokenizer.chkhsh", value=fp.chkhsh, source=fp.source))
        row = fingerprint.lookup_chkhsh(fp.chkhsh) or fingerprint.lookup_chkhsh(fp.raw_ids_hash)
        if not row:
            continue
        family, author, ref_name = _chkhsh_family(row)
        section.observed.append(Evidence(kind="tokenizer.chkhsh_match", source=f"{fingerprint.CHKHSH_FILE}",
                                         value={"pre": row["pre"], "ref_repo": row["ref_repo"], "family": family}))
        observed.chkhsh_repo = observed.chkhsh_repo or row["ref_repo"]
        if observed.family is None:
            keys = (_squash(re.split(r"[-_]", row["pre"])[0]), _squash(row["hub_author"]))
            observed = Observed(family=family, hub_author=author, confidence=CONFIDENCE["chkhsh"],
                                basis="llama.cpp chkhsh table", name_keys=tuple(k for k in keys if k),
                                reference=ref_name, chkhsh_repo=row["ref_repo"])
        elif observed.prefix_of and ref_name != observed.prefix_of:
            section.notes.append(
                f"the vocabulary is a prefix of {observed.family}'s ({fp.vocab_size:,} ids); the exact "
                f"pre-tokenizer hash names {row['pre']} ({row['ref_repo']}), and it decides")
            observed = Observed(family=family, hub_author=author, confidence=CONFIDENCE["chkhsh"],
                                basis="llama.cpp chkhsh table (the vocabulary is a prefix of another reference)",
                                reference=ref_name, chkhsh_repo=row["ref_repo"])
        elif observed.prefix_pre and observed.prefix_pre == row["pre"]:
            section.notes.append(f"the exact pre-tokenizer hash agrees: llama.cpp {row['pre']} ({row['ref_repo']})")
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


@dataclass
class DeclaredFamily:
    """Families a declared base repo id points to, and how that was decided."""

    families: set[str]
    organization: str | None = None
    how: str = ""
    extended: bool = False


def _repo_of(url: str) -> str:
    return url.split("huggingface.co/", 1)[-1].strip("/")


def _declared_families(base: str | None) -> DeclaredFamily:
    """Families a declared base points to, from the most specific fact available: a hand-checked distill/re-base
    entry, then llama.cpp's chkhsh table `ref_repo`, then the name, then the publisher's own families. Empty when
    it cannot be related offline."""
    if not base:
        return DeclaredFamily(set())
    author, _, name = base.partition("/")
    org = registry.lookup(author).organization if name else None
    refs = {ref.name: ref for ref in vocab.references()}
    known = lineage.base_family(base)
    if known and known.vocab in refs:
        return DeclaredFamily({refs[known.vocab].info["family"]}, org, f"{lineage.LINEAGE_FILE} ({known.pattern}): "
                              f"{known.evidence}", known.extended)
    for row in fingerprint.chkhsh_data()["table"]:
        if _repo_of(row["ref_repo"]).casefold() == base.casefold():
            return DeclaredFamily({_chkhsh_family(row)[0]}, org, f"{fingerprint.CHKHSH_FILE}: ref_repo of "
                                  f"pre-tokenizer {row['pre']}")
    squashed = _squash(name)
    families = {ref.info["family"] for ref in refs.values() if any(k in squashed for k in ref.info.get("name_keys",
                                                                                                     []))}
    families |= {sig["family"] for sig in config_signature.signatures() if sig["name"].casefold() in name.casefold()}
    if families:
        return DeclaredFamily(families, org, "the base model's name")
    families = {ref.info["family"] for ref in refs.values() if ref.info["hub_author"].casefold() == author.casefold()}
    families |= {sig["family"] for sig in config_signature.signatures()
                 if str(sig["hub_author"]).casefold() == author.casefold()}
    return DeclaredFamily(families, org, "the base model's publisher" if families else "")


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
    declared_family = _declared_families(base)
    section.declared_family = " | ".join(sorted(declared_family.families)) or None
    _flag_derivative(section, observed, declared_family, base, author, [*declared.names, *(
        [hub_id] if hub_id else [])])

    section.author_country = _country(author, "author of the subject (Hub id, HF cache folder or GGUF "
                                      "general.organization)" if author else "no author known for local files")
    _lineage_root(section, hub, base, observed)
    if any(not e.available for e in section.observed) or (hub_id and online is not False and not hub.chain):
        section.status = "partial"
    return section


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.casefold())


def _chkhsh_supports(observed: Observed, base: str | None) -> bool:
    """True when the tokenizer's exact chkhsh match is the declared base's own table entry (or one of its series,
    e.g. DeepSeek-R1-Distill-Qwen-1.5B for a declared DeepSeek-R1-Distill-Qwen-7B)."""
    if not base or not observed.chkhsh_repo:
        return False
    repo = _repo_of(observed.chkhsh_repo)
    if repo.casefold() == base.casefold():
        return True
    mine, theirs = lineage.base_family(base), lineage.base_family(repo)
    return mine is not None and theirs is not None and mine.pattern == theirs.pattern


def _flag_derivative(section: ProvenanceSection, observed: Observed, declared: DeclaredFamily, base: str | None,
                     author: str | None, names: list[str]) -> None:
    """Undeclared only when the observed family contradicts the declared base's family (or nothing is declared);
    a different organization alone is not a contradiction, and an unrelatable base leaves it undetermined."""
    if observed.family is None:
        section.undeclared_derivative = None
        return
    if _chkhsh_supports(observed, base):
        section.undeclared_derivative = False
        section.observed.append(Evidence(kind="tokenizer.chkhsh_supports_declared_base", value=base,
                                         source=fingerprint.CHKHSH_FILE,
                                         reason=f"exact chkhsh match to {observed.chkhsh_repo}"))
        return
    named = [n for n in names if any(k in _squash(n) for k in observed.name_keys)]
    if named and not base:
        section.undeclared_derivative = False
        section.declared.append(Evidence(kind="declared_name", value=named[0], source="file/model name",
                                         reason=f"the name names the observed family ({observed.family})"))
        return
    if base and declared.how:
        section.declared.append(Evidence(kind="declared_base.family", value=sorted(declared.families),
                                         source=declared.how))
    observed_org = registry.lookup(observed.hub_author).organization if observed.hub_author else None
    author_org = registry.lookup(author).organization if author else None
    consistent = (
        any(f in observed.family for f in declared.families)
        or (observed_org is not None and observed_org in (declared.organization, author_org))
    )
    if consistent:
        section.undeclared_derivative = False
        return
    if base and not declared.families:
        section.undeclared_derivative = None
        section.notes.append(f"declared base {base!r} could not be related to a known family offline (its "
                             f"organization alone does not decide lineage)")
        return
    section.undeclared_derivative = True
    said = f"declares base {base!r}" if base else "names no base model"
    section.notes.append(f"undeclared derivative: the model {said}, but its tokenizer matches {observed.family} "
                         f"({observed.basis})")


def _lineage_root(section: ProvenanceSection, hub: HubResult, base: str | None, observed: Observed) -> None:
    """The lineage root and its country from one source of evidence: the declarations (Hub chain, else declared
    base) unless the tokenizer contradicts them or nothing is declared; then the observed family. A vocabulary
    extended by many pieces leaves the observed root's country undetermined."""
    declared_author: str | None = None
    if hub.chain and hub.root is not None and not hub.cycle and not hub.truncated:
        section.declared_lineage_root, declared_author = hub.root.repo_id, hub.root.author
        basis, why = "hub", "author of the Hub lineage root"
    elif base:
        section.declared_lineage_root = base
        declared_author = base.split("/", 1)[0] if "/" in base else None
        basis, why = "declared", "author of the declared base (chain not walked)"
    if observed.family is not None:
        section.observed_lineage_root = observed.family
    use_observed = observed.family is not None and (
        section.undeclared_derivative is True or section.declared_lineage_root is None)
    if not use_observed:
        section.lineage_root = section.declared_lineage_root
        section.lineage_root_basis = basis if section.lineage_root else None  # type: ignore[assignment]
        section.lineage_root_country = _country(declared_author, why if section.lineage_root else "no declared base")
        return
    section.lineage_root, section.lineage_root_basis = observed.family, "observed"
    if observed.extended_by:
        section.lineage_root_country = _country(None, f"the vocabulary extends {observed.family.split(',')[0]} by "
                                                f"{observed.extended_by:,} pieces: who extended it is not known "
                                                f"from the tokenizer")
    else:
        why = ("publisher of the observed tokenizer family (the declared lineage is contradicted by the tokenizer)"
               if section.undeclared_derivative else "publisher of the observed tokenizer family")
        section.lineage_root_country = _country(observed.hub_author, why)
    if section.declared_lineage_root:
        section.lineage_root_country.evidence.append(
            Evidence(kind="lineage_root.declared", value=section.declared_lineage_root, source="declarations",
                     reason="contradicted by the tokenizer"))
