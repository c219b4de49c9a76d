import ipaddress
import re
import socket
from urllib.parse import urlparse

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)


def is_public(url):
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or 443)
    except socket.gaierror:
        return False
    for info in infos:
        ip = ipaddress.ip_address(info[4][0])
        if ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_multicast:
            return False
    return True


@app.route("/preview")
def preview():
    url = request.args.get("url", "")
    if not is_public(url):
        return jsonify(error="URL not allowed"), 400
    resp = requests.get(url, timeout=5, allow_redirects=False)
    m = re.search(r"<title[^>]*>(.*?)</title>", resp.text, re.I | re.S)
    return jsonify(title=m.group(1).strip() if m else "")
