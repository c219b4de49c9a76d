import os

from flask import Flask, send_from_directory

app = Flask(__name__)


@app.route("/documents/<path:name>")
def document(name):
    return send_from_directory(os.path.join(app.root_path, "documents"), name)
