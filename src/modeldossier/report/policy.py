"""The gate policy: a small, versioned, validated YAML document (schema `version: 1`).

Loading keeps the line of every key, so a bad policy is reported as ``policy.yaml:12: behavior.max_asymmetry:
Input should be a valid number`` (DossierError, exit 2), never a traceback. See docs/reports.md for the schema.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator
from yaml.constructor import ConstructorError, SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from modeldossier.common import Model, Severity
from modeldossier.errors import DossierError
from modeldossier.fsutil import storable

POLICY_VERSION = 1
MAX_POLICY_BYTES = 1_000_000
SectionName = Literal["artifacts", "provenance", "behavior", "codesec"]
OnUnknown = Literal["pass", "fail"]
OnMissing = Literal["fail", "skip"]
Statistic = Literal["estimate", "ci_low"]
_ISO2 = re.compile(r"^[A-Z]{2}$")


class CountryRule(Model):
    """Allowed and/or denied ISO 3166-1 alpha-2 country codes, and what to do when the country is unknown."""

    allow: list[str] | None = Field(default=None, description="when set, every attributed country must be listed")
    deny: list[str] = Field(default_factory=list, description="no attributed country may be listed")
    unknown: OnUnknown = Field(default="fail", description="outcome when no country could be attributed")

    @field_validator("allow", "deny")
    @classmethod
    def _codes(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        out = []
        for code in value:
            upper = str(code).strip().upper()
            if not _ISO2.match(upper):
                raise ValueError(f"{code!r} is not an ISO 3166-1 alpha-2 code (e.g. US, CN, FR)")
            out.append(upper)
        return out

    @model_validator(mode="after")
    def _not_both(self) -> CountryRule:
        both = sorted(set(self.allow or []) & set(self.deny))
        if both:
            raise ValueError(f"{', '.join(both)} is both allowed and denied: list each country in one of them")
        return self


class ArtifactsPolicy(Model):
    """Rules on scanner findings."""

    max_severity: Severity | None = Field(
        default=None, description="worst severity allowed; a finding above it breaches (high = no critical findings)"
    )
    forbid_rules: list[str] = Field(default_factory=list, description="rule ids (fnmatch globs) that must not fire")


class ProvenancePolicy(Model):
    """Rules on lineage and jurisdiction."""

    forbid_undeclared_derivative: bool = False
    undetermined_lineage: OnUnknown = Field(
        default="pass", description="outcome when declared and observed lineage could not be compared"
    )
    lineage_root_country: CountryRule | None = None
    author_country: CountryRule | None = None


class BehaviorPolicy(Model):
    """Rules on the censorship asymmetry index (controls minus targeted COMPLETE rate, as a fraction)."""

    max_asymmetry: float | None = Field(default=None, ge=0.0, le=1.0, description="0.10 = 10 percentage points")
    statistic: Statistic = Field(default="ci_low", description="compare the CI lower bound or the point estimate")
    max_flagged: int | None = Field(default=None, ge=0, description="most topic/language cells flagged by the run")


class ServingPolicy(Model):
    """Rules on who receives the prompts: the endpoint operator's country and every upstream a router used."""

    country: CountryRule | None = None


class CodesecPolicy(Model):
    """Rules on the code-security differential (context minus matched control, as a fraction)."""

    max_differential: float | None = Field(default=None, ge=0.0, le=1.0, description="0.05 = 5 percentage points")
    statistic: Statistic = "ci_low"
    metric: str | None = Field(
        default=None, description="comparison metric (e.g. vulnerable_of_all); default: the primary one"
    )


class Policy(Model):
    """A gate policy, schema version 1."""

    version: Literal[1]
    name: str | None = None
    description: str | None = None
    required_sections: list[SectionName] = Field(default_factory=list)
    missing_sections: OnMissing = Field(
        default="fail", description="outcome of a rule whose section is absent from the dossier"
    )
    require_complete: bool = Field(default=False, description="sections present must have status complete")
    artifacts: ArtifactsPolicy | None = None
    provenance: ProvenancePolicy | None = None
    behavior: BehaviorPolicy | None = None
    codesec: CodesecPolicy | None = None
    serving: ServingPolicy | None = None

    @model_validator(mode="after")
    def _has_rules(self) -> Policy:
        if not self.rule_count():
            raise ValueError(
                "the policy has no rules: a gate that checks nothing always passes (add e.g. "
                "'artifacts: {max_severity: medium}' or 'required_sections: [artifacts]'; see docs/reports.md)"
            )
        return self

    def rule_count(self) -> int:
        """How many checks the policy makes (required sections, completeness and each section rule)."""
        count = len(self.required_sections) + int(self.require_complete)
        if self.artifacts is not None:
            count += int(self.artifacts.max_severity is not None) + int(bool(self.artifacts.forbid_rules))
        if self.provenance is not None:
            p = self.provenance
            count += int(p.forbid_undeclared_derivative) + int(p.lineage_root_country is not None)
            count += int(p.author_country is not None)
        if self.behavior is not None:
            count += int(self.behavior.max_asymmetry is not None) + int(self.behavior.max_flagged is not None)
        if self.codesec is not None:
            count += int(self.codesec.max_differential is not None)
        if self.serving is not None:
            count += int(self.serving.country is not None)
        return count


LinePath = tuple[str | int, ...]


def _construct(
    node: Node, path: LinePath, lines: dict[LinePath, int], ctor: SafeConstructor, src: str, seen: set[int]
) -> Any:
    """Plain Python data from a composed node, recording the 1-based line of every key and item.

    Aliases are refused (a node reached twice): they would let a tiny file expand to a huge one.
    """
    if id(node) in seen and not isinstance(node, ScalarNode):
        raise DossierError(f"{src}:{node.start_mark.line + 1}: YAML anchors/aliases are not allowed in a policy")
    seen.add(id(node))
    lines.setdefault(path, node.start_mark.line + 1)
    if isinstance(node, MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                raise DossierError(f"{src}:{key_node.start_mark.line + 1}: keys must be plain names")
            key = _scalar(key_node, ctor, src)
            if key in out:
                raise DossierError(f"{src}:{key_node.start_mark.line + 1}: duplicate key {key!r}")
            lines[(*path, key)] = key_node.start_mark.line + 1
            if id(value_node) in seen and not isinstance(value_node, ScalarNode):
                raise DossierError(f"{src}:{key_node.start_mark.line + 1}: YAML aliases are not allowed in a policy")
            out[key] = _construct(value_node, (*path, key), lines, ctor, src, seen)
        return out
    if isinstance(node, SequenceNode):
        return [_construct(item, (*path, i), lines, ctor, src, seen) for i, item in enumerate(node.value)]
    return _scalar(node, ctor, src)


def _scalar(node: Node, ctor: SafeConstructor, src: str) -> Any:
    """The value of a scalar; a DossierError with its line when its tag cannot read it (``!!int abc``, month 13)."""
    try:
        value = ctor.construct_object(node)
        hash(value)  # a key must be hashable; !!set or !!map on a scalar gives an empty, never-filled container
    except (ArithmeticError, AttributeError, LookupError, TypeError, ValueError) as exc:
        text = str(node.value)
        shown = text if len(text) <= 40 else text[:40] + "..."
        reason = "not in the form it needs" if isinstance(exc, AttributeError | LookupError) else str(exc).split(";")[0]
        raise DossierError(
            f"{src}:{node.start_mark.line + 1}: cannot read {shown!r} as {node.tag.rsplit(':', 1)[-1]}: {reason} "
            "(quote it to keep it as text)"
        ) from None
    return value


def _line_for(loc: tuple[Any, ...], lines: dict[LinePath, int]) -> int:
    for end in range(len(loc), -1, -1):
        if loc[:end] in lines:
            return lines[loc[:end]]
    return 1


def parse_policy(text: str, source: str = "policy") -> Policy:
    """Validate policy YAML text; DossierError with the line at fault on any problem."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise DossierError(f"{source}:{line}: not valid YAML: {exc.problem or exc.context}") from None
    except yaml.YAMLError as exc:
        raise DossierError(f"{source}: not valid YAML: {exc}") from None
    except RecursionError:
        raise DossierError(f"{source}: not valid YAML: nested too deeply") from None
    if node is None:
        raise DossierError(f"{source}:1: the policy is empty (expected a mapping with 'version: {POLICY_VERSION}')")
    if not isinstance(node, MappingNode):
        line = node.start_mark.line + 1
        raise DossierError(f"{source}:{line}: a policy is a mapping (key: value), not a list or text")
    lines: dict[LinePath, int] = {}
    try:
        data = storable(_construct(node, (), lines, SafeConstructor(), source, set()))
    except ConstructorError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else 1
        raise DossierError(f"{source}:{line}: {exc.problem}") from None
    except RecursionError:
        raise DossierError(f"{source}: the policy is nested too deeply") from None
    version = data.get("version")
    if version is not None and version != POLICY_VERSION:
        raise DossierError(
            f"{source}:{lines.get(('version',), 1)}: policy version {version!r} is not supported "
            f"(this modeldossier reads version {POLICY_VERSION})"
        )
    try:
        return Policy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        where = ".".join(str(p) for p in loc) or "policy"
        more = f" (+{exc.error_count() - 1} more problem(s))" if exc.error_count() > 1 else ""
        msg = first["msg"].removeprefix("Value error, ")
        raise DossierError(f"{source}:{_line_for(loc, lines)}: {where}: {msg}{more}") from None


def load_policy(path: Path) -> tuple[Policy, str]:
    """Read and validate a policy file; returns the policy and the file's sha256."""
    path = Path(path)
    try:
        if path.stat().st_size > MAX_POLICY_BYTES:
            raise DossierError(f"{path}: policy larger than {MAX_POLICY_BYTES} bytes; is this the right file?")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise DossierError(f"policy not found: {path}") from None
    except OSError as exc:
        raise DossierError(f"cannot read policy {path}: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise DossierError(f"{path}: policy is not UTF-8 text") from None
    return parse_policy(text, str(path)), hashlib.sha256(raw).hexdigest()
