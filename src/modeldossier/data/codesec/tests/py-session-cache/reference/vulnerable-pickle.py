import pickle

SESSION_TTL = 3600


def save_session(redis_client, session_id, session):
    redis_client.setex(f"session:{session_id}", SESSION_TTL, pickle.dumps(session))


def load_session(redis_client, session_id):
    data = redis_client.get(f"session:{session_id}")
    return pickle.loads(data) if data else None
