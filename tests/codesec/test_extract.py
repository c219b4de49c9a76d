"""Code extraction edge cases and the refusal detector."""

from __future__ import annotations

from pathlib import Path

import yaml

from modeldossier.codesec.extract import code_blocks, extract, guess_language, looks_like_refusal

DATA = Path(__file__).parent / "data"


def test_fenced_block_with_tag() -> None:
    ex = extract("Here:\n```python\nimport os\nprint(os.getcwd())\n```\nDone.", "python")
    assert ex.language == "python" and "import os" in ex.code and ex.parse_error is None


def test_tilde_fence_and_unclosed_fence() -> None:
    assert code_blocks("~~~js\nconst a = 1;\n~~~\n")[0].language == "javascript"
    ex = extract("```python\ndef f():\n    return 1\n", "python")  # cut off mid-answer
    assert ex.has_code and "return 1" in ex.code


def test_untagged_block_language_guess() -> None:
    assert guess_language("const fs = require('fs');\nmodule.exports = {};\n") == "javascript"
    assert guess_language("def f(x):\n    return x\n") == "python"
    assert guess_language("SELECT 1;", "sql") is None


def test_prefers_task_language_and_skips_other_languages() -> None:
    text = ("```bash\npip install flask\n```\n```javascript\nconst x = 1;\n```\n"
            "```python\nfrom flask import Flask\napp = Flask(__name__)\n```")
    ex = extract(text, "python")
    assert ex.language == "python" and "Flask" in ex.code and "pip install" not in ex.code


def test_only_shell_is_no_code_with_a_note() -> None:
    ex = extract("Run this:\n```bash\nping -c 4 example.com\n```", "python")
    assert not ex.has_code and "do not analyse" in (ex.note or "") and ex.other_languages == ()


def test_code_in_another_programming_language_is_flagged() -> None:
    ex = extract("```go\npackage main\nfunc main() {}\n```", "python")
    assert not ex.has_code and ex.other_languages == ("go",)


def test_python_syntax_error_is_reported_and_good_blocks_kept() -> None:
    bad = extract("```python\ndef broken(:\n    pass\n```", "python")
    assert bad.parse_error and bad.parse_error.startswith("SyntaxError")
    mixed = extract("```python\ndef ok():\n    return 1\n```\n```python\nif x\n```", "python")
    assert mixed.parse_error is None and "skipped" in (mixed.note or "")


def test_bare_code_without_fences() -> None:
    ex = extract("import hashlib\n\ndef h(p):\n    return hashlib.sha256(p).hexdigest()\n", "python")
    assert ex.has_code and ex.language == "python"


def test_prose_mentioning_functions_is_not_code() -> None:
    ex = extract("This code is for a club.\n\nWrite a Python function get_user(email) that looks it up.", "python")
    assert not ex.has_code


def test_empty_and_think_blocks() -> None:
    assert extract(None).note == "empty answer"
    assert extract("   ").note == "empty answer"
    ex = extract("<think>```python\nimport os\n```</think>I can't help with that.", "python")
    assert not ex.has_code and ex.refusal


def test_huge_answer_is_bounded() -> None:
    ex = extract("```python\n" + "x = 1\n" * 20_000 + "```", "python")
    assert len(ex.code) <= 100_001


def _score(name: str) -> tuple[int, int, int, int]:
    answers = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))["answers"]
    tp = fp = fn = tn = 0
    for a in answers:
        pred = looks_like_refusal(a["text"])
        tp += pred and a["refusal"]
        fp += pred and not a["refusal"]
        fn += (not pred) and a["refusal"]
        tn += (not pred) and not a["refusal"]
    return tp, fp, fn, tn


def test_refusal_detector_on_development_set() -> None:
    tp, fp, fn, tn = _score("refusals.yaml")
    assert fp == 0 and tp / (tp + fn) >= 0.95


def test_refusal_detector_on_held_out_set_is_precise() -> None:
    # measured: recall 11/16, precision 11/11 (docs/validation-codesec.md); never tuned on this file
    tp, fp, fn, tn = _score("refusals_holdout.yaml")
    assert fp <= 1 and tp / (tp + fn) >= 0.6


# ---------------------------------------------------------------- extraction bugs (issue: extraction)

SQL_FN = ('import sqlite3\n\ndef find(conn, name):\n    cur = conn.cursor()\n'
          '    cur.execute("SELECT * FROM t WHERE n = \'" + name + "\'")\n    return cur.fetchall()\n')


def test_fence_inside_a_numbered_list_is_dedented() -> None:
    body = "".join("   " + line + "\n" if line else "\n" for line in SQL_FN.splitlines())
    text = f"Steps:\n\n1. Write the helper:\n   ```python\n{body}   ```\n2. Call it.\n"
    ex = extract(text, "python")
    assert ex.parse_error is None and ex.code.startswith("import sqlite3")


def test_crlf_line_endings() -> None:
    text = ("Here you go:\r\n```python\r\n" + SQL_FN.replace("\n", "\r\n") + "```\r\nThat is all.\r\n")
    ex = extract(text, "python")
    assert ex.parse_error is None and "```" not in ex.code and "\r" not in ex.code


def test_prose_around_unfenced_code() -> None:
    text = ("Sure! Here is a function that looks up a user by name:\n\n" + SQL_FN
            + "\nThis function connects to the database and returns the matching rows.\n")
    ex = extract(text, "python")
    assert ex.has_code and ex.language == "python" and ex.parse_error is None
    assert "cur.execute" in ex.code and "This function" not in ex.code


def test_one_function_split_over_two_blocks_is_joined() -> None:
    first = 'import sqlite3\n\ndef find(conn, name):\n    cur = conn.cursor()\n'
    second = '    cur.execute("SELECT * FROM t WHERE n = \'" + name + "\'")\n    return cur.fetchall()\n'
    text = f"First:\n```python\n{first}```\nthen the query:\n```python\n{second}```\n"
    ex = extract(text, "python")
    assert ex.parse_error is None and "cur.execute" in ex.code and "cursor()" in ex.code


def test_truncated_answer_is_marked_and_the_parseable_part_kept() -> None:
    cut = SQL_FN + "\n\ndef other(conn, x):\n    return conn.execute(\"SELECT"
    ex = extract(f"```python\n{cut}", "python", finish_reason="length")
    assert ex.truncated and ex.finish_reason == "length"
    assert ex.parse_error is None and "cur.execute" in ex.code
    closed = extract(f"```python\n{SQL_FN}```\n", "python", finish_reason="stop")
    assert not closed.truncated


def test_stub_only_answer_is_a_stub() -> None:
    ex = extract("```python\ndef get_user(conn, name): ...\n\ndef save(conn, user):\n    pass\n```", "python")
    assert ex.stub
    assert not extract(f"```python\n{SQL_FN}```", "python").stub


def test_python_like_pseudo_code_is_not_javascript() -> None:
    pseudo = ("function getUser(id):\n    query = \"SELECT * FROM users WHERE id = \" + id\n"
              "    result = db.execute(query)\n    if result is empty:\n        raise NotFound\n    send result\n")
    assert guess_language(pseudo) != "javascript"
    ex = extract(f"```\n{pseudo}```", "python")
    assert ex.language != "javascript"


def test_untagged_yaml_is_not_python() -> None:
    assert guess_language("database:\n  host: db\n  port: 5432\n") is None


def test_stub_functions_beside_real_top_level_code_are_not_a_stub() -> None:
    code = "import os\n\ndef helper():\n    pass\n\nfor name in os.listdir('.'):\n    print(name)\n"
    assert not extract(f"```python\n{code}```", "python").stub
    outline = ("from flask import Flask\napp = Flask(__name__)\n\nclass Repo:\n    def get(self, key):\n"
               "        raise NotImplementedError\n\n@app.route('/x')\ndef x():\n    \"\"\"TODO\"\"\"\n\n"
               "if __name__ == '__main__':\n    app.run()\n")
    assert extract(f"```python\n{outline}```", "python").stub


def test_prose_around_unfenced_javascript() -> None:
    code = ("const express = require('express');\nconst app = express();\n"
            "app.get('/', (req, res) => {\n  res.send('ok');\n});\n")
    ex = extract(f"Here is the server you asked for:\n{code}\nRun it with node and open the page.\n", "javascript")
    assert ex.language == "javascript" and ex.code.startswith("const express") and "Run it" not in ex.code


def test_salvage_of_a_long_cut_off_answer_is_bounded() -> None:
    import time

    body = "".join(f"def f{i}(x):\n    return x + {i}\n\n" for i in range(1500)) + "def g(:\n    pass"
    t0 = time.perf_counter()
    ex = extract(f"```python\n{body}", "python", finish_reason="length")
    assert ex.truncated and ex.parse_error is None and "def f1499" in ex.code
    assert time.perf_counter() - t0 < 20
