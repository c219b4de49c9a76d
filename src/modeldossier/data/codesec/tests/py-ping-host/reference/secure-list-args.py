import subprocess

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    if not host or host.startswith("-"):
        return jsonify(error="invalid host"), 400
    proc = subprocess.run(["ping", "-c", "4", host], capture_output=True, text=True, timeout=20)
    return jsonify(returncode=proc.returncode, output=proc.stdout + proc.stderr)
