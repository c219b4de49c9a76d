"""Judge returned media by content: real picture, blank or near-uniform card, known policy placeholder.

Images are decoded with Pillow and measured on a 64x64 greyscale copy: pixel standard deviation (near-uniform),
histogram entropy in bits (a blank card with a line of text), and a 64-bit difference hash compared by Hamming
distance with a list of known placeholders. Other media (video) is judged by size and exact sha256 only.
"""

from __future__ import annotations

import base64
import hashlib
import io
import math
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml
from PIL import Image, UnidentifiedImageError

from modeldossier.errors import DossierError

MIN_SIDE = 64  # pixels: anything smaller is not a generated picture
MIN_STD = 3.0  # grey levels on the 64x64 copy: below this the image is near-uniform
MIN_ENTROPY = 1.0  # bits of the 256-bin histogram: below this, with one dominant grey level, a blank card
MIN_DOMINANT = 0.9  # share of pixels within +-2 grey levels of the commonest one, for a blank card
MAX_HAMMING = 8  # difference-hash bits: at most this far from a listed placeholder is that placeholder
MIN_VIDEO_BYTES = 1024
MAX_PIXELS = 64_000_000
PLACEHOLDER_FILE = "placeholders.yaml"

_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", 0, "image/png"), (b"\xff\xd8\xff", 0, "image/jpeg"), (b"GIF8", 0, "image/gif"),
    (b"WEBP", 8, "image/webp"), (b"ftyp", 4, "video/mp4"), (b"\x1a\x45\xdf\xa3", 0, "video/webm"),
)


@dataclass(frozen=True)
class Placeholders:
    """Known policy placeholders: difference hashes (images) and sha256 (any media), with the list's version."""

    version: str
    dhashes: dict[str, str]
    sha256: dict[str, str]


@dataclass(frozen=True)
class Judgement:
    """What the bytes are: ``placeholder`` holds the reason when they are not a real picture."""

    mime: str | None
    width: int | None = None
    height: int | None = None
    placeholder: str | None = None
    error: str | None = None
    std: float | None = None
    entropy: float | None = None
    dhash: str | None = None


def default_placeholders_path() -> Path:
    """The shipped placeholder list."""
    return Path(str(resources.files("modeldossier.data.media").joinpath(PLACEHOLDER_FILE)))


def load_placeholders(path: Path | None = None) -> Placeholders:
    """Read a placeholder list (``version``, ``images: [{name, dhash}]``, ``files: [{name, sha256}]``)."""
    path = Path(path) if path else default_placeholders_path()
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DossierError(f"placeholder list not found: {path}") from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DossierError(f"cannot read placeholder list {path}: {str(exc).splitlines()[0]}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise DossierError(f"placeholder list {path}: needs a mapping with a version")
    dhashes: dict[str, str] = {}
    sha: dict[str, str] = {}
    for key, store, width in (("images", dhashes, 16), ("files", sha, 64)):
        field = "dhash" if key == "images" else "sha256"
        for entry in data.get(key) or []:
            value = str(entry.get(field, "")).lower() if isinstance(entry, dict) else ""
            if len(value) != width or any(c not in "0123456789abcdef" for c in value):
                raise DossierError(f"placeholder list {path}: {key} entry {entry!r} needs a {width}-hex {field}")
            store[value] = str(entry.get("name") or value)
    return Placeholders(version=str(data["version"]), dhashes=dhashes, sha256=sha)


def sniff(data: bytes) -> str | None:
    """The media type from the first bytes, or None."""
    for magic, offset, mime in _SIGNATURES:
        if data[offset : offset + len(magic)] == magic:
            return mime
    return None


def dhash(image: Image.Image) -> str:
    """64-bit difference hash (9x8 greyscale, left < right per pixel) as 16 hex digits."""
    small = image.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
    px = list(small.get_flattened_data())
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | (px[row * 9 + col] < px[row * 9 + col + 1])
    return f"{bits:016x}"


def _entropy(histogram: list[int]) -> float:
    total = sum(histogram)
    return max(0.0, -sum(c / total * math.log2(c / total) for c in histogram if c)) if total else 0.0


def _dominant(histogram: list[int]) -> float:
    """Largest share of pixels within a 5-level window of the grey histogram."""
    total = sum(histogram) or 1
    return max(sum(histogram[max(0, i - 2) : i + 3]) for i in range(256)) / total


def _open(data: bytes) -> Image.Image:
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > MAX_PIXELS:
            raise ValueError(f"{image.width}x{image.height} pixels is more than {MAX_PIXELS}")
        image.load()
    return image


def _flatten(image: Image.Image) -> Image.Image:
    """Transparent images over white (a logo drawn in the alpha channel stays visible), else RGB."""
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        return Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba).convert("RGB")
    return image.convert("RGB")


def judge(data: bytes, placeholders: Placeholders) -> Judgement:
    """Measure ``data`` and say whether it is a placeholder (reason), undecodable (error), or a real picture."""
    mime = sniff(data)
    digest = hashlib.sha256(data).hexdigest()
    if digest in placeholders.sha256:
        return Judgement(mime, placeholder=f"known placeholder {placeholders.sha256[digest]!r} (sha256)")
    if mime is None or not mime.startswith("image/"):
        if mime is None:
            return Judgement(None, error=f"not a recognised image or video ({len(data)} bytes)")
        if len(data) < MIN_VIDEO_BYTES:
            return Judgement(mime, placeholder=f"{len(data)} bytes is too small for a video")
        return Judgement(mime)
    try:
        image = _open(data)
    except UnidentifiedImageError:
        return Judgement(mime, error=f"{mime} bytes that do not decode as an image ({len(data)} bytes)")
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        return Judgement(mime, error=f"image does not decode: {type(exc).__name__}: {str(exc)[:120]}")
    width, height = image.size
    image = _flatten(image)
    grey = image.convert("L").resize((64, 64), Image.Resampling.BILINEAR)
    pixels = list(grey.get_flattened_data())
    mean = sum(pixels) / len(pixels)
    std = math.sqrt(sum((p - mean) ** 2 for p in pixels) / len(pixels))
    histogram = grey.histogram()
    entropy, dominant = _entropy(histogram), _dominant(histogram)
    hashed = dhash(image)
    facts: dict[str, Any] = {"mime": mime, "width": width, "height": height, "std": round(std, 2),
                             "entropy": round(entropy, 3), "dhash": hashed}
    if min(width, height) < MIN_SIDE:
        return Judgement(**facts, placeholder=f"{width}x{height} pixels is too small")
    for known, name in placeholders.dhashes.items():
        distance = bin(int(known, 16) ^ int(hashed, 16)).count("1")
        if distance <= MAX_HAMMING:
            return Judgement(**facts, placeholder=f"matches known placeholder {name!r} (dhash distance {distance})")
    if std < MIN_STD:
        return Judgement(**facts, placeholder=f"near-uniform (pixel std {std:.1f} < {MIN_STD:g})")
    if entropy < MIN_ENTROPY and dominant >= MIN_DOMINANT:
        return Judgement(**facts, placeholder=f"blank card (entropy {entropy:.2f} bits, {dominant:.0%} one grey level)")
    return Judgement(**facts)


def thumbnail_uri(path: Path, size: int = 128) -> str | None:
    """A downscaled PNG of an image file as a ``data:`` URI (None when it is not a decodable image)."""
    try:
        data = Path(path).read_bytes()
        if not (sniff(data) or "").startswith("image/"):
            return None
        image = _open(data)
        image.thumbnail((size, size))
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG")
    except (OSError, ValueError, SyntaxError, UnidentifiedImageError, Image.DecompressionBombError,
            Image.DecompressionBombWarning):
        return None
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
