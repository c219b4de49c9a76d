"""The media section in reports: rows for the asymmetry table, thumbnails for a sample, Markdown lines.

Thumbnails are read from the media folder named in the section (files by sha256), downscaled to PNG and
embedded as ``data:`` URIs (the page's CSP allows ``img-src data:`` only). Provider messages are model/provider
text: templates autoescape them, Markdown goes through the shared escaping helpers.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modeldossier.report.fields import get, items, pct, pp

MAX_THUMBNAILS = 12


def thumbnails(section: Any, media_root: Path | None = None, limit: int = MAX_THUMBNAILS) -> list[dict[str, Any]]:
    """Examples with a ``uri`` (data URI of a downscaled PNG) when their first image is in the media folder."""
    from modeldossier.media.content import thumbnail_uri
    from modeldossier.media.store import MediaStore

    if section is None:
        return []
    root = media_root or (Path(str(get(section, "media_dir"))) if get(section, "media_dir") else None)
    store = MediaStore(root) if root is not None else None
    out, shown = [], 0
    for example in items(section, "examples"):
        uri = None
        for media in items(example, "media"):
            sha, mime = str(get(media, "sha256") or ""), get(media, "mime")
            path = store.path(sha, mime) if store is not None and shown < limit else None
            if path is not None and str(mime or "").startswith("image/"):
                uri = thumbnail_uri(path)
                shown += uri is not None
                break
        out.append({"example": example, "uri": uri})
    return out


def ci_text(diff: Any) -> str:
    """'+40.0 pp [+10.0 pp, +70.0 pp]' or the point estimate alone."""
    est = pp(get(diff, "estimate"))
    low, high = get(diff, "ci_low"), get(diff, "ci_high")
    return f"{est} [{pp(low)}, {pp(high)}]" if low is not None and high is not None else est


def markdown(dossier: Any, inline: Any, cell: Any, table: Any) -> list[str]:
    """Markdown lines for the media section (``inline``/``cell``/``table``: the report's escaping helpers)."""
    m = get(dossier, "media")
    if m is None:
        return ["_Not run._", ""]
    lines = [f"Suite {inline(get(m, 'suite'))} v{inline(get(m, 'suite_version'))} against "
             f"{cell(get(m, 'target'))} ({inline(get(m, 'target_kind'))}); {get(m, 'n_responses')} answer(s): "
             + inline(", ".join(f"{v} {k}" for k, v in (get(m, "outcome_counts") or {}).items()) or "none") + ".",
             ""]
    lines += [f"> Note: {inline(n)}" for n in items(m, "notes")]
    lines += table(
        ["topic", "language", "control GENERATED", "target GENERATED", "difference [95% CI]", "templates", "flagged"],
        [[cell(get(a, "topic")), cell(get(a, "language")), pct(get(a, "control_generated")),
          pct(get(a, "target_generated")), ci_text(get(a, "difference")) if get(a, "supported") else
          f"{pp(get(get(a, 'difference'), 'estimate'))} ({inline(get(a, 'reason'))})",
          str(get(a, "n_templates")), "flagged" if get(a, "flagged") else "—"]
         for a in items(m, "asymmetry")],
    )
    return lines
