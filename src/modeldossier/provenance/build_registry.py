"""Build `data/provenance/registry_epoch.csv` (organization -> countries) from Epoch AI's "All AI models" table.

Run:  python -m modeldossier.provenance.build_registry ../shared/data/provenance/epoch_ai_models/all_ai_models.csv

Only rows naming a single organization are used: when several organizations share a row, Epoch joins their
countries with commas and the mapping from organization to country cannot be recovered reliably.
"""

from __future__ import annotations

import csv
import io
import sys
from collections import defaultdict
from pathlib import Path

from modeldossier.fsutil import atomic_write_text, sha256_file

OUT = Path(__file__).resolve().parents[1] / "data" / "provenance" / "registry_epoch.csv"
VERSION = "2026.11.1"
ATTRIBUTION = (
    "Derived from Epoch AI, 'Parameter, Compute and Data Trends in Machine Learning' (All AI models database), "
    "published online at epoch.ai, licensed CC BY 4.0 (https://creativecommons.org/licenses/by/4.0/). "
    "Changes: single-organization rows only, country names mapped to ISO 3166-1 alpha-2, rows merged per organization."
)

COUNTRY_ISO = {
    "United States of America": "US", "China": "CN", "United Kingdom of Great Britain and Northern Ireland": "GB",
    "Canada": "CA", "Germany": "DE", "France": "FR", "Korea (Republic of)": "KR", "Hong Kong": "HK",
    "Switzerland": "CH", "Japan": "JP", "Israel": "IL", "Singapore": "SG", "Australia": "AU", "Netherlands": "NL",
    "Sweden": "SE", "Russia": "RU", "Taiwan": "TW", "Spain": "ES", "India": "IN", "Saudi Arabia": "SA",
    "United Arab Emirates": "AE", "Italy": "IT", "Austria": "AT", "Denmark": "DK", "Finland": "FI", "Poland": "PL",
    "Belgium": "BE", "Czechia": "CZ", "Iran (Islamic Republic of)": "IR", "Vietnam": "VN", "Norway": "NO",
    "New Zealand": "NZ", "Ireland": "IE", "Luxembourg": "LU", "Macao": "MO", "Armenia": "AM", "Croatia": "HR",
    "Hungary": "HU", "Greece": "GR", "Portugal": "PT", "Lithuania": "LT", "Lebanon": "LB", "Argentina": "AR",
    "Mexico": "MX",
}


def build(source: Path) -> str:
    """The registry CSV text (with its '#' header) built from the Epoch CSV at ``source``."""
    countries: dict[str, set[str]] = defaultdict(set)
    multinational: dict[str, bool] = defaultdict(bool)
    counts: dict[str, int] = defaultdict(int)
    unknown: set[str] = set()
    with open(source, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            org = (row.get("Organization") or "").strip()
            if not org or "," in org:
                continue
            counts[org] += 1
            for name in (row.get("Country (from Organization)") or "").split(","):
                name = name.strip()
                if not name:
                    continue
                if name == "Multinational":
                    multinational[org] = True
                elif name in COUNTRY_ISO:
                    countries[org].add(COUNTRY_ISO[name])
                else:
                    unknown.add(name)
    if unknown:
        raise SystemExit(f"unmapped country names: {sorted(unknown)}")
    buf = io.StringIO()
    buf.write(f"# modeldossier organization -> country registry (Epoch part), version {VERSION}\n")
    buf.write(f"# {ATTRIBUTION}\n")
    buf.write(f"# source file sha256 {sha256_file(source)}\n")
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["organization", "countries", "multinational", "n_models"])
    for org in sorted(counts, key=str.casefold):
        if not countries[org] and not multinational[org]:
            continue
        writer.writerow([org, "|".join(sorted(countries[org])), int(multinational[org]), counts[org]])
    return buf.getvalue()


def main(argv: list[str]) -> int:
    """Write the registry file from the Epoch CSV given as the only argument."""
    if len(argv) != 1:
        print(__doc__)
        return 2
    atomic_write_text(OUT, build(Path(argv[0])))
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
