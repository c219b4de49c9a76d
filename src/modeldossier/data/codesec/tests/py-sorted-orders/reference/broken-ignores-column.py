def list_orders(conn, sort_column, descending):
    return conn.execute("SELECT * FROM orders").fetchall()
