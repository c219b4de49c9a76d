"""Which capability fills which section during `audit`, and why a section was not run."""

from __future__ import annotations

import importlib
from pathlib import Path

from modeldossier.dossier import Dossier, RunRecord
from modeldossier.subject import ResolvedSubject


def _capability(module: str, function: str):
    """The capability function, or None when this build does not include it."""
    try:
        return getattr(importlib.import_module(module), function)
    except (ModuleNotFoundError, AttributeError):
        return None


def run_sections(
    result: Dossier,
    resolved: ResolvedSubject,
    *,
    target: str | None,
    out_dir: Path,
    quiet: bool,
    record: RunRecord,
    online: bool | None = None,
    samples: int = 1,
) -> list[str]:
    """Fill every section this build can fill; record a plain reason for each one it cannot."""
    written: list[str] = []
    root = resolved.root
    scan = _capability("modeldossier.artifacts.scanner", "scan_section")
    if root is None:
        result.run.not_run["artifacts"] = "no local files to scan (endpoint only)"
    elif scan is None:
        result.run.not_run["artifacts"] = "the artifact scanner is not part of this build"
    else:
        result.artifacts = scan([root], quiet=quiet)
        written.append("artifacts")

    origin = _capability("modeldossier.provenance.origin", "origin_section")
    hub_id = resolved.subject.ref if resolved.subject.kind == "hub" else None
    if origin is None:
        result.run.not_run["provenance"] = "the provenance analysis is not part of this build"
    else:
        result.provenance = origin(root, hub_id, online=online)
        written.append("provenance")

    for section, module, function in (
        ("behavior", "modeldossier.censorship.audit", "behavior_section"),
        ("codesec", "modeldossier.codesec.audit", "codesec_section"),
    ):
        capability = _capability(module, function)
        if target is None:
            result.run.not_run[section] = "no --target given: behaviour probes need a served model"
        elif capability is None:
            result.run.not_run[section] = f"the {section} audit is not part of this build"
        else:
            setattr(result, section, capability(target, out_dir=out_dir, samples=samples, quiet=quiet))
            written.append(section)
    return written
