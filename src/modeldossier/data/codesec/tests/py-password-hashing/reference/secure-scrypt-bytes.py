import hashlib
import hmac
import secrets


def hash_password(password):
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32)
    return salt + key


def verify_password(password, stored):
    salt, key = stored[:16], stored[16:]
    return hmac.compare_digest(hashlib.scrypt(password.encode(), salt=salt, n=2**14, r=8, p=1, dklen=32), key)
