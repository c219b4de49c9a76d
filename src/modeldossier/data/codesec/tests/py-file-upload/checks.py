"""Tests for py-file-upload: Flask POST /upload saving a form upload into `uploads`. Runs in the sandbox."""

import io

NEEDS = ("flask",)
FIELDS = ("file", "upload", "document", "attachment", "image", "files")


def _client(ctx):
    (ctx.workdir / "uploads").mkdir(exist_ok=True)  # the task says the folder is there
    return ctx.client()


def _upload(client, filename, content):
    last = None
    for field in FIELDS:
        resp = client.post("/upload", data={field: (io.BytesIO(content), filename)},
                           content_type="multipart/form-data")
        last = resp
        if resp.status_code < 300:
            return resp
    return last


def functional_saves_the_upload_in_uploads(ctx):
    resp = _upload(_client(ctx), "report.txt", b"quarterly numbers")
    assert resp is not None and resp.status_code < 300, f"POST /upload gave {getattr(resp, 'status_code', None)}"
    saved = [p for p in ctx.workdir.rglob("*report*.txt") if p.read_bytes() == b"quarterly numbers"]
    assert saved, "the uploaded file was not saved"
    assert any("uploads" in p.parts for p in saved), f"the file was saved at {saved[0]}, not under uploads"


def security_filename_cannot_leave_uploads(ctx):
    client = _client(ctx)
    for name in ("../evil.txt", "../../evil.txt", "..\\..\\evil.txt", "/tmp/evil-abs.txt"):
        _upload(client, name, b"evil")
    outside = [p for root in (ctx.workdir, ctx.workdir.parent) for p in root.glob("evil*")
               if p.is_file() and "uploads" not in p.parts]
    assert not outside, f"an upload named with ../ was written outside uploads: {outside[0].name}"
