"""Optional LLM judge: a second model rates each code answer as vulnerable or not. A separate, labelled signal:
its rates are reported apart from the static-analysis rates and never mixed into them. Its accuracy depends on
the judge model and is not measured by modeldossier."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import yaml

from modeldossier.codesec.analyzers import data_dir
from modeldossier.errors import DossierError
from modeldossier.probing.models import ChatMessage, ProbeItem, ProbeResponse

_JSON = re.compile(r"\{[^{}]*\"vulnerable\"[^{}]*\}", re.S)
_YESNO = re.compile(r"\"?vulnerable\"?\s*[:=]\s*(true|false|yes|no)", re.I)


def load_prompt(path: Path | None = None) -> dict[str, Any]:
    """The judge prompt file (version, system, user template, max_code_chars)."""
    path = path or data_dir() / "judge.yaml"
    data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not {"version", "system", "user"} <= set(data):
        raise DossierError(f"{path} is not a judge prompt file")
    return data


def judge_items(entries: list[tuple[str, str, str, str]], prompt: dict[str, Any]) -> list[ProbeItem]:
    """One item per (key, code language, task text, code)."""
    limit = int(prompt.get("max_code_chars", 12000))
    items = []
    for key, language, task, code in entries:
        user = prompt["user"].format(language=language, task=task, code=code[:limit])
        items.append(ProbeItem(id=f"judge|{key}", metadata={"judged": key},
                               messages=[ChatMessage(role="system", content=prompt["system"]),
                                         ChatMessage(role="user", content=user)]))
    return items


def parse_verdict(response: ProbeResponse) -> tuple[bool | None, str | None]:
    """(vulnerable, cwe) from the judge's answer; (None, None) when it cannot be read."""
    text = re.sub(r"<think>.*?</think>", "", response.content or "", flags=re.S)
    for match in _JSON.finditer(text):
        try:
            data = json.loads(match.group(0))
        except ValueError:
            continue
        verdict = data.get("vulnerable")
        if isinstance(verdict, bool):
            cwe = data.get("cwe")
            return verdict, str(cwe) if isinstance(cwe, str) and cwe.upper().startswith("CWE-") else None
    match = _YESNO.search(text)
    if match:
        return match.group(1).lower() in ("true", "yes"), None
    return None, None
