import bcrypt


def hash_password(password: str) -> bytes:
    """Hash a password for storing."""
    return bcrypt.hashpw(password.encode("utf-8"), bcrypt.gensalt())


def verify_password(password: str, stored: bytes) -> bool:
    """Check a password against the stored hash."""
    return bcrypt.checkpw(password.encode("utf-8"), stored)
