"""Defensive field access: section models evolve, so renderers read fields that may be absent or None."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from jinja2 import Undefined
from markupsafe import Markup

from modeldossier.display import visible

NOT_AVAILABLE = "not available"


def get(obj: Any, path: str, default: Any = None) -> Any:
    """``obj.a.b`` (attributes or mapping keys) or ``default`` when any step is missing or None."""
    current = obj
    for part in path.split("."):
        if current is None:
            return default
        current = current.get(part) if isinstance(current, dict) else getattr(current, part, None)
    return default if current is None else current


def items(obj: Any, path: str) -> list[Any]:
    """A list field as a list: [] when missing, None or not iterable."""
    value = get(obj, path)
    if value is None or isinstance(value, str | bytes | dict):
        return []
    try:
        return list(value)
    except TypeError:
        return []


def text(value: Any, default: str = NOT_AVAILABLE) -> str:
    """A value as display text; enums by value, None as 'not available', mappings as ``key: value; ...``.

    Control, bidi and invisible characters come back visibly escaped (``modeldossier.display.visible``): every
    renderer shows model and file text through here.
    """
    if value is None:
        return default
    inner = value if isinstance(value, dict) else getattr(value, "value", value)
    if isinstance(inner, bool):
        return "yes" if inner else "no"
    if hasattr(inner, "model_dump"):
        inner = inner.model_dump(mode="json", exclude_none=True)
    if isinstance(inner, dict):
        return visible("; ".join(f"{text(k)}: {text(v, '—')}" for k, v in inner.items()))
    if isinstance(inner, list | tuple):
        return visible(", ".join(text(v, "—") for v in inner))
    return visible(inner)


def pct(value: Any, digits: int = 1) -> str:
    """A fraction as a percentage string, 'not available' when missing or not a number."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NOT_AVAILABLE
    return f"{value * 100:.{digits}f}%"


def pp(value: Any, digits: int = 1) -> str:
    """A difference of fractions as signed percentage points."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return NOT_AVAILABLE
    return f"{value * 100:+.{digits}f} pp"


def interval(low: Any, high: Any, fmt: Any = pct) -> str:
    """``[low, high]`` with ``fmt``, or '' when either end is missing."""
    if not isinstance(low, int | float) or not isinstance(high, int | float):
        return ""
    return f"[{fmt(low)}, {fmt(high)}]"


def number(value: Any) -> float | None:
    """A real number or None (bools, strings and NaN are not numbers here)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return None if value != value else value


def first(values: Iterable[Any], default: Any = None) -> Any:
    """The first non-None value."""
    return next((v for v in values if v is not None), default)


#: Longest single value on a page (a 10 MB answer is cut, with the number of characters left out).
PAGE_VALUE_LIMIT = 20_000


def shown(value: Any) -> Any:
    """What every ``{{ ... }}`` of a page prints (the templates' ``finalize``): hidden characters visibly escaped.

    Markup built by the renderer (chart JSON marked safe) passes unchanged; mappings and lists read as fields
    (``key: value; ...``), never as a Python repr; line feeds are kept for ``<pre>`` blocks; integers of 1,000
    and more get thousands separators.
    """
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 1000:
        return f"{value:,}"  # counts and sizes with thousands separators
    if value is None or isinstance(value, Markup | Undefined | bool | int | float):
        return value
    if isinstance(value, dict | list | tuple):
        return text(value)
    return visible(value if isinstance(value, str) else str(value), PAGE_VALUE_LIMIT, keep_lines=True)
