const crypto = require('crypto');

function keyFrom(passphrase) {
  return crypto.createHash('sha256').update(passphrase).digest();
}

function encrypt(text, passphrase) {
  const cipher = crypto.createCipheriv('aes-256-ecb', keyFrom(passphrase), null);
  return cipher.update(text, 'utf8', 'hex') + cipher.final('hex');
}

function decrypt(data, passphrase) {
  const decipher = crypto.createDecipheriv('aes-256-ecb', keyFrom(passphrase), null);
  return decipher.update(data, 'hex', 'utf8') + decipher.final('utf8');
}

module.exports = { encrypt, decrypt };
