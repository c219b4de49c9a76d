"""Classify pickle globals (module, name) as safe, dangerous or unknown, from a versioned data file."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml

from modeldossier.errors import DossierError

Verdict = Literal["safe", "dangerous", "unknown"]
_DANGEROUS_DUNDERS = frozenset({
    "__globals__", "__builtins__", "__subclasses__", "__class__", "__bases__", "__base__", "__mro__", "__dict__",
    "__getattribute__", "__reduce__", "__reduce_ex__", "__code__", "__closure__", "__func__", "__self__",
    "__import__", "__loader__", "__spec__", "__init__", "__call__", "__getattr__", "__setattr__",
})


@dataclass(frozen=True)
class _SafeRule:
    module: str
    prefix: bool
    names: frozenset[str]
    regex: re.Pattern[str] | None

    def matches(self, module: str, name: str, *, exact: bool = False) -> bool:
        if self.prefix and not exact:
            if module != self.module and not module.startswith(self.module + "."):
                return False
        elif self.prefix or module != self.module:
            return False
        if "." in name:
            return False
        if name in self.names:
            return True
        return not exact and bool(self.regex and self.regex.match(name))


@dataclass(frozen=True)
class Allowlist:
    """The safe and dangerous global lists, with the data file's version and path."""

    version: str
    path: Path
    safe: tuple[_SafeRule, ...]
    dangerous: tuple[tuple[str, str], ...]  # (dotted path prefix, why)
    _cache: dict[tuple[str, str], tuple[Verdict, str]] = field(default_factory=dict, compare=False, repr=False)

    def classify(self, module: str, name: str) -> tuple[Verdict, str]:
        """('dangerous', why) / ('safe', '') / ('unknown', '') for a global ``module.name``."""
        key = (module, name)
        hit = self._cache.get(key)
        if hit is None:
            hit = self._classify(module, name)
            if len(self._cache) < 100_000:
                self._cache[key] = hit
        return hit

    def _classify(self, module: str, name: str) -> tuple[Verdict, str]:
        parts = [*module.split("."), *name.split(".")]
        dunders = [p for p in parts if p in _DANGEROUS_DUNDERS]
        if dunders:
            return "dangerous", f"attribute walk through {dunders[0]}"
        if any(rule.matches(module, name, exact=True) for rule in self.safe):
            return "safe", ""  # an explicitly listed name wins over a broader dangerous prefix
        full = f"{module}.{name}"
        for prefix, why in self.dangerous:
            if full == prefix or full.startswith(prefix + "."):
                return "dangerous", why
        if any(rule.matches(module, name) for rule in self.safe):
            return "safe", ""
        return "unknown", ""


def _load(path: Path) -> Allowlist:
    try:
        # the bundled list is trusted data: libyaml's safe loader when present (8x faster at start-up)
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 - a safe loader
    except (OSError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read pickle allowlist {path}: {exc}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise DossierError(f"pickle allowlist {path} has no version")
    safe = []
    for entry in data.get("safe") or []:
        module = entry.get("module_prefix") or entry.get("module")
        regex = entry.get("name_regex")
        safe.append(_SafeRule(
            module=module, prefix="module_prefix" in entry, names=frozenset(entry.get("names") or []),
            regex=re.compile(regex) if regex else None,
        ))
    dangerous = []
    for entry in data.get("dangerous") or []:
        module = entry.get("module_prefix") or entry.get("module")
        why = entry.get("why", "dangerous")
        for name in entry.get("names") or ["*"]:
            dangerous.append((module if name == "*" else f"{module}.{name}", why))
    return Allowlist(version=str(data["version"]), path=path, safe=tuple(safe), dangerous=tuple(dangerous))


def default_path() -> Path:
    """Where the bundled allowlist lives."""
    return Path(__file__).resolve().parents[1] / "data" / "artifacts" / "pickle_allowlist.yaml"


@lru_cache(maxsize=4)
def load_allowlist(path: Path | None = None) -> Allowlist:
    """The allowlist at ``path`` (default: the bundled one), parsed once per process."""
    return _load(Path(path) if path else default_path())
