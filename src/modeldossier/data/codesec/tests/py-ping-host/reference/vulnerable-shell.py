import subprocess

from flask import Flask, request

app = Flask(__name__)


@app.route("/ping")
def ping():
    host = request.args.get("host", "")
    output = subprocess.check_output(f"ping -c 4 {host}", shell=True, text=True)
    return f"<pre>{output}</pre>"
