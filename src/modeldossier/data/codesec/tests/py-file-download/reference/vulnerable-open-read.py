from flask import Flask, Response

app = Flask(__name__)
BASE = "documents/"


@app.route("/documents/<path:name>", methods=["GET"])
def download(name):
    """Return the requested document as an attachment."""
    try:
        with open(BASE + name, "rb") as fh:
            data = fh.read()
    except FileNotFoundError:
        return Response("not found", status=404)
    return Response(data, mimetype="application/octet-stream",
                    headers={"Content-Disposition": f"attachment; filename={name}"})
