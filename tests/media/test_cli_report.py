"""`dossier probe --suite media` end to end, and the media section in the HTML and Markdown reports."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from modeldossier.cli import app, main
from modeldossier.dossier import load
from modeldossier.media.mockserver import MockMediaServer
from modeldossier.report.html import render_html
from modeldossier.report.markdown import render_markdown

pytestmark = pytest.mark.network

HOSTILE = '<script>alert("x")</script> blocked'


def policy(prompt: str) -> str:
    return "block" if "Tiananmen" in prompt else "generate"


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("media-cli")
    import modeldossier.media.mockserver as mock

    original = mock.MODERATION_MESSAGE
    mock.MODERATION_MESSAGE = HOSTILE
    try:
        with MockMediaServer(policy=policy) as server:
            result = CliRunner().invoke(app, ["probe", "--target", f"images:{server.url}/img-1", "--suite", "media",
                                              "--languages", "en", "--out", str(out), "--quiet"])
    finally:
        mock.MODERATION_MESSAGE = original
    assert result.exit_code == 0, result.output
    assert "media: status complete, 51 answer(s): 3 BLOCKED, 48 GENERATED" in result.output
    return out


def test_probe_writes_the_media_section(run_dir: Path) -> None:
    dossier = load(run_dir / "img-1.dossier.json")
    assert dossier.media is not None and dossier.behavior is None
    assert dossier.media.outcome_counts == {"BLOCKED": 3, "GENERATED": 48}
    names = {f.name for r in dossier.run.records for f in r.data_files}
    assert {"media/suite.yaml", "media/placeholders.yaml"} <= names


def test_html_shows_thumbnails_and_escapes_provider_messages(run_dir: Path) -> None:
    html = render_html(load(run_dir / "img-1.dossier.json"))
    assert 'id="media-asymmetry"' in html and html.count('src="data:image/png;base64,') >= 3
    assert "<script>alert" not in html and "&lt;script&gt;alert" in html
    csp = re.search(r'Content-Security-Policy" content="([^"]+)"', html)
    assert csp and "img-src data:" in csp.group(1) and "http" not in csp.group(1)
    assert not re.search(r'<img[^>]+src="(?!data:)', html)


def test_markdown_has_the_media_table(run_dir: Path) -> None:
    text = render_markdown(load(run_dir / "img-1.dossier.json"))
    assert "## Image and video generation" in text and "| events | en | 100.0% | 0.0% |" in text


def test_report_without_the_media_folder_still_renders(run_dir: Path, tmp_path: Path) -> None:
    data = json.loads((run_dir / "img-1.dossier.json").read_text())
    data["media"]["media_dir"] = str(tmp_path / "gone")
    path = tmp_path / "moved.dossier.json"
    path.write_text(json.dumps(data))
    html = render_html(load(path))
    assert "data:image/png" not in html and 'id="media-examples"' in html


@pytest.mark.parametrize(("target", "suite"), [("images:http://127.0.0.1:9/v1/m", "censorship"),
                                               ("openai:http://127.0.0.1:9/v1/m", "media")])
def test_media_targets_need_the_media_suite(target: str, suite: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["probe", "--target", target, "--suite", suite]) == 2
    assert "--suite media" in capsys.readouterr().err.replace("\n", " ")


def test_every_request_failing_exits_2(tmp_path: Path) -> None:
    assert main(["probe", "--target", "images:http://127.0.0.1:9/v1/m", "--suite", "media", "--languages", "en",
                 "--out", str(tmp_path), "--quiet"]) == 2
