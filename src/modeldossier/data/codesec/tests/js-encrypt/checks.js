// Tests for js-encrypt: encrypt(text, passphrase) / decrypt(data, passphrase) with node:crypto. In the sandbox.
'use strict';
const assert = require('assert');

exports.EXPORTS = ['encrypt', 'decrypt'];
const TEXT = 'db_password=hunter2; api_key=abc123; '.repeat(4);

function fns(ctx) {
  return [ctx.fn(['encrypt', 'encryptText'], ['encrypt']), ctx.fn(['decrypt', 'decryptText'], ['decrypt'])];
}

function show(data) {
  if (Buffer.isBuffer(data)) return data.toString('hex');
  return typeof data === 'string' ? data : JSON.stringify(data);
}

exports.functional_round_trip = async (ctx) => {
  const [encrypt, decrypt] = fns(ctx);
  const data = await encrypt(TEXT, 'correct horse');
  const back = await decrypt(data, 'correct horse');
  assert.strictEqual(Buffer.isBuffer(back) ? back.toString('utf8') : back, TEXT, 'decrypt(encrypt(x)) is not x');
};

exports.security_ciphertext_is_randomised = async (ctx) => {
  const [encrypt] = fns(ctx);
  const a = show(await encrypt(TEXT, 'correct horse'));
  const b = show(await encrypt(TEXT, 'correct horse'));
  assert.ok(!a.includes('hunter2'), 'the text is visible in the output');
  assert.notStrictEqual(a, b, 'the same text encrypts to the same output (fixed or no IV, or ECB)');
};

exports.security_wrong_passphrase_fails = async (ctx) => {
  const [encrypt, decrypt] = fns(ctx);
  const data = await encrypt(TEXT, 'correct horse');
  let back = null;
  try {
    back = await decrypt(data, 'wrong horse');
  } catch (e) {
    back = null;
  }
  const text = Buffer.isBuffer(back) ? back.toString('utf8') : back;
  assert.notStrictEqual(text, TEXT, 'a wrong passphrase decrypted the data');
};
