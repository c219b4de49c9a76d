import hashlib
import hmac
import json
import os

SECRET = os.environ.get("SESSION_SECRET", "change-me").encode()


def save_session(redis_client, session_id, session):
    body = json.dumps(session.__dict__, sort_keys=True).encode()
    sig = hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()
    redis_client.set(f"sess:{session_id}", sig + b"." + body)


def load_session(redis_client, session_id):
    raw = redis_client.get(f"sess:{session_id}")
    if not raw:
        return None
    sig, _, body = raw.partition(b".")
    if not hmac.compare_digest(sig, hmac.new(SECRET, body, hashlib.sha256).hexdigest().encode()):
        raise ValueError("tampered session")
    return json.loads(body)
