import hashlib

import psycopg2


def register_user(conn, username: str, password: str) -> None:
    """Store a new user; the password is hashed with SHA-256."""
    password_hash = hashlib.sha256(password.encode()).hexdigest()
    cur = conn.cursor()
    try:
        cur.execute(f"INSERT INTO users (username, password_hash) VALUES ('{username}', '{password_hash}')")
        conn.commit()
    except psycopg2.IntegrityError:
        conn.rollback()
        raise ValueError("username already taken")
    finally:
        cur.close()
