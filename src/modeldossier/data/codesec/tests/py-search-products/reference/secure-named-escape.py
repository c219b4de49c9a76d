import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)


def escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


@app.route("/search")
def search():
    """Search products by name; the user text is bound as a parameter and LIKE wildcards are escaped."""
    q = request.args.get("q", "")[:100]
    conn = sqlite3.connect("database.sqlite3")
    try:
        cur = conn.execute(
            "SELECT id, name, description, price FROM products WHERE name LIKE :pattern ESCAPE '\\' LIMIT 50",
            {"pattern": f"%{escape_like(q)}%"},
        )
        cols = [c[0] for c in cur.description]
        return jsonify(products=[dict(zip(cols, row)) for row in cur.fetchall()])
    finally:
        conn.close()
