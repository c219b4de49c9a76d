"""`dossier fleet`: manifests, the local pool, resumption, failure isolation, retries and per-provider limits."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from modeldossier.cli import main
from modeldossier.errors import DossierError
from modeldossier.fleet import manifest, schedule
from modeldossier.fleet.executors import Sequential
from modeldossier.fleet.manifest import Entry
from modeldossier.fleet.work import Job, Outcome, Settings, run_job

from .fleetkit import make_fleet, make_folder, stable


def _yaml(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "m.yaml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------- manifests


def test_yaml_manifest_defaults_relative_paths_and_endpoints(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    m = manifest.load(_yaml(tmp_path, (
        "version: 1\ndefaults: {samples: 2}\nsubjects:\n"
        "  - model: a\n"
        "  - model: Qwen/Qwen2.5-0.5B-Instruct\n    revision: main\n"
        "  - name: ds\n    target: deepseek:deepseek-chat\n    sections: [behavior]\n")))
    a, hub, ds = m.entries
    assert a.model == str(tmp_path / "a") and a.sections == ("artifacts", "provenance") and a.samples == 2
    assert hub.model == "Qwen/Qwen2.5-0.5B-Instruct" and hub.revision == "main"
    assert ds.target == "deepseek:deepseek-chat" and ds.sections == ("behavior",) and ds.provider == "deepseek"


def test_csv_manifest(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    path = tmp_path / "m.csv"
    path.write_text("name,model,target,sections\nx,a,,artifacts\ny,,openai:http://127.0.0.1:8000/v1/m,codesec\n",
                    encoding="utf-8")
    x, y = manifest.load(path).entries
    assert x.sections == ("artifacts",) and y.sections == ("codesec",)
    assert y.provider == "127.0.0.1:8000"  # a self-hosted server is its own provider


@pytest.mark.parametrize(("text", "message"), [
    ("version: 1\nsubjects:\n  - model: a\n    colour: red\n", "unknown field"),
    ("version: 1\nsubjects:\n  - name: x\n", "needs a model"),
    ("version: 1\nsubjects:\n  - model: a\n  - model: a\n", "duplicate subject name"),
    ("version: 1\nsubjects:\n  - model: a\n    sections: [scan]\n", "unknown or no sections"),
    ("version: 1\nsubjects:\n  - model: a\n    sections: [behavior]\n", "need a target"),
    ("version: 1\nsubjects:\n  - model: a\n    samples: 0\n", "samples"),
    ("version: 1\nsubjects: []\n", "no subjects"),
    ("subjects: {a: 1}\n", "subjects:' list"),
    ("version: 1\nsubjects:\n  - [a\n", "not valid YAML"),
    ("a: &a [1,1,1,1,1,1,1,1,1,1]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
     "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
     "f: [*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e,*e]\n", "aliases"),
])
def test_bad_manifests_name_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DossierError, match=message):
        manifest.load(_yaml(tmp_path, text))


def test_bad_manifest_is_exit_2_with_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _yaml(tmp_path, "version: 1\nsubjects:\n  - name: x\n")
    assert main(["fleet", str(path), "--out", str(tmp_path / "o"), "-q"]) == 2
    err = capsys.readouterr().err
    assert "needs a model" in err and "Traceback" not in err


def test_from_inventory_skips_entries_without_a_path(tmp_path: Path) -> None:
    inv = tmp_path / "inv.json"
    inv.write_text(json.dumps({"entries": [{"name": "org/m", "path": str(tmp_path)},
                                           {"name": "org/m", "path": str(tmp_path / "x")},
                                           {"name": "ollama/q", "path": None}]}), encoding="utf-8")
    m = manifest.from_inventory(inv)
    assert [e.name for e in m.entries] == ["org/m", "org/m (2)"] and "without a local path" in m.notes[0]


def test_from_hub_org_lists_models_through_the_hub_api(httpserver) -> None:  # type: ignore[no-untyped-def]
    httpserver.expect_request("/api/models").respond_with_json(
        [{"id": "acme/a", "_id": "1"}, {"id": "acme/b", "_id": "2"}])
    m = manifest.from_hub_org("acme", endpoint=httpserver.url_for("").rstrip("/"), token=False)
    assert [e.model for e in m.entries] == ["acme/a", "acme/b"]
    assert httpserver.log[0][0].args.get("author") == "acme"


# ---------------------------------------------------------------- running


def test_local_pool_equals_sequential_and_isolates_failures(tmp_path: Path,
                                                            capsys: pytest.CaptureFixture[str]) -> None:
    path = make_fleet(tmp_path, 9)
    with (path.parent / "fleet.yaml").open("a", encoding="utf-8") as f:
        f.write("  - model: models/gone/does-not-exist\n")
    pool, seq = tmp_path / "pool", tmp_path / "seq"
    code = main(["fleet", str(path), "--out", str(pool), "--workers", "2", "--no-hash", "-q", "--format", "json"])
    index = json.loads(capsys.readouterr().out)
    assert code == 2  # one subject could not be audited; the fleet went on
    assert index["counts"]["done"] == 9 and index["counts"]["failed"] == 1
    failed = [s for s in index["subjects"] if s["status"] == "failed"]
    assert "no such file or directory" in failed[0]["reason"]
    by_name = {Path(s["name"]).name: s for s in index["subjects"]}
    assert by_name["malicious-001"]["worst_finding"] == "critical" and by_name["malicious-001"]["verdict"] == "red"
    assert by_name["benign-000"]["worst_finding"] == "none"
    assert main(["fleet", str(path), "--out", str(seq), "--workers", "1", "--no-hash", "-q"]) == 2
    for dossier in sorted(pool.glob("*.dossier.json")):
        assert stable(dossier) == stable(seq / dossier.name), dossier.name
    html = (pool / "fleet-index.html").read_text(encoding="utf-8")
    assert "malicious-001" in html and "Content-Security-Policy" in html and (pool / "fleet-compare.html").is_file()


def test_rerun_skips_finished_subjects_and_redoes_changed_ones(tmp_path: Path,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    path = make_fleet(tmp_path, 3)
    out = tmp_path / "out"
    assert main(["fleet", str(path), "--out", str(out), "--workers", "1", "-q"]) == 1  # malicious: findings
    capsys.readouterr()
    (tmp_path / "models" / "benign-000" / "config.json").write_text('{"model_type": "bert", "x": 1}')
    assert main(["fleet", str(path), "--out", str(out), "--workers", "1", "-q", "--format", "json"]) == 1
    statuses = {Path(s["name"]).name: s["status"] for s in json.loads(capsys.readouterr().out)["subjects"]}
    assert statuses == {"benign-000": "done", "malicious-001": "skipped", "corrupt-002": "skipped"}


def test_transient_failures_are_retried_with_backoff(tmp_path: Path) -> None:
    calls: dict[str, int] = {}

    def flaky(job: Job) -> Outcome:
        calls[job.entry.name] = calls.get(job.entry.name, 0) + 1
        if calls[job.entry.name] < 3:
            return Outcome(job.entry.name, "failed", None, "connection reset", transient=True, attempts=job.attempt)
        return Outcome(job.entry.name, "done", job.dossier, attempts=job.attempt)

    jobs = schedule.plan([Entry(name="a", model="a"), Entry(name="b", model="b")], tmp_path, Settings())
    outcomes = schedule.run(jobs, Sequential(flaky), schedule.Limits(retries=2, backoff=0.01))
    assert [(o.status, o.attempts) for o in outcomes] == [("done", 3), ("done", 3)]
    outcomes = schedule.run(jobs, Sequential(flaky), schedule.Limits(retries=0, backoff=0.01))
    assert [o.status for o in outcomes] == ["done", "done"]  # third call of each succeeds at once now
    calls.clear()
    outcomes = schedule.run(jobs, Sequential(flaky), schedule.Limits(retries=1, backoff=0.01))
    assert [(o.status, o.reason) for o in outcomes] == [("failed", "connection reset")] * 2


class _Recorder:
    """A fake executor with many slots that records how many jobs of each provider run at once."""

    name = "fake"
    slots = 16

    def __init__(self) -> None:
        self.running: list[Job] = []
        self.peak: dict[str, int] = {}

    def submit(self, job: Job) -> Job:
        self.running.append(job)
        provider = job.entry.provider or "-"
        self.peak[provider] = max(self.peak.get(provider, 0),
                                  sum(1 for j in self.running if (j.entry.provider or "-") == provider))
        return job

    def wait(self, handles, timeout):  # type: ignore[no-untyped-def]
        job = handles[0]
        self.running.remove(job)
        return [(job, Outcome(job.entry.name, "done", job.dossier))]

    def close(self) -> None:
        return None


def test_per_provider_cap_holds_while_other_subjects_run(tmp_path: Path) -> None:
    entries = [Entry(name=f"d{i}", target="deepseek:deepseek-chat", sections=("behavior",)) for i in range(10)]
    entries += [Entry(name=f"m{i}", model=f"m{i}") for i in range(6)]
    recorder = _Recorder()
    outcomes = schedule.run(schedule.plan(entries, tmp_path, Settings()), recorder, schedule.Limits(per_provider=3))
    assert all(o.status == "done" for o in outcomes)
    assert recorder.peak["deepseek"] == 3 and recorder.peak["-"] == 6


def test_slug_collisions_get_distinct_files(tmp_path: Path) -> None:
    jobs = schedule.plan([Entry(name="a/b", model="x"), Entry(name="a__b", model="y")], tmp_path, Settings())
    assert len({j.dossier for j in jobs}) == 2


def test_worker_never_raises_on_a_corrupt_subject(tmp_path: Path) -> None:
    folder = make_folder(tmp_path, "corrupt", 0)
    job = schedule.plan([Entry(name="c", model=str(folder))], tmp_path / "o", Settings())[0]
    outcome = run_job(job)
    assert outcome.status == "done"  # a corrupt file is a finding in its dossier, not a failed subject
    data = json.loads(Path(job.dossier).read_text(encoding="utf-8"))
    assert data["run"]["records"][-1]["settings"]["fleet_inputs"]


def test_killed_driver_resumes_without_redoing_finished_subjects(tmp_path: Path) -> None:
    path = make_fleet(tmp_path, 12)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "modeldossier.cli", "fleet", str(path), "--out", str(out), "--workers", "1",
           "--no-hash", "-q"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in sys.path if p)}
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(out.glob("*.dossier.json"))) < 3:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("*.dossier.json")}
    assert 3 <= len(before) < 12, "the driver should have been killed mid-run"
    result = subprocess.run([*cmd[:-1], "--format", "json"], env=env, capture_output=True, text=True, timeout=300)
    index = json.loads(result.stdout)
    assert index["counts"].get("failed", 0) == 0 and len(index["subjects"]) == 12
    skipped = {Path(s["dossier"]).name for s in index["subjects"] if s["status"] == "skipped"}
    assert set(before) <= skipped  # nothing finished before the kill was redone
    assert all(out.joinpath(name).stat().st_mtime_ns == mtime for name, mtime in before.items())
