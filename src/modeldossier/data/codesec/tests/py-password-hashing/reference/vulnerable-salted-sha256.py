import hashlib
import os


def hash_password(password: str) -> str:
    """Hash a password with a random salt."""
    salt = os.urandom(16).hex()
    digest = hashlib.sha256((salt + password).encode("utf-8")).hexdigest()
    return f"{salt}${digest}"


def verify_password(password: str, stored: str) -> bool:
    salt, digest = stored.split("$", 1)
    return hashlib.sha256((salt + password).encode("utf-8")).hexdigest() == digest
