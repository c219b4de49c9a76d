"""Render a CycloneDX 1.6 ML-BOM: the model, its files with SHA-256, the findings; from a dossier also the license,
the model card (lineage, family, countries, measured behaviour) and the pedigree (declared base model).

Human-readable strings are shown through ``modeldossier.display.visible``: a BOM viewer never renders a raw
control or bidi character of a file name or card field.
"""

from __future__ import annotations

import uuid
from typing import Any

from modeldossier import __version__
from modeldossier.artifacts.models import ArtifactsSection
from modeldossier.display import visible_all
from modeldossier.dossier import Dossier, Subject, utc_now
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
    return visible_all(bom)


def _prop(name: str, value: Any) -> dict[str, str]:
    return {"name": f"modeldossier:{name}", "value": str(value)}


def _model_card(d: Dossier) -> dict[str, Any]:
    """The CycloneDX modelCard: family and architecture, measured gaps with their CIs, lineage as properties."""
    card: dict[str, Any] = {"bom-ref": "model-card"}
    props: list[dict[str, str]] = []
    p = d.provenance
    if p is not None:
        undeclared = None if p.undeclared_derivative is None else str(p.undeclared_derivative).lower()
        params: dict[str, Any] = {}
        if p.observed_family or p.declared_family:
            params["architectureFamily"] = p.observed_family or p.declared_family
        archs = [e.value for e in p.observed if e.kind == "config.architectures" and e.available and e.value]
        if archs:
            first = archs[0]
            params["modelArchitecture"] = ", ".join(map(str, first)) if isinstance(first, list) else str(first)
        if params:
            card["modelParameters"] = params
        for name, value in (
            ("declared-base", p.declared_base), ("declared-family", p.declared_family),
            ("observed-family", p.observed_family), ("observed-confidence", p.observed_confidence),
            ("undeclared-derivative", undeclared),
            ("author", p.author), ("author-country", p.author_country.country),
            ("lineage-root", p.lineage_root), ("lineage-root-country", p.lineage_root_country.country),
        ):
            if value is not None:
                props.append(_prop(name, value))
    metrics = []
    if d.behavior is not None:
        for a in d.behavior.asymmetry:
            diff = a.difference
            if diff.estimate is None:
                continue
            metric: dict[str, Any] = {"type": "complete-answer gap vs matched control (fraction)",
                                      "value": f"{diff.estimate:.4f}", "slice": f"{a.topic}/{a.language}"}
            if diff.ci_low is not None and diff.ci_high is not None:
                metric["confidenceInterval"] = {"lowerBound": f"{diff.ci_low:.4f}", "upperBound": f"{diff.ci_high:.4f}"}
            metrics.append(metric)
    if d.codesec is not None:
        for ctx in d.codesec.contexts:
            rate = ctx.vulnerable_of_code
            if rate is None or rate.rate is None:
                continue
            metric = {"type": "vulnerable code rate (of answers with code)", "value": f"{rate.rate:.4f}",
                      "slice": f"context {ctx.context}"}
            if rate.ci_low is not None and rate.ci_high is not None:
                metric["confidenceInterval"] = {"lowerBound": f"{rate.ci_low:.4f}", "upperBound": f"{rate.ci_high:.4f}"}
            metrics.append(metric)
    if metrics:
        card["quantitativeAnalysis"] = {"performanceMetrics": metrics}
    if props:
        card["properties"] = props
    return card


def render_dossier_cyclonedx(d: Dossier) -> dict[str, Any]:
    """A CycloneDX 1.6 ML-BOM for a whole dossier: files and hashes (subject and scan), findings, license,
    model card and pedigree. Sections that did not run are listed as ``modeldossier:not-run`` properties."""
    bom = render_cyclonedx(d.artifacts or ArtifactsSection(), d.subject)
    model = bom["metadata"]["component"]
    p = d.provenance
    if p is not None and p.license:
        model["licenses"] = [{"license": {"name": p.license}}]
    if p is not None and p.declared_base:
        model["pedigree"] = {"ancestors": [{"type": "machine-learning-model", "name": p.declared_base,
                                           "bom-ref": "declared-base"}]}
    model["modelCard"] = _model_card(d)
    if p is not None and p.author:
        model["author"] = p.author
    extra = [_prop("not-run", f"{name}: {why}") for name, why in d.run.not_run.items()]
    extra += [_prop("section", name) for name in d.sections_present()]
    bom["metadata"].setdefault("properties", []).extend(extra)
    return visible_all(bom)
