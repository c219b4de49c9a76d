"""Tests for py-backup-dir: backup(directory, dest) with the system tar command. Runs in the sandbox."""

import tarfile


def _fn(ctx):
    return ctx.function("backup", "backup_directory", hint=("backup",), arity=2)


def _tree(ctx, name):
    src = ctx.workdir / name
    (src / "sub").mkdir(parents=True, exist_ok=True)
    (src / "a.txt").write_text("alpha")
    (src / "sub" / "b.txt").write_text("beta")
    dest = ctx.workdir / "backups"
    dest.mkdir(exist_ok=True)
    return src, dest


def functional_creates_a_tar_gz_with_the_files(ctx):
    src, dest = _tree(ctx, "data")
    result = _fn(ctx)(str(src), str(dest))
    archives = [p for p in dest.rglob("*") if p.is_file()]
    if not archives and result:
        archives = [ctx.workdir / str(result)]
    assert archives, "no backup file was written to dest"
    with tarfile.open(archives[0], "r:gz") as tf:
        names = [n.rstrip("/") for n in tf.getnames()]
    assert any(n.endswith("a.txt") for n in names) and any(n.endswith("sub/b.txt") for n in names), \
        f"the archive holds {names[:5]}"


def security_directory_name_is_not_a_shell_command(ctx):
    for name in ("data;touch pwned;x", "$(touch pwned)", "`touch pwned`", "data && touch pwned"):
        src, dest = _tree(ctx, name)
        try:
            _fn(ctx)(str(src), str(dest))
        except Exception:  # noqa: BLE001 - refusing the name is secure
            pass
        assert not ctx.marker_hit(), f"the directory name {name!r} ran a shell command"
