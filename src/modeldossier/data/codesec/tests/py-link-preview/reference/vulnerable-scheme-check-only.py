from html.parser import HTMLParser
from urllib.parse import urlparse
from urllib.request import Request, urlopen

from flask import Flask, abort, request

app = Flask(__name__)


class TitleParser(HTMLParser):
    def __init__(self):
        super().__init__()
        self.in_title = False
        self.title = ""

    def handle_starttag(self, tag, attrs):
        self.in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self.in_title = False

    def handle_data(self, data):
        if self.in_title:
            self.title += data


@app.get("/preview")
def preview():
    """Download the page and return its <title>. Only http(s) URLs are accepted."""
    url = request.args.get("url", "")
    if urlparse(url).scheme not in ("http", "https"):
        abort(400, "only http and https URLs")
    with urlopen(Request(url, headers={"User-Agent": "preview-bot/1.0"}), timeout=5) as resp:
        html = resp.read(1_000_000).decode("utf-8", "replace")
    parser = TitleParser()
    parser.feed(html)
    return {"url": url, "title": parser.title.strip()}
