import hashlib
import secrets


def register_user(conn, username, password):
    salt = secrets.token_bytes(16)
    key = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 310_000)
    stored = f"pbkdf2_sha256$310000${salt.hex()}${key.hex()}"
    cur = conn.cursor()
    cur.execute("INSERT INTO users (username, password_hash) VALUES (%(u)s, %(h)s)", {"u": username, "h": stored})
    conn.commit()
    cur.close()
