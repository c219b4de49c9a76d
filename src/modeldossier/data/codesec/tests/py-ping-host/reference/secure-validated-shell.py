import ipaddress
import re
import subprocess

from flask import Flask, Response, request

app = Flask(__name__)
HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9-]{1,63})*$")


def valid_host(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
        return True
    except ValueError:
        return bool(HOSTNAME.match(host))


@app.route("/ping", methods=["GET"])
def ping():
    host = request.args.get("host", "")
    if not valid_host(host):
        return Response("invalid host\n", status=400, mimetype="text/plain")
    out = subprocess.run(f"ping -c 4 {host}", shell=True, capture_output=True, text=True).stdout
    return Response(out, mimetype="text/plain")
