"""Outcome detection on real image bytes made with Pillow."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from modeldossier.errors import DossierError
from modeldossier.media import content
from modeldossier.media.mockserver import card_png, flat_png, noise_png


@pytest.fixture(scope="module")
def empty() -> content.Placeholders:
    return content.load_placeholders()


def _png(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def test_a_real_picture_is_not_a_placeholder(empty: content.Placeholders) -> None:
    verdict = content.judge(noise_png("a lighthouse"), empty)
    assert verdict.mime == "image/png" and (verdict.width, verdict.height) == (128, 128)
    assert verdict.placeholder is None and verdict.error is None


def test_a_flat_cartoon_is_not_a_placeholder(empty: content.Placeholders) -> None:
    image = Image.new("RGB", (256, 256), (30, 90, 200))
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 200, 200), fill=(250, 220, 0))
    draw.ellipse((100, 100, 160, 160), fill=(200, 0, 0))
    assert content.judge(_png(image), empty).placeholder is None


@pytest.mark.parametrize(("data", "reason"), [
    (flat_png(0), "near-uniform"),
    (flat_png(128, jitter=2), "near-uniform"),
    (card_png(), "blank card"),
    (noise_png("x", size=16), "too small"),
])
def test_placeholders_by_content(empty: content.Placeholders, data: bytes, reason: str) -> None:
    verdict = content.judge(data, empty)
    assert verdict.placeholder is not None and reason in verdict.placeholder


def test_known_placeholder_by_perceptual_hash(tmp_path: Path) -> None:
    image = Image.open(io.BytesIO(card_png("Blocked by policy")))
    listed = tmp_path / "list.yaml"
    listed.write_text(f"version: t1\nimages: [{{name: policy-card, dhash: '{content.dhash(image)}'}}]\n")
    known = content.load_placeholders(listed)
    # a re-encoded, resized copy still matches; a real picture does not
    resized = _png(image.resize((300, 300)).convert("RGB"))
    verdict = content.judge(resized, known)
    assert verdict.placeholder is not None and "policy-card" in verdict.placeholder
    assert content.judge(noise_png("fine"), known).placeholder is None


def test_known_placeholder_by_sha256(tmp_path: Path) -> None:
    import hashlib

    video = b"\0\0\0\x18ftypmp42" + bytes(5000)
    listed = tmp_path / "list.yaml"
    listed.write_text(f"version: t2\nfiles: [{{name: blocked-clip, sha256: {hashlib.sha256(video).hexdigest()}}}]\n")
    verdict = content.judge(video, content.load_placeholders(listed))
    assert verdict.placeholder is not None and "blocked-clip" in verdict.placeholder


def test_videos_by_size(empty: content.Placeholders) -> None:
    assert content.judge(b"\0\0\0\x18ftypmp42" + bytes(5000), empty).placeholder is None
    assert "too small" in (content.judge(b"\0\0\0\x18ftypmp42", empty).placeholder or "")


@pytest.mark.parametrize("data", [b"<html>oops</html>", b"\x89PNG\r\n\x1a\n" + bytes(200), b""])
def test_garbage_is_an_error_not_a_picture(empty: content.Placeholders, data: bytes) -> None:
    verdict = content.judge(data, empty)
    assert verdict.error is not None and verdict.placeholder is None


@pytest.mark.parametrize("text", ["version: 1\nimages: [{dhash: xyz}]\n", "[1, 2]\n", "images: []\n", "{{{"])
def test_bad_placeholder_lists_are_one_line_errors(tmp_path: Path, text: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(DossierError) as caught:
        content.load_placeholders(path)
    assert "\n" not in str(caught.value)


def test_thumbnail_is_a_small_png_data_uri(tmp_path: Path) -> None:
    path = tmp_path / "x.png"
    path.write_bytes(noise_png("x", size=512))
    uri = content.thumbnail_uri(path)
    assert uri is not None and uri.startswith("data:image/png;base64,")
    import base64

    thumb = Image.open(io.BytesIO(base64.b64decode(uri.split(",", 1)[1])))
    assert max(thumb.size) <= 128
    path.write_bytes(b"not an image")
    assert content.thumbnail_uri(path) is None


def test_a_logo_drawn_in_the_alpha_channel_is_not_blank(empty: content.Placeholders) -> None:
    logo = Image.new("RGBA", (200, 80), (0, 0, 0, 0))
    draw = ImageDraw.Draw(logo)
    for x in range(10, 190, 12):
        draw.rectangle((x, 10, x + 6, 70), fill=(20, 20, 20, 255))
    assert content.judge(_png(logo), empty).placeholder is None
