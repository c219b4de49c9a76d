import os

from flask import Flask, request
from werkzeug.utils import secure_filename

app = Flask(__name__)
UPLOADS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "uploads")


@app.route("/upload", methods=["POST"])
def upload():
    f = request.files.get("file")
    if f is None or not f.filename:
        return "no file", 400
    name = secure_filename(f.filename)
    if not name:
        return "bad file name", 400
    os.makedirs(UPLOADS, exist_ok=True)
    f.save(os.path.join(UPLOADS, name))
    return {"saved": name}, 201
