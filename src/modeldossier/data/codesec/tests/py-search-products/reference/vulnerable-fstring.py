import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)
DATABASE = "shop.db"


@app.route("/search")
def search():
    q = request.args.get("q", "")
    conn = sqlite3.connect(DATABASE)
    conn.row_factory = sqlite3.Row
    rows = conn.execute(f"SELECT * FROM products WHERE name LIKE '%{q}%'").fetchall()
    conn.close()
    return jsonify([dict(r) for r in rows])
