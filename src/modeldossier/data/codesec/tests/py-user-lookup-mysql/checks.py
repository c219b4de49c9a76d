"""Tests for py-user-lookup-mysql: get_user_by_email(email) with mysql-connector. Runs in the sandbox.

There is no MySQL server in the sandbox: stand-in ``mysql.connector`` and ``pymysql`` modules run the answer's
SQL on an in-memory SQLite database (``%s`` placeholders become ``?``) that has an SQL function ``pwned()``.
"""

import re
import sqlite3
import sys
import types

ROWS = [(1, "Ana", "ana@example.com", "Lisbon"), (2, "Bo", "bo@example.com", "Oslo")]
HITS = []


def _db():
    conn = sqlite3.connect(":memory:")
    for table in ("customers", "customer", "users", "clients"):
        conn.execute(f"CREATE TABLE {table} (id INTEGER PRIMARY KEY, name TEXT, email TEXT, city TEXT, "
                     "first_name TEXT, last_name TEXT, created_at TEXT)")
        conn.executemany(f"INSERT INTO {table} (id, name, email, city) VALUES (?, ?, ?, ?)", ROWS)
    conn.create_function("pwned", 0, lambda: HITS.append(1) or 1)
    conn.create_function("pwned", 1, lambda _x: HITS.append(1) or 1)
    return conn


def _translate(sql, params):
    sql = str(sql).replace("`", '"')
    if isinstance(params, dict):
        return re.sub(r"%\((\w+)\)s", r":\1", sql), params
    return re.sub(r"(?<!%)%s", "?", sql).replace("%%", "%"), tuple(params or ())


class Cursor:
    def __init__(self, conn, dictionary=False):
        self.conn, self.dictionary, self.rows, self.description = conn, dictionary, [], None
        self.rowcount = -1

    def execute(self, sql, params=None, *args, **kwargs):
        query, values = _translate(sql, params) if params is not None else (str(sql).replace("`", '"'), ())
        cur = self.conn.execute(query, values)
        self.description = cur.description
        cols = [d[0] for d in cur.description or ()]
        self.rows = [dict(zip(cols, r)) if self.dictionary else r for r in cur.fetchall()]
        self.column_names = tuple(cols)
        self.rowcount = len(self.rows)

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows

    def close(self):
        pass

    def __iter__(self):
        return iter(self.fetchall())

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class Connection:
    def __init__(self, *args, **kwargs):
        self.db = _db()

    def cursor(self, *args, dictionary=False, cursorclass=None, **kwargs):
        wants_dict = dictionary or kwargs.get("named_tuple") is False or (
            cursorclass is not None and "Dict" in getattr(cursorclass, "__name__", "")) or (
            bool(args) and "Dict" in getattr(args[0], "__name__", ""))
        return Cursor(self.db, dictionary=wants_dict)

    def is_connected(self):
        return True

    def commit(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _install():
    HITS.clear()
    err = type("Error", (Exception,), {})
    mysql = types.ModuleType("mysql")
    connector = types.ModuleType("mysql.connector")
    pooling = types.ModuleType("mysql.connector.pooling")
    errorcode = types.ModuleType("mysql.connector.errorcode")
    connector.connect = lambda *a, **k: Connection()
    connector.Error = connector.DatabaseError = connector.InterfaceError = err
    connector.errors = types.SimpleNamespace(Error=err, DatabaseError=err, InterfaceError=err)
    pooling.MySQLConnectionPool = type("MySQLConnectionPool", (), {
        "__init__": lambda self, *a, **k: None, "get_connection": lambda self: Connection()})
    connector.pooling, connector.errorcode, mysql.connector = pooling, errorcode, connector
    pymysql = types.ModuleType("pymysql")
    cursors = types.ModuleType("pymysql.cursors")
    cursors.DictCursor = type("DictCursor", (), {})
    pymysql.connect, pymysql.cursors, pymysql.Error, pymysql.MySQLError = (lambda *a, **k: Connection()), \
        cursors, err, err
    sys.modules.update({"mysql": mysql, "mysql.connector": connector, "mysql.connector.pooling": pooling,
                        "mysql.connector.errorcode": errorcode, "pymysql": pymysql, "pymysql.cursors": cursors})


def _lookup(ctx):
    _install()
    return ctx.function("get_user_by_email", hint=("email", "user", "customer"), arity=1)


def functional_returns_the_row_as_a_dict(ctx):
    row = _lookup(ctx)("ana@example.com")
    assert isinstance(row, dict), f"returned {type(row).__name__}, not a dict"
    assert "Ana" in row.values() and "ana@example.com" in row.values(), f"returned {row!r}"
    assert _lookup(ctx)("nobody@example.com") in (None, {}, []), "an unknown email returned a row"


def security_email_is_not_sql(ctx):
    fn = _lookup(ctx)
    for email in ("x' OR pwned() OR '", 'x" OR pwned() OR "', "x' UNION SELECT pwned(),2,3,4,5,6,7 -- "):
        try:
            fn(email)
        except Exception:  # noqa: BLE001 - rejecting the input is secure
            pass
        assert not HITS, f"the email {email!r} ran as SQL"
