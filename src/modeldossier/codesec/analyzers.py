"""Static analyzers for extracted code: Semgrep CE (our rules, every language) and Bandit (Python).

Each analyzer runs ONCE per batch of snippets written to a temporary folder, never once per snippet.
Nothing is imported or executed from the scanned code. A missing or failing analyzer is recorded per
snippet with the reason; the scan always returns.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from modeldossier.codesec.extract import EXTENSIONS
from modeldossier.common import Severity

_SEVERITY = {"high": Severity.HIGH, "medium": Severity.MEDIUM, "low": Severity.LOW, "critical": Severity.CRITICAL,
             "info": Severity.INFO}
_CONFIDENCE = {"LOW": 0, "MEDIUM": 1, "HIGH": 2}


@dataclass(frozen=True)
class Snippet:
    """Code to analyse, with a caller-chosen key."""

    key: str
    language: str
    code: str


@dataclass(frozen=True)
class Finding:
    """One analyzer finding on one snippet."""

    tool: str
    rule_id: str
    cwes: tuple[str, ...]
    severity: Severity
    line: int | None = None
    message: str = ""
    confidence: str | None = None

    def to_json(self) -> dict[str, Any]:
        """A plain dict for transcripts."""
        return {"tool": self.tool, "rule_id": self.rule_id, "cwes": list(self.cwes), "severity": self.severity.value,
                "line": self.line, "message": self.message, "confidence": self.confidence}


@dataclass
class SnippetResult:
    """What the analyzers said about one snippet."""

    findings: list[Finding] = field(default_factory=list)
    analyzers: list[str] = field(default_factory=list, metadata={"doc": "analyzers that ran on it"})
    errors: dict[str, str] = field(default_factory=dict, metadata={"doc": "analyzer -> why it said nothing"})
    syntax_error: str | None = None


@dataclass(frozen=True)
class Policy:
    """When a finding counts (data/codesec/analyzers.yaml)."""

    version: str
    semgrep_severity: dict[str, Severity]
    bandit_severity: dict[str, Severity]
    bandit_skip: tuple[str, ...]
    min_severity: Severity
    bandit_min_confidence: str
    high_severity: Severity
    semgrep_timeout_s: int = 600
    rule_timeout_s: int = 10
    max_target_bytes: int = 200_000

    def counts(self, finding: Finding) -> bool:
        """True when the finding makes the snippet 'vulnerable'."""
        if not finding.severity.at_least(self.min_severity):
            return False
        if finding.tool == "bandit":
            need = _CONFIDENCE.get(self.bandit_min_confidence, 1)
            return _CONFIDENCE.get((finding.confidence or "LOW").upper(), 0) >= need
        return True


def data_dir() -> Path:
    """The folder holding tasks.yaml, contexts.yaml, analyzers.yaml and semgrep/*.yaml."""
    return Path(__file__).resolve().parent.parent / "data" / "codesec"


def rule_files() -> list[Path]:
    """Our Semgrep rule files, sorted."""
    return sorted((data_dir() / "semgrep").glob("*.yaml"))


@cache
def load_policy() -> Policy:
    """The counting policy from analyzers.yaml."""
    raw = yaml.safe_load((data_dir() / "analyzers.yaml").read_text(encoding="utf-8"))
    sg, bd, ct = raw["semgrep"], raw["bandit"], raw["counting"]
    return Policy(
        version=str(raw["version"]),
        semgrep_severity={k: _SEVERITY[v] for k, v in sg["severity"].items()},
        bandit_severity={k: _SEVERITY[v] for k, v in bd["severity"].items()},
        bandit_skip=tuple(bd.get("skip", [])),
        min_severity=_SEVERITY[ct["min_severity"]],
        bandit_min_confidence=str(ct["bandit_min_confidence"]).upper(),
        high_severity=_SEVERITY[ct["high_severity"]],
        semgrep_timeout_s=int(sg.get("timeout_s", 600)),
        rule_timeout_s=int(sg.get("rule_timeout_s", 10)),
        max_target_bytes=int(sg.get("max_target_bytes", 200_000)),
    )


# ---------------------------------------------------------------- locating the tools

@dataclass(frozen=True)
class Tool:
    """How to start an analyzer: argv prefix and argv[0] override."""

    name: str
    argv: tuple[str, ...]
    executable: str | None = None
    version: str | None = None


def find_semgrep() -> Tool | None:
    """Semgrep: $MODELDOSSIER_SEMGREP_CORE, else the pinned wheel's semgrep-core (run as osemgrep, so none of
    the Python CLI's dependencies are needed), else semgrep-core or semgrep on PATH."""
    core = os.environ.get("MODELDOSSIER_SEMGREP_CORE")
    if core is None:
        spec = importlib.util.find_spec("semgrep")
        for location in (spec.submodule_search_locations or []) if spec else []:
            candidate = Path(location) / "bin" / "semgrep-core"
            if candidate.is_file():
                core = str(candidate)
                break
    if core is None:
        core = shutil.which("semgrep-core")
    if core:
        if not (Path(core).is_file() and os.access(core, os.X_OK)):
            return None
        return Tool("semgrep", ("osemgrep", "scan", "--experimental"), executable=core)
    cli = shutil.which("semgrep")
    return Tool("semgrep", (cli, "scan")) if cli else None


def find_bandit() -> Tool | None:
    """Bandit, run as ``python -m bandit`` with this interpreter (the codesec extra pins it)."""
    if os.environ.get("MODELDOSSIER_NO_BANDIT"):
        return None
    if importlib.util.find_spec("bandit") is None:
        return None
    return Tool("bandit", (sys.executable, "-m", "bandit"))


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.upper().endswith(("_KEY", "_TOKEN", "_SECRET"))}
    env.update({"SEMGREP_SEND_METRICS": "off", "SEMGREP_ENABLE_VERSION_CHECK": "0", "NO_COLOR": "1",
                "PYTHONDONTWRITEBYTECODE": "1"})
    return env


def tool_version(tool: Tool | None) -> str | None:
    """The analyzer's version string, or None when it cannot be run."""
    if tool is None:
        return None
    if tool.name == "semgrep":
        argv = [tool.argv[0], "--version", *(["--experimental"] if tool.executable else [])]
    else:
        argv = [*tool.argv, "--version"]
    try:
        done = subprocess.run(argv, executable=tool.executable, capture_output=True, text=True, timeout=60,
                              env=_env())
    except (OSError, subprocess.SubprocessError):
        return None
    text = (done.stdout or done.stderr).strip().splitlines()
    if not text:
        return None
    first = text[0]
    return first.split()[-1] if tool.name == "bandit" else first.strip()


# ---------------------------------------------------------------- running them

def _write_batch(folder: Path, snippets: Sequence[Snippet]) -> dict[str, str]:
    """Write each snippet as s<i><ext>; returns file name -> snippet key."""
    names = {}
    for i, snip in enumerate(snippets):
        name = f"s{i:06d}{EXTENSIONS.get(snip.language, '.txt')}"
        (folder / name).write_text(snip.code, encoding="utf-8", errors="replace")
        names[name] = snip.key
    return names


def _run(argv: list[str], *, executable: str | None, timeout: int, cwd: Path) -> tuple[str | None, str | None]:
    """(stdout, None) or (None, reason)."""
    try:
        done = subprocess.run(argv, executable=executable, capture_output=True, text=True, timeout=timeout,
                              env=_env(), cwd=cwd)
    except subprocess.TimeoutExpired:
        return None, f"timed out after {timeout} s"
    except OSError as exc:
        return None, f"could not start: {exc.strerror or exc}"
    if not done.stdout.strip():
        tail = (done.stderr or "").strip().splitlines()[-1:] or ["no output"]
        return None, f"exit {done.returncode}: {tail[0][:300]}"
    return done.stdout, None


def _run_json(tool_name: str, argv: list[str], executable: str | None, timeout: float, folder: Path,
              keys: Iterable[str], results: dict[str, SnippetResult]) -> dict[str, Any] | None:
    """Run one analyzer process and parse its JSON report; on failure record the reason on every snippet."""
    out, reason = _run(argv, executable=executable, timeout=timeout, cwd=folder)
    data: Any = None
    if out is not None:
        try:
            data = json.loads(out)
        except json.JSONDecodeError:
            reason = "output is not JSON"
    if isinstance(data, dict):
        return data
    for key in keys:
        results[key].errors[tool_name] = f"{tool_name} failed: {reason or 'unexpected output'}"
    return None


def run_semgrep(folder: Path, names: dict[str, str], tool: Tool, policy: Policy,
                results: dict[str, SnippetResult]) -> None:
    """One Semgrep process over every file in ``folder``."""
    argv = [*tool.argv, "--json", "--metrics=off", "--disable-version-check", "--quiet", "--no-git-ignore",
            "--timeout", str(policy.rule_timeout_s), "--max-target-bytes", str(policy.max_target_bytes),
            "--jobs", "2"]
    for rules in rule_files():
        argv += ["--config", str(rules)]
    argv.append(".")
    data = _run_json("semgrep", argv, tool.executable, policy.semgrep_timeout_s, folder, names.values(), results)
    if data is None:
        return
    rule_errors = [e for e in data.get("errors", []) if not e.get("path") or Path(e["path"]).name not in names]
    fatal = [e for e in rule_errors if e.get("level") == "error"]
    if fatal:
        msg = str(fatal[0].get("message", "rule error")).splitlines()[0][:300]
        for key in names.values():
            results[key].errors["semgrep"] = f"semgrep rule error: {msg}"
        return
    for key in names.values():
        results[key].analyzers.append("semgrep")
    for err in data.get("errors", []):
        name = Path(str(err.get("path", ""))).name
        if name in names:
            kind = str(err.get("type", "error"))
            kind = kind[0] if isinstance(err.get("type"), list) else kind
            message = str(err.get("message", "")).splitlines()[0][:200]
            if "syntax" in kind.lower() or "parse" in kind.lower():
                results[names[name]].syntax_error = f"semgrep: {kind}: {message}"
            else:
                results[names[name]].errors["semgrep"] = f"{kind}: {message}"
    for hit in data.get("results", []):
        name = Path(str(hit.get("path", ""))).name
        if name not in names:
            continue
        extra = hit.get("extra", {})
        meta = extra.get("metadata", {}) or {}
        cwes = meta.get("cwe", [])
        cwes = [cwes] if isinstance(cwes, str) else cwes
        results[names[name]].findings.append(Finding(
            tool="semgrep",
            rule_id=str(hit.get("check_id", "")).rsplit(".", 1)[-1],
            cwes=tuple(str(c).split(":")[0].strip() for c in cwes),
            severity=policy.semgrep_severity.get(str(extra.get("severity", "")).upper(), Severity.LOW),
            line=(hit.get("start") or {}).get("line"),
            message=str(extra.get("message", ""))[:300],
        ))


def run_bandit(folder: Path, names: dict[str, str], tool: Tool, policy: Policy,
               results: dict[str, SnippetResult]) -> None:
    """One Bandit process over the Python files in ``folder``."""
    py = {n: k for n, k in names.items() if n.endswith(".py")}
    if not py:
        return
    argv = [*tool.argv, "-f", "json", "-q", "-r", "."]
    if policy.bandit_skip:
        argv += ["--skip", ",".join(policy.bandit_skip)]
    data = _run_json("bandit", argv, None, policy.semgrep_timeout_s, folder, py.values(), results)
    if data is None:
        return
    failed = {Path(str(e.get("filename", ""))).name: str(e.get("reason", "error")) for e in data.get("errors", [])}
    for name, key in py.items():
        if name in failed:
            results[key].errors["bandit"] = f"bandit could not analyse it: {failed[name][:200]}"
        else:
            results[key].analyzers.append("bandit")
    for hit in data.get("results", []):
        name = Path(str(hit.get("filename", ""))).name
        if name not in py:
            continue
        cwe = (hit.get("issue_cwe") or {}).get("id")
        results[py[name]].findings.append(Finding(
            tool="bandit",
            rule_id=f"{hit.get('test_id')}:{hit.get('test_name')}",
            cwes=(f"CWE-{cwe}",) if cwe else (),
            severity=policy.bandit_severity.get(str(hit.get("issue_severity", "")).upper(), Severity.LOW),
            line=hit.get("line_number"),
            message=str(hit.get("issue_text", ""))[:300],
            confidence=str(hit.get("issue_confidence", "")).upper() or None,
        ))


def resolve(name: str, choice: Tool | bool | None) -> tuple[Tool | None, str | None]:
    """(tool, None) or (None, why not): ``choice`` True locates it, a Tool is used as is, False/None skips it."""
    if isinstance(choice, Tool):
        return choice, None
    if not choice:
        return None, f"{name} disabled"
    tool = find_semgrep() if name == "semgrep" else find_bandit()
    if tool is not None:
        return tool, None
    if name == "semgrep":
        return None, "semgrep not found (install semgrep==1.185.0, or set MODELDOSSIER_SEMGREP_CORE)"
    return None, "bandit not installed (pip install 'modeldossier[codesec]')"


def scan(snippets: Sequence[Snippet], *, semgrep: Tool | bool | None = True, bandit: Tool | bool | None = True,
         batch_size: int = 500, policy: Policy | None = None) -> dict[str, SnippetResult]:
    """Analyse every snippet; ``semgrep``/``bandit``: True to locate the tool, a Tool, or False/None to skip
    (the reason is recorded per snippet). One process per analyzer per batch of ``batch_size`` snippets."""
    policy = policy or load_policy()
    sg, sg_why = resolve("semgrep", semgrep)
    bd, bd_why = resolve("bandit", bandit)
    results = {s.key: SnippetResult() for s in snippets}
    for snip in snippets:
        if sg is None:
            results[snip.key].errors["semgrep"] = sg_why or "semgrep unavailable"
        if snip.language == "python" and bd is None:
            results[snip.key].errors["bandit"] = bd_why or "bandit unavailable"
    for start in range(0, len(snippets), max(1, batch_size)):
        batch = snippets[start:start + batch_size]
        with tempfile.TemporaryDirectory(prefix="dossier-codesec-") as tmp:
            folder = Path(tmp)
            names = _write_batch(folder, batch)
            if sg is not None:
                run_semgrep(folder, names, sg, policy, results)
            if bd is not None:
                run_bandit(folder, names, bd, policy, results)
    return results
