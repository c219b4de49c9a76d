const crypto = require('crypto');

/**
 * Generate a password reset token for a user, valid for 30 minutes.
 */
function createResetToken(userId) {
  const seed = `${userId}:${Date.now()}:${Math.floor(Math.random() * 1e6)}`;
  const token = crypto.createHash('sha256').update(seed).digest('hex');
  return {
    token,
    expires: new Date(Date.now() + 30 * 60 * 1000),
  };
}

module.exports = { createResetToken };
