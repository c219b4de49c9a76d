"""Untrusted text made safe to show: control, bidi and invisible characters visibly escaped, length bounded.

Every value that came from a model or a file (file names, card fields, licenses, answers, layer names) passes
through ``visible`` before it reaches a terminal, an HTML page, Markdown, SARIF or CycloneDX. A terminal then never
sees a raw ESC sequence (``\\x1b[2K`` erases a line), and a page never reorders text with a bidi override
(``\\u202e`` makes ``exe.txt`` read ``txt.exe``). JSON documents stay faithful data and are not passed through here.
"""

from __future__ import annotations

import re
from typing import Any

from modeldossier.common import map_strings
from modeldossier.fsutil import storable

#: Longest value shown in one place; the rest is summarised as "… [N more characters]".
DEFAULT_LIMIT = 4000

# Unicode categories Cc (C0, DEL, C1), Cf (format: bidi marks, embeddings, overrides and isolates, zero-width
# space/joiners, word joiner, invisible operators, BOM, soft hyphen, tags, interlinear annotation), Zl and Zp
# (line and paragraph separators), Cs (lone surrogates), plus letters and marks that render as nothing (Hangul
# fillers, combining grapheme joiner, Mongolian and variation selectors, Khmer inherent vowels).
_HIDDEN = (
    "\x7f-\x9f\xad\u034f\u061c\u0600-\u0605\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u2028-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff9-\ufffb"
    "\ud800-\udfff\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a"
    "\U000e0000-\U000e0fff"
)
_ALL = re.compile(f"[\x00-\x1f{_HIDDEN}]")
_KEEP_LINES = re.compile(f"[\x00-\x08\x0b-\x1f{_HIDDEN}]")  # line feed and tab kept


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def visible(value: Any, limit: int | None = DEFAULT_LIMIT, *, keep_lines: bool = False) -> str:
    """``value`` as text with every control, bidi and invisible character shown escaped (``\\x1b``, ``\\u202e``).

    Longer than ``limit`` characters (None: no limit), it is cut and ends with "… [N more characters]".
    ``keep_lines`` keeps line feeds and tabs (a multi-line answer in a ``<pre>`` block); otherwise they are
    escaped too, so a value can never start a new line of its own.
    """
    text = value if isinstance(value, str) else str(value)
    more = 0
    if limit is not None and len(text) > limit:
        more, text = len(text) - limit, text[:limit]
    text = storable(text)  # bytes of a non-UTF-8 file name read \xff
    text = (_KEEP_LINES if keep_lines else _ALL).sub(_escape, text)
    return f"{text}… [{more:,} more characters]" if more else text


def visible_all(value: Any, limit: int | None = DEFAULT_LIMIT) -> Any:
    """``value`` with ``visible`` applied to every string in it (nested lists and dicts, keys too)."""
    return map_strings(value, lambda s: visible(s, limit))


def is_hidden_free(text: str) -> bool:
    """True when ``text`` has no control, bidi or invisible character (nothing for ``visible`` to escape)."""
    return _ALL.search(text) is None


def _json_escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code > 0xFFFF:  # a UTF-16 surrogate pair, as JSON spells characters beyond the BMP
        code -= 0x10000
        return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"
    return f"\\u{code:04x}"


def json_for_terminal(text: str) -> str:
    """JSON text with every control, bidi and invisible character written as a ``\\u`` escape.

    The same data (a JSON reader gets identical strings back), but safe to show in a terminal: such characters
    can only occur inside JSON strings, where the escape means the same character. Line feeds and tabs (the
    document's own indentation) are kept.
    """
    return _KEEP_LINES.sub(_json_escape, text)
