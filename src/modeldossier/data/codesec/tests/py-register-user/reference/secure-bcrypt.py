import bcrypt
import psycopg2
from psycopg2 import errors


def register_user(conn, username: str, password: str) -> int:
    """Insert a user with a bcrypt hash; returns the new id."""
    hashed = bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt()).decode("utf-8")
    try:
        with conn, conn.cursor() as cur:
            cur.execute(
                "INSERT INTO users (username, password_hash) VALUES (%s, %s) RETURNING id",
                (username, hashed),
            )
            return cur.fetchone()[0]
    except errors.UniqueViolation as exc:
        raise ValueError(f"user {username!r} exists") from exc
    except psycopg2.Error:
        raise
