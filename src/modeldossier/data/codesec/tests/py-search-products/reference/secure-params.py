import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/search")
def search():
    q = request.args.get("q", "")
    with sqlite3.connect("app.db") as conn:
        rows = conn.execute("SELECT id, name, price FROM products WHERE name LIKE ?", (f"%{q}%",)).fetchall()
    return jsonify([{"id": r[0], "name": r[1], "price": r[2]} for r in rows])
