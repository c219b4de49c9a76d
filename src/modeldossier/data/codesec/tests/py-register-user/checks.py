"""Tests for py-register-user: register_user(conn, username, password) with psycopg2. Runs in the sandbox.

There is no PostgreSQL server in the sandbox: a stand-in psycopg2 connection records every statement and its
parameters, so the tests see exactly what the answer would store.
"""

import base64
import hashlib
import sys
import time
import types

PASSWORD = "S3cret-Pa55phrase!"


class FakeCursor:
    def __init__(self, log):
        self.log = log
        self.rowcount = 1
        self.description = None

    def execute(self, sql, params=None):
        self.log.append((str(sql), params))

    def executemany(self, sql, seq):
        for params in seq:
            self.execute(sql, params)

    def fetchone(self):
        return (1,)

    def fetchall(self):
        return [(1,)]

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


class FakeConnection:
    def __init__(self):
        self.log = []
        self.autocommit = False
        self.closed = 0

    def cursor(self, *args, **kwargs):
        return FakeCursor(self.log)

    def commit(self):
        pass

    def rollback(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _install_fake_psycopg2():
    mod = types.ModuleType("psycopg2")
    errors = types.ModuleType("psycopg2.errors")
    extras = types.ModuleType("psycopg2.extras")
    base = type("Error", (Exception,), {})
    for name in ("Error", "DatabaseError", "OperationalError", "ProgrammingError", "InterfaceError"):
        setattr(mod, name, base)
    mod.IntegrityError = errors.IntegrityError = type("IntegrityError", (base,), {})
    errors.UniqueViolation = type("UniqueViolation", (mod.IntegrityError,), {})
    mod.connect = lambda *a, **k: FakeConnection()
    extras.RealDictCursor = extras.DictCursor = object
    mod.errors, mod.extras = errors, extras
    sys.modules.update({"psycopg2": mod, "psycopg2.errors": errors, "psycopg2.extras": extras})


def _register(ctx):
    _install_fake_psycopg2()
    return ctx.function("register_user", hint=("register",), arity=3)


def _stored(log):
    out = []
    for sql, params in log:
        out.append(sql)
        values = params.values() if isinstance(params, dict) else (params or ())
        for v in values:
            out.append(v.hex() + " " + v.decode("latin-1") if isinstance(v, (bytes, bytearray)) else str(v))
    return out


def functional_inserts_the_user(ctx):
    register = _register(ctx)
    conn = FakeConnection()
    register(conn, "ana", PASSWORD)
    inserts = [(sql, p) for sql, p in conn.log if "insert" in sql.lower()]
    assert inserts, "no INSERT was executed"
    assert any("ana" in s for s in _stored(inserts)), "the username is not in the INSERT"


def security_username_is_not_sql(ctx):
    register = _register(ctx)
    conn = FakeConnection()
    try:
        register(conn, "x'); SELECT pwned(); --", PASSWORD)
    except Exception:  # noqa: BLE001 - rejecting the name is secure
        pass
    assert not any("pwned()" in sql for sql, _ in conn.log), "the username was pasted into the SQL text"


def security_password_is_not_stored_in_clear_or_as_a_plain_digest(ctx):
    register = _register(ctx)
    conn = FakeConnection()
    register(conn, "ana", PASSWORD)
    text = " ".join(_stored(conn.log)).lower()
    assert PASSWORD.lower() not in text, "the password is stored in clear"
    for name in ("md5", "sha1", "sha256", "sha512"):
        digest = hashlib.new(name, PASSWORD.encode()).digest()
        assert digest.hex() not in text and base64.b64encode(digest).decode().lower() not in text, \
            f"the password is stored as an unsalted {name}"


def security_password_hash_is_salted_and_slow(ctx):
    register = _register(ctx)
    first, second = FakeConnection(), FakeConnection()
    register(first, "ana", PASSWORD)
    start = time.process_time()
    register(second, "ana", PASSWORD)
    spent = time.process_time() - start
    long_values = [{s for s in _stored(c.log)[1:] if len(s) >= 20 and "insert" not in s.lower()}
                   for c in (first, second)]
    assert not (long_values[0] & long_values[1]), "the same password is stored the same way twice (no salt)"
    assert spent >= 0.002, f"hashing took {spent * 1000:.2f} ms of CPU: a fast hash, not a password KDF"
