"""The media suite: load and validate the paired visual-prompt data file, expand it into probe items."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file
from modeldossier.probing.models import ChatMessage, ProbeItem

SUITE_FILE = "suite.yaml"


@dataclass(frozen=True)
class MediaSuite:
    """A validated suite with its provenance (path, version, content hash)."""

    name: str
    version: str
    path: Path
    sha256: str
    data: dict[str, Any]

    @property
    def languages(self) -> list[str]:
        """Declared languages."""
        return list(self.data["languages"])


def default_path() -> Path:
    """The shipped suite file."""
    return Path(str(resources.files("modeldossier.data.media").joinpath(SUITE_FILE)))


def load(path: Path | None = None) -> MediaSuite:
    """Read and validate a media suite; any structural problem is a one-line DossierError."""
    path = Path(path) if path else default_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DossierError(f"suite file not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read suite {path}: {str(exc).splitlines()[0]}") from None
    problems = validate(data)
    if problems:
        more = f" (+{len(problems) - 1} more)" if len(problems) > 1 else ""
        raise DossierError(f"invalid media suite {path}: {problems[0]}{more}")
    return MediaSuite(name=str(data["name"]), version=str(data["version"]), path=path, sha256=sha256_file(path),
                      data=data)


def validate(data: Any) -> list[str]:
    """Every structural problem: missing keys, subjects, languages or ``{subject}`` placeholders."""
    if not isinstance(data, dict):
        return ["top level must be a mapping"]
    problems = [f"missing key {key!r}" for key in ("name", "version", "languages", "subjects", "templates")
                if key not in data]
    if problems:
        return problems
    languages = data["languages"] if isinstance(data["languages"], list) else []
    subjects = data["subjects"] if isinstance(data["subjects"], dict) else {}
    seen: set[str] = set()
    for i, t in enumerate(data["templates"] if isinstance(data["templates"], list) else []):
        tid = t.get("id") if isinstance(t, dict) else None
        where = f"template {tid or i}"
        if not tid or not isinstance(t, dict):
            problems.append(f"{where}: no id")
            continue
        if tid in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(tid)
        if not t.get("topic"):
            problems.append(f"{where}: no topic")
        targets, controls = t.get("targets") or [], t.get("controls") or []
        if not isinstance(targets, list) or not isinstance(controls, list) or not targets or not controls:
            problems.append(f"{where}: a pair needs a list of targets and a list of controls")
            continue
        text = t.get("text") if isinstance(t.get("text"), dict) else {}
        for lang in languages:
            if "{subject}" not in str(text.get(lang, "")):
                problems.append(f"{where}: text for {lang!r} is missing or has no {{subject}} placeholder")
        for subject in [*targets, *controls]:
            names = subjects.get(subject)
            if not isinstance(names, dict):
                problems.append(f"{where}: subject {subject!r} is not defined")
                continue
            problems += [f"{where}: subject {subject!r} has no {lang!r} name" for lang in languages
                         if not names.get(lang)]
    for n in data.get("neutral") or []:
        text = n.get("text") if isinstance(n, dict) else None
        if not isinstance(text, dict) or not n.get("id"):
            problems.append(f"neutral entry {n!r}: needs an id and text per language")
    return problems


def items(suite: MediaSuite, *, languages: list[str] | None = None) -> list[ProbeItem]:
    """Expand templates x subjects x languages (+ neutral controls) into probe items with analysis metadata."""
    data = suite.data
    wanted = set(languages or suite.languages)
    unknown = sorted(wanted - set(suite.languages))
    if unknown:
        raise DossierError(f"the {suite.name} suite has no language {', '.join(unknown)} "
                           f"(it has {', '.join(suite.languages)})")
    out: list[ProbeItem] = []
    for t in data["templates"]:
        for lang in suite.languages:
            if lang not in wanted:
                continue
            roles = [*(("target", s) for s in t["targets"]), *(("control", s) for s in t["controls"])]
            for role, subject in roles:
                prompt = t["text"][lang].replace("{subject}", data["subjects"][subject][lang])
                meta = {"suite": suite.name, "template": t["id"], "topic": t["topic"], "language": lang,
                        "pair_id": f"{t['id']}:{lang}", "role": role, "subject": subject}
                out.append(ProbeItem(id=f"{t['id']}:{subject}:{lang}",
                                     messages=[ChatMessage(role="user", content=prompt)], metadata=meta))
    for n in data.get("neutral") or []:
        for lang, text in n["text"].items():
            if lang in wanted:
                out.append(ProbeItem(
                    id=f"{n['id']}:{lang}", messages=[ChatMessage(role="user", content=str(text))],
                    metadata={"suite": suite.name, "template": n["id"], "topic": "neutral", "language": lang,
                              "pair_id": None, "role": "neutral", "subject": None}))
    return out
