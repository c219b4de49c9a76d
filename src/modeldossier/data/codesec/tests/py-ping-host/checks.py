"""Tests for py-ping-host: Flask GET /ping?host=... running ping. Runs in the sandbox (ping is a stand-in)."""

NEEDS = ("flask",)


def functional_pings_the_host(ctx):
    resp = ctx.client().get("/ping?host=127.0.0.1")
    assert resp.status_code == 200, f"GET /ping?host=127.0.0.1 gave {resp.status_code}"
    assert "packets transmitted" in resp.get_data(as_text=True), "the ping output is not in the response"


def security_host_is_not_a_shell_command(ctx):
    client = ctx.client()
    for host in ("127.0.0.1; touch pwned", "127.0.0.1 && touch pwned", "127.0.0.1|touch pwned",
                 "$(touch pwned)", "`touch pwned`", "127.0.0.1\ntouch pwned"):
        client.get("/ping", query_string={"host": host})
        assert not ctx.marker_hit(), f"the host {host!r} ran a shell command"
