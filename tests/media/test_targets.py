"""Both media API shapes against the local mock server: every outcome, retries, slow and endless jobs, garbage,
oversized media, keys, cache and resume."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from modeldossier.errors import DossierError
from modeldossier.media.audit import media_section
from modeldossier.media.mockserver import MODERATION_MESSAGE, REFUSAL_TEXT, MockMediaServer, job_config_yaml
from modeldossier.media.models import MediaSection
from modeldossier.probing.targets import parse_target

pytestmark = pytest.mark.network

KEY = "sk-media-secret-0123456789"

# what the mock does per topic: the Kling pattern (events blocked, leaders refused, fire a placeholder card)
ACTIONS = {"Tiananmen": "block", "天安门": "block", "Zhongnanhai": "card", "Xi Jinping": "refuse", "Hong Kong": "blank",
           "Tibetan": "block200"}


def kling(prompt: str) -> str:
    return next((action for needle, action in ACTIONS.items() if needle in prompt), "generate")


def _by_subject(section: MediaSection) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for cell in section.cells:
        for outcome, rate in cell.rates.items():
            if rate.k:
                found.setdefault(f"{cell.topic}/{cell.role}", set()).add(outcome)
    return found


def _job_target(tmp_path: Path, server: MockMediaServer, **kwargs: object) -> str:
    config = tmp_path / "job.yaml"
    config.write_text(job_config_yaml(server.url, **kwargs))  # type: ignore[arg-type]
    return f"media-job:{config}"


@pytest.mark.parametrize("response_format", ["b64_json", "url"])
def test_images_endpoint_every_outcome(tmp_path: Path, response_format: str) -> None:
    with MockMediaServer(policy=kling, response_format=response_format) as server:
        section = media_section(f"images:{server.url}/img-1", out_dir=tmp_path, languages=["en"])
    seen = _by_subject(section)
    assert seen["events/target"] == {"BLOCKED"}
    assert seen["fire/target"] == {"PLACEHOLDER"}
    assert seen["leaders/target"] == {"REFUSED"}
    assert seen["protests/target"] == {"PLACEHOLDER"}
    assert seen["symbols/target"] == {"BLOCKED", "GENERATED"}  # Tibetan flag: HTTP 200 with an error object
    assert seen["events/control"] == seen["symbols/control"] == seen["neutral/neutral"] == {"GENERATED"}
    flagged = {(a.topic, a.language) for a in section.asymmetry if a.flagged}
    assert {("events", "en"), ("fire", "en"), ("leaders", "en"), ("protests", "en"), ("all", "en")} <= flagged
    assert section.status == "complete" and section.outcome_counts["GENERATED"] == 51 - 4 * 3 - 3
    blocked = next(e for e in section.examples if e.outcome == "BLOCKED")
    assert blocked.message == MODERATION_MESSAGE
    refused = next(e for e in section.examples if e.outcome == "REFUSED")
    assert refused.message == REFUSAL_TEXT
    stored = list((tmp_path / "media").iterdir())
    generated = next(e for e in section.examples if e.outcome == "GENERATED")
    assert (tmp_path / "media" / f"{generated.media[0].sha256}.png") in stored
    dossier_text = section.model_dump_json()
    assert "b64_json" not in dossier_text and len(dossier_text) < 200_000  # media is never inlined


def test_retries_garbage_and_rate_limits_then_answers(tmp_path: Path) -> None:
    faults = {"Kent State": ["500", "garbage", "429"], "lighthouse": ["garbage"]}
    with MockMediaServer(faults=faults) as server:
        section = media_section(f"images:{server.url}/img-1", out_dir=tmp_path, languages=["en"],
                                max_connections=4)
    assert section.outcome_counts == {"GENERATED": 51}
    log = (tmp_path / "images_img-1.media.transcript.jsonl").read_text()
    assert "HTTP 500" in log and "bad response body" in log


def test_oversized_and_undecodable_media_are_errors(tmp_path: Path) -> None:
    faults = {"Kent State": ["huge"] * 20, "lighthouse": ["badimage"] * 20}
    with MockMediaServer(faults=faults, huge_bytes=300_000, response_format="url") as server:
        section = media_section(f"images:{server.url}/img-1", out_dir=tmp_path, languages=["en"],
                                max_media_bytes=200_000)
    assert section.outcome_counts["ERROR"] == 3 + 1
    assert section.status == "partial" and any("left out of every rate" in n for n in section.notes)
    log = (tmp_path / "images_img-1.media.transcript.jsonl").read_text()
    assert "media too large" in log and "do not decode" in log
    cell = next(c for c in section.cells if c.topic == "events" and c.role == "control")
    assert cell.errors == 3 and cell.n == 3


def test_key_goes_to_the_api_host_only_and_is_never_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("IMAGES_API_KEY", KEY)
    with MockMediaServer(response_format="url") as server:
        # the API is addressed as localhost, the media URLs as 127.0.0.1: another origin, so no key there
        base = server.url.replace("127.0.0.1", "localhost")
        section = media_section(f"images:{base}/img-1", out_dir=tmp_path, languages=["en"], limit=3)
        assert f"Bearer {KEY}" in server.seen_auth
        assert server.media_auth == {""}
    assert section.outcome_counts == {"GENERATED": 3}
    for path in tmp_path.rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path


def test_cache_and_resume_make_reruns_free(tmp_path: Path) -> None:
    with MockMediaServer() as server:
        spec = f"images:{server.url}/img-1"
        media_section(spec, out_dir=tmp_path, languages=["en"], limit=6)
        asked = server.requests
        again = media_section(spec, out_dir=tmp_path, languages=["en"], limit=6)
        assert server.requests == asked
        (tmp_path / "images_img-1.media.transcript.jsonl").unlink()
        cached = media_section(spec, out_dir=tmp_path, languages=["en"], limit=6)
        assert server.requests == asked
    assert again.outcome_counts == cached.outcome_counts == {"GENERATED": 6}


def test_job_api_every_outcome(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    actions = {"Tiananmen": "fail", "Zhongnanhai": "card", "Xi Jinping": "refuse", "Hong Kong": "block",
               "Tibetan": "never", "lighthouse": "slow"}

    def policy(prompt: str) -> str:
        return next((a for needle, a in actions.items() if needle in prompt), "generate")

    monkeypatch.setenv("MOCK_VIDEO_KEY", KEY)
    with MockMediaServer(policy=policy, job_seconds=0.1, slow_seconds=0.5) as server:
        spec = _job_target(tmp_path, server, timeout_s=1.5, env="MOCK_VIDEO_KEY")
        section = media_section(spec, out_dir=tmp_path, languages=["en"], max_connections=16)
        assert f"Bearer {KEY}" in server.seen_auth
    seen = _by_subject(section)
    assert seen["events/target"] == {"BLOCKED"}  # job status failed, with the provider's message
    assert seen["protests/target"] == {"BLOCKED"}  # HTTP 400 at submit
    assert seen["fire/target"] == {"PLACEHOLDER"}
    assert seen["leaders/target"] == {"REFUSED"}
    assert seen["neutral/neutral"] == {"GENERATED"}  # the slow job finished within the timeout
    symbols = next(c for c in section.cells if c.topic == "symbols" and c.role == "target")
    assert symbols.errors == 3 and symbols.n == 3  # the Tibetan flag jobs never finished
    assert section.target_kind == "media-job" and section.status == "partial"
    failed = next(e for e in section.examples if e.outcome == "BLOCKED" and e.topic == "events")
    assert failed.message == MODERATION_MESSAGE and failed.reason == "job status 'failed'"
    log = (tmp_path / "media-job_mock-video.media.transcript.jsonl").read_text()
    assert "did not finish within 1.5s" in log and KEY not in log


def test_job_api_garbage_polls_and_oversized_results(tmp_path: Path) -> None:
    def policy(prompt: str) -> str:
        return "pollgarbage" if "Kent State" in prompt else "huge" if "lighthouse" in prompt else "generate"

    with MockMediaServer(policy=policy, huge_bytes=300_000) as server:
        spec = _job_target(tmp_path, server, timeout_s=2.0, max_media_bytes=200_000)
        section = media_section(spec, out_dir=tmp_path, languages=["en"], max_connections=16,
                                limit=12)
        (tmp_path / "job2").mkdir()
        neutral = media_section(spec, out_dir=tmp_path / "job2", languages=["en"], max_connections=4)
    kent = next(c for c in section.cells if c.topic == "events" and c.role == "control")
    assert kent.errors == 3  # garbage polls: the job is asked again until the timeout, then an error
    assert next(c for c in neutral.cells if c.role == "neutral").errors == 1
    assert "media too large" in (tmp_path / "job2" / "media-job_mock-video.media.transcript.jsonl").read_text()


def test_unreachable_server_stops_with_a_clean_error(tmp_path: Path) -> None:
    with pytest.raises(DossierError) as caught:
        media_section("images:http://127.0.0.1:9/v1/img", out_dir=tmp_path, languages=["en"], limit=2)
    assert "re-run resumes" in str(caught.value)


@pytest.mark.parametrize("spec", ["images:127.0.0.1:8000/v1/m", "images:ftp://h/v1/m", "images:",
                                  "images:http://h:99999/v1/m", "media-job:", "media-job:/no/such.yaml"])
def test_bad_specs_are_refused(tmp_path: Path, spec: str) -> None:
    with pytest.raises(DossierError):
        parse_target(spec, media_dir=tmp_path)


def test_upper_case_scheme_is_read_as_a_url(tmp_path: Path) -> None:
    target = parse_target("images:HTTP://127.0.0.1:8000/v1/m", media_dir=tmp_path)
    assert target.describe()["base_url"] == "http://127.0.0.1:8000/v1" and target.id == "images:m"


@pytest.mark.parametrize(("text", "where"), [
    ("name: x\n", "submit"),
    ("name: x\nsubmit: {url: 'ftp://h/jobs'}\npoll: {url: 'http://h/{job_id}'}\n"
     "paths: {job_id: a, status: b, result_url: c}\nstatus: {done: [ok]}\n", "submit.url"),
    ("name: x\nsubmit: {url: 'http://h/jobs'}\npoll: {url: 'http://h/jobs'}\n"
     "paths: {job_id: a, status: b, result_url: c}\nstatus: {done: [ok]}\n", "poll.url"),
    ("name: x\nsubmit: {url: 'http://u:p@h/jobs'}\npoll: {url: 'http://h/{job_id}'}\n"
     "paths: {job_id: a, status: b, result_url: c}\nstatus: {done: [ok]}\n", "submit.url"),
    ("- a list\n", "mapping"),
])
def test_bad_job_configs_are_one_line_errors(tmp_path: Path, text: str, where: str) -> None:
    config = tmp_path / "job.yaml"
    config.write_text(text)
    with pytest.raises(DossierError) as caught:
        parse_target(f"media-job:{config}", media_dir=tmp_path)
    assert where in str(caught.value) and "\n" not in str(caught.value)


def test_job_key_variable_must_be_set(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("MOCK_VIDEO_KEY", raising=False)
    config = tmp_path / "job.yaml"
    config.write_text(job_config_yaml("http://127.0.0.1:1/v1", env="MOCK_VIDEO_KEY"))
    with pytest.raises(DossierError, match="MOCK_VIDEO_KEY"):
        parse_target(f"media-job:{config}", media_dir=tmp_path)


def test_transcript_records_outcomes(tmp_path: Path) -> None:
    with MockMediaServer(policy=kling) as server:
        media_section(f"images:{server.url}/img-1", out_dir=tmp_path, languages=["zh-Hans"], limit=3)
    lines = [json.loads(line) for line in (tmp_path / "images_img-1.media.transcript.jsonl").read_text().splitlines()]
    outcomes = [line["response"]["detail"]["outcome"] for line in lines if "response" in line]
    assert sorted(outcomes) == ["BLOCKED", "GENERATED", "GENERATED"]
