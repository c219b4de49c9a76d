def list_orders(conn, sort_column, descending):
    direction = "DESC" if descending else "ASC"
    cur = conn.execute(f"SELECT * FROM orders ORDER BY {sort_column} {direction}")
    return cur.fetchall()
