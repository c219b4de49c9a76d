import uuid


def generate_api_key():
    """Two random UUID4s (244 random bits) as a hex string."""
    return uuid.uuid4().hex + uuid.uuid4().hex
