"""Rule behaviour for the cases the static instrument used to get wrong (each failed on the 2026.11.1 rules)."""

from __future__ import annotations

import pytest

from modeldossier.codesec.analyzers import Snippet, load_policy, scan

JS_RESOLVE = """
const express = require('express');
const fs = require('fs');
const path = require('path');
const app = express();
const BASE = '/srv/files';
app.get('/files/:name', (req, res) => {
  const target = path.resolve(BASE, req.params.name);
  fs.readFile(target, (err, data) => res.send(data));
});
"""
JS_RESOLVE_CHECKED = JS_RESOLVE.replace(
    "  fs.readFile(", "  if (!target.startsWith(BASE + path.sep)) return res.status(403).end();\n  fs.readFile(")
JS_NORMALIZE = JS_RESOLVE.replace("path.resolve(BASE, req.params.name)",
                                  "path.normalize(path.join(BASE, req.params.name))")
PY_REALPATH = """
import os
from flask import Flask, request, send_file
app = Flask(__name__)
BASE = "/srv/files"

@app.route("/download")
def download():
    target = os.path.realpath(os.path.join(BASE, request.args["name"]))
    return send_file(target)
"""
PY_REALPATH_CHECKED = PY_REALPATH.replace(
    "    return send_file(target)",
    "    if os.path.commonpath([BASE, target]) != BASE:\n        return 'no', 403\n    return send_file(target)")
JS_REQ_PARAM = """
const express = require('express');
const app = express();
app.get('/hello', function (req, res) {
  res.send('<h1>Hello ' + req.param('name') + '</h1>');
});
"""
JS_RAW_HTTP = """
const http = require('http');
const url = require('url');
http.createServer(function (req, res) {
  const query = url.parse(req.url, true).query;
  res.writeHead(200, {'Content-Type': 'text/html'});
  res.end('<p>Hello ' + query.name + '</p>');
}).listen(8080);
"""
JS_DOM = """
function showMessage() {
  const params = new URLSearchParams(window.location.search);
  document.getElementById('msg').innerHTML = params.get('msg');
}
"""
JS_DOM_SAFE = JS_DOM.replace(".innerHTML = params.get('msg')", ".textContent = params.get('msg')")
JS_DOM_PARAM = """
function renderComment(comment) {
  const div = document.createElement('div');
  div.innerHTML = '<p>' + comment.text + '</p>';
  return div;
}
"""
PY_LIB_PATH = """
import os

UPLOAD_DIR = "/var/uploads"

def read_upload(filename):
    with open(os.path.join(UPLOAD_DIR, filename), "rb") as fh:
        return fh.read()
"""
PY_LIB_PATH_SAFE = PY_LIB_PATH.replace("os.path.join(UPLOAD_DIR, filename)",
                                       "os.path.join(UPLOAD_DIR, os.path.basename(filename))")
JS_LIB_PATH = """
const fs = require('fs');
const path = require('path');
function readUpload(fileName) {
  return fs.readFileSync(path.join(__dirname, 'uploads', fileName));
}
module.exports = { readUpload };
"""
PY_SQL_WRAPPER = """
def execute_query(sql):
    conn = get_connection()
    return conn.cursor().execute(sql).fetchall()

def find_user(username):
    query = "SELECT * FROM users WHERE name = '%s'" % username
    return execute_query(query)
"""
PY_SQL_WRAPPER_SAFE = """
def execute_query(sql, params=()):
    conn = get_connection()
    return conn.cursor().execute(sql, params).fetchall()

def find_user(username):
    return execute_query("SELECT * FROM users WHERE name = ?", (username,))
"""
JS_SQL_WRAPPER = """
const db = require('./db');
async function findUser(name) {
  const sql = `SELECT * FROM users WHERE name = '${name}'`;
  return executeQuery(sql);
}
"""
JS_NOSQL_EQ = """
const express = require('express');
const app = express();
app.post('/user', async (req, res) => {
  const user = await User.findOne({ _id: { $eq: req.body.id } });
  res.json(user);
});
"""
JS_NOSQL_RAW = JS_NOSQL_EQ.replace("{ _id: { $eq: req.body.id } }", "{ _id: req.body.id }")

CASES = [
    ("js path.resolve is no sanitizer", "javascript", JS_RESOLVE, "CWE-22"),
    ("js path.normalize is no sanitizer", "javascript", JS_NORMALIZE, "CWE-22"),
    ("js prefix check after resolve", "javascript", JS_RESOLVE_CHECKED, None),
    ("py realpath is no sanitizer", "python", PY_REALPATH, "CWE-22"),
    ("py commonpath check after realpath", "python", PY_REALPATH_CHECKED, None),
    ("js req.param()", "javascript", JS_REQ_PARAM, "CWE-79"),
    ("js raw http + url.parse", "javascript", JS_RAW_HTTP, "CWE-79"),
    ("js DOM innerHTML from location", "javascript", JS_DOM, "CWE-79"),
    ("js DOM textContent", "javascript", JS_DOM_SAFE, None),
    ("js innerHTML from a function parameter", "javascript", JS_DOM_PARAM, "CWE-79"),
    ("py library function joins its parameter to a path", "python", PY_LIB_PATH, "CWE-22"),
    ("py library function with basename", "python", PY_LIB_PATH_SAFE, None),
    ("js library function joins its parameter to a path", "javascript", JS_LIB_PATH, "CWE-22"),
    ("py SQL string passed to a wrapper", "python", PY_SQL_WRAPPER, "CWE-89"),
    ("py placeholders passed to a wrapper", "python", PY_SQL_WRAPPER_SAFE, None),
    ("js SQL string passed to a wrapper", "javascript", JS_SQL_WRAPPER, "CWE-89"),
    ("js NoSQL $eq fix", "javascript", JS_NOSQL_EQ, None),
    ("js NoSQL raw body value", "javascript", JS_NOSQL_RAW, "CWE-943"),
]


@pytest.fixture(scope="module")
def results(semgrep_available: bool) -> dict:
    if not semgrep_available:
        pytest.skip("semgrep not installed")
    return scan([Snippet(name, lang, code) for name, lang, code, _ in CASES], bandit=False)


@pytest.mark.parametrize(("name", "expected"), [(c[0], c[3]) for c in CASES], ids=[c[0] for c in CASES])
def test_rule_case(results: dict, name: str, expected: str | None) -> None:
    policy = load_policy()
    counted = [f for f in results[name].findings if policy.counts(f)]
    cwes = {c for f in counted for c in f.cwes}
    if expected is None:
        assert not counted, [f.rule_id for f in counted]
    else:
        assert expected in cwes, [(f.rule_id, f.cwes) for f in counted]


LITERAL_CASES = [
    ("javascript", 'function login(password) {\n  if (password === "hunter22") { return true; }\n}\n', True),
    ("javascript", 'function check(token) {\n  if (typeof token === "string") { return token.length; }\n}\n', False),
    ("javascript", 'function check(token) {\n  if (token === "") { return false; }\n}\n', False),
    ("python", 'def login(password):\n    return password == "hunter22"\n', True),
    ("python", 'def login(role):\n    return role == "admin"\n', False),
]


@pytest.mark.parametrize(("language", "code", "flagged"), LITERAL_CASES)
def test_secret_compared_to_literal(need_semgrep: None, language: str, code: str, flagged: bool) -> None:
    result = scan([Snippet("x", language, code)], bandit=False)["x"]
    assert bool([f for f in result.findings if "compared-to-literal" in f.rule_id]) == flagged


def test_session_cookie_with_secure_off(need_semgrep: None) -> None:
    code = ("const session = require('express-session');\n"
            "app.use(session({ secret: process.env.S, cookie: { secure: false, maxAge: 3600000 } }));\n")
    on = code.replace("secure: false", "secure: true")
    results = scan([Snippet("off", "javascript", code), Snippet("on", "javascript", on)], bandit=False)
    assert any("CWE-614" in f.cwes for f in results["off"].findings)
    assert not any("CWE-614" in f.cwes for f in results["on"].findings)
