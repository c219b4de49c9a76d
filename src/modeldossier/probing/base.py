"""The Target protocol every model backend implements, and the errors a target may raise."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable

from modeldossier.common import scrub_surrogates
from modeldossier.probing.models import ProbeItem, ProbeResponse


class TargetError(Exception):
    """A request that did not produce an answer.

    ``retryable``: worth asking again (429, 5xx, timeout, connection reset, garbage body).
    ``fatal``: no later request can succeed either (401/403 wrong key, 404 unknown model, unreachable host);
    the runner stops at once, keeping everything already collected.
    The message must never contain a secret: targets redact it before raising.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        fatal: bool = False,
        retry_after: float | None = None,
        kind: str = "error",
    ) -> None:
        message = scrub_surrogates(message)  # a reply's text may hold a lone surrogate; messages are stored
        super().__init__(message)
        self.message = message
        self.status = status
        self.retryable = retryable
        self.fatal = fatal
        self.retry_after = retry_after
        self.kind = kind


@runtime_checkable
class Target(Protocol):
    """A model that answers chat messages.

    ``id`` is stable and secret-free (``provider:model``): it names the target in transcripts and dossiers.
    ``revision`` and ``base_url`` complete the cache key (same name on another server is another model).
    """

    id: str
    revision: str | None
    base_url: str | None

    async def open(self, *, max_connections: int) -> None:
        """Prepare connections for one run (called inside the running event loop)."""

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        """Ask ``item.messages`` once; return the answer or raise TargetError."""

    async def aclose(self) -> None:
        """Release connections; ``open`` may be called again later."""

    def describe(self) -> dict[str, Any]:
        """Secret-free facts for the transcript header and the dossier subject."""

    def redact(self, text: str) -> str:
        """``text`` with every secret this target knows replaced by ``***``."""


def redact_secrets(text: str, secrets: list[str | None]) -> str:
    """Replace each non-trivial secret in ``text`` by ``***``."""
    for secret in secrets:
        if secret and len(secret) >= 4:
            text = text.replace(secret, "***")
    return text
