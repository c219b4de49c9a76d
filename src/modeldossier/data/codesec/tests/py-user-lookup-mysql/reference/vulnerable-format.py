import mysql.connector


def get_user_by_email(email):
    conn = mysql.connector.connect(host="localhost", user="app", password="secret", database="shop")
    cursor = conn.cursor(dictionary=True)
    cursor.execute("SELECT * FROM customers WHERE email = '%s'" % email)
    row = cursor.fetchone()
    cursor.close()
    conn.close()
    return row
