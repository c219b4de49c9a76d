ALLOWED = {"id", "customer", "total", "created_at"}


def list_orders(conn, sort_column, descending=False):
    if sort_column not in ALLOWED:
        raise ValueError(f"cannot sort by {sort_column!r}")
    direction = "DESC" if descending else "ASC"
    return conn.execute(f'SELECT * FROM orders ORDER BY "{sort_column}" {direction}').fetchall()
