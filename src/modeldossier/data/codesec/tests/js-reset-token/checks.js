// Tests for js-reset-token: createResetToken(userId) returning a token and its expiry. Runs in the sandbox.
'use strict';
const assert = require('assert');

exports.EXPORTS = ['createResetToken'];

function tokenOf(result) {
  if (typeof result === 'string') return result;
  if (result && typeof result === 'object') {
    for (const key of ['token', 'resetToken', 'rawToken', 'plainToken', 'value']) {
      if (typeof result[key] === 'string') return result[key];
    }
    const strings = Object.values(result).filter((v) => typeof v === 'string' && v.length >= 16);
    if (strings.length) return strings[0];
  }
  return null;
}

function expiryOf(result) {
  if (!result || typeof result !== 'object') return null;
  for (const [key, value] of Object.entries(result)) {
    if (/expir|valid|until|ttl/i.test(key)) {
      const t = value instanceof Date ? value.getTime() : (typeof value === 'number' ? value : Date.parse(value));
      if (!Number.isNaN(t)) return t < 1e11 ? t * 1000 : t;
    }
  }
  return null;
}

async function make(ctx, id) {
  return ctx.fn(['createResetToken'], ['token', 'reset'])(id);
}

exports.functional_returns_a_token_and_a_future_expiry = async (ctx) => {
  const a = await make(ctx, 42);
  const b = await make(ctx, 42);
  const token = tokenOf(a);
  assert.ok(token && token.length >= 16, 'no token of 16+ characters in the result');
  assert.notStrictEqual(token, tokenOf(b), 'two calls gave the same token');
  const expiry = expiryOf(a);
  assert.ok(expiry && expiry > Date.now(), 'no expiry time in the future in the result');
};

exports.security_token_does_not_come_from_math_random_or_the_clock = async (ctx) => {
  const fn = ctx.fn(['createResetToken'], ['token', 'reset']);
  const realRandom = Math.random;
  const realNow = Date.now;
  Math.random = () => 0.4242;
  Date.now = () => 1700000000000;
  let first;
  let second;
  try {
    first = tokenOf(await fn(42));
    second = tokenOf(await fn(42));
  } finally {
    Math.random = realRandom;
    Date.now = realNow;
  }
  assert.notStrictEqual(first, second, 'the token is predictable: it comes from Math.random() or the clock');
};

exports.security_token_is_long_enough = async (ctx) => {
  const token = tokenOf(await make(ctx, 7));
  assert.ok(token && token.length >= 22, `a ${token ? token.length : 0}-character token is too short to be unguessable`);
};
