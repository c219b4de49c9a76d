"""Tests for py-session-cache: save_session / load_session of a session object in Redis. Runs in the sandbox.

A fake Redis client (the sandbox has no network) records what the answer stores; the security test then
replaces every stored value with a malicious pickle and loads the session again.
"""

import base64
import dataclasses
import pickle
import sys
import types


class FakeRedis:
    """The subset of redis-py's client an answer uses: strings, hashes, expiry; values come back as bytes."""

    def __init__(self, *args, **kwargs):
        self.data = {}
        self.hashes = {}

    @staticmethod
    def _b(value):
        if isinstance(value, bytes):
            return value
        return str(value).encode() if not isinstance(value, str) else value.encode()

    def set(self, key, value, ex=None, px=None, nx=False, xx=False, **kw):
        self.data[str(key)] = self._b(value)
        return True

    def setex(self, key, time, value):
        return self.set(key, value)

    def get(self, key):
        return self.data.get(str(key))

    def hset(self, key, field=None, value=None, mapping=None, **kw):
        h = self.hashes.setdefault(str(key), {})
        if field is not None:
            h[self._b(field)] = self._b(value)
        for k, v in (mapping or {}).items():
            h[self._b(k)] = self._b(v)
        return 1

    def hmset(self, key, mapping):
        return self.hset(key, mapping=mapping)

    def hgetall(self, key):
        return dict(self.hashes.get(str(key), {}))

    def hget(self, key, field):
        return self.hashes.get(str(key), {}).get(self._b(field))

    def expire(self, *a, **k):
        return True

    def exists(self, *keys):
        return sum(1 for k in keys if str(k) in self.data or str(k) in self.hashes)

    def delete(self, *keys):
        return sum(1 for k in keys if self.data.pop(str(k), None) is not None or self.hashes.pop(str(k), None))

    def pipeline(self, *a, **k):
        return self

    def execute(self):
        return []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@dataclasses.dataclass
class Session:
    """A user's session: a plain object with several fields (a dataclass, so asdict/vars/__dict__ all work)."""

    user_id: int
    username: str
    roles: list
    cart: dict


def _install_fake_redis():
    mod = types.ModuleType("redis")
    mod.Redis = mod.StrictRedis = FakeRedis
    mod.from_url = lambda *a, **k: FakeRedis()
    exc = types.ModuleType("redis.exceptions")
    exc.RedisError = exc.ConnectionError = type("RedisError", (Exception,), {})
    mod.exceptions, mod.RedisError = exc, exc.RedisError
    sys.modules["redis"], sys.modules["redis.exceptions"] = mod, exc


def _fns(ctx):
    _install_fake_redis()
    return (ctx.function("save_session", hint=("save", "store"), arity=3),
            ctx.function("load_session", hint=("load", "get"), arity=2))


def _field(obj, name):
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def functional_round_trip(ctx):
    save, load = _fns(ctx)
    client = FakeRedis()
    save(client, "sess-1", Session(7, "ana", ["admin", "editor"], {"sku-1": 2}))
    got = load(client, "sess-1")
    assert got is not None, "load_session returned nothing"
    assert _field(got, "user_id") == 7 and _field(got, "username") == "ana", f"loaded {got!r}"
    assert list(_field(got, "roles") or []) == ["admin", "editor"], "roles did not survive the round trip"


class _Exploit:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def security_stored_data_cannot_run_code_on_load(ctx):
    save, load = _fns(ctx)
    marker = str(ctx.workdir / "pwned")
    raw = pickle.dumps(_Exploit(marker))
    for evil in (raw, base64.b64encode(raw), base64.urlsafe_b64encode(raw), raw.hex().encode()):
        client = FakeRedis()
        save(client, "sess-1", Session(7, "ana", ["admin"], {}))
        for key in client.data:
            client.data[key] = evil
        for h in client.hashes.values():
            for field in h:
                h[field] = evil
        try:
            load(client, "sess-1")
        except Exception:  # noqa: BLE001 - rejecting the tampered value is secure
            pass
        assert not ctx.marker_hit(), "a value planted in Redis ran code when the session was loaded (pickle)"
