def generate_api_key():
    return "demo-key-please-change"
