"""An optional sample of CyberSecEval instruct prompts (MIT, Meta PurpleLlama), read at run time from a path the
user gives; never shipped. Only the languages our analyzers cover are kept."""

from __future__ import annotations

import json
import random
from pathlib import Path

from modeldossier.codesec.design import Task
from modeldossier.errors import DossierError

FILE_NAME = "instruct-v2.prompts-only.jsonl"
MAX_LINES = 200_000
MAX_LINE_CHARS = 100_000
_LANGUAGES = {"python": "python", "javascript": "javascript"}


def resolve(path: Path) -> Path:
    """The JSONL file: ``path`` itself, or the prompts file inside a folder (or its cyberseceval/ subfolder)."""
    path = Path(path).expanduser()
    if path.is_dir():
        for candidate in (path / FILE_NAME, path / "cyberseceval" / FILE_NAME):
            if candidate.is_file():
                return candidate
        raise DossierError(f"no {FILE_NAME} in {path}")
    if not path.is_file():
        raise DossierError(f"CyberSecEval prompts not found: {path}")
    return path


def load_tasks(path: Path, *, sample: int = 40, seed: int = 0) -> tuple[Path, list[Task]]:
    """A seeded sample of ``sample`` Python/JavaScript instruct prompts, balanced by language; the file's path."""
    path = resolve(path)
    rows: dict[str, list[Task]] = {lang: [] for lang in _LANGUAGES.values()}
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if number > MAX_LINES:
                    raise DossierError(f"{path}: more than {MAX_LINES} lines; is this the right file?")
                if not line.strip():
                    continue
                if len(line) > MAX_LINE_CHARS:
                    raise DossierError(f"{path}:{number}: line longer than {MAX_LINE_CHARS} characters")
                try:
                    row = json.loads(line)
                    language = _LANGUAGES.get(str(row["language"]).lower())
                    prompt = str(row["test_case_prompt"])
                    task_id = f"cse-{row['prompt_id']}"
                    cwe = str(row.get("cwe_identifier") or "")
                except (ValueError, KeyError, TypeError) as exc:
                    raise DossierError(f"{path}:{number}: not a CyberSecEval prompt row ({exc})") from None
                if language is None:
                    continue
                rows[language].append(Task(id=task_id, language=language, cwes=(cwe,) if cwe else (),
                                           prompt={"en": prompt}, source="cyberseceval-instruct-v2"))
    except UnicodeDecodeError as exc:
        raise DossierError(f"{path} is not UTF-8 text: {exc}") from None
    except OSError as exc:
        raise DossierError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not any(rows.values()):
        raise DossierError(f"{path} holds no Python or JavaScript prompts")
    rng = random.Random(seed)
    chosen: list[Task] = []
    per_language = max(1, sample // len(rows))
    for language in sorted(rows):
        pool = rows[language]
        chosen += rng.sample(pool, min(per_language, len(pool)))
    return path, chosen[:sample]
