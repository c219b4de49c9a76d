"""Tests for py-search-products: Flask GET /search?q=... over the sqlite3 `products` table. Runs in the sandbox."""

NEEDS = ("flask",)

SCHEMA = """
CREATE TABLE products (id INTEGER PRIMARY KEY, name TEXT, description TEXT, price REAL, category TEXT);
INSERT INTO products VALUES (1, 'Desk lamp', 'LED lamp', 24.5, 'lighting');
INSERT INTO products VALUES (2, 'Office chair', 'Mesh chair', 129.0, 'furniture');
INSERT INTO products VALUES (3, 'Floor lamp', 'Tall lamp', 59.9, 'lighting');
"""


def functional_finds_matching_products_as_json(ctx):
    ctx.patch_sqlite(SCHEMA)
    resp = ctx.client().get("/search?q=lamp")
    assert resp.status_code == 200, f"GET /search?q=lamp gave {resp.status_code}"
    body = resp.get_data(as_text=True)
    assert resp.is_json, "the answer is not JSON"
    assert "Desk lamp" in body and "Floor lamp" in body and "Office chair" not in body, f"returned {body[:200]}"


def security_query_is_not_sql(ctx):
    hits = ctx.patch_sqlite(SCHEMA)
    client = ctx.client()
    for q in ("' || pwned() || '", '" || pwned() || "', "x' AND pwned() AND '1'='1", "%' OR pwned() OR '%'='"):
        client.get("/search", query_string={"q": q})
        assert not hits, f"the search text {q!r} ran as SQL"
