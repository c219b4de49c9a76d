"""Online lineage from the Hugging Face Hub: `model_info` of the subject and its base-model chain to the root.

Never raises for network trouble: offline mode, no network, missing or gated repos become notes. The chain walk
stops at a depth limit and on cycles.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from typing import Any

from modeldossier.provenance.models import HubLink

MAX_DEPTH = 12
EXPAND = ["author", "sha", "createdAt", "cardData", "downloads", "downloadsAllTime", "baseModels", "tags",
          "lastModified"]
_TRUE = {"1", "true", "yes", "on"}


@dataclass
class HubResult:
    """The chain (subject first) and any notes about what could not be fetched."""

    chain: list[HubLink] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    reached_network: bool = False
    cycle: bool = False
    truncated: bool = False

    @property
    def root(self) -> HubLink | None:
        """The last model reached (the lineage root when the walk completed)."""
        return self.chain[-1] if self.chain else None


def offline_mode() -> bool:
    """True when HF_HUB_OFFLINE asks huggingface_hub not to use the network."""
    return os.environ.get("HF_HUB_OFFLINE", "").strip().lower() in _TRUE


def _api():
    from huggingface_hub import HfApi

    return HfApi(endpoint=os.environ.get("HF_ENDPOINT") or None)


def _base_models(info: Any) -> tuple[list[str], str | None]:
    """Base model ids and relation, from the `baseModels` field or, failing that, the card's `base_model`."""
    bases: list[str] = []
    relation = None
    raw = getattr(info, "base_models", None)
    if isinstance(raw, dict):
        relation = raw.get("relation")
        bases = [m["id"] for m in raw.get("models") or [] if isinstance(m, dict) and isinstance(m.get("id"), str)]
    card = getattr(info, "card_data", None)
    card_dict = card.to_dict() if hasattr(card, "to_dict") else (card if isinstance(card, dict) else {})
    if not bases:
        value = card_dict.get("base_model")
        bases = [value] if isinstance(value, str) else [v for v in value or [] if isinstance(v, str)]
    relation = relation or (card_dict.get("base_model_relation") if isinstance(card_dict, dict) else None)
    return bases, relation


def _link(info: Any) -> HubLink:
    bases, relation = _base_models(info)
    card = getattr(info, "card_data", None)
    license_ = getattr(card, "license", None) if card is not None else None
    created = getattr(info, "created_at", None)
    return HubLink(
        repo_id=info.id,
        author=getattr(info, "author", None) or (info.id.split("/", 1)[0] if "/" in info.id else None),
        sha=getattr(info, "sha", None),
        created_at=created.isoformat() if hasattr(created, "isoformat") else created,
        license=license_ if isinstance(license_, str) else None,
        downloads=getattr(info, "downloads", None),
        downloads_all_time=getattr(info, "downloads_all_time", None),
        base_models=bases,
        relation=relation,
    )


def _fetch(api: Any, repo_id: str, revision: str | None, timeout: float) -> tuple[HubLink | None, str | None]:
    """One model_info call; (link, None) or (None, reason)."""
    from huggingface_hub.errors import (
        GatedRepoError,
        HfHubHTTPError,
        OfflineModeIsEnabled,
        RepositoryNotFoundError,
        RevisionNotFoundError,
    )

    try:
        info = api.model_info(repo_id, revision=revision, expand=EXPAND, timeout=timeout)
    except OfflineModeIsEnabled:
        return None, "offline (HF_HUB_OFFLINE=1): declared local evidence only"
    except GatedRepoError:
        return None, f"{repo_id}: gated repository, metadata not accessible"
    except RepositoryNotFoundError:
        return None, f"{repo_id}: not found on the Hub (or private)"
    except RevisionNotFoundError:
        return None, f"{repo_id}: revision {revision!r} not found"
    except HfHubHTTPError as exc:
        return None, f"{repo_id}: Hub answered an error ({str(exc).splitlines()[0][:160]})"
    except (OSError, ValueError, KeyError, TypeError) as exc:
        return None, f"{repo_id}: Hub unreachable or answer unreadable ({type(exc).__name__})"
    except Exception as exc:  # httpx transport errors and anything else from the client must not crash a scan
        return None, f"{repo_id}: Hub request failed ({type(exc).__name__})"
    try:
        return _link(info), None
    except (AttributeError, TypeError, ValueError) as exc:
        return None, f"{repo_id}: unexpected Hub answer ({type(exc).__name__})"


def walk(repo_id: str, *, revision: str | None = None, max_depth: int = MAX_DEPTH, timeout: float = 10.0,
         api: Any = None) -> HubResult:
    """Fetch ``repo_id`` and follow its first base model until the root, a cycle or ``max_depth``."""
    result = HubResult()
    if offline_mode():
        result.notes.append("offline (HF_HUB_OFFLINE=1): declared local evidence only")
        return result
    api = api or _api()
    seen: set[str] = set()
    current: str | None = repo_id
    rev = revision
    while current is not None:
        if current.casefold() in seen:
            result.cycle = True
            result.notes.append(f"base-model cycle at {current}: walk stopped")
            break
        if len(result.chain) >= max_depth:
            result.truncated = True
            result.notes.append(f"base-model chain longer than {max_depth}: walk stopped at {current}")
            break
        seen.add(current.casefold())
        link, reason = _fetch(api, current, rev, timeout)
        if link is None:
            result.notes.append(reason or f"{current}: no answer")
            break
        result.reached_network = True
        result.chain.append(link)
        if len(link.base_models) > 1:
            result.notes.append(f"{link.repo_id} declares {len(link.base_models)} base models "
                                f"({', '.join(link.base_models[:5])}); following the first")
        current, rev = (link.base_models[0] if link.base_models else None), None
    return result
