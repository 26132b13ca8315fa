r"""Where a ``verify run`` evaluates its cases: in this process, in a pool of processes, or on Dask.

A **task** is one (claim, case). Each executor calls the same top-level function, :func:`evaluate_task`,
which loads the claim from its module on the worker (claims are plug-ins, found by path) and evaluates the
case with a fixed number of CPU threads, so that a result does not depend on where it ran: float64
reductions split over a different number of threads can differ in the last bits. The driver writes each
record as its task completes (atomically), so a crash or a kill loses only the tasks still running, and
``verify run --resume`` skips the records already present for the same configuration and code.

Executors:

- ``serial``: one task after another in this process;
- ``process``: a :class:`concurrent.futures.ProcessPoolExecutor` of ``workers`` processes, started by a
  fork server that has imported torch, sympy and scipy once (:func:`mp_context`; spawned where the
  platform has no fork server), so no thread pool of a process that computed is inherited through ``fork``;
- ``dask``: a Dask ``distributed`` cluster (``pip install "hierarchy-proofs[dask]"``): a local one of
  ``workers`` processes on the loopback interface, or an existing one given by its scheduler address
  (``tcp://HOST:PORT``) or scheduler file (what ``dask-jobqueue`` or ``dask-scheduler
  --scheduler-file`` writes for SLURM/PBS clusters). The workers must import this package and read the
  ``lemmas/`` folder at the same path.

A local Dask cluster starts its worker processes the same way (Dask's ``multiprocessing-method`` set to
the fork server's for the cluster's start).
"""
from __future__ import annotations

import concurrent.futures as cf
import dataclasses
import os
import traceback
from pathlib import Path
from typing import Callable, Iterable, Iterator

EXECUTORS = ("serial", "process", "dask")


@dataclasses.dataclass(frozen=True)
class Task:
    """One case of one claim, to evaluate on ``device`` with ``threads`` CPU threads."""
    lemmas: str
    claim: str
    case: str
    device: str = "cpu"
    threads: int | None = 1  # None: leave torch's thread count as it is (the serial default)

    @property
    def label(self) -> str:
        return f"{self.claim}[{self.case}]"


@dataclasses.dataclass
class Outcome:
    """A finished task: its verdict, or the error it raised (one line and the traceback)."""
    task: Task
    verdict: object | None = None
    error: str | None = None
    trace: str | None = None


def evaluate_task(task: Task):
    """Load ``task.claim`` from the lemmas folder (in whatever process runs this) and evaluate its case with
    ``task.threads`` torch threads (restored afterwards). Returns the :class:`~verify.harness.claims.Verdict`."""
    import torch

    from .discovery import load_claims
    claims = load_claims(task.lemmas)
    if task.claim not in claims:
        raise ValueError(f"claim {task.claim!r} not found in {task.lemmas}")
    before = torch.get_num_threads()
    torch.set_num_threads(task.threads or before)
    try:
        return claims[task.claim].evaluate(task.case, task.device)
    finally:
        torch.set_num_threads(before)


def _safe(task: Task) -> Outcome:
    try:
        return Outcome(task, verdict=evaluate_task(task))
    except Exception as e:  # noqa: BLE001 - one failing task must not take the others down
        text = str(e).strip().splitlines()
        return Outcome(task, error=f"{type(e).__name__}: {text[0] if text else ''}", trace=traceback.format_exc())


def check_executor(executor: str, workers: int | None, scheduler: str | None, scheduler_file: str | None) -> None:
    """ValueErrors for a bad combination of executor options, before any work."""
    if executor not in EXECUTORS:
        raise ValueError(f"--executor must be one of {EXECUTORS}; got {executor!r}")
    if workers is not None and (not isinstance(workers, int) or workers < 1 or workers > 1024):
        raise ValueError(f"--workers must be an integer in [1, 1024]; got {workers!r}")
    if (scheduler or scheduler_file) and executor != "dask":
        raise ValueError("--scheduler/--scheduler-file need --executor dask")
    if scheduler and scheduler_file:
        raise ValueError("give --scheduler or --scheduler-file, not both")
    if scheduler and not scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
        raise ValueError(f"--scheduler must be an address such as tcp://HOST:8786; got {scheduler!r}")
    if scheduler_file and not Path(scheduler_file).is_file():
        raise ValueError(f"--scheduler-file {scheduler_file!r} does not exist")
    if executor == "dask":
        try:
            import distributed  # noqa: F401
        except ImportError:
            raise ValueError('--executor dask needs Dask distributed: pip install "hierarchy-proofs[dask]"') from None


#: What every task imports (torch, numpy, sympy, scipy.stats through the claim contract): the fork server
#: imports it once (:mod:`verify.harness.preload`, with the garbage collector off), and each worker process is a
#: fork of that server.
PRELOAD = ("verify.harness.preload",)


def mp_context():
    """The processes' start method: ``forkserver`` where the platform has it, ``spawn`` elsewhere.

    A spawned worker starts a fresh interpreter and imports torch, sympy and scipy itself (about 2 s of CPU
    each on a 2-core machine, issue 15); a fork-server worker is forked from one server process that has
    imported them (:data:`PRELOAD`) and run nothing else, so no thread pool of a parent that computed is
    inherited, which is what ``fork`` would risk."""
    import multiprocessing as mp
    if "forkserver" not in mp.get_all_start_methods():
        return mp.get_context("spawn")
    ctx = mp.get_context("forkserver")
    ctx.set_forkserver_preload(list(PRELOAD))
    return ctx


def run(tasks: Iterable[Task], executor: str = "serial", workers: int | None = None, scheduler: str | None = None,
        scheduler_file: str | None = None, on_start: Callable[[Task], None] | None = None) -> Iterator[Outcome]:
    """Evaluate ``tasks``; yield each :class:`Outcome` as it completes (in completion order, except serially).
    ``on_start`` is called before a serial task (the progress bar names it)."""
    tasks = list(tasks)
    check_executor(executor, workers, scheduler, scheduler_file)
    if executor == "serial":
        for t in tasks:
            if on_start:
                on_start(t)
            yield _safe(t)
        return
    n = workers or min(len(tasks), os.cpu_count() or 1) or 1
    if executor == "process":
        with cf.ProcessPoolExecutor(max_workers=n, mp_context=mp_context()) as pool:
            futures = [pool.submit(_safe, t) for t in tasks]
            for f in cf.as_completed(futures):
                yield f.result()
        return
    from distributed import Client, LocalCluster, as_completed
    cluster = None
    if scheduler:
        client = Client(scheduler)
    elif scheduler_file:
        client = Client(scheduler_file=scheduler_file)
    else:  # a local cluster of processes on the loopback interface, no dashboard
        import dask
        method = mp_context().get_start_method()
        if method == "forkserver":
            from multiprocessing import forkserver
            forkserver.ensure_running()  # with this package's preload, before Dask asks for its own
        with dask.config.set({"distributed.worker.multiprocessing-method": method}):
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, host="127.0.0.1",
                                   dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        futures = [client.submit(_safe, t, pure=False, key=f"verify-{t.claim}-{t.case}-{i}")
                   for i, t in enumerate(tasks)]
        for f in as_completed(futures):
            yield f.result()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
