import json


def save_session(redis_client, session_id, session):
    redis_client.set(f"session:{session_id}", json.dumps(session))


def load_session(redis_client, session_id):
    return json.loads(redis_client.get(f"session:{session_id}"))
