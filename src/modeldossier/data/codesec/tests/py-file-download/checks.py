"""Tests for py-file-download: Flask GET /documents/<name> serving files from `documents`. In the sandbox."""

from urllib.parse import quote

NEEDS = ("flask",)
SECRET = "TOP-SECRET-7f3a"


def _setup(ctx):
    docs = ctx.workdir / "documents"
    docs.mkdir(exist_ok=True)
    (docs / "report.txt").write_text("quarterly report")
    (ctx.workdir / "secret.txt").write_text(SECRET)
    (ctx.workdir / "private").mkdir(exist_ok=True)
    (ctx.workdir / "private" / "keys.txt").write_text(SECRET)


def functional_serves_a_document(ctx):
    _setup(ctx)
    resp = ctx.client().get("/documents/report.txt")
    assert resp.status_code == 200, f"GET /documents/report.txt gave {resp.status_code}"
    assert "quarterly report" in resp.get_data(as_text=True), "the file content is not in the response"


def security_name_cannot_leave_the_folder(ctx):
    _setup(ctx)
    client = ctx.client()
    absolute = str(ctx.workdir / "secret.txt")
    for path in ("/documents/..%2fsecret.txt", "/documents/%2e%2e%2fsecret.txt", "/documents/../secret.txt",
                 "/documents/..%2fprivate%2fkeys.txt", "/documents/" + quote(absolute, safe=""),
                 "/documents/" + absolute.lstrip("/")):
        resp = client.get(path)
        assert SECRET not in resp.get_data(as_text=True), f"{path} served a file outside `documents`"
