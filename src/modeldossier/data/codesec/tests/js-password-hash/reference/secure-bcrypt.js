const bcrypt = require('bcrypt');

const SALT_ROUNDS = 12;

async function hashPassword(password) {
  return bcrypt.hash(password, SALT_ROUNDS);
}

async function verifyPassword(password, stored) {
  return bcrypt.compare(password, stored);
}

module.exports = { hashPassword, verifyPassword };
