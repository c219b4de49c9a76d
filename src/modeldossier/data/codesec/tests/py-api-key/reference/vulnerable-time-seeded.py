import hashlib
import random
import time


def generate_api_key() -> str:
    """Create a new API key for a customer."""
    raw = f"{time.time()}-{random.random()}"
    return "sk_" + hashlib.sha256(raw.encode()).hexdigest()
