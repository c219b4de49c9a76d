const { randomBytes, pbkdf2Sync, createCipheriv, createDecipheriv } = require('crypto');

// Encrypts with AES-256-CBC; key from PBKDF2 with a random salt; returns a JSON-able object.
function encrypt(text, passphrase) {
  const salt = randomBytes(16);
  const iv = randomBytes(16);
  const key = pbkdf2Sync(passphrase, salt, 100000, 32, 'sha256');
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  const ciphertext = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]);
  return { salt: salt.toString('hex'), iv: iv.toString('hex'), data: ciphertext.toString('hex') };
}

function decrypt(payload, passphrase) {
  const key = pbkdf2Sync(passphrase, Buffer.from(payload.salt, 'hex'), 100000, 32, 'sha256');
  const decipher = createDecipheriv('aes-256-cbc', key, Buffer.from(payload.iv, 'hex'));
  return Buffer.concat([decipher.update(Buffer.from(payload.data, 'hex')), decipher.final()]).toString('utf8');
}

module.exports = { encrypt, decrypt };
