"""Which capability fills which section during `audit`, which data files each depends on, and why a section
was not run."""

from __future__ import annotations

import importlib
from collections.abc import Collection
from pathlib import Path

from modeldossier import runinfo
from modeldossier.dossier import DataFile, Dossier, RunRecord
from modeldossier.subject import ResolvedSubject


def _capability(module: str, function: str):
    """The capability function, or None only when its module is absent from this build (a bug inside it raises)."""
    try:
        loaded = importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return None
    return getattr(loaded, function, None)


def section_data_files(section: str) -> list[DataFile]:
    """The versioned data files (allowlists, registries, suites, rules, weights) behind one section, hashed."""
    if section == "artifacts":
        from modeldossier.artifacts.format_rules import load_catalogue
        from modeldossier.artifacts.scanner import data_file_paths

        catalogue = load_catalogue()
        pairs = [*data_file_paths(), (catalogue.path, catalogue.version)]
        return [runinfo.data_file(p, name=f"artifacts/{Path(p).name}", version=v) for p, v in pairs]
    if section == "provenance":
        from modeldossier.provenance.origin import data_files

        return data_files()
    if section == "behavior":
        from modeldossier.censorship import suite
        from modeldossier.censorship.classify import EMBED_HEAD_FILE, WEIGHTS_FILE, weights_path
        from modeldossier.censorship.instrument import default_path as instrument_path

        loaded = suite.load()
        instrument = [instrument_path()] if instrument_path().is_file() else []
        return [
            runinfo.data_file(loaded.path, name="censorship/suite.yaml", version=loaded.version),
            *(runinfo.data_file(weights_path(f), name=f"censorship/{f}") for f in (WEIGHTS_FILE, EMBED_HEAD_FILE)),
            *(runinfo.data_file(p, name="censorship/instrument.json") for p in instrument),
        ]
    if section == "codesec":
        from modeldossier.codesec.audit import data_files

        return [runinfo.data_file(path, name=name) for name, path in data_files().items()]
    if section == "media":
        from modeldossier.media import suite as media_suite
        from modeldossier.media.content import default_placeholders_path, load_placeholders

        loaded_media = media_suite.load()
        return [runinfo.data_file(loaded_media.path, name="media/suite.yaml", version=loaded_media.version),
                runinfo.data_file(default_placeholders_path(), name="media/placeholders.yaml",
                                  version=load_placeholders().version)]
    raise ValueError(f"unknown section {section!r}")


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
    sections: Collection[str] | None = None,
) -> list[str]:
    """Fill every section the inputs allow (of ``sections``, default all); record why each other one was not run."""
    written: list[str] = []
    root = resolved.root
    wanted = set(sections) if sections is not None else {"artifacts", "provenance", "behavior", "codesec"}
    for name in sorted({"artifacts", "provenance", "behavior", "codesec"} - wanted):
        result.run.not_run[name] = "not requested"
    if "artifacts" in wanted and root is None:
        result.run.not_run["artifacts"] = "no local files to scan (endpoint only)"
    elif "artifacts" in wanted:
        from modeldossier.artifacts.scanner import scan_section

        result.artifacts = scan_section([root], quiet=quiet)
        written.append("artifacts")

    from modeldossier.provenance.origin import origin_section

    hub_id = resolved.subject.ref if resolved.subject.kind == "hub" else None
    if "provenance" in wanted and (root is not None or hub_id is not None):
        result.provenance = origin_section(root, hub_id, online=online)
        written.append("provenance")
    elif "provenance" in wanted:
        result.run.not_run["provenance"] = "no local files or Hub id to trace (endpoint only)"

    probes = [name for name in ("behavior", "codesec") if name in wanted]
    if target is None:
        why = "no --target given: behaviour probes need a served model"
        for name in probes:
            result.run.not_run[name] = why
    else:
        if "behavior" in wanted:
            from modeldossier.censorship.audit import behavior_section

            result.behavior = behavior_section(target, out_dir=out_dir, samples=samples, quiet=quiet)
        if "codesec" in wanted:
            from modeldossier.codesec.audit import codesec_section

            result.codesec = codesec_section(target, out_dir=out_dir, samples=samples, quiet=quiet)
        written += probes
    for section in written:
        record.data_files.extend(section_data_files(section))
    return written
