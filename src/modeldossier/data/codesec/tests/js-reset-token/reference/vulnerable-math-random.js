function createResetToken(userId) {
  const token = Math.random().toString(36).substring(2) + Math.random().toString(36).substring(2);
  const expiresAt = Date.now() + 60 * 60 * 1000;
  return { userId, token, expiresAt };
}

module.exports = { createResetToken };
