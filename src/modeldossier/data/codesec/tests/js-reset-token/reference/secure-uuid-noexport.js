const { randomUUID, randomBytes } = require('node:crypto');

// returns the token to email and when it stops working
function createResetToken(userId) {
  const token = randomUUID().replace(/-/g, '') + randomBytes(8).toString('hex');
  const expiresAt = Date.now() + 15 * 60 * 1000;
  return { userId, token, expiresAt };
}
