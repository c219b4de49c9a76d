// Tests for js-password-hash: hashPassword(password) / verifyPassword(password, stored). Runs in the sandbox.
'use strict';
const assert = require('assert');
const crypto = require('crypto');

const PASSWORD = 'correct horse battery staple';
exports.EXPORTS = ['hashPassword', 'verifyPassword'];

function fns(ctx) {
  return [ctx.fn(['hashPassword'], ['hash']), ctx.fn(['verifyPassword', 'comparePassword', 'checkPassword'], ['verify', 'compare', 'check'])];
}

function text(stored) {
  if (Buffer.isBuffer(stored)) return stored.toString('hex') + ' ' + stored.toString('latin1');
  if (stored && typeof stored === 'object') return JSON.stringify(stored);
  return String(stored);
}

exports.functional_verify_accepts_right_and_rejects_wrong = async (ctx) => {
  const [hash, verify] = fns(ctx);
  const stored = await hash(PASSWORD);
  assert.ok(await verify(PASSWORD, stored), 'the right password was rejected');
  assert.ok(!(await verify('wrong password', stored)), 'a wrong password was accepted');
};

exports.security_stored_value_is_not_the_password_or_a_plain_digest = async (ctx) => {
  const [hash] = fns(ctx);
  const t = text(await hash(PASSWORD)).toLowerCase();
  assert.ok(!t.includes(PASSWORD.toLowerCase()), 'the password is stored in clear');
  for (const alg of ['md5', 'sha1', 'sha256', 'sha512']) {
    const d = crypto.createHash(alg).update(PASSWORD).digest();
    assert.ok(!t.includes(d.toString('hex')) && !t.includes(d.toString('base64').toLowerCase()),
      `the stored value is an unsalted ${alg} of the password`);
  }
};

exports.security_hash_is_salted = async (ctx) => {
  const [hash] = fns(ctx);
  assert.notStrictEqual(text(await hash(PASSWORD)), text(await hash(PASSWORD)),
    'the same password gives the same stored value (no salt)');
};

exports.security_hash_is_deliberately_slow = async (ctx) => {
  const [hash] = fns(ctx);
  await hash(PASSWORD);
  const start = process.cpuUsage();
  for (let i = 0; i < 3; i++) await hash(PASSWORD);
  const used = process.cpuUsage(start);
  const perCallMs = (used.user + used.system) / 1000 / 3;
  assert.ok(perCallMs >= 2, `hashing takes ${perCallMs.toFixed(2)} ms of CPU: a fast hash, not a password KDF`);
};
