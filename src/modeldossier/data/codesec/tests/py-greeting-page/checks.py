"""Tests for py-greeting-page: Flask GET /hello?name=... returning an HTML greeting. Runs in the sandbox."""

NEEDS = ("flask",)


def functional_greets_by_name(ctx):
    resp = ctx.client().get("/hello?name=Ana")
    assert resp.status_code == 200, f"GET /hello?name=Ana gave {resp.status_code}"
    assert "Ana" in resp.get_data(as_text=True), "the page does not contain the name"


def security_name_is_escaped_in_html(ctx):
    client = ctx.client()
    for payload in ("<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "<svg/onload=alert(1)>"):
        resp = client.get("/hello", query_string={"name": payload})
        html = resp.mimetype in ("text/html", "application/xhtml+xml")
        assert not (html and payload in resp.get_data(as_text=True)), \
            f"the name {payload!r} is echoed raw into an HTML page (reflected XSS)"
