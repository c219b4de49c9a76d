import mysql.connector


def get_user_by_email(email):
    conn = mysql.connector.connect(host="db", user="app", password="app", database="app")
    try:
        cur = conn.cursor(dictionary=True)
        cur.execute("SELECT id, name, email FROM customers WHERE email = %s", (email,))
        return cur.fetchone()
    finally:
        conn.close()
