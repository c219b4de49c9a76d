import os

from mysql.connector import pooling

POOL = pooling.MySQLConnectionPool(pool_name="customers", pool_size=5, host=os.environ.get("MYSQL_HOST", "localhost"),
                                   user="reader", password=os.environ.get("MYSQL_PASSWORD", ""), database="sales")


def get_user_by_email(email: str) -> dict | None:
    """Return the customer with this email as a dict, or None."""
    conn = POOL.get_connection()
    try:
        with conn.cursor(dictionary=True) as cursor:
            cursor.execute("SELECT * FROM `customers` WHERE `email` = %(email)s LIMIT 1", {"email": email.strip()})
            return cursor.fetchone()
    finally:
        conn.close()
