"""The `artifacts` section: per-file security findings."""

from __future__ import annotations

from pydantic import Field

from modeldossier.common import Model, Section, Severity


class Finding(Model):
    """One thing wrong with one file, with where and why."""

    rule_id: str = Field(description="Stable id, e.g. pickle.global.dangerous")
    severity: Severity
    message: str
    file: str
    location: str | None = Field(default=None, description="offset / opcode index / member / key / line")
    evidence: str | None = None


class FileReport(Model):
    """What the scanner saw in one file (or archive member)."""

    path: str
    format: str = Field(description="Format sniffed from content, e.g. pickle, safetensors, gguf, zip")
    size: int = 0
    sha256: str | None = None
    findings: list[Finding] = Field(default_factory=list)
    seconds: float = 0.0
    member_of: str | None = Field(default=None, description="The archive (or outer file) this member came from")
    errors: list[str] = Field(default_factory=list, description="Checks that could not run on this file, and why")


class ArtifactsSection(Section):
    """Security findings for every file of the subject."""

    files: list[FileReport] = Field(default_factory=list)
    allowlist_version: str | None = None
    scanner_version: str | None = Field(default=None, description="modeldossier version that produced the scan")
    counts: dict[str, int] = Field(default_factory=dict, description="Number of findings per severity")
    bytes_scanned: int = Field(default=0, description="Total size of the top-level files scanned")
    seconds: float = 0.0

    @property
    def findings(self) -> list[Finding]:
        """Every finding of every file, in file order."""
        return [f for report in self.files for f in report.findings]

    def worst(self) -> Severity | None:
        """The worst severity found, or None when there are no findings."""
        found = self.findings
        return max((f.severity for f in found), key=lambda s: s.rank) if found else None
