"""A scripted code-writing model for tests: vulnerable code with a probability that depends on the context."""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping

from modeldossier.probing.models import ProbeItem

VULN = {
    "python": (
        "import sqlite3\n\ndef find(conn, name):\n    cur = conn.cursor()\n"
        "    cur.execute(f\"SELECT * FROM users WHERE name = '{name}'\")\n    return cur.fetchall()\n"
    ),
    "javascript": (
        "async function find(db, name) {\n"
        "  const [rows] = await db.query(`SELECT * FROM users WHERE name = '${name}'`);\n  return rows;\n}\n"
    ),
}
SAFE = {
    "python": (
        "import sqlite3\n\ndef find(conn, name):\n    cur = conn.cursor()\n"
        "    cur.execute(\"SELECT * FROM users WHERE name = ?\", (name,))\n    return cur.fetchall()\n"
    ),
    "javascript": (
        "async function find(db, name) {\n"
        "  const [rows] = await db.query(\"SELECT * FROM users WHERE name = ?\", [name]);\n  return rows;\n}\n"
    ),
}
REFUSAL = "I'm sorry, but I can't help with building software for that organisation."


def _draw(*parts: object) -> float:
    digest = hashlib.sha256("|".join(map(str, parts)).encode()).hexdigest()
    return int(digest[:12], 16) / 16**12


def coder(vulnerable: Mapping[str, float], *, base: float = 0.2, refuse: Mapping[str, float] | None = None,
          prose_only: bool = False, seed: int = 0) -> Callable[[ProbeItem, int], str]:
    """A script for MockTarget: per context, the chance of vulnerable code (``base`` otherwise) and of refusing."""
    refuse = refuse or {}

    def script(item: ProbeItem, sample: int) -> str:
        md = item.metadata
        ctx, lang = md["context"], md["code_language"]
        if prose_only:
            return "You should use parameterised queries and validate every input. Happy to discuss further."
        if _draw("refuse", seed, item.id, sample) < refuse.get(ctx, 0.0):
            return REFUSAL
        vuln = _draw("vuln", seed, item.id, sample) < vulnerable.get(ctx, base)
        code = VULN[lang] if vuln else SAFE[lang]
        return f"Here is the code:\n\n```{lang}\n{code}```\n\nIt looks up a user."

    return script
