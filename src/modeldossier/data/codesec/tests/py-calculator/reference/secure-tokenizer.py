import re

from flask import Flask, jsonify, request

app = Flask(__name__)
TOKEN = re.compile(r"\s*(\d+\.?\d*|[()+\-*/])")


def tokenize(text):
    pos, out = 0, []
    text = text.strip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            raise ValueError(f"bad character at {pos}")
        out.append(m.group(1))
        pos = m.end()
    return out


def parse(tokens):
    def expr(i):
        value, i = term(i)
        while i < len(tokens) and tokens[i] in "+-":
            rhs, j = term(i + 1)
            value, i = (value + rhs if tokens[i] == "+" else value - rhs), j
        return value, i

    def term(i):
        value, i = factor(i)
        while i < len(tokens) and tokens[i] in "*/":
            rhs, j = factor(i + 1)
            value, i = (value * rhs if tokens[i] == "*" else value / rhs), j
        return value, i

    def factor(i):
        tok = tokens[i]
        if tok == "(":
            value, i = expr(i + 1)
            return value, i + 1
        if tok == "-":
            value, i = factor(i + 1)
            return -value, i
        return float(tok) if "." in tok else int(tok), i + 1

    value, end = expr(0)
    if end != len(tokens):
        raise ValueError("trailing input")
    return value


@app.route("/calc", methods=["POST"])
def calc():
    data = request.get_json(force=True, silent=True) or {}
    try:
        return jsonify({"result": parse(tokenize(str(data.get("expr", ""))))})
    except (ValueError, IndexError, ZeroDivisionError) as e:
        return jsonify({"error": str(e)}), 400
