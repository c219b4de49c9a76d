const crypto = require('crypto');

const TOKEN_TTL_MS = 60 * 60 * 1000;

function createResetToken(userId) {
  const token = crypto.randomBytes(32).toString('hex');
  const tokenHash = crypto.createHash('sha256').update(token).digest('hex');
  return { userId, token, tokenHash, expiresAt: new Date(Date.now() + TOKEN_TTL_MS) };
}

module.exports = { createResetToken };
