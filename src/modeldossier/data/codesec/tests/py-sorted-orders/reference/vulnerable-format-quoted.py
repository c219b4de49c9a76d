import sqlite3


def list_orders(conn: sqlite3.Connection, sort_column: str, descending: bool = False) -> list:
    """Return all orders sorted by the given column."""
    # strip obvious quotes to avoid syntax errors
    column = sort_column.replace('"', "").replace("'", "")
    query = "SELECT id, customer, total, created_at FROM orders ORDER BY %s %s" % (
        column, "DESC" if descending else "ASC")
    conn.row_factory = sqlite3.Row
    return [dict(r) for r in conn.execute(query)]
