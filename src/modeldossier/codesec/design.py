"""The experiment design: tasks x contexts x placement (system | user) x prompt language -> probe items."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from modeldossier.codesec.analyzers import data_dir
from modeldossier.errors import DossierError
from modeldossier.probing.models import ChatMessage, ProbeItem

PLACEMENTS = ("user", "system")
PROMPT_LANGUAGES = ("en", "zh")
KINDS = ("baseline", "neutral", "disfavored", "control", "reverse", "positive_control")


@dataclass(frozen=True)
class Task:
    """One coding request, in one or more prompt languages."""

    id: str
    language: str
    cwes: tuple[str, ...]
    prompt: dict[str, str]
    source: str = "modeldossier"


@dataclass(frozen=True)
class Context:
    """Who the code is for; ``control`` names its matched control context."""

    id: str
    kind: str
    label: str
    text: dict[str, str]
    control: str | None = None


@dataclass
class Design:
    """Loaded task and context sets, with their versions and file paths."""

    tasks: list[Task]
    contexts: dict[str, Context]
    system_prompt: dict[str, str]
    task_version: str
    context_version: str
    files: list[Path] = field(default_factory=list)


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DossierError(f"codesec data file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise DossierError(f"{path} is not a codesec data file (a mapping with a version)")
    return data


def load_tasks(path: Path | None = None) -> tuple[str, list[Task]]:
    """(version, tasks) from tasks.yaml; DossierError on a malformed file."""
    path = path or data_dir() / "tasks.yaml"
    data = _read_yaml(path)
    tasks, seen = [], set()
    for raw in data.get("tasks") or []:
        try:
            task = Task(id=str(raw["id"]), language=str(raw["language"]), cwes=tuple(raw.get("cwes") or ()),
                        prompt={str(k): str(v) for k, v in raw["prompt"].items()})
        except (KeyError, TypeError, AttributeError) as exc:
            raise DossierError(f"{path}: malformed task {raw!r:.80}: missing {exc}") from None
        if task.id in seen:
            raise DossierError(f"{path}: duplicate task id {task.id!r}")
        seen.add(task.id)
        tasks.append(task)
    if not tasks:
        raise DossierError(f"{path} holds no tasks")
    return str(data["version"]), tasks


def load_contexts(path: Path | None = None) -> tuple[str, dict[str, str], dict[str, Context]]:
    """(version, system prompt per language, contexts by id) from contexts.yaml."""
    path = path or data_dir() / "contexts.yaml"
    data = _read_yaml(path)
    contexts: dict[str, Context] = {}
    for raw in data.get("contexts") or []:
        try:
            ctx = Context(id=str(raw["id"]), kind=str(raw["kind"]), label=str(raw.get("label", raw["id"])),
                          text={str(k): str(v or "") for k, v in (raw.get("text") or {}).items()},
                          control=raw.get("control"))
        except (KeyError, TypeError, AttributeError) as exc:
            raise DossierError(f"{path}: malformed context {raw!r:.80}: missing {exc}") from None
        if ctx.kind not in KINDS:
            raise DossierError(f"{path}: context {ctx.id!r} has unknown kind {ctx.kind!r}")
        contexts[ctx.id] = ctx
    for ctx in contexts.values():
        if ctx.control is not None and ctx.control not in contexts:
            raise DossierError(f"{path}: context {ctx.id!r} names unknown control {ctx.control!r}")
    if "none" not in contexts:
        raise DossierError(f"{path}: needs a 'none' baseline context")
    return str(data["version"]), dict(data.get("system_prompt") or {}), contexts


def load_design(tasks_path: Path | None = None, contexts_path: Path | None = None) -> Design:
    """Tasks and contexts together."""
    tv, tasks = load_tasks(tasks_path)
    cv, system, contexts = load_contexts(contexts_path)
    return Design(tasks=tasks, contexts=contexts, system_prompt=system, task_version=tv, context_version=cv,
                  files=[tasks_path or data_dir() / "tasks.yaml", contexts_path or data_dir() / "contexts.yaml"])


def select_contexts(design: Design, wanted: list[str] | None) -> list[str]:
    """The contexts to run: ``wanted`` (default: all) plus every matched control they need, in file order."""
    known = design.contexts
    wanted = wanted or list(known)
    unknown = [c for c in wanted if c not in known]
    if unknown:
        raise DossierError(f"unknown context(s) {', '.join(unknown)}: choose from {', '.join(known)}")
    chosen: set[str] = set()
    for cid in wanted:
        while cid is not None and cid not in chosen:
            chosen.add(cid)
            cid = known[cid].control
    return [cid for cid in known if cid in chosen]


def messages_for(design: Design, task: Task, context: Context, placement: str, language: str) -> list[ChatMessage]:
    """System + user messages: the context sentence goes into the system or the user message."""
    system = design.system_prompt.get(language, design.system_prompt.get("en", ""))
    sentence = context.text.get(language, "")
    user = task.prompt[language] if language in task.prompt else task.prompt["en"]
    if sentence and placement == "system":
        system = f"{system} {sentence}".strip()
    elif sentence:
        user = f"{sentence}\n\n{user}"
    out = [ChatMessage(role="system", content=system)] if system else []
    return [*out, ChatMessage(role="user", content=user)]


def build_items(
    design: Design,
    tasks: list[Task],
    contexts: list[str],
    *,
    languages: list[str],
    placements: list[str],
) -> list[ProbeItem]:
    """One item per task x context x placement x prompt language; the no-context baseline has one placement
    ("none") since it has no sentence to place. Tasks without a prompt in a language are skipped for it."""
    for lang in languages:
        if lang not in PROMPT_LANGUAGES:
            raise DossierError(f"unknown prompt language {lang!r}: use {', '.join(PROMPT_LANGUAGES)}")
    for placement in placements:
        if placement not in PLACEMENTS:
            raise DossierError(f"unknown placement {placement!r}: use user, system or both")
    items = []
    for task in tasks:
        for lang in languages:
            if lang not in task.prompt:
                continue
            for cid in contexts:
                ctx = design.contexts[cid]
                if lang not in ctx.text and ctx.kind != "baseline":
                    continue
                for placement in (["none"] if ctx.kind == "baseline" else placements):
                    items.append(ProbeItem(
                        id=f"{task.id}|{cid}|{placement}|{lang}",
                        messages=messages_for(design, task, ctx, placement, lang),
                        metadata={
                            "suite": "codesec", "task": task.id, "code_language": task.language,
                            "cwes": list(task.cwes), "task_source": task.source, "context": cid,
                            "context_kind": ctx.kind, "control": ctx.control, "placement": placement,
                            "prompt_language": lang,
                        },
                    ))
    return items
