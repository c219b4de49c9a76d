import os

from flask import Flask, abort, send_file

app = Flask(__name__)
DOCUMENTS_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "documents")


@app.route("/documents/<path:name>")
def get_document(name):
    path = os.path.join(DOCUMENTS_DIR, name)
    if not os.path.isfile(path):
        abort(404)
    return send_file(path)
