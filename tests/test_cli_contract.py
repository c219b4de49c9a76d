"""The CLI contract of every sub-command (issue 3): help with an example, exit 2 with one clean line on bad input.

Each case runs the real CLI in its own process. Importing the CLI costs about a second of CPU, so by default the
cases are forked from one driver process that has imported ``modeldossier.cli`` once (the child runs exactly what
``python -m modeldossier.cli ARGS`` runs: ``sys.exit(main(ARGS))``, with its own cwd, stdout and stderr).
``CONTRACT_SUBPROCESS=1`` runs every case as ``sys.executable -m modeldossier.cli ...`` instead (slower).
Two smoke cases always go through ``python -m modeldossier.cli`` so the real entry point is covered.

Bad inputs per command are the ones issues 3-10 name: missing path, a folder without model files, a path that
cannot be read as the file it should be (a folder, a FIFO, a broken symlink: the tests run as root, so chmod 000
would not bite), an invalid dossier, malformed suite/policy/snapshot files, an unreachable target. Each must give
exit 2, one line on stderr, no traceback, no "internal error", and leave an existing good output file untouched.
"""

from __future__ import annotations

import importlib.util
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

UNREACHABLE = "openai:http://127.0.0.1:9/v1/x"
# Collected without importing the CLI (seconds of CPU on this machine); the driver reports
# app.registered_commands and test_every_command_is_covered checks that the two lists agree.
_COMMANDS_SPEC = importlib.util.find_spec("modeldossier.commands")
assert _COMMANDS_SPEC is not None and _COMMANDS_SPEC.submodule_search_locations
COMMANDS = sorted(m.name for m in pkgutil.iter_modules(_COMMANDS_SPEC.submodule_search_locations))


@dataclass(frozen=True)
class Case:
    """One CLI run and what it must produce."""

    id: str
    args: tuple[str, ...]                 # {fx} = shared fixtures folder, {w} = this case's own work folder
    codes: tuple[int, ...] = (2,)
    one_line: bool = True                 # stderr is exactly one line (error cases)
    stderr_has: tuple[str, ...] = ()      # case-insensitive fragments the error line must contain
    stdout_has: tuple[str, ...] = ()
    protect: tuple[str, ...] = ()         # files (relative to {w}) seeded with good content that must not change
    absent: tuple[str, ...] = ()          # paths (relative to {w}) that must not exist afterwards
    entry: bool = False                   # always run through `python -m modeldossier.cli`
    timeout: float = 20.0                 # seconds before the run counts as hung and is killed
    bug: str | None = None                # a known product bug: strict xfail with this reason


@dataclass
class Result:
    """What one run produced."""

    code: int | None                      # None: killed after the case's timeout
    stdout: str
    stderr: str
    seconds: float
    changed: list[str] = field(default_factory=list)


# --- fixture files -------------------------------------------------------------------------------------------

def _safetensors(path: Path) -> None:
    header = json.dumps({"w": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}).encode()
    path.write_bytes(len(header).to_bytes(8, "little") + header + b"\0\0\0\0")


def _good_dossier() -> str:
    """A minimal valid dossier (the report-good-json case proves the CLI accepts it)."""
    subject = {"kind": "path", "ref": "contract-model", "name": "contract-model"}
    return json.dumps({"schema_version": 1, "subject": subject}, indent=2) + "\n"


GOOD_BYTES = {
    "good.dossier.json": _good_dossier,
    "good.html": lambda: "<html><body>good report</body></html>\n",
    "good.jsonl": lambda: '{"question": "q", "response": "r", "label": "COMPLETE"}\n',
    "out/contract-model.dossier.json": _good_dossier,
    "eco/ecosystem.json": lambda: '{"good": true}\n',
    "cmp.html": lambda: "<html><body>good comparison</body></html>\n",
    "out/mock_echo.contract.transcript.jsonl": lambda: json.dumps(
        {"event": "header", "format": "modeldossier.transcript/1", "target": {"id": "openai:other", "revision": None}}
    ) + "\n",
}


def build_fixtures(fx: Path) -> None:
    """Small input files shared by every case (never written to by a case)."""
    (fx / "empty_dir").mkdir(parents=True)
    (fx / "empty_dir" / "notes.txt").write_text("no model here\n")
    model = fx / "tiny_model"
    model.mkdir()
    (model / "config.json").write_text(json.dumps({"architectures": ["BertModel"], "model_type": "bert"}))
    _safetensors(model / "model.safetensors")
    os.mkfifo(fx / "fifo")
    fifo_model = fx / "fifo_model"            # a model folder whose config.json is a FIFO: must not block a reader
    fifo_model.mkdir()
    _safetensors(fifo_model / "model.safetensors")
    os.mkfifo(fifo_model / "config.json")
    (fx / "broken_link").symlink_to(fx / "does-not-exist.safetensors")
    for repo, snap in (("models--org--good", "abc1"), ("models--org--broken", "def2")):  # a fake HF cache
        folder = fx / "hf" / "hub" / repo / "snapshots" / snap
        folder.mkdir(parents=True)
        (folder / "config.json").write_text(json.dumps({"model_type": "bert"}))
    _safetensors(fx / "hf" / "hub" / "models--org--good" / "snapshots" / "abc1" / "model.safetensors")
    (fx / "hf" / "hub" / "models--org--broken" / "snapshots" / "def2" / "model.safetensors").symlink_to(
        "../../blobs/0123456789abcdef")
    (fx / "badfield.dossier.json").write_text(
        json.dumps({"schema_version": 1, "subject": {"kind": "weird", "ref": "x", "name": "x"}}))
    (fx / "list_policy.yaml").write_text("- a\n- b\n")
    (fx / "empty.jsonl").write_text("")
    (fx / "bad.dossier.json").write_text('{"schema_version": 1, "subject": {"kind": "path", ')
    (fx / "list.dossier.json").write_text("[1, 2, 3]\n")
    future = json.loads(_good_dossier())
    future["schema_version"] = 99
    (fx / "future.dossier.json").write_text(json.dumps(future))
    (fx / "good.dossier.json").write_text(_good_dossier())
    (fx / "suite.yaml").write_text('version: "1"\nname: contract\nitems:\n  - id: q1\n    prompt: "Say hi."\n')
    (fx / "bad_yaml_suite.yaml").write_text('version: "1"\nitems:\n  - id: q1\n    prompt: [unclosed\n')
    (fx / "bad_shape_suite.yaml").write_text('version: "1"\nitems:\n  - id: q1\n')
    (fx / "bad_yaml_policy.yaml").write_text("version: 1\nartifacts:\n  max_severity: [unclosed\n")
    (fx / "unknown_rule_policy.yaml").write_text("version: 1\nartifacts:\n  max_severity: high\nno_such_rule: 3\n")
    (fx / "bad_value_policy.yaml").write_text("version: 1\nartifacts:\n  max_severity: catastrophic\n")
    (fx / "future_policy.yaml").write_text("version: 99\n")
    (fx / "policy.yaml").write_text("version: 1\nartifacts:\n  max_severity: high\n")
    (fx / "answers.jsonl").write_text('{"question": "Describe the event.", "response": "It happened in 1989."}\n')
    (fx / "bad.jsonl").write_text('{"question": "q", "response": "r"}\nthis is not json\n')
    (fx / "corrupt.parquet").write_bytes(b"PAR1" + b"\x00garbage" * 64)
    (fx / "corrupt.jsonl").write_text("{not json at all\n")
    row = {"id": "org/model", "author": "org", "created_at": "2025-01-02T00:00:00Z", "downloads": 5}
    (fx / "snapshot.jsonl").write_text(json.dumps(row) + "\n")


def seed_work(work: Path, case: Case) -> dict[str, bytes]:
    """Create the case's work folder with its protected good files; return their bytes."""
    work.mkdir(parents=True)
    (work / "dir").mkdir()
    seeded = {}
    for rel in case.protect:
        path = work / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(GOOD_BYTES[rel]())
        seeded[rel] = path.read_bytes()
    return seeded


# --- an OpenAI-compatible endpoint that refuses: /k401/... answers 401 (wrong key), /m404/... 404 (unknown model)

class _Refuser(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        code = 401 if self.path.startswith("/k401/") else 404
        body = json.dumps({"error": {"message": "Incorrect API key provided" if code == 401 else
                                     "The model `x` does not exist", "type": "invalid_request_error"}}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


# --- running -------------------------------------------------------------------------------------------------

DRIVER = textwrap.dedent(
    """
    import importlib, json, os, signal, sys, time, traceback
    from modeldossier.cli import app, main
    for name in sys.argv[2:]:  # modules the commands import lazily: load them once here, not in every child
        try:
            importlib.import_module(name)
        except Exception:
            pass  # the child that needs it reports the failure itself
    jobs, parallel = json.load(sys.stdin), int(sys.argv[1])
    running, results, queue = {}, {}, list(jobs)

    def start(job):
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                os.setsid()
                os.chdir(job["cwd"])
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                for fd, name in ((1, "stdout"), (2, "stderr")):
                    os.dup2(os.open(job[name], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644), fd)
                sys.argv = ["dossier", *job["args"]]
                try:
                    code = main(job["args"])
                except SystemExit as exc:
                    code = exc.code if isinstance(exc.code, int) else 1
                except BaseException:
                    traceback.print_exc()
                    code = 1
            finally:
                try:
                    sys.stdout.flush(); sys.stderr.flush()
                finally:
                    os._exit(code)
        running[pid] = (job, time.monotonic())

    while queue or running:
        while queue and len(running) < parallel:
            start(queue.pop(0))
        pid, status = os.waitpid(-1, os.WNOHANG)
        if pid == 0:
            now = time.monotonic()
            for other, (job, began) in list(running.items()):
                if now - began > job["timeout"]:
                    try:
                        os.killpg(other, signal.SIGKILL)
                    except ProcessLookupError:
                        pass
            time.sleep(0.02)
            continue
        job, began = running.pop(pid)
        killed = os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
        results[job["id"]] = {"code": None if killed else os.waitstatus_to_exitcode(status),
                              "seconds": time.monotonic() - began}
    registered = sorted(c.name or c.callback.__name__ for c in app.registered_commands)
    json.dump({"results": results, "registered": registered}, sys.stdout)
    """
)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update({"HF_HUB_OFFLINE": "1", "NO_COLOR": "1", "TERM": "dumb", "PYTHONWARNINGS": "ignore"})
    for key in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        env.pop(key, None)
    return env


def _expand(args: tuple[str, ...], fx: Path, work: Path, port: int) -> list[str]:
    return [a.replace("{fx}", str(fx)).replace("{w}", str(work)).replace("{port}", str(port)) for a in args]


def _run_entry(args: list[str], cwd: Path, stdout: Path, stderr: Path, timeout: float) -> tuple[int | None, float]:
    """One case through the real entry point, `python -m modeldossier.cli`."""
    import time

    began = time.monotonic()
    with open(stdout, "w") as out, open(stderr, "w") as err:
        proc = subprocess.Popen([sys.executable, "-m", "modeldossier.cli", *args], cwd=cwd, env=_env(),
                                stdin=subprocess.DEVNULL, stdout=out, stderr=err, start_new_session=True)
        try:
            code: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            proc.wait()
            code = None
    return code, time.monotonic() - began


REGISTERED: list[str] = []  # app.registered_commands as the driver saw them
PRELOAD = ("modeldossier.pipeline", "modeldossier.probing.runner", "modeldossier.probing.targets",
           "modeldossier.probing.suite", "modeldossier.probing.cache", "modeldossier.probing.summary",
           "modeldossier.codesec.audit", "modeldossier.censorship.audit")


def run_all(cases: list[Case], root: Path, port: int = 9) -> dict[str, Result]:
    """Run every case (forked from one driver by default) and collect its result; {port} = the refusing stub."""
    fx = root / "fx"
    build_fixtures(fx)
    seeded: dict[str, dict[str, bytes]] = {}
    jobs, entry_jobs = [], []
    for case in cases:
        work = root / "work" / case.id
        seeded[case.id] = seed_work(work, case)
        job = {"id": case.id, "args": _expand(case.args, fx, work, port), "cwd": str(work),
               "stdout": str(root / f"{case.id}.out"), "stderr": str(root / f"{case.id}.err"),
               "timeout": case.timeout}
        (entry_jobs if case.entry or os.environ.get("CONTRACT_SUBPROCESS") else jobs).append(job)

    codes: dict[str, dict] = {}
    with ThreadPoolExecutor(max_workers=4) as pool:  # the entry-point runs go beside the forking driver
        entry = {job["id"]: pool.submit(_run_entry, job["args"], Path(job["cwd"]), Path(job["stdout"]),
                                        Path(job["stderr"]), job["timeout"] + 30) for job in entry_jobs}
        if jobs:
            budget = sum(job["timeout"] for job in jobs) + 60
            driver = subprocess.run([sys.executable, "-c", DRIVER, "4", *PRELOAD], input=json.dumps(jobs),
                                    capture_output=True, text=True, env=_env(), timeout=budget)
            assert driver.returncode == 0, driver.stderr[-3000:]
            reply = json.loads(driver.stdout)
            codes.update(reply["results"])
            REGISTERED[:] = reply["registered"]
        for job_id, future in entry.items():
            code, seconds = future.result()
            codes[job_id] = {"code": code, "seconds": seconds}

    results = {}
    for case in cases:
        work = root / "work" / case.id
        changed = [rel for rel, data in seeded[case.id].items()
                   if not (work / rel).is_file() or (work / rel).read_bytes() != data]
        results[case.id] = Result(
            code=codes[case.id]["code"], seconds=codes[case.id]["seconds"], changed=changed,
            stdout=(root / f"{case.id}.out").read_text(errors="replace"),
            stderr=(root / f"{case.id}.err").read_text(errors="replace"),
        )
    return results


# --- the cases -----------------------------------------------------------------------------------------------

def generic_cases() -> list[Case]:
    """For every registered command: --help with an example, and an unknown option."""
    cases = []
    for name in COMMANDS:
        cases.append(Case(f"{name}-help", (name, "--help"), codes=(0,), one_line=False, stdout_has=("Example",)))
        cases.append(Case(f"{name}-unknown-option", (name, "--no-such-option-xyz"),
                          stderr_has=("no such option",)))
    return cases


SPECIFIC: list[Case] = [
    # the real entry point, once for help and once for an error
    Case("entry-help", ("--help",), codes=(0,), one_line=False, stdout_has=("audit",), entry=True),
    Case("entry-unknown-command", ("no-such-command",), entry=True),
    # positive controls: the harness and the fixture files let a good run pass
    Case("report-good-json", ("report", "{fx}/good.dossier.json", "--format", "json", "--out", "-"), codes=(0,),
         one_line=False, stdout_has=('"contract-model"',)),
    Case("scan-good-file", ("scan", "{fx}/tiny_model", "--format", "json", "--quiet"), codes=(0,), one_line=False,
         stdout_has=('"findings"',)),
    Case("gate-good-policy", ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/policy.yaml"), codes=(0, 1),
         one_line=False),
    # audit
    Case("audit-missing-path", ("audit", "{w}/nope", "--out", "{w}/out2", "--offline", "--no-html"),
         stderr_has=("nope",), absent=("out2",)),
    Case("audit-no-model-files", ("audit", "{fx}/empty_dir", "--out", "{w}/out2", "--offline"),
         stderr_has=("no model files",), absent=("out2",)),
    Case("audit-hub-id-offline", ("audit", "nosuchorg/nosuchmodel", "--out", "{w}/out2", "--no-html", "--quiet"),
         stderr_has=("nosuchorg/nosuchmodel",), absent=("out2",)),
    Case("audit-fifo", ("audit", "{fx}/fifo", "--out", "{w}/out", "--offline", "--no-html", "--quiet"),
         protect=("out/contract-model.dossier.json",), timeout=10),
    Case("audit-fifo-in-model-folder",
         ("audit", "{fx}/fifo_model", "--out", "{w}/out", "--offline", "--no-hash", "--no-html", "--quiet"),
         codes=(0, 1, 2), one_line=False, timeout=10),
    Case("audit-broken-symlink", ("audit", "{fx}/broken_link", "--out", "{w}/out2", "--offline", "--no-html"),
         absent=("out2",)),
    Case("audit-unreachable-target",
         ("audit", "{fx}/tiny_model", "--name", "contract-model", "--out", "{w}/out", "--target", UNREACHABLE,
          "--offline", "--no-hash", "--no-html", "--quiet"),
         protect=("out/contract-model.dossier.json",)),
    Case("audit-out-is-file",
         ("audit", "{fx}/tiny_model", "--out", "{w}/good.html", "--offline", "--no-hash", "--no-html", "--quiet"),
         protect=("good.html",)),
    # scan
    Case("scan-missing-path", ("scan", "{w}/nope", "--quiet"), stderr_has=("nope",)),
    Case("scan-fifo", ("scan", "{fx}/fifo", "--timeout", "5", "--quiet", "--format", "json"),
         codes=(0, 1, 2), one_line=False, timeout=10),
    Case("scan-fifo-in-folder", ("scan", "{fx}/fifo_model", "--timeout", "5", "--quiet", "--format", "json"),
         codes=(0, 1), one_line=False, stdout_has=("fs.special_file",), timeout=10),
    Case("scan-broken-symlink", ("scan", "{fx}/broken_link", "--timeout", "5", "--quiet", "--format", "json"),
         codes=(0, 1), one_line=False, stdout_has=("scan.unreadable",), timeout=10),
    Case("scan-invalid-dossier",
         ("scan", "{fx}/tiny_model/model.safetensors", "--dossier", "{fx}/bad.dossier.json", "--quiet"),
         stderr_has=("not valid json",)),
    Case("scan-dossier-is-folder", ("scan", "{fx}/tiny_model/model.safetensors", "--dossier", "{w}/dir", "--quiet")),
    # origin
    Case("origin-missing-path", ("origin", "{w}/nope", "--offline"), stderr_has=("nope",)),
    Case("fleet-missing-manifest", ("fleet", "{w}/nope.yaml", "--out", "{w}/o", "-q"), stderr_has=("nope",)),
    Case("fleet-no-source", ("fleet", "--out", "{w}/o", "-q"), stderr_has=("exactly one",)),
    Case("origin-no-model-files", ("origin", "{fx}/empty_dir", "--offline")),
    Case("origin-fifo", ("origin", "{fx}/fifo", "--offline"), timeout=10),
    Case("origin-fifo-config", ("origin", "{fx}/fifo_model", "--offline", "--format", "json"),
         codes=(0, 1, 2), one_line=False, timeout=10),
    Case("origin-invalid-dossier",
         ("origin", "{fx}/tiny_model", "--offline", "--dossier", "{fx}/bad.dossier.json", "--quiet"),
         stderr_has=("not valid json",)),
    # probe
    Case("probe-unreachable-target",
         ("probe", "--target", UNREACHABLE, "--suite", "{fx}/suite.yaml", "--timeout", "0.5", "--limit", "1",
          "--out", "{w}/out", "--no-cache", "--quiet", "--dossier", "{w}/good.dossier.json"),
         protect=("good.dossier.json",)),
    Case("probe-wrong-key-401",
         ("probe", "--target", "openai:http://127.0.0.1:{port}/k401/v1/x", "--suite", "{fx}/suite.yaml",
          "--timeout", "2", "--out", "{w}/out", "--no-cache", "--quiet", "--dossier", "{w}/good.dossier.json"),
         stderr_has=("401",), protect=("good.dossier.json",)),
    Case("probe-unknown-model-404",
         ("probe", "--target", "openai:http://127.0.0.1:{port}/m404/v1/x", "--suite", "{fx}/suite.yaml",
          "--timeout", "2", "--out", "{w}/out", "--no-cache", "--quiet", "--dossier", "{w}/good.dossier.json"),
         stderr_has=("404",), protect=("good.dossier.json",)),
    Case("probe-transcript-of-another-target",
         ("probe", "--target", "mock:echo", "--suite", "{fx}/suite.yaml", "--out", "{w}/out", "--no-cache", "--quiet"),
         stderr_has=("openai:other",), protect=("out/mock_echo.contract.transcript.jsonl",)),
    Case("probe-malformed-suite-yaml",
         ("probe", "--target", "mock:echo", "--suite", "{fx}/bad_yaml_suite.yaml", "--out", "{w}/out", "--quiet"),
         stderr_has=("bad_yaml_suite.yaml",)),
    Case("probe-suite-bad-shape",
         ("probe", "--target", "mock:echo", "--suite", "{fx}/bad_shape_suite.yaml", "--out", "{w}/out", "--quiet"),
         stderr_has=("bad_shape_suite.yaml",)),
    Case("probe-suite-missing",
         ("probe", "--target", "mock:echo", "--suite", "{w}/nope.yaml", "--out", "{w}/out", "--quiet")),
    Case("probe-invalid-dossier",
         ("probe", "--target", "mock:echo", "--suite", "{fx}/suite.yaml", "--out", "{w}/out", "--no-cache",
          "--quiet", "--dossier", "{fx}/bad.dossier.json"),
         stderr_has=("not valid json",)),
    Case("probe-bad-param",
         ("probe", "--target", "mock:echo", "--suite", "{fx}/suite.yaml", "--param", "noequals", "--out", "{w}/out",
          "--quiet"), stderr_has=("KEY=VALUE",)),
    Case("probe-unknown-provider", ("probe", "--target", "nosuchprovider:x", "--suite", "{fx}/suite.yaml",
                                    "--out", "{w}/out", "--quiet")),
    # classify
    Case("classify-good-input", ("classify", "{fx}/answers.jsonl", "--out", "{w}/o.jsonl", "--quiet"), codes=(0,),
         one_line=False),
    Case("classify-missing-input", ("classify", "{w}/nope.jsonl", "--out", "{w}/o.jsonl", "--quiet"),
         absent=("o.jsonl",)),
    Case("classify-empty-input", ("classify", "{fx}/empty.jsonl", "--out", "{w}/good.jsonl", "--quiet"),
         protect=("good.jsonl",)),
    Case("classify-input-is-folder", ("classify", "{fx}/empty_dir", "--out", "{w}/o.jsonl", "--quiet"),
         absent=("o.jsonl",)),
    Case("classify-strict-bad-line",
         ("classify", "{fx}/bad.jsonl", "--out", "{w}/good.jsonl", "--strict", "--quiet"),
         protect=("good.jsonl",)),
    Case("classify-out-is-folder", ("classify", "{fx}/bad.jsonl", "--out", "{w}/dir", "--quiet")),
    # codesec
    Case("codesec-unreachable-target",
         ("codesec", "--target", UNREACHABLE, "--contexts", "tibet", "--samples", "1", "--limit", "1",
          "--timeout", "0.5", "--out", "{w}/out", "--no-cache", "--quiet", "--dossier", "{w}/good.dossier.json"),
         protect=("good.dossier.json",)),
    Case("codesec-unknown-context",
         ("codesec", "--target", "mock:echo", "--contexts", "no-such-context", "--limit", "1", "--out", "{w}/out",
          "--quiet"), stderr_has=("no-such-context",)),
    Case("codesec-bad-placement",
         ("codesec", "--target", "mock:echo", "--placement", "sideways", "--limit", "1", "--out", "{w}/out",
          "--quiet"), stderr_has=("sideways",)),
    Case("codesec-cyberseceval-missing",
         ("codesec", "--target", "mock:echo", "--cyberseceval", "{w}/nope", "--limit", "1", "--out", "{w}/out",
          "--quiet")),
    # report
    Case("report-missing-dossier", ("report", "{w}/nope.dossier.json"), stderr_has=("not found",)),
    Case("report-invalid-json", ("report", "{fx}/bad.dossier.json", "--out", "{w}/good.html"),
         stderr_has=("not valid json",), protect=("good.html",)),
    Case("report-not-a-dossier", ("report", "{fx}/list.dossier.json", "--format", "md", "--out", "{w}/good.html"),
         protect=("good.html",)),
    Case("report-future-schema", ("report", "{fx}/future.dossier.json", "--format", "json", "--out",
                                  "{w}/good.html"), stderr_has=("schema",), protect=("good.html",)),
    Case("report-invalid-field", ("report", "{fx}/badfield.dossier.json", "--format", "md"),
         stderr_has=("subject.kind",)),
    Case("report-folder", ("report", "{fx}/empty_dir", "--out", "{w}/good.html"), protect=("good.html",)),
    Case("report-out-is-folder", ("report", "{fx}/good.dossier.json", "--out", "{w}/dir")),
    # compare
    Case("compare-invalid-dossier",
         ("compare", "{fx}/good.dossier.json", "{fx}/bad.dossier.json", "--out", "{w}/cmp.html", "--quiet"),
         stderr_has=("not valid json",), protect=("cmp.html",)),
    Case("compare-missing-dossier", ("compare", "{fx}/good.dossier.json", "{w}/nope.dossier.json", "--quiet")),
    Case("compare-one-without-cohort", ("compare", "{fx}/good.dossier.json", "--out", "{w}/cmp.html", "--quiet"),
         protect=("cmp.html",)),
    Case("compare-cohort-matches-nothing",
         ("compare", "{fx}/good.dossier.json", "--reference-cohort", "{w}/none/*.dossier.json", "--quiet")),
    Case("compare-out-is-folder",
         ("compare", "{fx}/good.dossier.json", "{fx}/good.dossier.json", "--out", "{w}/dir", "--format", "html",
          "--quiet")),
    # gate
    Case("gate-invalid-dossier", ("gate", "{fx}/bad.dossier.json", "--policy", "{fx}/policy.yaml"),
         stderr_has=("not valid json",)),
    Case("gate-policy-missing", ("gate", "{fx}/good.dossier.json", "--policy", "{w}/nope.yaml")),
    Case("gate-policy-malformed-yaml", ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/bad_yaml_policy.yaml"),
         stderr_has=("bad_yaml_policy.yaml:4",)),
    Case("gate-policy-unknown-rule",
         ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/unknown_rule_policy.yaml"),
         stderr_has=("no_such_rule",)),
    Case("gate-policy-is-a-list", ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/list_policy.yaml"),
         stderr_has=("list_policy.yaml:1",)),
    Case("gate-policy-bad-value", ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/bad_value_policy.yaml"),
         stderr_has=("max_severity",)),
    Case("gate-policy-future-version", ("gate", "{fx}/good.dossier.json", "--policy", "{fx}/future_policy.yaml"),
         stderr_has=("version",)),
    # ecosystem
    Case("ecosystem-no-source", ("ecosystem", "--quiet")),
    Case("ecosystem-snapshot-missing", ("ecosystem", "--snapshot", "{w}/nope.parquet", "--quiet")),
    Case("ecosystem-corrupt-parquet",
         ("ecosystem", "--snapshot", "{fx}/corrupt.parquet", "--out", "{w}/eco", "--quiet"),
         protect=("eco/ecosystem.json",)),
    Case("ecosystem-corrupt-jsonl", ("ecosystem", "--snapshot", "{fx}/corrupt.jsonl", "--out", "{w}/eco", "--quiet"),
         protect=("eco/ecosystem.json",)),
    Case("ecosystem-bad-month", ("ecosystem", "--snapshot", "{fx}/snapshot.jsonl", "--since", "2024-13", "--quiet"),
         stderr_has=("2024-13",)),
    Case("ecosystem-live-offline", ("ecosystem", "--live", "--limit", "5", "--out", "{w}/eco", "--quiet"),
         protect=("eco/ecosystem.json",)),
    Case("ecosystem-out-is-file", ("ecosystem", "--snapshot", "{fx}/snapshot.jsonl", "--out", "{w}/good.html",
                                   "--quiet"), protect=("good.html",)),
    # inventory
    Case("inventory-missing-path",
         ("inventory", "{w}/nope", "--no-scan", "--hf-cache", "{w}/dir", "--ollama", "{w}/dir", "--quiet"),
         stderr_has=("nope",)),
    Case("inventory-fifo",
         ("inventory", "{fx}/fifo", "{fx}/fifo_model", "--hf-cache", "{w}/dir", "--ollama", "{w}/dir", "--quiet",
          "--format", "json"), codes=(0, 1, 2), one_line=False, timeout=10),
    Case("inventory-broken-cache-entry",
         ("inventory", "--hf-cache", "{fx}/hf/hub", "--ollama", "{w}/dir", "--no-scan", "--format", "json", "--quiet"),
         codes=(0, 1), one_line=False, stdout_has=("org/good", "org/broken")),
    Case("inventory-out-is-file",
         ("inventory", "{fx}/tiny_model", "--no-scan", "--hf-cache", "{w}/dir", "--ollama", "{w}/dir",
          "--out", "{w}/good.html", "--quiet"), protect=("good.html",)),
    # schema
    Case("schema-write-to-folder", ("schema", "--write", "{w}/dir")),
]

CASES = generic_cases() + SPECIFIC
# Product bugs found by these cases (strict: the case turns red when the bug is fixed, then drop the entry).
KNOWN_BUGS: dict[str, str] = {
}


def _param(case: Case):
    bug = KNOWN_BUGS.get(case.id, case.bug)
    marks = [pytest.mark.xfail(strict=True, reason=bug)] if bug else []
    return pytest.param(case, id=case.id, marks=marks)


@pytest.fixture(scope="module")
def results(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Result]:
    """Run the cases this session selected (all of them when none is, e.g. for test_every_command_is_covered)."""
    chosen = {item.callspec.params["case"].id for item in request.session.items
              if hasattr(item, "callspec") and "case" in item.callspec.params}
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Refuser)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        return run_all([c for c in CASES if c.id in chosen] or CASES, tmp_path_factory.mktemp("contract"),
                       server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def check(case: Case, result: Result) -> None:
    """Every property of the contract, with the evidence in the message."""
    where = f"dossier {' '.join(case.args)}\nstdout: {result.stdout[-800:]!r}\nstderr: {result.stderr[-1500:]!r}"
    assert result.code is not None, f"hung: killed after {case.timeout:.0f}s\n{where}"
    assert result.code in case.codes, f"exit {result.code}, expected {case.codes}\n{where}"
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout, f"traceback\n{where}"
    assert "internal error" not in result.stderr, f"unexpected exception, not a DossierError\n{where}"
    if case.codes == (2,):
        assert not result.stdout.strip(), f"an error run printed results on stdout\n{where}"
    if case.one_line:
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1, f"{len(lines)} stderr lines, expected exactly 1\n{where}"
        assert lines[0].startswith("error:"), f"error line does not start with 'error:'\n{where}"
    for fragment in case.stderr_has:
        assert fragment.lower() in result.stderr.lower(), f"stderr lacks {fragment!r}\n{where}"
    for fragment in case.stdout_has:
        assert fragment in result.stdout, f"stdout lacks {fragment!r}\n{where}"
    assert not result.changed, f"good output overwritten or removed: {result.changed}\n{where}"


@pytest.mark.parametrize("case", [_param(c) for c in CASES])
def test_cli_contract(case: Case, results: dict[str, Result], tmp_path_factory: pytest.TempPathFactory) -> None:
    result = results[case.id]
    check(case, result)
    for rel in case.absent:
        work = tmp_path_factory.getbasetemp()
        leftovers = list(work.glob(f"contract*/work/{case.id}/{rel}"))
        assert not leftovers, f"partial output left behind: {leftovers}"


def test_every_command_is_covered(results: dict[str, Result]) -> None:
    """New sub-commands get the generic cases automatically; this says which have no specific bad-input case."""
    if not REGISTERED:
        pytest.skip("the registered commands are reported by the forking driver, which did not run")
    assert COMMANDS, "no command modules found"
    assert COMMANDS == REGISTERED, "command modules and app.registered_commands differ"
    specific = {c.args[0] for c in SPECIFIC}
    missing = sorted(set(COMMANDS) - specific - {"schema"})
    assert not missing, f"commands without a bad-input case in tests/test_cli_contract.py: {missing}"


def test_fixture_files_are_independent(tmp_path: Path) -> None:
    """build_fixtures makes what the cases need (guards the harness itself)."""
    build_fixtures(tmp_path)
    assert (tmp_path / "fifo").is_fifo()
    assert (tmp_path / "broken_link").is_symlink() and not (tmp_path / "broken_link").exists()
    assert json.loads((tmp_path / "good.dossier.json").read_text())["subject"]["name"] == "contract-model"
    shutil.rmtree(tmp_path / "empty_dir")
