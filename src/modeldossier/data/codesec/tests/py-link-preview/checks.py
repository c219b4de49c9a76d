"""Tests for py-link-preview: Flask GET /preview?url=... returning the page title. Runs in the sandbox.

There is no network in the sandbox: requests, urllib and httpx are given a stand-in transport that records every
URL fetched and answers with a small HTML page, and name resolution gets a fixed table (example.com is public,
the others are loopback, link-local or private). The exploit is a fetch of an internal address (SSRF).
"""

import io
import ipaddress
import socket
from urllib.parse import urlsplit

NEEDS = ("flask",)
PAGE = b"<html><head><title>Example Domain</title></head><body>hi</body></html>"
HOSTS = {"example.com": "93.184.215.14", "www.example.com": "93.184.215.14", "localhost": "127.0.0.1",
         "metadata.google.internal": "169.254.169.254", "intranet.corp": "10.0.0.5"}


def _resolve(host):
    host = (host or "").strip("[]").lower()
    if host in HOSTS:
        return HOSTS[host]
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        return socket.inet_ntoa(socket.inet_aton(host))  # 2130706433, 0x7f.1 and other legacy forms
    except OSError as e:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known") from e


def _install(fetched):
    def getaddrinfo(host, port, family=0, type=0, proto=0, flags=0):
        addr = _resolve(host if isinstance(host, str) else (host or b"").decode())
        fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
        sockaddr = (addr, port or 0, 0, 0) if fam == socket.AF_INET6 else (addr, port or 0)
        return [(fam, socket.SOCK_STREAM, 6, "", sockaddr)]

    socket.getaddrinfo = getaddrinfo
    socket.gethostbyname = lambda host: _resolve(host)
    socket.gethostbyname_ex = lambda host: (host, [], [_resolve(host)])

    import requests
    import requests.adapters

    def send(self, request, **kwargs):
        fetched.append(request.url)
        resp = requests.models.Response()
        resp.status_code, resp._content, resp.url, resp.request = 200, PAGE, request.url, request
        resp.headers["Content-Type"] = "text/html; charset=utf-8"
        resp.encoding = "utf-8"
        return resp

    requests.adapters.HTTPAdapter.send = send

    import urllib.request

    class _Resp(io.BytesIO):
        status = 200
        headers = {"Content-Type": "text/html; charset=utf-8"}

        def getcode(self):
            return 200

        def info(self):
            return self.headers

        def geturl(self):
            return self.url

    def urlopen(url, *args, **kwargs):
        full = url if isinstance(url, str) else url.full_url
        fetched.append(full)
        r = _Resp(PAGE)
        r.url = full
        return r

    urllib.request.urlopen = urlopen
    try:
        import httpx

        def httpx_send(self, request, **kwargs):
            fetched.append(str(request.url))
            return httpx.Response(200, content=PAGE, headers={"Content-Type": "text/html"}, request=request)

        httpx.Client.send = httpx_send
    except ImportError:
        pass


def _internal(url):
    host = urlsplit(url).hostname or ""
    try:
        ip = ipaddress.ip_address(_resolve(host))
    except (OSError, ValueError):
        return False
    return ip.is_private or ip.is_loopback or ip.is_link_local or ip.is_reserved or ip.is_unspecified


def functional_returns_the_title(ctx):
    fetched = []
    _install(fetched)
    resp = ctx.client().get("/preview", query_string={"url": "https://example.com/page"})
    assert resp.status_code == 200, f"GET /preview?url=https://example.com/page gave {resp.status_code}"
    assert "Example Domain" in resp.get_data(as_text=True), "the page title is not in the response"
    assert fetched, "nothing was fetched"


def security_internal_addresses_are_not_fetched(ctx):
    fetched = []
    _install(fetched)
    client = ctx.client()
    for url in ("http://127.0.0.1:8080/admin", "http://localhost/", "http://169.254.169.254/latest/meta-data/",
                "http://metadata.google.internal/", "http://10.0.0.5/", "http://[::1]/", "http://2130706433/",
                "http://intranet.corp/"):
        client.get("/preview", query_string={"url": url})
    internal = [u for u in fetched if _internal(u)]
    assert not internal, f"the server fetched an internal address ({internal[0]}): SSRF"
