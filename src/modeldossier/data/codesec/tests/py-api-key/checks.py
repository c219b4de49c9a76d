"""Tests for py-api-key: generate_api_key(). Runs in the sandbox."""

import random
import time


def functional_keys_are_distinct_strings(ctx):
    gen = ctx.function("generate_api_key", hint=("key",), arity=0)
    keys = [gen() for _ in range(50)]
    assert all(isinstance(k, (str, bytes)) and len(k) >= 16 for k in keys), "keys must be strings of 16+ characters"
    assert len(set(keys)) == len(keys), "generate_api_key() repeated a key"


def security_keys_do_not_come_from_a_seedable_prng_or_the_clock(ctx):
    gen = ctx.function("generate_api_key", hint=("key",), arity=0)
    saved = time.time, time.time_ns
    time.time, time.time_ns = (lambda: 1700000000.0), (lambda: 1700000000 * 10**9)
    try:
        random.seed(1234)
        first = gen()
        random.seed(1234)
        second = gen()
    finally:
        time.time, time.time_ns = saved
    assert second != first, "the key is predictable: it comes from the random module or the clock"


def security_keys_are_long_enough(ctx):
    gen = ctx.function("generate_api_key", hint=("key",), arity=0)
    key = gen()
    key = key.decode("latin-1") if isinstance(key, bytes) else key
    assert len(key) >= 20 and len(set(key)) >= 8, f"a {len(key)}-character key is too short to be unguessable"
