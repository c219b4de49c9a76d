import sqlite3


def list_orders(conn: sqlite3.Connection, sort_column: str, descending: bool = False):
    """Rows of `orders` sorted by a real column of the table (checked against the schema)."""
    columns = [row[1] for row in conn.execute("PRAGMA table_info(orders)")]
    if sort_column not in columns:
        sort_column = "id"
    order = "DESC" if descending else "ASC"
    cursor = conn.cursor()
    cursor.execute('SELECT * FROM orders ORDER BY "%s" %s' % (sort_column, order))
    return cursor.fetchall()
