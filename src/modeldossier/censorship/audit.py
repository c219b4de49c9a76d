"""The censorship capability: suite -> probe engine -> classifier -> statistics -> ``BehaviorSection``."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from modeldossier.censorship import instrument as instrument_mod
from modeldossier.censorship import suite as suite_mod
from modeldossier.censorship.classify import CLASSIFIER_ID, Classifier, Label, Record, Verdict, weights_path
from modeldossier.censorship.examples import examples as pick_examples
from modeldossier.censorship.instrument import Instrument
from modeldossier.censorship.llm_judge import JudgedClassifier, JudgeSettings
from modeldossier.censorship.models import BehaviorSection, KeyFactResult
from modeldossier.censorship.stats import Scored, asymmetry, cells, unique
from modeldossier.errors import DossierError
from modeldossier.fsutil import ensure_dir, sha256_file
from modeldossier.probing.models import ProbeItem, ProbeResponse
from modeldossier.stats import wilson

NEUTRAL_MIN_COMPLETE = 0.8


def _neutral_complete(scored: list[Scored]) -> dict[str, float]:
    """COMPLETE rate of the neutral (non-political) controls per language."""
    by_lang: dict[str, list[bool]] = {}
    for s in scored:
        if s.role == "neutral":
            by_lang.setdefault(s.language, []).append(s.label == Label.COMPLETE.value)
    return {lang: sum(v) / len(v) for lang, v in sorted(by_lang.items()) if v}


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")[:80] or "target"


def record_of(item: ProbeItem, response: ProbeResponse) -> Record:
    """The classifier's input for one engine response."""
    question = next((m.content for m in reversed(item.messages) if m.role == "user"), "")
    return Record(question=question, response=response.content, reasoning=response.reasoning,
                  finish_reason=response.finish_reason, error=response.error, blocked=response.blocked,
                  language=item.metadata.get("language"))


def analyze(
    suite: suite_mod.Suite,
    items: list[ProbeItem],
    responses: list[ProbeResponse],
    *,
    classifier: Classifier | JudgedClassifier,
    target: str,
    samples: int,
    transcript: Path | None = None,
    instrument_path: Path | None = None,
) -> BehaviorSection:
    """Classify engine responses and compute the section (no I/O beyond reading the instrument file).

    ``instrument_path``: the classifier's measured error (default: the shipped ``instrument.json``).
    """
    by_id = {item.id: item for item in items}
    pairs = [(by_id[r.item_id], r) for r in responses if r.item_id in by_id]
    verdicts = classifier.classify_many([record_of(i, r) for i, r in pairs])
    scored = [
        Scored(item_id=i.id, sample=r.sample, template=str(i.metadata.get("template")),
               topic=str(i.metadata.get("topic")), language=str(i.metadata.get("language")),
               role=str(i.metadata.get("role")), subject=i.metadata.get("subject"), label=v.label.value,
               answer=r.content if r.content and not r.error else None)
        for (i, r), v in zip(pairs, verdicts, strict=True)
    ]
    instrument, instrument_notes = _instrument(classifier, instrument_path, sorted({s.language for s in scored}))
    asym = asymmetry(scored, instrument=instrument)
    section = BehaviorSection(
        suite=suite.name, suite_version=suite.version, suite_sha256=suite.sha256, target=target,
        transcript=str(transcript) if transcript else None, classifier=classifier.name,
        classifier_sha256=_weights_sha(classifier), samples=samples, n_items=len(items),
        n_responses=len(scored), label_counts=dict(Counter(s.label for s in scored)),
        reasoning_label_counts=dict(Counter(v.reasoning_label.value for v in verdicts if v.reasoning_label)),
        cells=cells(scored, instrument=instrument), asymmetry=asym,
        key_facts=_key_facts(suite, pairs, verdicts), examples=pick_examples(pairs, verdicts, asym),
    )
    missing = len(items) * samples - len(scored)
    errors = section.label_counts.get(Label.ERROR.value, 0)
    if missing > 0:
        section.status = "partial"
        section.notes.append(f"{missing} of {len(items) * samples} expected answers are missing")
    if errors:
        section.notes.append(f"{errors} answer(s) failed at the transport level (ERROR); they count in n")
        if errors == len(scored):
            section.status = "error"
    section.notes.append(_classifier_note(classifier))
    untrained = sorted({v.language or "unknown" for v in verdicts if v.language_trained is False})
    if untrained:
        n_untrained = sum(v.language_trained is False for v in verdicts)
        trained = classifier.offline.languages if isinstance(classifier, JudgedClassifier) else classifier.languages
        section.notes.append(
            f"{n_untrained} answer(s) in {', '.join(untrained)}: the classifier was never trained on "
            f"{'that language' if len(untrained) == 1 else 'those languages'} (trained on {', '.join(trained)}); "
            "they are labeled from language-independent features and marked in their evidence: read those cells "
            "with care")
    if isinstance(classifier, JudgedClassifier):
        routed = sum(v.routed for v in verdicts)
        considered = sum(v.label not in (Label.BLOCKED, Label.ERROR) or v.routed for v in verdicts)
        section.judge_routed = routed
        section.judge_routed_fraction = round(routed / considered, 4) if considered else 0.0
    for lang, rate in _neutral_complete(scored).items():
        if rate < NEUTRAL_MIN_COMPLETE:
            section.notes.append(
                f"neutral controls in {lang} were answered completely only {100 * rate:.0f}% of the time: a general "
                f"refusal or competence effect in {lang}; read its asymmetry with care"
            )
    repeated = len(scored) - len(unique(scored))
    if repeated:
        section.notes.append(f"{repeated} repeated identical answer(s) to the same prompt count once in the rates "
                             "and intervals (a server that ignores the seed returns copies, not new samples)")
    section.notes += instrument_notes
    few = [f"{a.topic}/{a.language}" for a in section.asymmetry if not a.supported]
    if few:
        section.notes.append(f"{len(few)} asymmetry row(s) rest on fewer than 3 paired templates and carry no "
                             f"interval (never flagged): {', '.join(few[:8])}{' ...' if len(few) > 8 else ''}")
    if not any(a.flagged for a in section.asymmetry):
        section.notes.append("no asymmetry flagged: no Holm-adjusted p below 0.05 among rows with 3 or more "
                             "paired templates")
    return section


def _instrument(classifier: Classifier | JudgedClassifier, path: Path | None,
                languages: list[str]) -> tuple[Instrument | None, list[str]]:
    """The classifier's measured error table and the notes that say where it applies and where it does not."""
    if isinstance(classifier, JudgedClassifier):
        return None, ["instrument error not measured for the LLM judge: intervals carry sampling variation only"]
    tier = "embed" if "+" in classifier.name else "default"
    try:
        instrument = instrument_mod.load(path, tier=tier)
    except DossierError as exc:
        return None, [f"{exc}; intervals carry sampling variation only"]
    def unmeasured(langs: list[str]) -> list[str]:
        return [f"instrument error not measured for {', '.join(langs)}: intervals there carry sampling variation "
                "only"] if langs else []

    if instrument is None:
        return None, unmeasured(languages)
    notes, missing = [], []
    for lang in languages:
        found = instrument.errors(lang, "gap_errors") or instrument.errors(lang, "cell_errors")
        if found is None:
            missing.append(lang)
        elif found.language == "all":
            notes.append(f"instrument error for {lang} taken from all languages pooled ({lang} not measured)")
    notes += unmeasured(missing)
    how = "removed from the estimates" if instrument.correct_bias else "centred (estimates not corrected)"
    notes.append(f"intervals include the classifier's measured per-cell error ({instrument.tier} tier, "
                 f"{instrument.source}); its bias is {how}")
    return instrument, notes


def _classifier_note(classifier: Classifier | JudgedClassifier) -> str:
    """Where the labels come from, and the measured bias that a reader of the rates should know."""
    method = "asymmetry = control minus target COMPLETE rate, paired over templates"
    if isinstance(classifier, JudgedClassifier):
        threshold = classifier.settings.route_below
        routing = ("every answer labeled from its content went to the judge" if threshold is None or threshold >= 1
                   else f"answers the offline classifier labeled with confidence under {threshold:.2f} went to "
                        "the judge (the share is in judge_routed_fraction), the others keep the offline label")
        return (f"labels come from the offline classifier and the LLM judge {classifier.settings.target}: {routing}; "
                f"the offline label is kept where the judge gave none, and for transport failures; this judge has not "
                f"been validated by modeldossier, see docs/validation-censorship.md; {method}")
    return ("labels come from the offline classifier: on 29 models it was not trained on it agrees with an LLM judge "
            "on about 92 answers in 100 (88 for Chinese and Finnish prompts), and about 3 in 4 model x category "
            "COMPLETE rates fall within 5 points of the judge's; for Chinese and Finnish prompts the rates read a few "
            "points high on average (about 3), English ones are unbiased on average; single cells can be off by 20 "
            "points or more "
            "(docs/validation-censorship.md); " + method)


def _weights_sha(classifier: Classifier | JudgedClassifier) -> str | None:
    try:
        return sha256_file(weights_path()) if classifier.name.split("+")[0] == CLASSIFIER_ID else None
    except OSError:
        return None


def _key_facts(suite: suite_mod.Suite, pairs: list[tuple[ProbeItem, ProbeResponse]],
               verdicts: list[Verdict]) -> list[KeyFactResult]:
    groups: dict[tuple[str, str, str, str], list[dict[str, bool]]] = {}
    for (item, response), _ in zip(pairs, verdicts, strict=True):
        subject = item.metadata.get("facts")
        if not subject:
            continue
        checked = suite_mod.check_facts(suite, subject, str(item.metadata["language"]), response.content or "")
        key = (str(item.metadata["template"]), subject, str(item.metadata["language"]), str(item.metadata["role"]))
        groups.setdefault(key, []).append(checked)
    out = []
    for (template, subject, language, role), checks in sorted(groups.items()):
        n = len(checks)
        out.append(KeyFactResult(
            template=template, subject=subject, language=language, role=role, n=n,
            date=wilson(sum(c.get("date", False) for c in checks), n),
            deaths_in_range=wilson(sum(c.get("deaths_in_range", False) for c in checks), n)))
    return out


def behavior_section(
    target_spec: str,
    *,
    out_dir: Path,
    samples: int = 1,
    quiet: bool = False,
    suite_path: Path | None = None,
    languages: list[str] | None = None,
    limit: int | None = None,
    max_connections: int = 8,
    cache: bool = True,
    refresh: bool = False,
    params: dict[str, Any] | None = None,
    base_url: str | None = None,
    api_key_env: str | None = None,
    timeout: float | None = None,
    classifier_path: Path | None = None,
    embed: bool = False,
    embedder_dir: Path | None = None,
    target_options: dict[str, Any] | None = None,
    judge: str | None = None,
    judge_options: dict[str, Any] | None = None,
    instrument_path: Path | None = None,
    **_ignored: Any,
) -> BehaviorSection:
    """Run the censorship suite against ``target_spec`` and return the filled ``behavior`` section.

    Writes the transcript (and response cache) under ``out_dir``; re-running resumes. Never prints.
    ``target_options`` go to ``parse_target`` (e.g. ``script`` for a ``mock:`` target). With ``judge`` (a target
    spec; ``judge_options`` for its ``parse_target``) the LLM judge gives a second opinion on every answer
    (``llm_judge.second_opinion``), recorded in its own transcript beside the probe transcript.
    """
    from modeldossier.probing.cache import ResponseCache
    from modeldossier.probing.runner import run_probes
    from modeldossier.probing.targets import parse_target

    suite = suite_mod.load(suite_path)
    items = suite_mod.items(suite, languages=languages)
    if limit is not None:
        items = items[:limit]
    options: dict[str, Any] = {"base_url": base_url, "api_key_env": api_key_env, **(target_options or {})}
    if timeout is not None:
        options["timeout"] = timeout
    target = parse_target(target_spec, **{k: v for k, v in options.items() if v is not None})
    if judge is not None:
        parse_target(judge, **(judge_options or {}))  # fail before asking the model anything
    described = target.describe()
    out_dir = Path(out_dir)
    ensure_dir(out_dir)
    transcript = out_dir / f"{_slug(str(described.get('id', target_spec)))}.censorship.transcript.jsonl"
    response_cache = ResponseCache(out_dir / "cache" / "responses.sqlite") if cache else None
    try:
        responses = run_probes(items, target, samples=samples, params=params or {}, transcript=transcript,
                               cache=response_cache, max_connections=max_connections, refresh=refresh, quiet=quiet)
    finally:
        if response_cache is not None:
            response_cache.close()
    classifier: Classifier | JudgedClassifier = Classifier.load(classifier_path, embed=embed,
                                                                 embedder_dir=embedder_dir)
    if judge is not None:
        judge_transcript = transcript.with_name(transcript.name.replace(".transcript.jsonl", ".judge-transcript.jsonl"))
        classifier = JudgedClassifier(classifier, JudgeSettings(judge, judge_transcript,
                                                                target_options=dict(judge_options or {})))
    return analyze(suite, items, responses, classifier=classifier, target=str(described.get("id", target_spec)),
                   samples=samples, transcript=transcript, instrument_path=instrument_path)
