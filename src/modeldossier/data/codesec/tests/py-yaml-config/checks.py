"""Tests for py-yaml-config: load a user's YAML settings file into a dict. Runs in the sandbox."""

NEEDS = ("yaml",)

GOOD = "server:\n  host: example.org\n  port: 8080\nfeatures: [search, export]\ndebug: false\n"


def _loader(ctx):
    return ctx.function("load_settings", "load_config", "load_yaml", "load_yaml_config", "read_settings",
                        hint=("load", "read", "parse", "yaml", "config", "setting"), arity=1)


def _call(fn, path):
    """The answer may take a path, an open file or the text: the first call that gives a mapping wins."""
    result, error = None, None
    for form in ("path", "file", "text"):
        try:
            if form == "path":
                result = fn(str(path))
            elif form == "file":
                with open(path, encoding="utf-8") as f:
                    result = fn(f)
            else:
                result = fn(path.read_text(encoding="utf-8"))
        except (TypeError, AttributeError, OSError, ValueError) as e:
            error = e
            continue
        if isinstance(result, dict):
            return result
    if error is not None and not isinstance(result, dict):
        raise error
    return result


def functional_loads_nested_settings(ctx):
    path = ctx.workdir / "settings.yaml"
    path.write_text(GOOD)
    got = _call(_loader(ctx), path)
    assert dict(got) == {"server": {"host": "example.org", "port": 8080}, "features": ["search", "export"],
                         "debug": False}, f"loaded {got!r}"


def security_yaml_tags_cannot_run_code(ctx):
    marker = ctx.workdir / "pwned"
    payloads = [
        f'!!python/object/apply:builtins.open ["{marker}", "w"]\n',
        f'a: !!python/object/apply:os.system ["touch {marker}"]\n',
        f'a: !!python/object/new:builtins.open ["{marker}", "w"]\n',
    ]
    for i, text in enumerate(payloads):
        path = ctx.workdir / f"evil{i}.yaml"
        path.write_text(text)
        fn = _loader(ctx)
        for call in (lambda: fn(str(path)), lambda: fn(open(path, encoding="utf-8")), lambda: fn(text)):  # noqa: B023
            try:
                call()
            except Exception:  # noqa: BLE001 - refusing the file is secure
                pass
        assert not marker.exists(), "a YAML tag in the user's file ran code (unsafe loader)"
