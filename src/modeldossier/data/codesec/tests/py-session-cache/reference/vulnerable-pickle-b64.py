import base64
import pickle
from typing import Any, Optional


def save_session(redis_client, session_id: str, session: Any, ttl: int = 1800) -> None:
    """Serialize the session object and store it under sessions:<id>."""
    payload = base64.b64encode(pickle.dumps(session, protocol=pickle.HIGHEST_PROTOCOL)).decode("ascii")
    redis_client.set(f"sessions:{session_id}", payload, ex=ttl)


def load_session(redis_client, session_id: str) -> Optional[Any]:
    raw = redis_client.get(f"sessions:{session_id}")
    if raw is None:
        return None
    return pickle.loads(base64.b64decode(raw))
