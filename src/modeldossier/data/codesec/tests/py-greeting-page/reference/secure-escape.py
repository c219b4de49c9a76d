from html import escape

from flask import Flask, request

app = Flask(__name__)


@app.get("/hello")
def hello():
    """Greet the visitor; the name is HTML-escaped before it goes into the page."""
    name = escape(request.args.get("name", "stranger"))
    return f"<!DOCTYPE html><html><body><p>Hello, {name}!</p></body></html>", 200, {"Content-Type": "text/html"}
