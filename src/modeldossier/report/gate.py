"""Evaluate a gate policy against a dossier: every rule passes, fails (with its evidence) or is skipped."""

from __future__ import annotations

import fnmatch
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from modeldossier.censorship.models import supported
from modeldossier.common import Severity
from modeldossier.report.codesec_view import differentials, primary
from modeldossier.report.fields import get, interval, items, number, pp, text
from modeldossier.report.policy import CountryRule, OnMissing, Policy

Status = Literal["pass", "fail", "skip"]
MAX_EVIDENCE = 25


@dataclass
class RuleResult:
    """The outcome of one policy rule."""

    rule: str
    status: Status
    message: str
    evidence: list[str] = field(default_factory=list)


@dataclass
class GateResult:
    """All rule outcomes; `passed` is False when any rule failed."""

    policy: str
    subject: str
    results: list[RuleResult]

    @property
    def passed(self) -> bool:
        return not any(r.status == "fail" for r in self.results)

    @property
    def failed(self) -> list[RuleResult]:
        return [r for r in self.results if r.status == "fail"]

    def to_dict(self) -> dict[str, Any]:
        return {"policy": self.policy, "subject": self.subject, "passed": self.passed,
                "results": [asdict(r) for r in self.results]}


def _cap(lines: list[str]) -> list[str]:
    return lines if len(lines) <= MAX_EVIDENCE else [*lines[:MAX_EVIDENCE], f"... and {len(lines) - MAX_EVIDENCE} more"]


def _missing(rule: str, section: str, dossier: Any, on_missing: OnMissing) -> RuleResult:
    reason = get(dossier, f"run.not_run.{section}", "no reason recorded")
    status: Status = "fail" if on_missing == "fail" else "skip"
    return RuleResult(rule, status, f"section '{section}' not in the dossier (not run: {reason})")


def _severity(value: Any) -> Severity | None:
    try:
        return Severity(text(value))
    except ValueError:
        return None


def _finding_line(f: Any) -> str:
    where = f" at {text(get(f, 'location'))}" if get(f, "location") else ""
    evidence = f" [{text(get(f, 'evidence'))}]" if get(f, "evidence") else ""
    return (f"{text(get(f, 'severity'))} {text(get(f, 'rule_id'))} in {text(get(f, 'file'))}{where}: "
            f"{text(get(f, 'message'))}{evidence}")


def _artifacts(policy: Policy, d: Any) -> list[RuleResult]:
    rules = policy.artifacts
    if rules is None:
        return []
    section = get(d, "artifacts")
    names = []
    if rules.max_severity is not None:
        names.append("artifacts.max_severity")
    if rules.forbid_rules:
        names.append("artifacts.forbid_rules")
    if section is None:
        return [_missing(n, "artifacts", d, policy.missing_sections) for n in names]
    findings = [f for r in items(section, "files") for f in items(r, "findings")]
    out = []
    if rules.max_severity is not None:
        limit = rules.max_severity
        worse = [f for f in findings if (s := _severity(get(f, "severity"))) is not None and s.rank > limit.rank]
        if worse:
            message = f"{len(worse)} finding(s) worse than '{limit.value}'"
            out.append(RuleResult("artifacts.max_severity", "fail", message,
                                  _cap([_finding_line(f) for f in worse])))
        else:
            out.append(RuleResult("artifacts.max_severity", "pass",
                                  f"no finding worse than '{limit.value}' ({len(findings)} finding(s) in total)"))
    if rules.forbid_rules:
        hits = [f for f in findings if any(fnmatch.fnmatchcase(text(get(f, "rule_id"), ""), pat)
                                            for pat in rules.forbid_rules)]
        status: Status = "fail" if hits else "pass"
        out.append(RuleResult("artifacts.forbid_rules", status,
                              f"{len(hits)} finding(s) match forbidden rules {', '.join(rules.forbid_rules)}",
                              _cap([_finding_line(f) for f in hits])))
    return out


def _country(rule_name: str, rule: CountryRule, attribution: Any) -> RuleResult:
    country = get(attribution, "country")
    codes = [str(country).upper()] if country else [str(c).upper() for c in items(attribution, "countries")]
    org = text(get(attribution, "organization") or get(attribution, "query"), "unknown organization")
    evidence = [f"organization: {org}; country: {', '.join(codes) or 'unknown'}"]
    evidence += [
        f"{text(get(e, 'kind'))} = {text(get(e, 'value'))} (from {text(get(e, 'source'))})"
        for e in items(attribution, "evidence")
    ]
    if not codes:
        status: Status = "fail" if rule.unknown == "fail" else "pass"
        return RuleResult(rule_name, status, f"country unknown for {org} (policy: unknown -> {rule.unknown})",
                          _cap(evidence))
    denied = [c for c in codes if c in rule.deny]
    if denied:
        return RuleResult(rule_name, "fail", f"{org} is attributed to denied country {', '.join(denied)}",
                          _cap(evidence))
    if rule.allow is not None:
        outside = [c for c in codes if c not in rule.allow]
        if outside:
            return RuleResult(rule_name, "fail",
                              f"{org} is attributed to {', '.join(outside)}, not in the allowed list "
                              f"({', '.join(rule.allow) or 'empty'})", _cap(evidence))
    return RuleResult(rule_name, "pass", f"{org}: {', '.join(codes)} allowed", _cap(evidence))


def _provenance(policy: Policy, d: Any) -> list[RuleResult]:
    rules = policy.provenance
    if rules is None:
        return []
    names = [n for n, on in (
        ("provenance.forbid_undeclared_derivative", rules.forbid_undeclared_derivative),
        ("provenance.lineage_root_country", rules.lineage_root_country is not None),
        ("provenance.author_country", rules.author_country is not None),
    ) if on]
    p = get(d, "provenance")
    if p is None:
        return [_missing(n, "provenance", d, policy.missing_sections) for n in names]
    out = []
    if rules.forbid_undeclared_derivative:
        undeclared = get(p, "undeclared_derivative")
        conf = number(get(p, "observed_confidence"))
        evidence = [
            f"declared base: {text(get(p, 'declared_base'), 'none declared')}",
            f"observed family: {text(get(p, 'observed_family'), 'unknown')}"
            + (f" (confidence {conf:.0%})" if conf is not None else ""),
        ] + [
            f"observed {text(get(e, 'kind'))} = {text(get(e, 'value'))} (from {text(get(e, 'source'))})"
            for e in items(p, "observed") if get(e, "available", True)
        ]
        if undeclared is True:
            out.append(RuleResult("provenance.forbid_undeclared_derivative", "fail",
                                  "the model is an undeclared derivative", _cap(evidence)))
        elif undeclared is None:
            status: Status = "fail" if rules.undetermined_lineage == "fail" else "pass"
            out.append(RuleResult("provenance.forbid_undeclared_derivative", status,
                                  f"declared vs observed lineage not determined "
                                  f"(policy: undetermined_lineage -> {rules.undetermined_lineage})", _cap(evidence)))
        else:
            out.append(RuleResult("provenance.forbid_undeclared_derivative", "pass",
                                  "observed lineage agrees with the declared one", _cap(evidence)))
    if rules.lineage_root_country is not None:
        result = _country("provenance.lineage_root_country", rules.lineage_root_country,
                          get(p, "lineage_root_country"))
        result.evidence.insert(0, f"lineage root: {text(get(p, 'lineage_root'), 'unknown')}")
        out.append(result)
    if rules.author_country is not None:
        out.append(_country("provenance.author_country", rules.author_country, get(p, "author_country")))
    return out


def _stat(diff: Any, statistic: str) -> float | None:
    return number(get(diff, statistic))


def _diff_line(label: str, diff: Any) -> str:
    return f"{label}: {pp(get(diff, 'estimate'))} {interval(get(diff, 'ci_low'), get(diff, 'ci_high'), pp)}".strip()


def _behavior(policy: Policy, d: Any) -> list[RuleResult]:
    rules = policy.behavior
    if rules is None:
        return []
    names = [n for n, on in (("behavior.max_asymmetry", rules.max_asymmetry is not None),
                             ("behavior.max_flagged", rules.max_flagged is not None)) if on]
    b = get(d, "behavior")
    if b is None:
        return [_missing(n, "behavior", d, policy.missing_sections) for n in names]
    out = []
    every = items(b, "asymmetry")
    asym = [a for a in every if supported(a)]  # an unsupported row has no interval to judge
    if rules.max_asymmetry is not None:
        limit, stat = rules.max_asymmetry, rules.statistic
        measured = [(a, _stat(get(a, "difference"), stat)) for a in asym]
        measured = [(a, v) for a, v in measured if v is not None]
        over = [(a, v) for a, v in measured if v > limit]
        label = "CI lower bound" if stat == "ci_low" else "point estimate"
        lines = [_diff_line(f"{text(get(a, 'topic'))}/{text(get(a, 'language'))}", get(a, "difference"))
                 for a, _ in sorted(over, key=lambda av: -av[1])]
        if not measured:
            status: Status = "fail" if policy.missing_sections == "fail" else "skip"
            few = f" ({len(every)} row(s) with too few templates)" if every else ""
            out.append(RuleResult("behavior.max_asymmetry", status, f"no asymmetry {label} in the dossier{few}"))
        elif over:
            out.append(RuleResult("behavior.max_asymmetry", "fail",
                                  f"{len(over)} of {len(measured)} asymmetry {label}(s) above {pp(limit)}",
                                  _cap(lines)))
        else:
            worst = max(v for _, v in measured)
            out.append(RuleResult("behavior.max_asymmetry", "pass",
                                  f"largest asymmetry {label} {pp(worst)} <= {pp(limit)} ({len(measured)} cells)"))
    if rules.max_flagged is not None:
        flagged = [a for a in asym if get(a, "flagged") is True]  # old dossiers could flag one template
        status = "fail" if len(flagged) > rules.max_flagged else "pass"
        out.append(RuleResult("behavior.max_flagged", status,
                              f"{len(flagged)} flagged topic/language cell(s), at most {rules.max_flagged} allowed",
                              _cap([_diff_line(f"{text(get(a, 'topic'))}/{text(get(a, 'language'))}",
                                               get(a, "difference")) for a in flagged])))
    return out


def _codesec(policy: Policy, d: Any) -> list[RuleResult]:
    rules = policy.codesec
    if rules is None or rules.max_differential is None:
        return []
    c = get(d, "codesec")
    if c is None:
        return [_missing("codesec.max_differential", "codesec", d, policy.missing_sections)]
    limit, stat = rules.max_differential, rules.statistic
    measured = []
    for ctx in items(c, "contexts"):
        if rules.metric:
            chosen = [x for x in differentials(ctx) if x.metric == rules.metric]
        else:
            head = primary(ctx)
            chosen = [head] if head is not None else []
        for x in chosen:
            value = _stat(x.difference, stat)
            if value is not None:
                measured.append((x, value))
    label = "CI lower bound" if stat == "ci_low" else "point estimate"
    over = sorted(((x, v) for x, v in measured if v > limit), key=lambda xv: -xv[1])
    if not measured:
        status: Status = "fail" if policy.missing_sections == "fail" else "skip"
        return [RuleResult("codesec.max_differential", status, f"no code-sec differential {label} in the dossier")]
    if over:
        return [RuleResult("codesec.max_differential", "fail",
                           f"{len(over)} of {len(measured)} differential {label}(s) above {pp(limit)}",
                           _cap([_diff_line(f"{x.context} vs {x.control} ({x.metric})", x.difference)
                                 for x, _ in over]))]
    worst = max(v for _, v in measured)
    return [RuleResult("codesec.max_differential", "pass",
                       f"largest differential {label} {pp(worst)} <= {pp(limit)} ({len(measured)} contexts)")]


def _serving(policy: Policy, d: Any) -> list[RuleResult]:
    """The serving-country rule: the operator's country and each upstream's, local endpoints pass."""
    rule = policy.serving.country if policy.serving is not None else None
    if rule is None:
        return []
    name = "serving.country"
    serving = get(d, "subject.serving")
    if serving is None:
        status: Status = "fail" if policy.missing_sections == "fail" else "skip"
        return [RuleResult(name, status, "no endpoint was probed: who serves the model is not recorded")]
    evidence = [text(get(serving, "basis"), "no basis recorded")]
    evidence += [f"upstream {text(get(u, 'name'))}: {get(u, 'answers')} answer(s), "
                 f"{text(get(u, 'operator'), 'operator unknown')} ({text(get(u, 'country'), 'country unknown')})"
                 for u in items(serving, "upstreams")]
    if get(serving, "local"):
        return [RuleResult(name, "pass", "local endpoint: the prompts stay on this network", _cap(evidence))]
    codes = sorted({str(c).upper() for c in [get(serving, "country"), *(get(u, "country") for u in
                                                                       items(serving, "upstreams"))] if c})
    unknown_upstreams = [u for u in items(serving, "upstreams") if not get(u, "country")]
    operator = text(get(serving, "operator"), text(get(serving, "host"), "unknown operator"))
    denied = [c for c in codes if c in rule.deny]
    if denied:
        return [RuleResult(name, "fail", f"prompts reach {', '.join(denied)} (denied): {operator}", _cap(evidence))]
    outside = [c for c in codes if rule.allow is not None and c not in rule.allow]
    if outside:
        return [RuleResult(name, "fail", f"prompts reach {', '.join(outside)}, not in the allowed list "
                                         f"({', '.join(rule.allow or []) or 'empty'})", _cap(evidence))]
    if not codes or unknown_upstreams:
        status = "fail" if rule.unknown == "fail" else "pass"
        return [RuleResult(name, status, f"serving country unknown for {operator}"
                                         + (f" or {len(unknown_upstreams)} upstream(s)" if unknown_upstreams else "")
                                         + f" (policy: unknown -> {rule.unknown})", _cap(evidence))]
    return [RuleResult(name, "pass", f"prompts reach {', '.join(codes)}: allowed", _cap(evidence))]


def evaluate(policy: Policy, dossier: Any, policy_name: str = "policy") -> GateResult:
    """Every rule of ``policy`` against ``dossier``."""
    results: list[RuleResult] = []
    for section in policy.required_sections:
        if get(dossier, section) is None:
            reason = get(dossier, f"run.not_run.{section}", "no reason recorded")
            results.append(RuleResult(f"required_sections.{section}", "fail",
                                      f"required section '{section}' is missing (not run: {reason})"))
        else:
            results.append(RuleResult(f"required_sections.{section}", "pass", f"section '{section}' present"))
    if policy.require_complete:
        for section in ("artifacts", "provenance", "behavior", "codesec"):
            status = get(dossier, f"{section}.status")
            if status is not None and status != "complete":
                notes = [text(n) for n in items(get(dossier, section), "notes")]
                results.append(RuleResult(f"require_complete.{section}", "fail",
                                          f"section '{section}' is {status}", _cap(notes)))
    for part in (_artifacts, _provenance, _behavior, _codesec, _serving):
        results.extend(part(policy, dossier))
    return GateResult(policy.name or policy_name, text(get(dossier, "subject.name"), "unnamed"), results)
