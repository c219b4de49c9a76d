"""Targets that need no model: ``mock`` (scripted answers, for tests) and ``replay`` (a recorded transcript)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file
from modeldossier.probing.base import TargetError
from modeldossier.probing.models import ProbeItem, ProbeResponse

Script = Callable[[ProbeItem, int], Any]
_RESPONSE_FIELDS = frozenset(ProbeResponse.model_fields) - {"item_id", "sample", "cached", "metadata", "attempts"}


def question_of(item: ProbeItem) -> str:
    """The text replay and mock scripts match on: the last user message."""
    for message in reversed(item.messages):
        if message.role == "user":
            return message.content
    return item.messages[-1].content if item.messages else ""


def _to_response(value: Any, item: ProbeItem, sample: int) -> ProbeResponse:
    """A scripted value (text, field mapping, ProbeResponse) as a response; a 'fail' mapping raises."""
    if isinstance(value, ProbeResponse):
        return value.model_copy(update={"item_id": item.id, "sample": sample})
    if value is None or isinstance(value, str):
        return ProbeResponse(item_id=item.id, sample=sample, content=value, finish_reason="stop", http_status=200)
    if isinstance(value, Mapping):
        if "fail" in value:
            fail = value["fail"] if isinstance(value["fail"], Mapping) else {}
            status, retry_after = fail.get("status"), fail.get("retry_after")
            number = (int, float)
            if not (status is None or type(status) is int) or not (retry_after is None or type(retry_after) in number):
                raise DossierError("mock script: 'fail' needs an integer 'status' and a number 'retry_after'")
            raise TargetError(
                str(fail.get("message", "scripted failure")),
                status=status,
                retryable=bool(fail.get("retryable", False)),
                fatal=bool(fail.get("fatal", False)),
                retry_after=retry_after,
                kind=str(fail.get("kind", "scripted")),
            )
        unknown = set(value) - _RESPONSE_FIELDS
        if unknown:
            raise DossierError(f"mock script: unknown response field(s) {sorted(unknown)}")
        fields = {"finish_reason": "stop", "http_status": 200, **value}
        return ProbeResponse(item_id=item.id, sample=sample, **fields)
    raise DossierError(f"mock script: cannot turn {type(value).__name__} into a response")


class MockTarget:
    """Answers from a script: a callable ``(item, sample) -> text | dict | ProbeResponse``, or a mapping
    ``{"responses": {item_id or question: value or [value per sample]}, "default": value}``.
    With no script it echoes the question. ``latency`` (seconds) makes each answer take that long.
    """

    def __init__(
        self,
        script: Script | Mapping[str, Any] | None = None,
        *,
        name: str = "echo",
        revision: str | None = None,
        latency: float = 0.0,
    ) -> None:
        self.id = f"mock:{name}"
        self.revision = revision
        self.base_url: str | None = None
        self.calls = 0
        self._latency = latency
        self._script = script

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "mock", "revision": self.revision, "base_url": None}

    def redact(self, text: str) -> str:
        return text

    async def open(self, *, max_connections: int) -> None:
        return None

    async def aclose(self) -> None:
        return None

    def _lookup(self, item: ProbeItem, sample: int) -> Any:
        script = self._script
        if script is None:
            return f"echo: {question_of(item)}"
        if callable(script):
            return script(item, sample)
        responses = script.get("responses", {}) or {}
        if item.id in responses:
            value = responses[item.id]
        elif question_of(item) in responses:
            value = responses[question_of(item)]
        elif "default" in script:
            value = script["default"]
        else:
            return {"error": f"mock script has no answer for item {item.id!r}"}
        if isinstance(value, list):
            value = value[sample % len(value)] if value else None
        return value

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        self.calls += 1
        if self._latency:
            await asyncio.sleep(self._latency)
        return _to_response(self._lookup(item, sample), item, sample)


def load_script(path: Path) -> dict[str, Any]:
    """A mock script from a YAML or JSON file; DossierError when it is not a mapping."""
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DossierError(f"mock script not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read mock script {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict):
        raise DossierError(f"mock script {path} must be a mapping with 'responses' and/or 'default'")
    return data


def _replay_entry(event: dict[str, Any]) -> tuple[str | None, str | None, int, ProbeResponse | None]:
    """(item id, question, sample, response) from one transcript line, ours or a simple published format."""
    if event.get("event") == "response":
        body = dict(event.get("response") or {})
        messages = event.get("messages") or []
        users = [m.get("content") for m in messages if isinstance(m, dict) and m.get("role") == "user"]
        question = users[-1] if users else None
        response = ProbeResponse.model_validate(body)
        return response.item_id, question, response.sample, response
    if "event" in event:  # header, error, session lines carry no answer
        return None, None, 0, None
    item_id = event.get("item_id", event.get("id"))
    question = event.get("question", event.get("prompt"))
    content = event.get("content", event.get("response", event.get("answer")))
    sample = int(event.get("sample", 0))
    response = ProbeResponse(
        item_id=str(item_id) if item_id is not None else "",
        sample=sample,
        content=content if isinstance(content, str) else None,
        reasoning=event.get("reasoning"),
        finish_reason=event.get("finish_reason", "stop"),
        blocked=bool(event.get("blocked", False)),
    )
    return (str(item_id) if item_id is not None else None), question, sample, response


class ReplayTarget:
    """Answers from a recorded transcript: matched by (item id, sample), else by (question text, sample)."""

    def __init__(self, path: Path, *, name: str | None = None) -> None:
        self.path = Path(path)
        self.base_url: str | None = None
        self.revision = None
        self._by_id: dict[tuple[str, int], ProbeResponse] = {}
        self._by_question: dict[tuple[str, int], ProbeResponse] = {}
        self.source_target = self._load()
        self.revision = sha256_file(self.path)[:16]
        self.id = f"replay:{name or self.source_target or self.path.stem}"

    def _load(self) -> str | None:
        try:
            lines = self.path.read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            raise DossierError(f"replay transcript not found: {self.path}") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DossierError(f"cannot read replay transcript {self.path}: {exc}") from None
        source = None
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                if not isinstance(event, dict):
                    raise ValueError("not an object")
                if event.get("event") == "header":
                    source = (event.get("target") or {}).get("id") or source
                item_id, question, sample, response = _replay_entry(event)
            except (ValueError, TypeError, ValidationError) as exc:
                if number == len(lines) and isinstance(exc, json.JSONDecodeError):
                    break  # a torn last line from an interrupted run
                if isinstance(exc, ValidationError):
                    first = exc.errors()[0]
                    reason = f"{'.'.join(map(str, first['loc'])) or 'line'}: {first['msg']}"
                else:
                    reason = str(exc).splitlines()[0]
                raise DossierError(f"{self.path}:{number}: not a transcript line ({reason})") from None
            if response is None:
                continue
            if item_id is not None:
                self._by_id.setdefault((item_id, sample), response)
            if question is not None:
                self._by_question.setdefault((question, sample), response)
        if not self._by_id and not self._by_question:
            raise DossierError(f"replay transcript {self.path} holds no answers")
        return source

    def describe(self) -> dict[str, Any]:
        return {"id": self.id, "kind": "replay", "path": str(self.path), "source_target": self.source_target,
                "revision": self.revision, "base_url": None}

    def redact(self, text: str) -> str:
        return text

    async def open(self, *, max_connections: int) -> None:
        return None

    async def aclose(self) -> None:
        return None

    async def complete(self, item: ProbeItem, *, params: dict[str, Any], sample: int) -> ProbeResponse:
        found = self._by_id.get((item.id, sample)) or self._by_question.get((question_of(item), sample))
        if found is None:
            return ProbeResponse(
                item_id=item.id, sample=sample, error=f"no recorded answer in {self.path.name} for sample {sample}"
            )
        return found.model_copy(
            update={"item_id": item.id, "sample": sample, "cached": False, "metadata": {},
                    "detail": {**found.detail, "replayed_from": self.path.name}}
        )
