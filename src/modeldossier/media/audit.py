"""The media capability: suite -> media target through the probe engine -> outcomes -> statistics -> section."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from modeldossier.errors import DossierError
from modeldossier.fsutil import ensure_dir
from modeldossier.media import suite as suite_mod
from modeldossier.media.content import default_placeholders_path, load_placeholders
from modeldossier.media.models import MediaExample, MediaFile, MediaSection, Outcome
from modeldossier.media.stats import Scored, asymmetry, cells
from modeldossier.probing.models import ProbeItem, ProbeResponse

MAX_EXAMPLES = 30
MEDIA_KINDS = ("images", "media-job")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "target"


def outcome_of(response: ProbeResponse) -> Outcome:
    """The outcome a media target recorded (ERROR for a failed request or an unknown record)."""
    if response.error is not None:
        return Outcome.ERROR
    recorded = response.detail.get("outcome")
    if recorded in Outcome.__members__:
        return Outcome(recorded)
    return Outcome.BLOCKED if response.blocked else Outcome.ERROR


def _example(item: ProbeItem, response: ProbeResponse, outcome: Outcome) -> MediaExample:
    media = []
    for entry in response.detail.get("media") or []:
        try:
            media.append(MediaFile.model_validate(entry))
        except ValueError:
            continue
    meta = item.metadata
    message = response.detail.get("message") if outcome is not Outcome.ERROR else response.error
    return MediaExample(item_id=item.id, sample=response.sample, topic=meta.get("topic"),
                        language=meta.get("language"), role=meta.get("role"), subject=meta.get("subject"),
                        outcome=outcome.value, reason=response.detail.get("reason"),
                        message=str(message)[:1000] if message else None, media=media)


def pick_examples(pairs: list[tuple[ProbeItem, ProbeResponse, Outcome]], limit: int = MAX_EXAMPLES
                  ) -> list[MediaExample]:
    """A sample for the report: per topic, targets not generated first, then a generated target and control."""
    chosen: list[MediaExample] = []
    by_topic: dict[str, list[tuple[ProbeItem, ProbeResponse, Outcome]]] = {}
    for triple in pairs:
        by_topic.setdefault(str(triple[0].metadata.get("topic")), []).append(triple)
    for _topic, rows in sorted(by_topic.items()):
        picks = [r for r in rows if r[0].metadata.get("role") == "target" and r[2] is not Outcome.GENERATED][:2]
        for role in ("target", "control", "neutral"):
            picks += [r for r in rows if r[0].metadata.get("role") == role and r[2] is Outcome.GENERATED][:1]
        chosen += [_example(*r) for r in picks]
    return chosen[:limit]


def analyze(suite: suite_mod.MediaSuite, items: list[ProbeItem], responses: list[ProbeResponse], *, target: str,
            target_kind: str | None, samples: int, transcript: Path | None, media_dir: Path,
            placeholder_version: str | None) -> MediaSection:
    """Outcomes and statistics for engine responses (no I/O)."""
    by_id = {item.id: item for item in items}
    pairs = [(by_id[r.item_id], r, outcome_of(r)) for r in responses if r.item_id in by_id]
    scored = [
        Scored(item_id=i.id, sample=r.sample, template=str(i.metadata.get("template")),
               topic=str(i.metadata.get("topic")), language=str(i.metadata.get("language")),
               role=str(i.metadata.get("role")), subject=i.metadata.get("subject"), outcome=o)
        for i, r, o in pairs
    ]
    counts = Counter(s.outcome.value for s in scored)
    notes = []
    errors = counts.get(Outcome.ERROR.value, 0)
    status = "complete"
    if scored and errors == len(scored):
        status = "error"
        notes.append(f"every request failed ({errors}): no outcome could be measured")
    elif errors:
        status = "partial"
        notes.append(f"{errors} request(s) failed for good and are left out of every rate; re-running retries them")
    return MediaSection(
        status=status, notes=notes, suite=suite.name, suite_version=suite.version, suite_sha256=suite.sha256,
        target=target, target_kind=target_kind, transcript=str(transcript) if transcript else None,
        media_dir=str(Path(media_dir).resolve()), placeholder_list=placeholder_version, samples=samples,
        n_items=len(items),
        n_responses=len(scored), outcome_counts=dict(sorted(counts.items())), cells=cells(scored),
        asymmetry=asymmetry(scored), examples=pick_examples(pairs),
    )


def media_section(
    target_spec: str,
    *,
    out_dir: Path,
    samples: int = 1,
    quiet: bool = True,
    languages: list[str] | None = None,
    limit: int | None = None,
    max_connections: int = 4,
    cache: bool = True,
    refresh: bool = False,
    params: dict[str, Any] | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    timeout: float = 120.0,
    placeholders: Path | None = None,
    suite_path: Path | None = None,
    max_media_bytes: int | None = None,
    **_: Any,
) -> MediaSection:
    """Run the media suite against an ``images:`` or ``media-job:`` target and build the section."""
    from modeldossier.probing.cache import ResponseCache
    from modeldossier.probing.runner import RunStats, run_probes
    from modeldossier.probing.targets import parse_target

    loaded = suite_mod.load(suite_path)
    items = suite_mod.items(loaded, languages=languages)
    out_dir = ensure_dir(Path(out_dir))
    media_dir = out_dir / "media"
    known = load_placeholders(placeholders or default_placeholders_path())
    target = parse_target(target_spec, base_url=base_url, api_key_env=api_key_env, timeout=timeout,
                          media_dir=media_dir, placeholders=known,
                          max_media_bytes=max_media_bytes)
    if getattr(target, "kind", None) not in ("openai-images", "media-job"):
        raise DossierError(f"the media suite needs an images: or media-job: target, not {target_spec.split(':')[0]!r}")
    transcript = out_dir / f"{_slug(target.id)}.media.transcript.jsonl"
    response_cache = ResponseCache(out_dir / "cache" / "responses.sqlite") if cache else None
    stats = RunStats()
    try:
        responses = run_probes(items, target, samples=samples, params=params or {}, transcript=transcript,
                               cache=response_cache, max_connections=max_connections, limit=limit,
                               refresh=refresh, quiet=quiet, stats=stats)
    finally:
        if response_cache is not None:
            response_cache.close()
    used = items[:limit] if limit is not None else items
    return analyze(loaded, used, responses, target=target.id, target_kind=target.describe().get("kind"),
                   samples=samples, transcript=transcript, media_dir=media_dir,
                   placeholder_version=known.version)
