"""Render the artifacts section as SARIF 2.1.0 (GitHub code scanning can ingest it)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from modeldossier import __version__
from modeldossier.artifacts.format_rules import load_catalogue
from modeldossier.artifacts.models import ArtifactsSection, Finding
from modeldossier.common import Severity
from modeldossier.display import visible_all
from modeldossier.dossier import Dossier, Subject
from modeldossier.fsutil import storable
from modeldossier.report.artifact_files import alias_map, canonical, file_entries

SARIF_SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
SARIF_VERSION = "2.1.0"
LEVELS = {Severity.CRITICAL: "error", Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.LOW: "note",
          Severity.INFO: "note"}
# GitHub maps security-severity to critical (>= 9.0), high (7.0-8.9), medium (4.0-6.9), low (0.1-3.9)
SECURITY_SEVERITY = {Severity.CRITICAL: "9.5", Severity.HIGH: "8.0", Severity.MEDIUM: "5.5", Severity.LOW: "3.0"}
ROOT_ID = "MODELROOT"
_LINE = re.compile(r"^line (\d+)")
_OFFSET = re.compile(r"\boffset (\d+)")


def rule_descriptions() -> dict[str, str]:
    """rule id -> one-line description from the format-rule catalogue (unknown rules use their first message)."""
    try:
        catalogue = load_catalogue()
    except (OSError, ValueError):
        return {}
    return {rule_id: spec.description for rule_id, spec in catalogue.rules.items() if spec.description}


def _uri(path: str) -> str:
    """A relative URI reference for a file path (archive members keep their ``!/`` style suffix readable)."""
    posix = path.replace("\\", "/")
    if PurePosixPath(posix).is_absolute():
        return "file://" + _quote(posix, "/")
    return _quote(posix, "/:!@")


def _quote(text: str, safe: str) -> str:
    """Percent-encode ``text``; a non-UTF-8 file name (surrogate escapes) as its original bytes (``%FF``)."""
    try:
        return quote(text, safe=safe, errors="surrogateescape")
    except UnicodeEncodeError:  # a surrogate that is no escaped byte
        return quote(storable(text), safe=safe)


def _root_uri(subject: Subject | None) -> str | None:
    """file:// URI of the folder the subject's relative paths start from (local subjects only)."""
    if subject is None or subject.kind == "endpoint" or not subject.files:
        return None
    try:
        ref = Path(subject.ref).expanduser()
        base = ref.resolve() if ref.is_dir() else ref.resolve().parent
    except (OSError, ValueError, RuntimeError):  # a NUL byte, no home folder, a symlink loop
        return None
    return base.as_uri().rstrip("/") + "/"


def _location(finding: Finding, aliases: dict[str, str]) -> dict[str, Any]:
    physical: dict[str, Any] = {"artifactLocation": _artifact_location(canonical(finding.file, aliases), aliases)}
    location: dict[str, Any] = {"physicalLocation": physical}
    where = finding.location or ""
    line = _LINE.match(where)
    offset = _OFFSET.search(where)
    # GitHub code scanning needs region.startLine on every result: line 1 stands for "the file" when the
    # location is a byte offset, a key or a member (kept exactly in byteOffset / logicalLocations)
    region: dict[str, int] = {"startLine": int(line.group(1)) if line and int(line.group(1)) >= 1 else 1}
    if offset and not line:
        region["byteOffset"] = int(offset.group(1))
    physical["region"] = region
    if where and not line:
        location["logicalLocations"] = [{"fullyQualifiedName": where, "kind": "member"}]
    return location


def _fingerprint(finding: Finding) -> str:
    key = "|".join([finding.rule_id, finding.file, finding.location or "", finding.evidence or ""])
    return hashlib.sha256(storable(key).encode("utf-8")).hexdigest()


def _rules(findings: list[Finding]) -> tuple[list[dict[str, Any]], dict[str, int]]:
    worst: dict[str, Severity] = {}
    first_message: dict[str, str] = {}
    for f in findings:
        if f.rule_id not in worst or f.severity.rank > worst[f.rule_id].rank:
            worst[f.rule_id] = f.severity
        first_message.setdefault(f.rule_id, f.message)
    catalogue = rule_descriptions()
    rules, index = [], {}
    for i, rule_id in enumerate(sorted(worst)):
        sev = worst[rule_id]
        text = catalogue.get(rule_id, first_message[rule_id])
        props: dict[str, Any] = {"tags": ["security", "model-artifact"], "severity": sev.value}
        if sev in SECURITY_SEVERITY:
            props["security-severity"] = SECURITY_SEVERITY[sev]
        rules.append({
            "id": rule_id,
            "name": "".join(part.capitalize() for part in re.split(r"[._-]", rule_id) if part),
            "shortDescription": {"text": text},
            "fullDescription": {"text": text},
            "defaultConfiguration": {"level": LEVELS[sev]},
            "properties": props,
        })
        index[rule_id] = i
    return rules, index


def _artifacts(section: ArtifactsSection, subject: Subject | None, aliases: dict[str, str]) -> list[dict[str, Any]]:
    entries = []
    for path, (size, digest, fmt) in file_entries(section, subject, aliases).items():
        entry: dict[str, Any] = {"location": _artifact_location(path, aliases), "length": size}
        if digest:
            entry["hashes"] = {"sha-256": digest}
        if fmt:
            entry["properties"] = {"format": fmt}
        entries.append(entry)
    return entries


def _artifact_location(path: str, aliases: dict[str, str]) -> dict[str, Any]:
    """A relative uri under MODELROOT for subject files; the path as given otherwise."""
    if path in aliases.values():
        return {"uri": _uri(path), "uriBaseId": ROOT_ID}
    return {"uri": _uri(path)}


def render_sarif(section: ArtifactsSection, subject: Subject | None = None) -> dict[str, Any]:
    """A SARIF 2.1.0 log with one run: the rules that fired, one result per finding, and the scanned files.

    Its strings are shown through ``visible`` (no lone surrogates, no raw control or bidi character: a SARIF
    viewer renders messages and names to people); URIs are percent-encoded, hashes untouched.
    """
    findings = section.findings
    aliases = alias_map(subject)
    rules, index = _rules(findings)
    results = []
    for f in findings:
        props: dict[str, Any] = {"severity": f.severity.value}
        if f.evidence is not None:
            props["evidence"] = f.evidence
        if f.severity in SECURITY_SEVERITY:
            props["security-severity"] = SECURITY_SEVERITY[f.severity]
        results.append({
            "ruleId": f.rule_id,
            "ruleIndex": index[f.rule_id],
            "level": LEVELS[f.severity],
            "message": {"text": f.message},
            "locations": [_location(f, aliases)],
            "partialFingerprints": {"modeldossierFinding/v1": _fingerprint(f)},
            "properties": props,
        })
    run: dict[str, Any] = {
        "tool": {"driver": {
            "name": "modeldossier",
            "version": __version__,
            "semanticVersion": __version__,
            "rules": rules,
        }},
        "invocations": [{"executionSuccessful": section.status != "error",
                         "toolExecutionNotifications": [{"message": {"text": note}, "level": "note"}
                                                        for note in section.notes]}],
        "artifacts": _artifacts(section, subject, aliases),
        "results": results,
        "columnKind": "unicodeCodePoints",
    }
    root = _root_uri(subject)
    if root:
        run["originalUriBaseIds"] = {ROOT_ID: {"uri": root, "description": {"text": "the scanned model folder"}}}
    if subject is not None:
        run["properties"] = {"subject": subject.name, "subjectKind": subject.kind, "subjectRef": subject.ref}
        if subject.revision:
            run["properties"]["revision"] = subject.revision
    if section.allowlist_version:
        run.setdefault("properties", {})["allowlistVersion"] = section.allowlist_version
    return visible_all({"$schema": SARIF_SCHEMA, "version": SARIF_VERSION, "runs": [run]})


def render_dossier_sarif(d: Dossier) -> dict[str, Any]:
    """SARIF for a dossier: its artifact findings (an empty run with a note when the scan did not run)."""
    section = d.artifacts
    if section is None:
        reason = d.run.not_run.get("artifacts", "no artifacts section in the dossier")
        section = ArtifactsSection(status="partial", notes=[f"artifact scan not run: {reason}"])
    return render_sarif(section, d.subject)
