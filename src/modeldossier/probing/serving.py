"""Who receives the prompts: the operator and country of an endpoint, from its base URL's host, and for routers
the upstream provider named in each answer. Unknown stays unknown; a loopback or private address is "local"."""

from __future__ import annotations

import ipaddress
import json
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml
from pydantic import Field

from modeldossier.common import Model

REGISTRY_FILE = "providers.yaml"


class Operator(Model):
    """One provider of the registry."""

    id: str
    operator: str
    country: str | None = None
    hosts: list[str] = Field(default_factory=list)
    names: list[str] = Field(default_factory=list, description="how routers name it in an answer")
    router: bool = False
    jurisdiction: str | None = None
    evidence: str = ""


class Upstream(Model):
    """An upstream provider a router used, how many answers it served, and who it is when the registry knows."""

    name: str
    answers: int
    operator: str | None = None
    country: str | None = None


class Serving(Model):
    """Who operates the endpoint the prompts went to, and how we know."""

    host: str | None = None
    local: bool = Field(default=False, description="a loopback or private address: the prompts stay on your network")
    provider: str | None = Field(default=None, description="registry id, when the host matched one")
    operator: str | None = None
    country: str | None = Field(default=None, description="ISO 3166-1 alpha-2; null when unknown or local")
    router: bool = False
    jurisdiction: str | None = None
    basis: str = Field(default="", description="the evidence: which host matched which registry entry")
    registry_version: str | None = None
    upstreams: list[Upstream] = Field(default_factory=list, description="per-answer upstream providers (routers)")

    def countries(self) -> list[str]:
        """Every country the prompts reached: the operator's and each known upstream's."""
        codes = [self.country] if self.country else []
        codes += [u.country for u in self.upstreams if u.country]
        return sorted(set(codes))


@lru_cache(maxsize=1)
def registry() -> tuple[str, tuple[Operator, ...]]:
    """(version, providers) of the packaged registry (read once: it is immutable data)."""
    data = yaml.safe_load(registry_path().read_text(encoding="utf-8"))
    return str(data["version"]), tuple(Operator(**p) for p in data["providers"])


def registry_path() -> Path:
    """The registry file (for the run record's data-file hashes)."""
    return Path(__file__).resolve().parents[1] / "data" / "serving" / REGISTRY_FILE


def _is_local(host: str) -> bool:
    if host in ("localhost", "localhost.localdomain") or host.endswith(".localhost"):
        return True
    try:
        ip = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return ip.is_loopback or ip.is_private or ip.is_link_local


def _match(host: str, operators: Iterable[Operator]) -> Operator | None:
    """The entry whose host equals ``host`` or is its dot-separated suffix (the longest such host wins)."""
    best: tuple[int, Operator] | None = None
    for op in operators:
        for h in op.hosts:
            if (host == h or host.endswith("." + h)) and (best is None or len(h) > best[0]):
                best = (len(h), op)
    return best[1] if best else None


def serving_for(base_url: str | None, kind: str = "openai") -> Serving:
    """The serving facts of an endpoint; a local target kind (mock, replay, transformers) is local."""
    version, operators = registry()
    if base_url is None:
        local = kind in ("mock", "replay", "transformers")
        return Serving(local=local, basis=f"{kind} target: no network" if local else "no base URL",
                       registry_version=version)
    host = (urlsplit(base_url).hostname or "").lower()
    if _is_local(host):
        return Serving(host=host, local=True, basis=f"{host} is a loopback or private address",
                       registry_version=version)
    op = _match(host, operators)
    if op is None:
        return Serving(host=host, basis=f"{host} is not in the provider registry: operator and country unknown",
                       registry_version=version)
    return Serving(host=host, provider=op.id, operator=op.operator, country=op.country, router=op.router,
                   jurisdiction=op.jurisdiction, registry_version=version,
                   basis=f"host {host} matches registry entry '{op.id}' ({op.evidence})")


def upstream(name: str, answers: int) -> Upstream:
    """An upstream named by a router, matched to the registry by name (case-insensitive) when possible."""
    _, operators = registry()
    key = name.strip().lower()
    op = next((o for o in operators if key in (n.lower() for n in o.names) or key == o.id), None)
    return Upstream(name=name, answers=answers, operator=op.operator if op else None,
                    country=op.country if op else None)


def upstream_counts(transcript: Path, *, max_bytes: int = 1 << 30) -> Counter[str]:
    """How many answers of a transcript each upstream provider served (``detail.upstream_provider``)."""
    counts: Counter[str] = Counter()
    try:
        if transcript.stat().st_size > max_bytes:
            return counts
        handle = transcript.open(encoding="utf-8", errors="replace")
    except OSError:
        return counts
    with handle:
        for line in handle:
            try:
                event: Any = json.loads(line)
            except ValueError:
                continue
            response = event.get("response") if isinstance(event, dict) else None
            detail = response.get("detail") if isinstance(response, dict) else None
            name = detail.get("upstream_provider") if isinstance(detail, dict) else None
            if isinstance(name, str) and name.strip():
                counts[name.strip()[:100]] += 1
    return counts


def with_upstreams(serving: Serving, transcripts: Iterable[Path]) -> Serving:
    """``serving`` with the upstream providers named in the answers of ``transcripts``."""
    total: Counter[str] = Counter()
    for path in transcripts:
        total.update(upstream_counts(path))
    if not total:
        return serving
    return serving.model_copy(update={"upstreams": [upstream(n, c) for n, c in total.most_common()]})


def describe(serving: Any) -> str | None:
    """One plain line: who receives the prompts (None when the dossier records nothing about it)."""
    if serving is None:
        return None
    get = (lambda k: serving.get(k)) if isinstance(serving, dict) else (lambda k: getattr(serving, k, None))
    if get("local"):
        line = f"Served locally ({get('host') or 'no network'}): the prompts stay on this network"
    elif get("operator"):
        line = f"Served by {get('operator')} ({get('country') or 'country unknown'}), host {get('host')}"
    else:
        line = f"Served by an operator not in the registry (host {get('host') or 'unknown'}): country unknown"
    ups = get("upstreams") or []
    if ups:
        named = [u if isinstance(u, dict) else u.model_dump() for u in ups]
        line += "; upstream providers: " + ", ".join(
            f"{u.get('name')} ({u.get('country') or '?'}, {u.get('answers')} answer(s))" for u in named[:8])
    return line
