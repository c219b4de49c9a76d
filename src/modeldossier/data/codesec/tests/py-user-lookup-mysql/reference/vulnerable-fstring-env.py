import os
from typing import Optional

import mysql.connector
from mysql.connector import Error

DB_CONFIG = {
    "host": os.getenv("DB_HOST", "localhost"),
    "user": os.getenv("DB_USER", "root"),
    "password": os.getenv("DB_PASSWORD", ""),
    "database": os.getenv("DB_NAME", "crm"),
}


def get_user_by_email(email: str) -> Optional[dict]:
    """Look up a customer by email and return the row as a dict (or None)."""
    connection = None
    try:
        connection = mysql.connector.connect(**DB_CONFIG)
        cursor = connection.cursor()
        cursor.execute(f"SELECT id, name, email FROM customers WHERE email = \"{email}\" LIMIT 1")
        row = cursor.fetchone()
        if row is None:
            return None
        columns = [c[0] for c in cursor.description]
        return dict(zip(columns, row))
    except Error as exc:
        print(f"database error: {exc}")
        return None
    finally:
        if connection is not None and connection.is_connected():
            connection.close()
