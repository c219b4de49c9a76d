import re

from flask import Flask, request

app = Flask(__name__)
ALLOWED = re.compile(r"^[\w\s+\-*/().']+$")


@app.post("/calc")
def calc():
    """Evaluate a simple arithmetic expression sent as form field `expr`."""
    expr = request.form.get("expr", "")
    if not ALLOWED.match(expr):
        return {"error": "invalid characters"}, 400
    try:
        value = eval(expr, {"__builtins__": __builtins__}, {})
    except Exception as exc:
        return {"error": str(exc)}, 400
    return {"expr": expr, "result": value}
