import uuid
from pathlib import Path

from flask import Flask, request

app = Flask(__name__)
UPLOAD_DIR = Path("uploads")


@app.post("/upload")
def upload():
    """Store the upload under a server-chosen name that keeps the original stem for people."""
    f = request.files.get("file")
    if not f:
        return {"error": "missing file"}, 400
    original = Path(f.filename.replace("\\", "/")).name or "upload"
    UPLOAD_DIR.mkdir(exist_ok=True)
    target = UPLOAD_DIR / f"{uuid.uuid4().hex[:8]}-{original}"
    f.save(target)
    return {"stored_as": target.name}, 201
