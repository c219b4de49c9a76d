"""Engine types shared by every probe suite: what we ask, and what came back."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from modeldossier.common import Model, scrub_surrogates


class ChatMessage(Model):
    """One chat turn."""

    role: Literal["system", "user", "assistant"]
    content: str


class ProbeItem(Model):
    """One question to ask, with the metadata a suite needs to analyse the answer (topic, language, pair...)."""

    id: str = Field(description="stable id, unique within a suite run")
    messages: list[ChatMessage]
    metadata: dict[str, Any] = Field(default_factory=dict)


class ProbeResponse(Model):
    """One answer (or failure) for one item and sample index."""

    item_id: str
    sample: int = 0
    content: str | None = None
    reasoning: str | None = Field(default=None, description="reasoning_content or <think> text, kept apart")
    finish_reason: str | None = None
    http_status: int | None = None
    provider_model: str | None = None
    latency_s: float | None = None
    usage: dict[str, Any] | None = None
    error: str | None = Field(default=None, description="why no usable answer came back")
    blocked: bool = Field(default=False, description="transport/app filter: content_filter or provider block")
    cached: bool = False
    metadata: dict[str, Any] = Field(
        default_factory=dict, description="the item's metadata (topic, language, pair...), copied by the runner"
    )
    attempts: int = Field(default=1, description="requests made for this answer (1 = no retry)")
    detail: dict[str, Any] = Field(
        default_factory=dict, description="target-specific facts: block reason, chat template hash, replay source"
    )

    @model_validator(mode="before")
    @classmethod
    def _storable_text(cls, data: Any) -> Any:
        """A model's text can hold lone surrogates (escaped in JSON): replace them so the answer can be stored."""
        return scrub_surrogates(data)
