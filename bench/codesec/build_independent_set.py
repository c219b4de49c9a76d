"""Build the independent labelled snippet set for the static instrument from other projects' own test examples.

    python bench/codesec/build_independent_set.py --codeshield codeshield-1.0.1-py3-none-any.whl \
        --eslint eslint-plugin-security-3.0.1.tgz --eslint-node eslint-plugin-security-node-1.1.4.tgz \
        --bandit bandit-1.8.6.tar.gz

Fetch the archives with the ordinary clients (``pip download --no-deps codeshield==1.0.1``,
``npm pack eslint-plugin-security@3.0.1 eslint-plugin-security-node@1.1.4``,
``pip download --no-deps --no-binary :all: bandit==1.8.6``).
Writes ``bench/codesec/independent/snippets.yaml``: one labelled snippet per annotated statement, with its source
(project, path, version, license) and the source's own label. Sources (all permissive; see NOTICE):

- CodeShield (Meta PurpleLlama, MIT): Semgrep rule test files; ``ruleid:`` lines are vulnerable, ``ok:`` safe.
  The snippet is the whole test file with every *other* annotated statement removed.
- eslint-plugin-security (Apache-2.0) and eslint-plugin-security-node (ISC): RuleTester cases; ``invalid`` is
  vulnerable, ``valid`` safe.
- Bandit's examples (Apache-2.0): statements under ``# bad`` / ``# good`` comments, with the file's imports.
  Reported apart: Bandit is half of our instrument, so this slice is circular for it.

Rules whose label is a lint policy rather than a weakness are left out by rule, before any measurement
(LINT_ONLY below). The dev / held-out split is by source rule (never by row): sha256 of "source/rule".
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import io
import json
import re
import subprocess
import tarfile
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import yaml

HERE = Path(__file__).resolve().parent
OUT = HERE / "independent" / "snippets.yaml"

CODESHIELD = {
    "repo": "meta-llama/PurpleLlama", "package": "codeshield==1.0.1 (PyPI)", "license": "MIT",
    "commit": "59c6ead90423c6ebcb3bf9baa0fab85beb3d5efc",
    "prefix": "codeshield/insecure_code_detector/rules/semgrep/",
    "repo_prefix": "CodeShield/insecure_code_detector/rules/semgrep/",
    "cwe": {
        "python/deserialization_pickle_use.py": "CWE-502", "python/eval_use.py": "CWE-95",
        "python/exec_use.py": "CWE-95", "python/sql_injection_cursor_execute.py": "CWE-89",
        "python/subprocess_using_shell.py": "CWE-78", "javascript/child-process.js": "CWE-78",
        "javascript/unchecked-origin-onmessage.js": "CWE-940", "javascript/unencrypted-fetch.js": "CWE-319",
        "javascript/third-party/eval-usage.js": "CWE-95",
    },
    # weaknesses in a file's shared context (not under test): findings of these CWEs are neither hits nor
    # false flags for that file's snippets
    "context_cwes": {"python/sql_injection_cursor_execute.py": ["CWE-798"]},
}
ESLINT = {
    "source": "eslint-plugin-security", "tests": "test/rules", "prefix": "eslint",
    "repo": "eslint-community/eslint-plugin-security", "package": "eslint-plugin-security@3.0.1 (npm)",
    "license": "Apache-2.0", "commit": None,
    "cwe": {
        "detect-child-process": "CWE-78", "detect-eval-with-expression": "CWE-95",
        "detect-non-literal-fs-filename": "CWE-22", "detect-non-literal-require": "CWE-829",
        "detect-possible-timing-attacks": "CWE-208", "detect-pseudoRandomBytes": "CWE-338",
        "detect-unsafe-regexp": "CWE-1333", "detect-disable-mustache-escape": "CWE-79",
        "detect-no-csrf-before-method-override": "CWE-352",
    },
}
ESLINT_NODE = {
    "source": "eslint-plugin-security-node", "tests": "tests/lib/rules", "prefix": "eslint-node",
    "repo": "gkouziik/eslint-plugin-security-node", "package": "eslint-plugin-security-node@1.1.4 (npm)",
    "license": "ISC", "commit": None,
    "cwe": {
        "detect-sql-injection": "CWE-89", "detect-nosql-injection": "CWE-943", "detect-html-injection": "CWE-79",
        "detect-dangerous-redirects": "CWE-601", "detect-crlf": "CWE-93", "detect-child-process": "CWE-78",
        "detect-eval-with-expr": "CWE-95", "detect-insecure-randomness": "CWE-338",
        "detect-option-rejectunauthorized-in-nodejs-httpsrequest": "CWE-295",
        "disable-ssl-across-node-server": "CWE-295",
        "detect-option-unsafe-in-serialize-javascript-npm-package": "CWE-79",
        "detect-runinthiscontext-method-in-nodes-vm": "CWE-95", "detect-possible-timing-attacks": "CWE-208",
        "detect-security-missconfiguration-cookie": "CWE-614",
    },
}
# lint policies, not weaknesses: object-injection (any obj[key]), Buffer API style, bidi/invisible characters,
# non-literal RegExp (a style warning; unsafe-regexp covers ReDoS)
# (eslint-plugin-security-node: session name option, unsafe Buffer allocation, exception handling, unhandled
# errors, non-literal require / RegExp, mysql multipleStatements are hardening or code quality)
LINT_ONLY = {"detect-object-injection", "detect-new-buffer", "detect-buffer-noassert", "detect-bidi-characters",
             "detect-non-literal-regexp", "detect-absence-of-name-option-in-exrpress-session",
             "detect-buffer-unsafe-allocation", "detect-improper-exception-handling", "detect-unhandled-async-errors",
             "detect-unhandled-event-errors", "detect-non-literal-require-calls", "non-literal-reg-expr",
             "detect-option-multiplestatements-in-mysql"}
BANDIT = {
    "repo": "PyCQA/bandit", "package": "bandit==1.8.6 (PyPI sdist)", "license": "Apache-2.0", "commit": None,
    "cwe": {
        "sql_statements.py": "CWE-89", "sql_multiline_statements.py": "CWE-89",
        "requests-ssl-verify-disabled.py": "CWE-295", "hardcoded-tmp.py": "CWE-377", "cipher-modes.py": "CWE-327",
        "xml_etree_celementtree.py": "CWE-611", "xml_etree_elementtree.py": "CWE-611", "xml_sax.py": "CWE-611",
        "ftplib.py": "CWE-319", "huggingface_unsafe_download.py": "CWE-494",
    },
}
_ANNOT = re.compile(r"^\s*(?:#|//)\s*(ruleid|ok|todoruleid|todook)\s*:\s*([\w.-]+)")


def split_of(group: str) -> str:
    """dev or holdout, by a hash of the source rule (never by row)."""
    return "dev" if hashlib.sha256(group.encode()).digest()[0] % 2 == 0 else "holdout"


def _statement_span_py(tree: ast.Module, line: int) -> tuple[int, int] | None:
    best = None
    for node in ast.walk(tree):
        if isinstance(node, ast.stmt) and node.lineno == line:
            span = (node.lineno, node.end_lineno or node.lineno)
            if best is None or span[1] - span[0] > best[1] - best[0]:
                best = span
    return best


def _statement_span_js(lines: list[str], line: int) -> tuple[int, int]:
    """The annotated case: the statement at ``line`` and the statements right after it, up to a blank line, a
    comment, a closing brace or a line indented less (``var f = eval;`` + ``f(x);`` is one case)."""
    indent = len(lines[line - 1]) - len(lines[line - 1].lstrip())
    depth = 0
    end = line
    for i in range(line - 1, len(lines)):
        text = lines[i]
        stripped = text.strip()
        if i > line - 1 and depth <= 0 and (
                not stripped or stripped.startswith(("//", "/*", "*", "}", ")", "]"))
                or len(text) - len(text.lstrip()) < indent):
            break
        code = re.sub(r"(['\"`])(?:\\.|(?!\1).)*\1", "''", text.split("//")[0])
        depth += sum(code.count(c) for c in "([{") - sum(code.count(c) for c in ")]}")
        end = i + 1
    return line, end


def annotated_cases(text: str, language: str) -> list[tuple[str, int, tuple[int, int]]]:
    """(label, annotation line, statement span) for each ruleid/ok annotation."""
    lines = text.splitlines()
    tree = ast.parse(text) if language == "python" else None
    cases = []
    for i, line in enumerate(lines, start=1):
        m = _ANNOT.match(line)
        if not m or m.group(1).startswith("todo"):
            continue
        target = i + 1
        while target <= len(lines) and (not lines[target - 1].strip() or _ANNOT.match(lines[target - 1])):
            target += 1
        if target > len(lines):
            continue
        span = _statement_span_py(tree, target) if tree else _statement_span_js(lines, target)
        if span:
            cases.append(("vulnerable" if m.group(1) == "ruleid" else "safe", i, span))
    return cases


def one_case_file(text: str, language: str, keep: tuple[int, int], drop: list[tuple[int, int]]) -> str:
    """The file with every other annotated statement replaced by ``pass`` (Python) or removed (JS)."""
    lines = text.splitlines()
    out = []
    for no, line in enumerate(lines, start=1):
        if _ANNOT.match(line):
            continue
        span = next((s for s in drop if s != keep and s[0] <= no <= s[1]), None)
        if span is None:
            out.append(line)
        elif no == span[0] and language == "python":
            out.append(line[: len(line) - len(line.lstrip())] + "pass")
    return "\n".join(out) + "\n"


def from_codeshield(wheel: Path) -> list[dict[str, Any]]:
    rows = []
    with zipfile.ZipFile(wheel) as zf:
        for rel, cwe in sorted(CODESHIELD["cwe"].items()):
            text = zf.read(CODESHIELD["prefix"] + rel).decode()
            language = "python" if rel.endswith(".py") else "javascript"
            cases = annotated_cases(text, language)
            spans = [span for _, _, span in cases]
            for label, line, span in cases:
                rule = Path(rel).stem
                rows.append({
                    "id": f"codeshield/{rule}/L{line}", "source": "codeshield", "repo": CODESHIELD["repo"],
                    "path": CODESHIELD["repo_prefix"] + rel, "commit": CODESHIELD["commit"],
                    "package": CODESHIELD["package"], "license": CODESHIELD["license"], "language": language,
                    "rule": rule, "cwe": cwe, "label": label, "split": split_of(f"codeshield/{rule}"),
                    "context_cwes": CODESHIELD["context_cwes"].get(rel, []),
                    "code": one_case_file(text, language, span, spans),
                })
    return rows


_FAKE_ESLINT = r"""
const Module = require('module');
const path = require('path');
const cases = [];
class RuleTester {
  run(name, rule, tests) { cases.push({name, valid: tests.valid || [], invalid: tests.invalid || []}); }
}
const real = Module.prototype.require;
Module.prototype.require = function (id) {
  if (id === 'eslint') return { RuleTester };
  try { return real.call(this, id); } catch (e) { return {}; }
};
for (const f of process.argv.slice(2)) {
  try { real.call(module, path.resolve(f)); } catch (e) { console.error(f, e.message); }
}
console.log(JSON.stringify(cases));
"""


def from_eslint(tgz: Path, meta: dict[str, Any]) -> list[dict[str, Any]]:
    """RuleTester cases of an ESLint plugin's tests, collected by running the test files with a stand-in RuleTester
    (the plugin's own rule code is never needed)."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp, tarfile.open(tgz) as tf:
        tf.extractall(tmp, filter="data")
        tests = sorted(Path(tmp, "package", meta["tests"]).glob("*.js"))
        script = Path(tmp, "collect.js")
        script.write_text(_FAKE_ESLINT)
        done = subprocess.run(["node", str(script), *map(str, tests)], capture_output=True, text=True, timeout=120,
                              check=True)
        runs: dict[str, int] = {}
        for case in json.loads(done.stdout):
            rule = case["name"]
            if rule in LINT_ONLY or rule not in meta["cwe"]:
                continue
            runs[rule] = runs.get(rule, 0) + 1
            run = "" if runs[rule] == 1 else f"-run{runs[rule]}"
            for label, items in (("safe", case["valid"]), ("vulnerable", case["invalid"])):
                for n, item in enumerate(items):
                    code = item if isinstance(item, str) else item.get("code", "")
                    messages = [] if isinstance(item, str) else [str(e.get("message", "")) for e in
                                                                 item.get("errors", []) if isinstance(e, dict)]
                    if label == "vulnerable" and messages and all(m.startswith("Found require(") for m in messages):
                        continue  # importing child_process is no weakness
                    rows.append({
                        "id": f"{meta['prefix']}/{rule}/{label}{n}{run}", "source": meta["source"],
                        "repo": meta["repo"],
                        "path": f"{meta['tests']}/{rule}.js", "commit": None, "package": meta["package"],
                        "license": meta["license"], "language": "javascript", "rule": rule,
                        "cwe": meta["cwe"][rule], "label": label, "split": split_of(f"{meta['prefix']}/{rule}"),
                        "code": code.strip("\n") + "\n",
                    })
    return rows


_MARK = re.compile(r"^#\s*(bad|good)\b", re.I)


def from_bandit(sdist: Path) -> list[dict[str, Any]]:
    rows = []
    with tarfile.open(sdist) as tf:
        root = tf.getnames()[0].split("/")[0]
        for name, cwe in sorted(BANDIT["cwe"].items()):
            member = tf.extractfile(f"{root}/examples/{name}")
            if member is None:
                continue
            text = io.TextIOWrapper(member, encoding="utf-8").read()
            lines = text.splitlines()
            tree = ast.parse(text)
            imports = [ast.get_source_segment(text, n) for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)]
            label = None
            last = 0
            for node in tree.body:
                for no in range(last, node.lineno - 1):
                    m = _MARK.match(lines[no].strip())
                    if m:
                        label = "vulnerable" if m.group(1).lower() == "bad" else "safe"
                last = node.end_lineno or node.lineno
                if label is None or isinstance(node, ast.Import | ast.ImportFrom):
                    continue
                segment = ast.get_source_segment(text, node) or ""
                rule = Path(name).stem
                rows.append({
                    "id": f"bandit/{rule}/L{node.lineno}", "source": "bandit-examples", "repo": BANDIT["repo"],
                    "path": f"examples/{name}", "commit": None, "package": BANDIT["package"],
                    "license": BANDIT["license"], "language": "python", "rule": rule, "cwe": cwe, "label": label,
                    "split": split_of(f"bandit/{rule}"), "code": "\n".join([*imports, "", segment]) + "\n",
                })
    return rows


_CREDENTIAL = re.compile(r"""(?i)\b(password|passwd|pass|secret|api_?key|token)["']?\s*[:=]\s*["'][^"']+["']""")


def mark_credentials(rows: list[dict[str, Any]]) -> None:
    """A hard-coded credential in a test's setup (a connection or session config) is scaffolding, not the case
    under test: CWE-798 findings on such snippets are neither hits nor false flags (unless CWE-798 is the label)."""
    for row in rows:
        if row["cwe"] != "CWE-798" and _CREDENTIAL.search(row["code"]):
            row["context_cwes"] = sorted({*row.get("context_cwes", []), "CWE-798"})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codeshield", type=Path, required=True)
    parser.add_argument("--eslint", type=Path, required=True)
    parser.add_argument("--eslint-node", type=Path, required=True)
    parser.add_argument("--bandit", type=Path, required=True)
    args = parser.parse_args()
    rows = (from_codeshield(args.codeshield) + from_eslint(args.eslint, ESLINT)
            + from_eslint(args.eslint_node, ESLINT_NODE) + from_bandit(args.bandit))
    mark_credentials(rows)
    header = ("# Independent labelled snippets for the static instrument, built by bench/codesec/"
              "build_independent_set.py\n# from other projects' own test examples (licenses and attribution: NOTICE). "
              "label = the source's label.\n")
    OUT.write_text(header + yaml.safe_dump({"version": "2026.12.1", "snippets": rows}, sort_keys=False,
                                           allow_unicode=True, width=120), encoding="utf-8")
    by = {}
    for r in rows:
        key = (r["source"], r["language"], r["split"], r["label"])
        by[key] = by.get(key, 0) + 1
    for key, n in sorted(by.items()):
        print(*key, n)
    print(f"{len(rows)} snippets -> {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
