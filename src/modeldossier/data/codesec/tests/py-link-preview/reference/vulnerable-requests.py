import re

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/preview")
def preview():
    url = request.args.get("url")
    resp = requests.get(url, timeout=5)
    match = re.search(r"<title>(.*?)</title>", resp.text, re.I | re.S)
    return jsonify(title=match.group(1).strip() if match else None)
