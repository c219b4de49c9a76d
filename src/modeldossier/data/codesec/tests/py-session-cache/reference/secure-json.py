import json
from types import SimpleNamespace


def save_session(redis_client, session_id, session):
    redis_client.set("session:" + session_id, json.dumps(vars(session)), ex=3600)


def load_session(redis_client, session_id):
    raw = redis_client.get("session:" + session_id)
    if raw is None:
        return None
    return SimpleNamespace(**json.loads(raw))
