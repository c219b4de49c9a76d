"""Match scanner file reports to the subject's files (the scanner may show paths absolute or with the root)."""

from __future__ import annotations

from pathlib import PurePath

from modeldossier.artifacts.models import ArtifactsSection
from modeldossier.dossier import Subject


def alias_map(subject: Subject | None) -> dict[str, str]:
    """Every spelling of a subject file (relative, joined with the root, absolute) -> its subject-relative path."""
    aliases: dict[str, str] = {}
    if subject is None:
        return aliases
    ref = PurePath(subject.ref)
    for sf in subject.files:
        for name in (sf.path, str(ref / sf.path), str(ref.parent / sf.path)):
            aliases.setdefault(name.replace("\\", "/"), sf.path)
    return aliases


def canonical(path: str, aliases: dict[str, str]) -> str:
    """The subject-relative path for a scanned path when it names a subject file, else the path itself."""
    return aliases.get(path.replace("\\", "/"), path)


def file_entries(section: ArtifactsSection, subject: Subject | None,
                 aliases: dict[str, str]) -> dict[str, tuple[int, str | None, str | None]]:
    """path -> (size, sha256, format) for every subject file and every scanned file or archive member."""
    entries: dict[str, tuple[int, str | None, str | None]] = {}
    for sf in subject.files if subject else []:
        entries[sf.path] = (sf.size, sf.sha256, None)
    for report in section.files:
        key = canonical(report.path, aliases)
        size, digest, _ = entries.get(key, (report.size, None, None))
        entries[key] = (size or report.size, digest or report.sha256, report.format)
    return entries
