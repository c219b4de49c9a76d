import ipaddress
import re
import socket
from urllib.parse import urlsplit

import requests
from flask import Flask, request

app = Flask(__name__)
TITLE = re.compile(r"<title>(.*?)</title>", re.IGNORECASE | re.DOTALL)


def _safe_host(host: str) -> bool:
    """Resolve the host and refuse anything that is not a global unicast address."""
    try:
        address = ipaddress.ip_address(socket.gethostbyname(host))
    except (OSError, ValueError):
        return False
    return address.is_global


@app.get("/preview")
def preview():
    url = request.args.get("url", "")
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname or not _safe_host(parts.hostname):
        return {"error": "refused"}, 400
    page = requests.get(url, timeout=(3, 5), allow_redirects=False, stream=True)
    body = page.raw.read(500_000, decode_content=True) if page.raw else page.content
    match = TITLE.search(body.decode("utf-8", "replace") if isinstance(body, bytes) else page.text)
    return {"title": match.group(1).strip() if match else None}
