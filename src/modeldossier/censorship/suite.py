"""The censorship suite: load and validate the paired-template data file, expand it into probe items."""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from modeldossier.errors import DossierError
from modeldossier.fsutil import sha256_file
from modeldossier.probing.models import ChatMessage, ProbeItem

SUITE_FILE = "suite.yaml"
ROLES = ("target", "control", "neutral")
_NUMBER = re.compile(r"\d[\d,]*")
_DEATH_WORDS = re.compile(
    r"kill|dead|death|died|fatalit|casualt|死|遇难|遇難|罹难|罹難|丧生|喪生|身亡|kuol|surma|uhri", re.IGNORECASE
)


@dataclass(frozen=True)
class Suite:
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
    return Path(str(resources.files("modeldossier.data.censorship").joinpath(SUITE_FILE)))


def load(path: Path | None = None) -> Suite:
    """Read and validate a suite file; any structural problem is a DossierError naming the template."""
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
        raise DossierError(f"invalid suite {path}: {problems[0]}{more}")
    return Suite(name=str(data["name"]), version=str(data["version"]), path=path, sha256=sha256_file(path),
                 data=data)


def validate(data: Any) -> list[str]:
    """Every problem with a suite's structure: missing pairs, controls, languages or placeholders."""
    if not isinstance(data, dict):
        return ["top level must be a mapping"]
    problems = [f"missing key {key!r}" for key in ("name", "version", "languages", "subjects", "templates")
                if key not in data]
    if problems:
        return problems
    languages = data["languages"]
    subjects = data["subjects"] or {}
    seen: set[str] = set()
    for i, t in enumerate(data["templates"] or []):
        tid = t.get("id") if isinstance(t, dict) else None
        where = f"template {tid or i}"
        if not tid:
            problems.append(f"{where}: no id")
            continue
        if tid in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(tid)
        target, controls = t.get("target"), t.get("controls") or []
        if not target:
            problems.append(f"{where}: no target subject")
        if not controls:
            problems.append(f"{where}: no matched control (a pair needs a target and at least one control)")
        langs = t.get("languages") or []
        for lang in langs:
            if lang not in languages:
                problems.append(f"{where}: language {lang!r} is not declared in the suite")
        for required in (lg for lg in languages if lg not in (data.get("low_resource_languages") or [])):
            if required not in langs:
                problems.append(f"{where}: missing language {required!r}")
        text = t.get("text") or {}
        for lang in langs:
            if "{subject}" not in str(text.get(lang, "")):
                problems.append(f"{where}: text for {lang!r} is missing or has no {{subject}} placeholder")
        for subject in [target, *controls]:
            if subject is None:
                continue
            names = subjects.get(subject)
            if not isinstance(names, dict):
                problems.append(f"{where}: subject {subject!r} is not defined")
                continue
            problems += [f"{where}: subject {subject!r} has no {lang!r} name" for lang in langs if not names.get(lang)]
        if t.get("check_facts"):
            facts = data.get("facts") or {}
            problems += [f"{where}: no reference facts for {s!r}" for s in [target, *controls] if s not in facts]
    neutral_langs = {lang for n in data.get("neutral") or [] for lang in (n.get("text") or {})}
    problems += [f"no neutral control in language {lang!r}" for lang in languages if lang not in neutral_langs]
    return problems


def items(suite: Suite, *, languages: list[str] | None = None) -> list[ProbeItem]:
    """Expand templates x subjects x languages (+ neutral controls) into probe items with analysis metadata."""
    data = suite.data
    wanted = set(languages or suite.languages)
    unknown = sorted(wanted - set(suite.languages))
    if unknown:
        raise DossierError(f"the {suite.name} suite has no language {', '.join(unknown)} "
                           f"(it has {', '.join(suite.languages)})")
    out: list[ProbeItem] = []
    for t in data["templates"]:
        for lang in t["languages"]:
            if lang not in wanted:
                continue
            for role, subject in [("target", t["target"]), *(("control", c) for c in t["controls"])]:
                prompt = t["text"][lang].replace("{subject}", data["subjects"][subject][lang])
                meta = {"suite": suite.name, "template": t["id"], "topic": t["topic"], "language": lang,
                        "pair_id": f"{t['id']}:{lang}", "role": role, "subject": subject}
                if t.get("check_facts"):
                    meta["facts"] = subject
                out.append(ProbeItem(id=f"{t['id']}:{subject}:{lang}",
                                     messages=[ChatMessage(role="user", content=prompt)], metadata=meta))
    for n in data.get("neutral") or []:
        for lang, text in n["text"].items():
            if lang in wanted:
                out.append(ProbeItem(
                    id=f"{n['id']}:{lang}", messages=[ChatMessage(role="user", content=text)],
                    metadata={"suite": suite.name, "template": n["id"], "topic": "neutral", "language": lang,
                              "pair_id": None, "role": "neutral", "subject": None}))
    return out


def check_facts(suite: Suite, subject: str, language: str, answer: str) -> dict[str, bool]:
    """Whether an answer states the reference date and a death toll inside the reference range."""
    ref = (suite.data.get("facts") or {}).get(subject)
    if not ref:
        return {}
    family = "zh" if language.startswith("zh") else language
    date_rx = ref["date"].get(family) or ref["date"]["en"]
    lo, hi = ref["deaths"]
    in_range = False
    for m in _NUMBER.finditer(answer):
        window = answer[max(0, m.start() - 40) : m.end() + 40]
        try:
            value = int(m.group(0).replace(",", ""))
        except ValueError:
            continue
        if lo <= value <= hi and _DEATH_WORDS.search(window) and not 1900 <= value <= 2030:
            in_range = True
            break
    return {"date": bool(re.search(date_rx, answer, re.IGNORECASE)), "deaths_in_range": in_range}
