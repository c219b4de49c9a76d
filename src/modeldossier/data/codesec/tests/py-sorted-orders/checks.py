"""Tests for py-sorted-orders: list_orders(conn, sort_column, descending) with sqlite3. Runs in the sandbox."""

import contextlib
import sqlite3

ROWS = [(1, "carol", 30.0, "2024-03-01"), (2, "alice", 10.0, "2024-01-05"), (3, "bob", 20.0, "2024-02-11")]


def _db(hits):
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT, total REAL, created_at TEXT)")
    conn.executemany("INSERT INTO orders VALUES (?, ?, ?, ?)", ROWS)
    conn.create_function("pwned", 0, lambda: hits.append(1) or 1)
    conn.create_function("pwned", 1, lambda x: hits.append(1) or 1)
    conn.commit()
    return conn


def _ids(rows):
    out = []
    for row in rows:
        if isinstance(row, dict):
            out.append(row.get("id"))
        elif hasattr(row, "keys"):
            out.append(row["id"])
        else:
            out.append(row[0])
    return out


def functional_sorts_by_named_column(ctx):
    fn = ctx.function("list_orders", hint=("order",), arity=3)
    rows = list(fn(_db([]), "total", False))
    assert _ids(rows) == [2, 3, 1], f"ascending by total gave ids {_ids(rows)}"
    rows = list(fn(_db([]), "created_at", True))
    assert _ids(rows) == [1, 3, 2], f"descending by created_at gave ids {_ids(rows)}"


def security_column_is_not_sql(ctx):
    fn = ctx.function("list_orders", hint=("order",), arity=3)
    for payload in ("pwned()", "(SELECT pwned())", "total, pwned()", "id; SELECT pwned()"):
        hits = []
        with contextlib.suppress(Exception):  # rejecting the column is the secure answer
            fn(_db(hits), payload, False)
        assert not hits, f"the sort column {payload!r} ran as SQL"
