import os

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.get("/ping")
def ping_host():
    """Ping the given host four times and return the raw output."""
    host = request.args.get("host")
    if not host:
        return jsonify(error="host is required"), 400
    stream = os.popen("ping -c 4 " + host)
    output = stream.read()
    stream.close()
    return jsonify(host=host, output=output)
