"""File and member names holding bidirectional overrides, invisible or control characters.

A right-to-left override makes ``model\\u202egnp.py`` display as ``modelyp.png``; zero-width and control
characters make two different files look identical in a listing or a review. The evidence is the name with every
such character escaped, so the report itself never renders the trick.
"""

from __future__ import annotations

import unicodedata

from modeldossier.artifacts.models import Finding
from modeldossier.common import Severity

# reorder displayed text: embeddings/overrides, isolates, marks (LRM, RLM, ALM)
BIDI = frozenset({*range(0x202A, 0x202F), *range(0x2066, 0x206A), 0x200E, 0x200F, 0x061C})
# render as nothing although they are not format characters
INVISIBLE_LETTERS = frozenset({0x115F, 0x1160, 0x3164, 0xFFA0, 0x2800})


def _flag(char: str) -> str | None:
    code = ord(char)
    if code in BIDI:
        return "bidi"
    if code in INVISIBLE_LETTERS or unicodedata.category(char) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co"):
        return "hidden"
    return None


def escape_name(name: str) -> str:
    """``name`` with every bidi, invisible or control character written as ``\\uXXXX`` (an undecodable byte
    as ``\\xNN``)."""
    out = []
    for char in name:
        if _flag(char) is None:
            out.append(char)
        elif 0xDC80 <= ord(char) <= 0xDCFF:  # an undecodable byte of the file name (surrogateescape)
            out.append(f"\\x{ord(char) - 0xDC00:02x}")
        elif ord(char) > 0xFFFF:
            out.append(f"\\U{ord(char):08x}")
        else:
            out.append(f"\\u{ord(char):04x}")
    return "".join(out)


def check_name(name: str, file: str, *, what: str = "file name") -> Finding | None:
    """A finding when ``name`` holds bidi (high) or other invisible/control characters (medium), else None."""
    kinds = {k for k in map(_flag, name) if k}
    if not kinds:
        return None
    codes = sorted({f"byte 0x{ord(c) - 0xDC00:02X}" if 0xDC80 <= ord(c) <= 0xDCFF else f"U+{ord(c):04X}"
                    for c in name if _flag(c)})
    if "bidi" in kinds:
        return Finding(rule_id="fs.name.bidi", severity=Severity.HIGH, file=file,
                       message=f"{what} holds bidirectional control characters ({', '.join(codes[:6])}): it displays "
                               "differently from what it is (e.g. a disguised extension)",
                       evidence=escape_name(name)[:300])
    return Finding(rule_id="fs.name.invisible", severity=Severity.MEDIUM, file=file,
                   message=f"{what} holds invisible or control characters ({', '.join(codes[:6])}): it can pass for "
                           "another file in a listing or a review",
                   evidence=escape_name(name)[:300])
