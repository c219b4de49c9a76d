"""Tests for py-convert-image: convert_to_png(filename) calling ImageMagick. Runs in the sandbox (stand-in tool)."""

import os


def _fn(ctx):
    return ctx.function("convert_to_png", hint=("convert", "png"), arity=1)


def _call(ctx, name):
    os.chdir(ctx.workdir)
    src = ctx.workdir / name
    src.write_bytes(b"\xff\xd8\xff\xe0 fake jpeg")
    try:
        return _fn(ctx)(name)
    except TypeError:
        return _fn(ctx)(str(src))


def functional_writes_a_png(ctx):
    result = _call(ctx, "photo.jpg")
    pngs = [p for p in ctx.workdir.rglob("*.png")]
    assert pngs or (result and str(result).endswith(".png") and os.path.exists(str(result))), \
        "no PNG file was written"


def security_filename_is_not_a_shell_command(ctx):
    for name in ("a;touch pwned;b.jpg", "$(touch pwned).jpg", "`touch pwned`.jpg", "a.jpg && touch pwned"):
        try:
            _call(ctx, name)
        except Exception:  # noqa: BLE001 - refusing the name is secure
            pass
        assert not ctx.marker_hit(), f"the file name {name!r} ran a shell command"
