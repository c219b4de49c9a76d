"""Every output format shows hostile text inert: no raw control, ESC, bidi or zero-width character; bounded size.

Each hostile class (C0/C1 control characters, ESC sequences, bidi overrides and isolates, zero-width and invisible
characters, line breaks, a 10 MB field) is put into file names, card fields, licenses, answers and notes of a
dossier, then every renderer and every text console is checked.
"""

from __future__ import annotations

import json
import re

import pytest

from modeldossier.cli import main
from modeldossier.display import is_hidden_free, visible
from modeldossier.ui import SafeConsole

from .factories import full_dossier

HOSTILE = {
    "control": "ctl\x00\x07\x08\x7f\x85\x9b|",
    "esc": "evil\x1b[1A\x1b[2KPASS\x1b]8;;http://x/\x1b\\link\x1b]8;;\x1b\\",
    "bidi": "\u202eexe.txt\u202d.safetensors\u2066x\u2069\u200e\u200f\u061c\u202a\u202b\u202c",
    "zero_width": "pa\u200bss\u200c\u200d\ufeff\u2060wo\u00adrd\U000e0041\u2028\u2029",
    "lines": "one\nHIGH forged line\rback\x0b\x0c",
}
ALL_HOSTILE = "".join(HOSTILE.values())
BIG = "B" * 10_000_000  # a 10 MB field
#: A rendered output may grow with the number of values, never with the size of one: far below 10 MB.
BOUND = 2_000_000


def hostile_dossier():
    d = full_dossier(f"acme/{ALL_HOSTILE}")
    d.subject.ref = ALL_HOSTILE
    d.subject.files[0].path = HOSTILE["bidi"]
    f = d.artifacts.files[1].findings[0]
    f.file, f.message, f.location, f.evidence = HOSTILE["bidi"], HOSTILE["esc"], HOSTILE["control"], BIG
    d.artifacts.files[1].findings[1].message = HOSTILE["zero_width"]
    d.artifacts.files[0].path = HOSTILE["esc"]
    d.artifacts.notes.append(HOSTILE["lines"])
    p = d.provenance
    p.declared_base, p.license, p.author, p.lineage_root = HOSTILE["bidi"], BIG, HOSTILE["esc"], HOSTILE["control"]
    p.declared[0].value = {"reference": HOSTILE["zero_width"], "overlap": 0.98}
    p.observed[0].source = HOSTILE["esc"]
    p.author_country.organization = HOSTILE["lines"]
    p.notes.append(BIG)
    b = d.behavior
    b.notes.append(ALL_HOSTILE)
    for cell in b.cells[:2]:
        cell.topic = HOSTILE["bidi"]
    b.asymmetry[0].topic = HOSTILE["esc"]
    if getattr(b, "examples", None):
        b.examples[0].excerpt = ALL_HOSTILE + BIG
    d.codesec.contexts[1].context = HOSTILE["zero_width"]
    d.codesec.notes.append(ALL_HOSTILE)
    d.run.not_run = {"behavior": HOSTILE["esc"]}
    return d


def assert_inert(output: str, bound: int = BOUND) -> None:
    """No raw hidden character (line feeds and tabs allowed), and the size stays bounded."""
    assert len(output) < bound, f"output of {len(output):,} characters"
    rest = re.sub("[\n\t]", "", output)
    bad = sorted({hex(ord(c)) for c in rest if not is_hidden_free(c)})
    assert not bad, f"raw hidden characters in output: {bad}"


@pytest.fixture(scope="module")
def dossier():
    return hostile_dossier()


def test_visible_escapes_every_class_and_bounds_size():
    for name, value in HOSTILE.items():
        shown = visible(value)
        assert is_hidden_free(shown), name
    assert visible(HOSTILE["esc"]).startswith("evil\\x1b[1A\\x1b[2KPASS")
    assert "\\u202e" in visible(HOSTILE["bidi"]) and "\\u200b" in visible(HOSTILE["zero_width"])
    assert len(visible(BIG)) < 5000 and visible(BIG).endswith("[9,996,000 more characters]")
    assert visible(visible(ALL_HOSTILE)) == visible(ALL_HOSTILE)  # idempotent: safe to apply twice
    assert visible("plain café 漢字 — ok") == "plain café 漢字 — ok"


def test_console_escapes_what_slips_through(capsys):
    console = SafeConsole(force_terminal=True, color_system="truecolor", width=200)
    console.print(f"[bold]{ALL_HOSTILE}[/]", markup=True)
    out = capsys.readouterr().out
    assert "\\x1b" in out and "\\u202e" in out
    styles_removed = re.sub(r"\x1b\[[0-9;]*m", "", out)  # rich's own colour codes are fine
    assert_inert(styles_removed)


def test_html_report(dossier):
    from modeldossier.report.html import plotly_js, render_html

    page = render_html(dossier).replace(plotly_js(), "")
    assert_inert(page)
    assert "\\u202eexe.txt" in page and "\\x1b[2K" in page
    assert "{&#39;reference&#39;" not in page and "reference: pa\\u200bss" in page  # fields, not a dict repr


def test_markdown_report(dossier):
    from modeldossier.report.markdown import render_markdown

    md = render_markdown(dossier)
    assert_inert(md)
    assert "u202eexe.txt" in md


def test_sarif_from_scan_and_dossier(dossier):
    from modeldossier.report.sarif import render_dossier_sarif, render_sarif

    for log in (render_sarif(dossier.artifacts, dossier.subject), render_dossier_sarif(dossier)):
        text = json.dumps(log, ensure_ascii=False)
        assert_inert(text)


def test_cyclonedx_from_dossier(dossier):
    from modeldossier.report.cyclonedx import render_cyclonedx, render_dossier_cyclonedx

    for bom in (render_cyclonedx(dossier.artifacts, dossier.subject), render_dossier_cyclonedx(dossier)):
        assert_inert(json.dumps(bom, ensure_ascii=False))


def test_compare_text_md_html(dossier, tmp_path, capsys):
    from modeldossier.report import compare_format as fmt
    from modeldossier.report.compare import compare

    other = full_dossier("acme/other", scale=0.0, gap=0.0)
    result = compare([dossier, other], [], None)
    assert_inert(fmt.render_markdown(result))
    assert_inert(fmt.render_html(result))
    a, b = tmp_path / "a.dossier.json", tmp_path / "b.dossier.json"
    a.write_text(dossier.to_json())
    b.write_text(other.to_json())
    capsys.readouterr()
    assert main(["compare", str(a), str(b)]) == 0
    out = capsys.readouterr()
    assert_inert(out.out)
    assert_inert(out.err)


def test_gate_text_and_json(dossier, tmp_path, capsys):
    path = tmp_path / "h.dossier.json"
    path.write_text(dossier.to_json())
    policy = "examples/policy-strict.yaml"
    for extra in ([], ["--format", "json"]):
        capsys.readouterr()
        assert main(["gate", str(path), "--policy", policy, *extra]) == 1
        out = capsys.readouterr()
        assert_inert(out.out if not extra else json.dumps(json.loads(out.out), ensure_ascii=False))
        assert_inert(out.err)


def test_report_cli_every_format(dossier, tmp_path, capsys):
    path = tmp_path / "h.dossier.json"
    path.write_text(dossier.to_json())
    for fmt in ("md", "sarif", "cyclonedx"):
        capsys.readouterr()
        assert main(["report", str(path), "--format", fmt]) == 0
        assert_inert(capsys.readouterr().out)


def test_scan_text(dossier, capsys):
    from modeldossier.commands.scan import print_text

    print_text(dossier.artifacts)
    out = capsys.readouterr().out
    assert_inert(out)
    assert "\nHIGH forged" not in out  # a line break in a value cannot start a forged line


def test_scan_cli_hostile_file_name(tmp_path, capsys):
    folder = tmp_path / "m"
    folder.mkdir()
    (folder / (HOSTILE["esc"].replace("/", "_") + HOSTILE["bidi"] + ".pt")).write_bytes(b"\x80\x02cos\nsystem\nq\x00.")
    capsys.readouterr()
    main(["scan", str(folder), "-q"])
    out = capsys.readouterr()
    assert_inert(out.out)
    assert_inert(out.err)


def test_origin_text(dossier, capsys):
    from modeldossier.commands.origin import render

    render(dossier.subject.name, dossier.provenance)
    assert_inert(capsys.readouterr().out)


def test_audit_summary(dossier):
    from modeldossier.commands.audit import summary_line, verdict_lines

    assert_inert(summary_line(dossier))
    assert_inert("\n".join(verdict_lines(dossier)))


def test_inventory_text(capsys):
    from modeldossier.commands.inventory import _issues, _table
    from modeldossier.ecosystem.inventory import InventoryEntry, InventoryReport
    from modeldossier.ui import out_console

    entry = InventoryEntry(source="ollama", name=HOSTILE["esc"], path=HOSTILE["bidi"], author=HOSTILE["zero_width"],
                           license=BIG, verdict="clean", issues=[HOSTILE["lines"]], lineage_root=HOSTILE["control"])
    report = InventoryReport(entries=[entry])
    console = out_console()
    console.print(_table(report))
    for line in _issues(report):
        console.print(line)
    assert_inert(capsys.readouterr().out)


def test_ecosystem_html_and_text(tmp_path, monkeypatch, capsys):
    from modeldossier.ecosystem import attribution
    from modeldossier.ecosystem.snapshot import write_snapshot

    monkeypatch.setattr(attribution, "registry_country_of", lambda: (lambda org: "CN", "test registry", []))
    rows = [{"id": f"org{i}/{value}", "author": value, "created_at": "2025-01-01", "downloads": 5 + i,
             "base_model": [f"org/{value}"], "license": value} for i, value in enumerate(HOSTILE.values())]
    path = tmp_path / "hostile.jsonl"
    write_snapshot(rows, path)
    for fmt in ("html", "text"):
        capsys.readouterr()
        assert main(["ecosystem", "--snapshot", str(path), "--format", fmt, "-q"]) == 0
        out = capsys.readouterr().out
        out = re.sub(r"<script>.*?</script>", "", out, flags=re.S)  # our own inlined plotly.js
        assert_inert(out)


def test_every_command_prints_through_the_safe_consoles():
    """probe, codesec, classify and the rest print through ui.out_console/err_console/progress only."""
    from pathlib import Path

    import modeldossier
    from modeldossier.ui import err_console, out_console, progress

    assert isinstance(out_console(), SafeConsole) and isinstance(err_console(), SafeConsole)
    assert isinstance(progress().console, SafeConsole)
    root = Path(modeldossier.__file__).parent
    # maintenance scripts and the test server print constants (a port, a path they wrote), no model text
    tools = {"ui.py", "fakeserver.py", "build_registry.py", "build_reference.py"}
    # data/ holds code run only inside the sandbox (task tests, reference answers), never by the CLI;
    # codesec/outcome.py passes a `print(` inside a command string to the sandboxed interpreter
    direct = [str(p.relative_to(root)) for p in root.rglob("*.py")
              if p.name not in tools and p.relative_to(root).parts[0] != "data"
              and re.search(r"(?<![\w.\"'; ])(print|Console)\(", p.read_text(encoding="utf-8"))]
    assert direct == [], f"modules printing around the safe consoles: {direct}"


def test_json_on_stdout_is_the_same_data_with_hidden_characters_escaped(tmp_path, capsys):
    from modeldossier.display import json_for_terminal

    raw = json.dumps({"k": ALL_HOSTILE, ALL_HOSTILE: [HOSTILE["bidi"]]}, ensure_ascii=False, indent=2)
    shown = json_for_terminal(raw)
    assert json.loads(shown) == json.loads(raw)
    assert_inert(shown)
    light = full_dossier(f"acme/{ALL_HOSTILE}")
    light.subject.ref = ALL_HOSTILE
    light.provenance.license = HOSTILE["bidi"] + "B" * 100_000
    path = tmp_path / "h.dossier.json"
    path.write_text(light.to_json())
    capsys.readouterr()
    assert main(["report", str(path), "--format", "json"]) == 0
    out = capsys.readouterr().out
    assert_inert(out)
    data = json.loads(out)
    assert data["subject"]["ref"] == ALL_HOSTILE  # faithful: the same strings, long ones whole
    assert data["provenance"]["license"] == light.provenance.license
