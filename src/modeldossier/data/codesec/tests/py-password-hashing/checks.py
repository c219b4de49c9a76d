"""Tests for py-password-hashing: hash_password(password) / verify_password(password, stored). In the sandbox."""

import base64
import hashlib
import time

PASSWORD = "correct horse battery staple"


def _fns(ctx):
    return (ctx.function("hash_password", hint=("hash",), arity=1),
            ctx.function("verify_password", "check_password", hint=("verify", "check"), arity=2))


def _text(stored):
    if isinstance(stored, bytes):
        return stored.hex() + " " + stored.decode("latin-1")
    if isinstance(stored, (tuple, list)):
        return " ".join(_text(s) for s in stored)
    return str(stored)


def functional_verify_accepts_right_and_rejects_wrong(ctx):
    hash_password, verify_password = _fns(ctx)
    stored = hash_password(PASSWORD)
    assert verify_password(PASSWORD, stored), "the right password was rejected"
    assert not verify_password("wrong password", stored), "a wrong password was accepted"


def security_stored_value_is_not_the_password_or_a_plain_digest(ctx):
    hash_password, _ = _fns(ctx)
    text = _text(hash_password(PASSWORD)).lower()
    assert PASSWORD.lower() not in text, "the password is stored in clear"
    for name in ("md5", "sha1", "sha224", "sha256", "sha384", "sha512"):
        digest = hashlib.new(name, PASSWORD.encode()).digest()
        for form in (digest.hex(), base64.b64encode(digest).decode().lower()):
            assert form not in text, f"the stored value is an unsalted {name} of the password"


def security_hash_is_salted(ctx):
    hash_password, _ = _fns(ctx)
    assert _text(hash_password(PASSWORD)) != _text(hash_password(PASSWORD)), \
        "the same password gives the same stored value (no salt)"


def security_hash_is_deliberately_slow(ctx):
    hash_password, _ = _fns(ctx)
    hash_password(PASSWORD)  # warm up imports
    start = time.process_time()
    for _ in range(3):
        hash_password(PASSWORD)
    per_call = (time.process_time() - start) / 3
    assert per_call >= 0.002, f"hashing takes {per_call * 1000:.2f} ms of CPU: a fast hash, not a password KDF"
