"""Render the artifacts section as a CycloneDX 1.6 ML-BOM: the model, its files with SHA-256, the findings."""

from __future__ import annotations

import uuid
from typing import Any

from modeldossier import __version__
from modeldossier.artifacts.models import ArtifactsSection
from modeldossier.dossier import Subject, utc_now
from modeldossier.fsutil import storable
from modeldossier.report.artifact_files import alias_map, canonical, file_entries

SPEC_VERSION = "1.6"
MODEL_REF = "model"


def _file_ref(path: str) -> str:
    return f"file:{path}"


def _file_components(section: ArtifactsSection, subject: Subject | None,
                     aliases: dict[str, str]) -> dict[str, dict[str, Any]]:
    components: dict[str, dict[str, Any]] = {}
    for path, (size, digest, fmt) in file_entries(section, subject, aliases).items():
        comp: dict[str, Any] = {"type": "file", "bom-ref": _file_ref(path), "name": path}
        if digest:
            comp["hashes"] = [{"alg": "SHA-256", "content": digest}]
        comp["properties"] = [{"name": "modeldossier:size", "value": str(size)}]
        if fmt:
            comp["properties"].append({"name": "modeldossier:format", "value": fmt})
        components[path] = comp
    for finding in section.findings:
        path = canonical(finding.file, aliases)
        components.setdefault(path, {"type": "file", "bom-ref": _file_ref(path), "name": path})
    return components


def _model_component(subject: Subject | None) -> dict[str, Any]:
    model: dict[str, Any] = {"type": "machine-learning-model", "bom-ref": MODEL_REF,
                             "name": subject.name if subject else "unknown model"}
    if subject is not None:
        props = [{"name": "modeldossier:subject-kind", "value": subject.kind},
                 {"name": "modeldossier:subject-ref", "value": subject.ref}]
        if subject.revision:
            model["version"] = subject.revision
            props.append({"name": "modeldossier:revision", "value": subject.revision})
        model["properties"] = props
    return model


def render_cyclonedx(section: ArtifactsSection, subject: Subject | None = None) -> dict[str, Any]:
    """A CycloneDX 1.6 JSON BOM (as a dict) for the scanned model; its strings are ``storable`` (UTF-8-safe)."""
    aliases = alias_map(subject)
    files = _file_components(section, subject, aliases)
    vulnerabilities = []
    for i, f in enumerate(section.findings, start=1):
        vuln: dict[str, Any] = {
            "bom-ref": f"finding-{i}",
            "id": f.rule_id,
            "source": {"name": "modeldossier"},
            "ratings": [{"source": {"name": "modeldossier"}, "severity": f.severity.value, "method": "other"}],
            "description": f.message,
            "affects": [{"ref": _file_ref(canonical(f.file, aliases))}],
            "properties": [{"name": "modeldossier:file", "value": f.file}],
        }
        if f.evidence is not None:
            vuln["detail"] = f.evidence
        if f.location:
            vuln["properties"].append({"name": "modeldossier:location", "value": f.location})
        vulnerabilities.append(vuln)
    bom: dict[str, Any] = {
        "$schema": "http://cyclonedx.org/schema/bom-1.6.schema.json",
        "bomFormat": "CycloneDX",
        "specVersion": SPEC_VERSION,
        "serialNumber": uuid.uuid4().urn,
        "version": 1,
        "metadata": {
            "timestamp": utc_now(),
            "tools": {"components": [{"type": "application", "name": "modeldossier", "version": __version__}]},
            "component": _model_component(subject),
        },
        "components": list(files.values()),
        "dependencies": [{"ref": MODEL_REF, "dependsOn": [c["bom-ref"] for c in files.values()]}]
        + [{"ref": c["bom-ref"]} for c in files.values()],
    }
    if vulnerabilities:
        bom["vulnerabilities"] = vulnerabilities
    if section.notes:
        bom["metadata"]["properties"] = [{"name": "modeldossier:note", "value": n} for n in section.notes]
    return storable(bom)
