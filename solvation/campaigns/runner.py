"""Execute a campaign locally (process pool) or on Dask, recording every job in the catalog.

The same job function (``jobs.run_job``) runs in both executors. With the local
executor, a job of N slots gets cores / N threads (``threads`` in the job), so that the
slots share the machine instead of each starting a thread per core. Finished jobs are
skipped on a re-run, interrupted ones resume, failed ones are retried only with
``retry_failed``; one failing job never stops the others and its error is stored.

One runner per campaign directory (``DIR/.lock``) and one process per job
(``jobs/.KEY.job.lock``): a job still running elsewhere is left 'interrupted' with a note,
never started twice. Ctrl-C or SIGTERM stops the campaign: running jobs checkpoint,
are left 'interrupted' (resumable) and ``CampaignInterrupted`` says how to resume.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import subprocess
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

from solvation.analysis.threads import threads_per_slot
from solvation.engine import available_platforms
from solvation.errors import Interrupted, SolvationError
from solvation.inputs import output_dir, whole
from solvation.locks import DirectoryBusy, DirectoryLock

from .campaign import Campaign, load_campaign
from .catalog import Catalog
from .jobs import job_directory, run_job
from .workers import blocked_signals, job_running, kill_workers, stop_workers, worker_init

EXECUTORS = ("local", "dask")
STOP_SECONDS = 120.0  # how long a stopping campaign waits for its workers' checkpoints
POLL_SECONDS = 0.5  # longest a pending Ctrl-C waits in the pool's wait for a job


class ExecutorError(SolvationError):
    """The executor cannot be started or reached."""


class CampaignInterrupted(Interrupted):
    """A campaign stopped by Ctrl-C/SIGTERM; its running jobs were left resumable."""


def _safe(function, job: dict, directory: str, platform: str, device):
    """Run one job holding its lock; exceptions come back as a result so that the others
    go on. A job locked by another process comes back as ``busy``. Interrupts
    (Interrupted, KeyboardInterrupt, SystemExit) are not caught: they stop the campaign."""
    try:
        with (
            job_running(),
            DirectoryLock(job_directory(directory, job["key"]), "a campaign job", "job"),
        ):
            return function(job, directory, platform, device)
    except DirectoryBusy as busy:
        return {"key": job["key"], "busy": str(busy)}
    except Interrupted:
        raise
    except Exception as err:  # recorded in the catalog, not swallowed
        return {
            "key": job["key"],
            "error": f"{type(err).__name__}: {err}\n{traceback.format_exc(limit=8)}",
        }


def _gpu_count() -> int:
    try:
        if "CUDA" not in available_platforms():
            return 0
        out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10)
        return len([x for x in out.stdout.splitlines() if x.startswith("GPU")])
    except Exception:
        return 0


def _dask_client(scheduler: str | None, executor: dict, workers: int):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("the dask executor needs `pip install 'solvation[cluster]'`") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s")
        except (OSError, TimeoutError) as err:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    if executor.get("kind") == "slurm":
        from dask_jobqueue import SLURMCluster

        options = {k: v for k, v in executor.items() if k not in ("kind", "jobs")}
        cluster = SLURMCluster(**options)
        cluster.scale(jobs=int(executor.get("jobs", 1)))
        return Client(cluster)
    return Client(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True))


def run_campaign(
    path: str | Path,
    directory: str | Path | None = None,
    executor: str | None = None,
    scheduler: str | None = None,
    slots: int | None = None,
    retry_failed: bool = False,
    platform: str = "auto",
    job_function=run_job,
    client=None,
) -> Catalog:
    """Run every unfinished job of the campaign at ``path``; returns the catalog.

    ``executor`` (local or dask) defaults to the campaign's ``[executor] kind`` (slurm
    runs on Dask). Raises CampaignInterrupted on Ctrl-C/SIGTERM (running jobs left
    resumable) and DirectoryBusy when another runner works on ``directory``.

    Parameters
    ----------
    path : str or Path
        The campaign file.
    directory : str or Path, optional
        The campaign directory.
    executor : str, optional
        'local' or 'dask'.
    scheduler : str, optional
        Dask scheduler address.
    slots : int, optional
        Jobs run side by side (local processes or Dask workers).
    retry_failed : bool
        Run failed jobs again.
    platform : str
        OpenMM platform name, or "auto".
    job_function : callable
        What runs one job (``run_job``).
    client : dask.distributed.Client, optional

    Raises
    ------
    ExecutorError
        For an unknown executor.
    CampaignInterrupted
        On Ctrl-C/SIGTERM, running jobs left resumable.
    DirectoryBusy
        When another runner works on ``directory``.
    """
    if executor is not None and executor not in EXECUTORS:
        raise ExecutorError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")
    campaign: Campaign = load_campaign(path)
    kind = campaign.executor.get("kind", "local")
    executor = executor or ("local" if kind == "local" else "dask")
    directory = Path(directory) if directory else Path(path).parent / campaign.name
    slots = int(campaign.executor.get("slots", 1)) if slots is None else slots
    whole("--slots", slots, 1)
    output_dir(directory, "-o", accepts=is_campaign_directory)
    with DirectoryLock(directory, "a campaign run"):
        catalog = None
        try:  # a stop before the jobs start leaves nothing running: it is said all the same
            catalog = Catalog(directory)
            catalog.claim(campaign.name, campaign.file_hash, path)
            catalog.register(campaign.jobs)
            local = executor == "local" and client is None
            args = _job_args(catalog, campaign, directory, platform, retry_failed, slots, local)
            drain(
                catalog, job_function, args, executor, slots, scheduler, client, campaign.executor
            )
        except (KeyboardInterrupt, Interrupted):
            left = catalog.counts()["interrupted"] if catalog is not None else 0
            raise CampaignInterrupted(
                f"campaign stopped; {left} job(s) left resumable. Resume with: solvation "
                f"campaign run {path} -o {directory}"
            ) from None
    return catalog


CAMPAIGN_NAMES = {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "jobs", "figures"}


def _job_args(catalog, campaign, directory, platform, retry_failed, slots, local) -> list:
    """The arguments of every job to run (not done; failed ones only when retried): the
    job with its thread share, the directory, the platform and its GPU."""
    todo = [
        j
        for j in campaign.jobs
        if catalog.status(j.key) != "done" and (retry_failed or catalog.status(j.key) != "failed")
    ]
    gpus = _gpu_count()
    share = {"threads": threads_per_slot(slots)} if local else {}
    return [
        ({**asdict(j), **share}, str(directory), platform, (k % gpus) if gpus else None)
        for k, j in enumerate(todo)
    ]


def is_campaign_directory(path: Path) -> bool:
    """Whether the existing folder ``path`` is a campaign's: its catalog, or nothing but
    what a campaign killed before its catalog existed leaves (lock files, ``jobs``).

    Parameters
    ----------
    path : Path
        A folder.
    """
    if (path / "catalog.sqlite").is_file():
        return True
    return all(p.name.startswith(".") or p.name in CAMPAIGN_NAMES for p in path.iterdir())


def drain(
    catalog: Catalog,
    function,
    args: list,
    executor: str = "local",
    slots: int = 1,
    scheduler: str | None = None,
    client=None,
    options: dict | None = None,
) -> None:
    """Run ``function(*a)`` for each ``a`` of ``args`` (a job dict first) and record it in
    ``catalog``: locally (``slots`` processes; 1 runs in this process) or on Dask (a
    ``client``, a ``scheduler`` address, or a LocalCluster of ``slots`` workers;
    ``options``: the campaign's [executor] table).

    Parameters
    ----------
    catalog : Catalog
    function : callable
        Runs one job: ``function(job_dict, ...)`` returns its result dict.
    args : list of tuple
        Arguments of each call, a job dict first.
    executor : str
        'local' or 'dask'.
    slots : int
        Processes (local) or LocalCluster workers (Dask).
    scheduler : str, optional
        Dask scheduler address.
    client : dask.distributed.Client, optional
    options : dict, optional
        The campaign's [executor] table.
    """
    whole("slots", slots, 1)
    if executor == "dask" or client is not None:
        own = client is None
        client = client or _dask_client(scheduler, options or {}, slots)
        try:
            _drain_dask(client, catalog, function, args)
        finally:
            if own:
                client.close()
    elif executor == "local":
        _drain_local(catalog, function, args, slots)
    else:
        raise ExecutorError(f"unknown executor {executor!r}; use local or dask")


def _record(catalog: Catalog, result: dict) -> None:
    if "busy" in result:
        catalog.mark_interrupted([result["key"]], result["busy"])
    elif "error" in result:
        catalog.fail(result["key"], result["error"])
    else:
        catalog.finish(result["key"], result)


def _drain_local(catalog: Catalog, function, args: list, slots: int) -> None:
    """Run the jobs here (one slot) or in a process pool. Ctrl-C stops the campaign and
    leaves the jobs that were running resumable ('interrupted', not failed)."""
    if slots > 1:
        _drain_pool(catalog, function, args, slots)
        return
    for a in args:  # in process: the progress bars of the job stay visible
        catalog.mark_running(a[0]["key"])
        try:
            result = _safe(function, *a)
        except BaseException:
            catalog.mark_interrupted([a[0]["key"]])
            raise
        _record(catalog, result)


def _collect(catalog: Catalog, future, key: str, stopping: bool = False) -> None:
    """Record a finished pool future: result, failure, or a stopped (resumable) job. While
    the campaign stops, a future that ended without a result (its worker was stopped,
    perhaps before it had started) leaves its job resumable, never failed."""
    error = future.exception()
    if error is None:
        _record(catalog, future.result())
    elif stopping or isinstance(error, (Interrupted, KeyboardInterrupt, SystemExit)):
        catalog.mark_interrupted([key])
    else:  # the worker process died
        catalog.fail(key, f"worker process failed: {type(error).__name__}: {error}")


def _submit(pool, catalog: Catalog, running: dict, function, a) -> None:
    """Start one job: mark it running and submit it with SIGINT blocked, so that Ctrl-C
    never falls between the two, and a worker the pool starts now is born with SIGINT
    blocked (it ignores SIGINT once ``worker_init`` runs: a Ctrl-C from the terminal
    reaches the whole process group, and a worker still importing would die with a
    traceback). SIGTERM stays open: a worker stopped while it starts ends at once."""
    with blocked_signals((signal.SIGINT,)):
        catalog.mark_running(a[0]["key"])
        running[pool.submit(_safe, function, *a)] = a[0]["key"]


def _drain_pool(catalog: Catalog, function, args: list, slots: int) -> None:
    """At most ``slots`` jobs in flight, each started only when a worker is free (so a
    stopping campaign has no queued job left to start). Workers die with this process.

    The wait for a finished job polls (``POLL_SECONDS``): a SIGINT that the kernel hands
    to another thread of this process (it does while the main thread blocks signals,
    e.g. inside fork/exec of a new worker) never wakes a main thread blocked on a lock,
    and a blocking wait then missed Ctrl-C until a job finished."""
    # spawn, not fork: a process that has run OpenMM (its CPU platform's threads) can
    # leave a forked worker deadlocked (seen with `solvation pmf`, which runs the parent
    # system in this process before its windows)
    with blocked_signals((signal.SIGINT,)):
        pool = ProcessPoolExecutor(
            max_workers=slots,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker_init,
            initargs=(os.getpid(),),
        )
    queue, running = list(args), {}
    try:
        while queue or running:
            while queue and len(running) < slots:
                _submit(pool, catalog, running, function, queue.pop(0))
            done, _ = wait(running, timeout=POLL_SECONDS, return_when=FIRST_COMPLETED)
            for future in done:
                _collect(catalog, future, running.pop(future))
    except BaseException:
        _stop_pool(pool, catalog, running)
        raise
    finally:
        pool.shutdown(wait=not running, cancel_futures=True)


def _stop_pool(pool, catalog: Catalog, running: dict) -> None:
    """SIGTERM to every worker, wait up to STOP_SECONDS for their jobs to checkpoint,
    record each job as stopped (resumable), then SIGKILL whatever is left, so that this
    process can exit."""
    processes = list(getattr(pool, "_processes", {}).values())
    stop_workers(processes)
    done, stuck = wait(running, timeout=STOP_SECONDS)
    for future in done:
        _collect(catalog, future, running[future], stopping=True)
    catalog.mark_interrupted([running[f] for f in stuck])
    kill_workers(processes)


def _drain_dask(client, catalog: Catalog, function, args: list) -> None:
    from dask.distributed import as_completed as dask_completed

    futures = {}
    for a in args:
        catalog.mark_running(a[0]["key"])
        futures[client.submit(_safe, function, *a, pure=False, key=f"job-{a[0]['key']}")] = a[0][
            "key"
        ]
    try:
        for future in dask_completed(list(futures)):
            try:
                _record(catalog, future.result())
            except Interrupted:
                catalog.mark_interrupted([futures[future]])
            except Exception as err:
                catalog.fail(futures[future], f"dask task failed: {err}")
    except BaseException:
        client.cancel(list(futures))
        catalog.mark_interrupted(list(futures.values()))
        raise
