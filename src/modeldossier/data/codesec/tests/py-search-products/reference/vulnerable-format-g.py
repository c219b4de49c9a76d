import sqlite3

from flask import Flask, g, jsonify, request

app = Flask(__name__)
app.config["DATABASE"] = "products.db"


def get_db():
    if "db" not in g:
        g.db = sqlite3.connect(app.config["DATABASE"])
        g.db.row_factory = sqlite3.Row
    return g.db


@app.teardown_appcontext
def close_db(exc):
    db = g.pop("db", None)
    if db is not None:
        db.close()


@app.route("/search", methods=["GET"])
def search_products():
    term = request.args.get("q", "").strip()
    if not term:
        return jsonify({"error": "missing q"}), 400
    sql = "SELECT id, name, price FROM products WHERE name LIKE \"%%%s%%\" ORDER BY name" % term
    results = [dict(row) for row in get_db().execute(sql)]
    return jsonify({"query": term, "results": results})


if __name__ == "__main__":
    app.run(debug=True)
