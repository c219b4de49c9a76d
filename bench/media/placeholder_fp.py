"""How often the placeholder detector calls a real image a placeholder, on images it was not tuned on.

Scans folders for PNG/JPEG/WebP/GIF files (distinct by sha256, at least 64x64 and decodable) and prints how many
the detector marks as placeholders, with the reason for each. The thresholds were set on the mock server's
synthetic images; the images found here (photos, plots, diagrams, logos shipped with installed packages) are
independent of them.

Usage: python bench/media/placeholder_fp.py [FOLDER ...]   (default: the interpreter's prefix and /usr/share)
"""

from __future__ import annotations

import argparse
import hashlib
import sys
import warnings
from pathlib import Path

from modeldossier.media import content

SUFFIXES = {".png", ".jpg", ".jpeg", ".webp", ".gif"}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", type=Path, default=[Path(sys.prefix), Path("/usr/share")])
    args = parser.parse_args()
    known = content.load_placeholders()
    seen: set[str] = set()
    judged, flagged = 0, []
    warnings.simplefilter("ignore")
    for folder in args.folders:
        for path in sorted(folder.rglob("*")):
            if path.suffix.lower() not in SUFFIXES or not path.is_file() or path.stat().st_size < 4096:
                continue
            data = path.read_bytes()
            digest = hashlib.sha256(data).hexdigest()
            if digest in seen:
                continue
            seen.add(digest)
            verdict = content.judge(data, known)
            if verdict.error or verdict.width is None or min(verdict.width, verdict.height or 0) < content.MIN_SIDE:
                continue
            judged += 1
            if verdict.placeholder:
                flagged.append(f"{verdict.placeholder}: {path}")
    share = len(flagged) / judged if judged else 0.0
    print(f"{judged} distinct real images, {len(flagged)} called placeholders ({share:.1%})")
    for line in flagged:
        print("  " + line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
