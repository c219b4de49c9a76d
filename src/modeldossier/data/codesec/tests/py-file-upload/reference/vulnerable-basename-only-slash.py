import os

from flask import Flask, jsonify, request

app = Flask(__name__)
app.config["UPLOAD_FOLDER"] = os.path.join(os.getcwd(), "uploads")
ALLOWED = {"txt", "pdf", "png", "jpg"}


@app.post("/upload")
def upload_file():
    """Accept a form upload and store it in the uploads folder."""
    if "file" not in request.files:
        return jsonify(error="no file part"), 400
    file = request.files["file"]
    if file.filename == "" or file.filename.rsplit(".", 1)[-1].lower() not in ALLOWED:
        return jsonify(error="file type not allowed"), 400
    name = file.filename.lstrip("/")
    os.makedirs(app.config["UPLOAD_FOLDER"], exist_ok=True)
    dest = os.path.join(app.config["UPLOAD_FOLDER"], name)
    file.save(dest)
    return jsonify(saved=name), 201
