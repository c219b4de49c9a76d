import crypto from 'node:crypto';

const ITERATIONS = 210000;

export function hashPassword(password) {
  const salt = crypto.randomBytes(16).toString('hex');
  const hash = crypto.pbkdf2Sync(password, salt, ITERATIONS, 32, 'sha256').toString('hex');
  return [ITERATIONS, salt, hash].join(':');
}

export function verifyPassword(password, stored) {
  const [iterations, salt, hash] = stored.split(':');
  const candidate = crypto.pbkdf2Sync(password, salt, Number(iterations), 32, 'sha256');
  return crypto.timingSafeEqual(candidate, Buffer.from(hash, 'hex'));
}
