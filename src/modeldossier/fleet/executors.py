"""Where fleet jobs run: in this process, on a local process pool (the default), or as Ray tasks on a cluster.

One shape for all three: ``submit(job) -> handle`` and ``wait(handles, timeout) -> [(handle, outcome)]``. A
lost worker comes back as a failed, transient outcome, so the scheduler retries it like a network error.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
from collections.abc import Callable, Sequence
from typing import Any, Protocol

from modeldossier.errors import DossierError
from modeldossier.fleet.work import Job, Outcome, run_job

Runner = Callable[[Job], Outcome]


class Executor(Protocol):
    """Runs jobs somewhere and reports each one's outcome."""

    name: str
    slots: int

    def submit(self, job: Job) -> Any:
        """Start one job; a handle to wait on."""

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, Outcome]]:
        """The handles that finished within ``timeout`` seconds, with their outcomes."""

    def close(self) -> None:
        """Release workers (running jobs of a killed driver finish on their own and write their dossiers)."""


def _lost(job: Job, why: str) -> Outcome:
    return Outcome(job.entry.name, "failed", None, f"worker lost: {why}", transient=True, attempts=job.attempt)


class Sequential:
    """Each job in this process, one at a time (``--workers 1``; easiest to debug)."""

    name = "sequential"
    slots = 1

    def __init__(self, runner: Runner = run_job) -> None:
        self._runner = runner
        self._results: dict[int, Outcome] = {}

    def submit(self, job: Job) -> Any:
        handle = len(self._results) + 1 + max(self._results, default=0)
        self._results[handle] = self._runner(job)
        return handle

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, Outcome]]:
        return [(h, self._results.pop(h)) for h in handles]

    def close(self) -> None:
        return None


class LocalPool:
    """A pool of worker processes on this machine: no service to start, the default on a laptop or CI runner."""

    name = "local"

    def __init__(self, workers: int, runner: Runner = run_job) -> None:
        self.slots = workers
        self._runner = runner
        self._context = multiprocessing.get_context("spawn")  # no inherited threads or locks from the driver
        self._pool = cf.ProcessPoolExecutor(max_workers=workers, mp_context=self._context)
        self._jobs: dict[cf.Future[Outcome], Job] = {}

    def submit(self, job: Job) -> Any:
        try:
            future = self._pool.submit(self._runner, job)
        except cf.process.BrokenProcessPool:
            self._restart()
            future = self._pool.submit(self._runner, job)
        self._jobs[future] = job
        return future

    def _restart(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = cf.ProcessPoolExecutor(max_workers=self.slots, mp_context=self._context)

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, Outcome]]:
        done, _ = cf.wait(handles, timeout=timeout, return_when=cf.FIRST_COMPLETED)
        out = []
        broken = False
        for future in done:
            job = self._jobs.pop(future)
            try:
                out.append((future, future.result()))
            except cf.process.BrokenProcessPool as exc:
                broken = True
                out.append((future, _lost(job, str(exc) or "a worker process died")))
            except Exception as exc:  # the job could not even be sent (unpicklable) or returned
                out.append((future, Outcome(job.entry.name, "failed", None, f"{type(exc).__name__}: {exc}",
                                            attempts=job.attempt)))
        if broken:
            self._restart()
        return out

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class RayExecutor:
    """Ray tasks on an existing cluster (``address``) or a local Ray started for this run."""

    name = "ray"

    def __init__(self, address: str | None, runner: Runner = run_job, num_cpus: int | None = None) -> None:
        try:
            import ray
        except ModuleNotFoundError:
            raise DossierError("--executor ray needs Ray: pip install 'modeldossier[fleet]'") from None
        self._ray = ray
        self._owns = not ray.is_initialized()
        if self._owns:
            try:
                ray.init(address=address, num_cpus=num_cpus if address is None else None,
                         include_dashboard=False, log_to_driver=False, configure_logging=False)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = address or "a local Ray"
                raise DossierError(f"cannot start or reach {where}: {str(exc).splitlines()[0]}") from None
        self._remote = ray.remote(num_cpus=1, max_retries=0)(runner)
        self.slots = max(1, int(ray.cluster_resources().get("CPU", 1)))
        self._jobs: dict[Any, Job] = {}

    def submit(self, job: Job) -> Any:
        ref = self._remote.remote(job)
        self._jobs[ref] = job
        return ref

    def wait(self, handles: Sequence[Any], timeout: float) -> list[tuple[Any, Outcome]]:
        ray = self._ray
        ready, _ = ray.wait(list(handles), num_returns=len(handles), timeout=timeout, fetch_local=True)
        if not ready:
            ready, _ = ray.wait(list(handles), num_returns=1, timeout=0)
        out = []
        for ref in ready:
            job = self._jobs.pop(ref)
            try:
                out.append((ref, ray.get(ref)))
            except (ray.exceptions.WorkerCrashedError, ray.exceptions.NodeDiedError,
                    ray.exceptions.OwnerDiedError, ray.exceptions.ObjectLostError) as exc:
                out.append((ref, _lost(job, type(exc).__name__)))
            except ray.exceptions.RayError as exc:
                out.append((ref, Outcome(job.entry.name, "failed", None, f"Ray: {str(exc).splitlines()[0]}",
                                         attempts=job.attempt)))
        return out

    def close(self) -> None:
        if self._owns:
            self._ray.shutdown()
