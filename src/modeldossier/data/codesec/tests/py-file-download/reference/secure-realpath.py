import os

from flask import Flask, abort, send_file

app = Flask(__name__)
DOCS = os.path.realpath("documents")


@app.get("/documents/<name>")
def get_document(name: str):
    """Serve a file from DOCS; the resolved path must stay inside it."""
    path = os.path.realpath(os.path.join(DOCS, name))
    if os.path.commonpath([DOCS, path]) != DOCS or not os.path.isfile(path):
        abort(404)
    return send_file(path)
