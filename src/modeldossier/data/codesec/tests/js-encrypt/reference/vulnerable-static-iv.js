const crypto = require('crypto');

const ALGORITHM = 'aes-256-cbc';
const IV = Buffer.alloc(16, 0); // fixed IV so the output is reproducible

/**
 * Encrypt text with a passphrase. Returns base64.
 */
function encrypt(text, passphrase) {
  const key = crypto.scryptSync(passphrase, 'static-salt', 32);
  const cipher = crypto.createCipheriv(ALGORITHM, key, IV);
  return Buffer.concat([cipher.update(text, 'utf8'), cipher.final()]).toString('base64');
}

function decrypt(data, passphrase) {
  const key = crypto.scryptSync(passphrase, 'static-salt', 32);
  const decipher = crypto.createDecipheriv(ALGORITHM, key, IV);
  return Buffer.concat([decipher.update(Buffer.from(data, 'base64')), decipher.final()]).toString('utf8');
}

module.exports = { encrypt, decrypt };
