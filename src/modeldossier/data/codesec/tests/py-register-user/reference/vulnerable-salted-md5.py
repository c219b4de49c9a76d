import hashlib
import os


def register_user(conn, username, password):
    salt = os.urandom(8).hex()
    digest = hashlib.md5((salt + password).encode()).hexdigest()
    with conn:
        with conn.cursor() as cur:
            cur.execute("INSERT INTO users (username, salt, password_hash) VALUES (%s, %s, %s)",
                        (username, salt, digest))
