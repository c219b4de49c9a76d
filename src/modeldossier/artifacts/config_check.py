"""Config-driven instantiation: ``_target_`` (Hydra / OmegaConf, NeMo, LazyConfig) values in YAML and JSON configs.

A loader that instantiates from config imports and calls whatever dotted path ``_target_`` names, so a config is
as powerful as a pickle global. Every target is classified with the pickle allowlist: a dangerous callable is
critical, an unlisted one is reported once per file at low severity (real NeMo configs name many library
classes), a target built by interpolation (``${...}``) is high because its value is decided at load time.
Configs are parsed as data (safe YAML with alias limits, JSON) and, independently, swept by pattern, so a
parser differential (duplicate keys, a damaged document) cannot hide a target from the report.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from itertools import islice
from typing import Any

from modeldossier.artifacts.allowlist import Allowlist, load_allowlist
from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

TARGET_KEYS = ("_target_", "_partial_", "_call_")
MARKERS = tuple(key.encode() for key in TARGET_KEYS)
MAX_CONFIG_BYTES = 16 * 1024 * 1024
MAX_NODES = 200_000
MAX_SWEEP = 10_000
_MAX_PER_RULE = 20
_SWEEP = re.compile(r"""["']?(_target_|_partial_|_call_)["']?\s*[:=]\s*(?:"([^"\n]*)"|'([^'\n]*)'|([^\s,#}\]]+))""")
_DOTTED = re.compile(r"^[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*$")
_BOOL_WORDS = frozenset({"true", "false", "yes", "no", "on", "off", "null", "~", "none"})


def has_marker(raw: bytes) -> bool:
    """True when raw config text mentions an instantiation key (cheap pre-filter)."""
    return any(marker in raw for marker in MARKERS)


def _finding(rule: str, sev: Severity, msg: str, name: str, loc: str | None, ev: str | None = None) -> Finding:
    return Finding(rule_id=rule, severity=sev, message=msg, file=name, location=loc, evidence=ev)


def parse_config(text: str) -> Any:
    """JSON, else safe YAML (alias expansion bounded); None when neither parses."""
    from modeldossier.safeyaml import safe_yaml

    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        pass
    try:
        return safe_yaml(text)
    except Exception:  # noqa: BLE001 - any YAML failure (syntax, alias bomb, depth) falls back to the sweep
        return None


def iter_targets(data: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(key path, key, value) for every instantiation key in nested dicts and lists (iterative, bounded)."""
    stack: list[tuple[Any, str]] = [(data, path)]
    seen = 0
    while stack and seen < MAX_NODES:
        node, where = stack.pop()
        seen += 1
        if isinstance(node, dict):
            for key, value in node.items():
                child = f"{where}.{key}" if where else str(key)
                if key in TARGET_KEYS:
                    yield child, str(key), value
                if isinstance(value, dict | list):
                    stack.append((value, child))
        elif isinstance(node, list):
            for i, value in enumerate(node):
                if isinstance(value, dict | list):
                    stack.append((value, f"{where}[{i}]"))


def classify_target(value: str, allowlist: Allowlist) -> tuple[str, str]:
    """('dangerous'|'safe'|'unknown'|'computed'|'malformed', why) for one target string."""
    text = value.strip()
    if "${" in text or "$(" in text:
        return "computed", "resolved by interpolation at load time"
    if not _DOTTED.match(text):
        return "malformed", "not a dotted Python path"
    module, _, name = text.rpartition(".")
    verdict, why = allowlist.classify(module or "builtins", name)
    if verdict == "unknown" and not module:
        verdict, why = allowlist.classify("builtins", name)
    return verdict, why


def check_config(data: Any, raw_text: str, name: str, where: str = "", *,
                 allowlist: Allowlist | None = None) -> list[Finding]:
    """Findings for one parsed config (``data`` may be None when it did not parse) and its raw text."""
    allowlist = allowlist or load_allowlist()
    pairs: list[tuple[str, str, str]] = []
    for path, key, value in iter_targets(data) if data is not None else ():
        if isinstance(value, str):
            pairs.append((path, key, value))
    parsed_values = {(key, value.strip()) for _, key, value in pairs}
    computed = [v for _, v in parsed_values if "${" in v]
    for match in islice(_SWEEP.finditer(raw_text), MAX_SWEEP):
        key = match.group(1)
        value = next((g for g in match.groups()[1:] if g is not None), "").strip()
        if value.lower() in _BOOL_WORDS or (key, value) in parsed_values or (
                "${" in value and any(v.startswith(value) for v in computed)):
            continue  # already seen through the parser (the sweep only adds what the parse hid)
        line = raw_text.count("\n", 0, match.start()) + 1
        pairs.append((f"line {line}", key, value))
        parsed_values.add((key, value))
    prefix = f"{where}: " if where else ""
    findings: list[Finding] = []
    unknown: list[str] = []
    counts: dict[str, int] = {}
    for path, key, value in pairs:
        if key != "_target_" and value.strip().lower() in _BOOL_WORDS:
            continue
        verdict, why = classify_target(value, allowlist)
        rule = {"dangerous": "config.target.dangerous", "computed": "config.target.computed",
                "malformed": "config.target.malformed"}.get(verdict)
        if verdict == "unknown":
            unknown.append(value.strip())
            continue
        if rule is None:
            continue
        counts[rule] = counts.get(rule, 0) + 1
        if counts[rule] > _MAX_PER_RULE:
            continue
        loc = f"{prefix}{path}"
        if verdict == "dangerous":
            findings.append(_finding(rule, Severity.CRITICAL,
                                     f"config {key} names {value.strip()} ({why}); instantiating this config "
                                     "(Hydra/OmegaConf, NeMo restore) runs it", name, loc, value.strip()[:200]))
        elif verdict == "computed":
            findings.append(_finding(rule, Severity.HIGH,
                                     f"config {key} is {why}: the callable cannot be known before loading",
                                     name, loc, value.strip()[:200]))
        else:
            findings.append(_finding(rule, Severity.MEDIUM,
                                     f"config {key} value is {why}; a lenient resolver may still import it",
                                     name, loc, value[:200]))
    if unknown:
        distinct = sorted(set(unknown))
        findings.append(_finding("config.target.unknown", Severity.LOW,
                                 f"config instantiates {len(distinct)} callable(s) not on the allowlist of "
                                 "data-only objects (review: each is imported and called on load)", name,
                                 f"{prefix}{TARGET_KEYS[0]}", ", ".join(distinct[:10])[:200]))
    return findings


def check_text(raw: bytes, name: str, where: str = "", *, allowlist: Allowlist | None = None) -> list[Finding]:
    """Findings for config bytes (JSON or YAML); nothing when no instantiation key is present."""
    if not has_marker(raw):
        return []
    text = raw.decode("utf-8", errors="replace")
    return check_config(parse_config(text), text, name, where, allowlist=allowlist)


def scan(stream: Any, name: str, size: int) -> list[Finding]:
    """Scanner protocol: a text/JSON/YAML file that may hold instantiation targets."""
    if size > MAX_CONFIG_BYTES:
        return []
    stream.seek(0)
    return check_text(stream.read(MAX_CONFIG_BYTES + 1), name)
