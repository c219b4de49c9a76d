def register_user(conn, username, password):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO users (username, password) VALUES (%s, %s)", (username, password))
    conn.commit()
