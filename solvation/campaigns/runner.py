"""Execute a campaign locally (process pool), on Dask, or on SLURM (Dask workers submitted as
SLURM jobs, ``slurm``), recording every job in the catalog.

The same job function (``jobs.run_job``) runs in every executor. On Dask a job is
'queued' until a worker starts it and notes where (``workers.note_start``), then
'running'; a job whose worker dies (its SLURM job cancelled or out of time) is left
'interrupted' with the SLURM job's state and log, and resumes on the next run. With the local
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
import time
import traceback
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import asdict
from pathlib import Path

from solvation.analysis.threads import threads_per_slot
from solvation.console import LOGGER
from solvation.engine import available_platforms
from solvation.errors import Interrupted, SolvationError
from solvation.inputs import output_dir, whole
from solvation.locks import DirectoryBusy, DirectoryLock

from .campaign import Campaign, load_campaign
from .catalog import Catalog
from .jobs import job_directory, run_job
from .slurm import describe, job_state, start_cluster, worker_device
from .slurm import worker_jobs as slurm_worker_jobs
from .workers import (
    blocked_signals,
    job_running,
    kill_workers,
    note_start,
    read_start,
    stop_workers,
    worker_init,
)

EXECUTORS = ("local", "dask", "slurm")
POLL_SECONDS = 1.0  # how often a Dask campaign looks for started and finished jobs
WORKERS_GONE_SECONDS = 10.0  # how often it checks that a fixed SLURM cluster has workers
STOP_SECONDS = 120.0  # how long a stopping campaign waits for its workers' checkpoints
POLL_SECONDS = 0.5  # longest a pending Ctrl-C waits in the pool's wait for a job


class ExecutorError(SolvationError):
    """The executor cannot be started or reached."""


class CampaignInterrupted(Interrupted):
    """A campaign stopped by Ctrl-C/SIGTERM; its running jobs were left resumable."""


def _safe(function, job: dict, directory: str, platform: str, device):
    """Run one job holding its lock; exceptions come back as a result so that the others
    go on. A job locked by another process comes back as ``busy``. Interrupts
    (Interrupted, KeyboardInterrupt, SystemExit) are not caught: they stop the campaign.
    The job's start (host, SLURM job) is noted for the campaign process; a job of a slurm
    executor with several GPUs per worker job takes its worker process's GPU."""
    if device is None and job.get("gpus_per_job"):
        device = worker_device(job["gpus_per_job"], job.get("jobs_per_gpu", 1))
    try:
        with (
            job_running(),
            DirectoryLock(job_directory(directory, job["key"]), "a campaign job", "job"),
        ):
            note_start(directory, job["key"])
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


def _dask_client(scheduler: str | None, executor: str, options: dict, workers: int, where):
    """A Dask client: to ``scheduler``, to a SLURM cluster (executor 'slurm', ``options``:
    the [executor] table; worker logs under ``where``) or to a LocalCluster of ``workers``.
    Returns the client, the SLURM cluster (or None) and whether it scales itself."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise ExecutorError("the dask executor needs `pip install 'solvation[cluster]'`") from None
    if scheduler:
        try:
            return Client(scheduler, timeout="10s"), None, False
        except (OSError, TimeoutError) as err:
            raise ExecutorError(f"cannot reach the Dask scheduler at {scheduler}: {err}") from None
    if executor == "slurm":
        cluster, adaptive = start_cluster(options, where)
        return Client(cluster), cluster, adaptive
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True)
    return Client(cluster), None, False


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

    ``executor`` (local, dask or slurm) defaults to the campaign's ``[executor] kind``;
    slurm submits Dask workers as SLURM jobs with the [executor] table's options
    (``solvation.campaigns.slurm``). Raises CampaignInterrupted on Ctrl-C/SIGTERM (running jobs left
    resumable) and DirectoryBusy when another runner works on ``directory``.

    Parameters
    ----------
    path : str or Path
        The campaign file.
    directory : str or Path, optional
        The campaign directory.
    executor : str, optional
        'local', 'dask' or 'slurm'.
    scheduler : str, optional
        Dask scheduler address.
    slots : int, optional
        Jobs run side by side (local processes or LocalCluster workers).
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
    executor = executor or kind
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
            share = job_share(executor, client, slots, campaign.executor)
            args = _job_args(catalog, campaign, directory, platform, retry_failed, share)
            if executor == "slurm":  # the worker picks its GPU among its SLURM job's
                args = [(j, d, p, None) for j, d, p, _ in args]
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


def job_share(executor: str, client, slots: int, options: dict) -> dict:
    """What each job is told about its share of the machine: CPU threads (local: cores /
    slots; slurm: cpus_per_job) and, on SLURM, its worker job's GPUs and packing.

    Parameters
    ----------
    executor : str
        'local', 'dask' or 'slurm'.
    client : dask.distributed.Client or None
        A client given by the caller (then nothing is shared out).
    slots : int
        Local processes.
    options : dict
        The [executor] table.
    """
    if executor == "local" and client is None:
        return {"threads": threads_per_slot(slots)}
    if executor == "slurm" and client is None:
        return {
            "threads": int(options.get("cpus_per_job", 1)),
            "gpus_per_job": int(options.get("gpus_per_job", 0)),
            "jobs_per_gpu": int(options.get("jobs_per_gpu", 1)),
        }
    return {}


CAMPAIGN_NAMES = {"catalog.sqlite", "catalog.sqlite-wal", "catalog.sqlite-shm", "jobs", "figures"}


def _job_args(catalog, campaign, directory, platform, retry_failed, share: dict) -> list:
    """The arguments of every job to run (not done; failed ones only when retried): the
    job with its share of the machine (``job_share``), the directory, the platform and
    its GPU."""
    todo = [
        j
        for j in campaign.jobs
        if catalog.status(j.key) != "done" and (retry_failed or catalog.status(j.key) != "failed")
    ]
    gpus = _gpu_count()
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
    ``client``, a ``scheduler`` address, a SLURM cluster made from ``options`` (the
    [executor] table) or a LocalCluster of ``slots`` workers).

    Parameters
    ----------
    catalog : Catalog
    function : callable
        Runs one job: ``function(job_dict, ...)`` returns its result dict.
    args : list of tuple
        Arguments of each call, a job dict first.
    executor : str
        'local', 'dask' or 'slurm' ('dask' with options of kind slurm is slurm).
    slots : int
        Processes (local) or LocalCluster workers (Dask).
    scheduler : str, optional
        Dask scheduler address.
    client : dask.distributed.Client, optional
    options : dict, optional
        The campaign's [executor] table.
    """
    whole("slots", slots, 1)
    options = options or {}
    progress = Progress(args)
    if executor == "dask" and options.get("kind") == "slurm" and not scheduler:
        executor = "slurm"
    if executor in ("dask", "slurm") or client is not None:
        own = client is None
        cluster, adaptive = None, False
        if own:
            where = catalog.path.parent
            client, cluster, adaptive = _dask_client(scheduler, executor, options, slots, where)
        try:
            _drain_dask(client, catalog, function, args, cluster, adaptive, progress)
        finally:
            if own:
                client.close()
                if cluster is not None:
                    cluster.close()
    elif executor == "local":
        _drain_local(catalog, function, args, slots, progress)
    else:
        raise ExecutorError(f"unknown executor {executor!r}; use one of {', '.join(EXECUTORS)}")


class Progress:
    """One line per finished job on the ``solvation`` logger, 'job k/n done: DESIGN
    replica R (S s)' (or failed, with the first line of its error): the sign of life of a
    campaign whose output goes to a log file, where no progress bar is drawn.

    Parameters
    ----------
    args : list of tuple
        The calls ``drain`` makes, a job dict first.
    """

    def __init__(self, args: list):
        self.total, self.count = len(args), 0
        self.names = {a[0]["key"]: _job_name(a[0]) for a in args}

    def __call__(self, result: dict) -> None:
        """Log the line of one finished job (a ``_safe`` result).

        Parameters
        ----------
        result : dict
            The job's result: ``key`` and ``error``, ``busy`` or ``seconds``.
        """
        self.count += 1
        name = self.names.get(result["key"], result["key"])
        if "busy" in result:
            state, detail = "skipped", "running elsewhere"
        elif "error" in result:
            state, detail = "failed", str(result["error"]).strip().splitlines()[0][:200]
        else:
            state, detail = "done", f"{result.get('seconds') or 0:.0f} s"
        LOGGER.info("job %d/%d %s: %s (%s)", self.count, self.total, state, name, detail)


def _job_name(job: dict) -> str:
    """'DESIGN replica R' of a job dict (its key when it has no design name)."""
    if "design_name" not in job:
        return str(job["key"])
    return f"{job['design_name']} replica {job.get('replica', 0)}"


def _record(catalog: Catalog, result: dict, progress: Progress | None = None) -> None:
    if "busy" in result:
        catalog.mark_interrupted([result["key"]], result["busy"])
        catalog.requeue([result["key"]], result["busy"])
    elif "error" in result:
        catalog.fail(result["key"], result["error"])
    else:
        catalog.finish(result["key"], result)
    if progress is not None:
        progress(result)


def _drain_local(catalog: Catalog, function, args: list, slots: int, progress=None) -> None:
    """Run the jobs here (one slot) or in a process pool. Ctrl-C stops the campaign and
    leaves the jobs that were running resumable ('interrupted', not failed)."""
    if slots > 1:
        _drain_pool(catalog, function, args, slots, progress)
        return
    for a in args:  # in process: the progress bars of the job stay visible
        catalog.mark_running(a[0]["key"])
        try:
            result = _safe(function, *a)
        except BaseException:
            catalog.mark_interrupted([a[0]["key"]])
            raise
        _record(catalog, result, progress)


def _collect(catalog: Catalog, future, key: str, progress=None, stopping: bool = False) -> None:
    """Record a finished pool future: result, failure, or a stopped (resumable) job. While
    the campaign stops, a future that ended without a result (its worker was stopped,
    perhaps before it had started) leaves its job resumable, never failed."""
    error = future.exception()
    if error is None:
        _record(catalog, future.result(), progress)
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


def _drain_pool(catalog: Catalog, function, args: list, slots: int, progress=None) -> None:
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
                _collect(catalog, future, running.pop(future), progress)
    except BaseException:
        _stop_pool(pool, catalog, running, progress)
        raise
    finally:
        pool.shutdown(wait=not running, cancel_futures=True)


def _stop_pool(pool, catalog: Catalog, running: dict, progress=None) -> None:
    """SIGTERM to every worker, wait up to STOP_SECONDS for their jobs to checkpoint,
    record each job as stopped (resumable), then SIGKILL whatever is left, so that this
    process can exit."""
    processes = list(getattr(pool, "_processes", {}).values())
    stop_workers(processes)
    done, stuck = wait(running, timeout=STOP_SECONDS)
    for future in done:
        _collect(catalog, future, running[future], progress, stopping=True)
    catalog.mark_interrupted([running[f] for f in stuck])
    kill_workers(processes)


def _lost(catalog: Catalog, key: str, error: BaseException) -> None:
    """A job whose Dask worker died (its SLURM job cancelled, out of time, its node lost):
    resumable, with the SLURM job's state and log in the error column."""
    row = catalog.jobs().set_index("key").loc[key]
    where = describe(row.slurm_job, row.log) if isinstance(row.slurm_job, str) else ""
    note = f"its worker died ({where or type(error).__name__}); run again to resume"
    if row.status == "queued":
        catalog.requeue([key], note)
    else:
        catalog.mark_interrupted([key], note)


def _note_started(catalog: Catalog, directory: str, queued: dict, since: float) -> None:
    """Mark the queued jobs whose workers have noted their start as running."""
    for key in list(queued):
        record = read_start(directory, key, since)
        if record is not None:
            catalog.mark_running(key, record)
            del queued[key]


def _workers_gone(client, cluster) -> str | None:
    """Why a fixed-size SLURM cluster can run nothing more (every worker job ended and no
    worker connected), or None while it can."""
    jobs = slurm_worker_jobs(cluster)
    if not jobs or client.scheduler_info().get("workers"):
        return None
    states = {j: job_state(j)["state"] for j in jobs}
    if any(s in (None, "PENDING", "CONFIGURING", "RUNNING", "COMPLETING") for s in states.values()):
        return None
    return "no SLURM worker job left (" + ", ".join(f"{j} {s}" for j, s in states.items()) + ")"


def _drain_dask(
    client, catalog: Catalog, function, args: list, cluster=None, adaptive=False, progress=None
) -> None:
    """Submit every job, then record starts (from the workers' start notes) and results as
    they come. ``cluster``: a SLURM cluster, whose worker jobs go to the catalog's meta
    (``slurm_worker_jobs``); a fixed-size one is watched for losing every worker."""
    futures, since = {}, time.time()
    for a in args:
        futures[client.submit(_safe, function, *a, pure=False, key=f"job-{a[0]['key']}")] = a[0][
            "key"
        ]
    catalog.mark_queued(list(futures.values()))
    directory = str(catalog.path.parent)
    queued, pending, checked = dict.fromkeys(futures.values()), set(futures), time.time()
    submitted: list[str] = []
    try:
        while pending:
            _note_started(catalog, directory, queued, since)
            if cluster is not None and slurm_worker_jobs(cluster) != submitted:
                submitted = slurm_worker_jobs(cluster)
                catalog.set_meta("slurm_worker_jobs", " ".join(submitted))
            finished = [f for f in pending if f.done()]
            for future in finished:
                pending.discard(future)
                _finish(catalog, future, futures[future], directory, queued, since, progress)
            if (
                cluster is not None
                and not adaptive
                and time.time() - checked > WORKERS_GONE_SECONDS
            ):
                checked = time.time()
                gone = _workers_gone(client, cluster)
                if gone:
                    client.cancel(list(pending))
                    _abandon(catalog, [futures[f] for f in pending], gone)
                    return
            if not finished:
                time.sleep(POLL_SECONDS)
    except BaseException:
        client.cancel(list(pending))
        keys = [futures[f] for f in pending]
        catalog.mark_interrupted(keys)
        catalog.requeue(keys)
        raise


def _finish(
    catalog: Catalog, future, key: str, directory: str, queued: dict, since, progress=None
) -> None:
    """Record one finished Dask future (a progress line for it)."""
    from distributed.scheduler import KilledWorker

    _note_started(catalog, directory, {key: None} if key in queued else {}, since)
    queued.pop(key, None)
    try:
        _record(catalog, future.result(), progress)
    except Interrupted:
        catalog.mark_interrupted([key])
    except KilledWorker as err:
        _lost(catalog, key, err)
    except Exception as err:
        catalog.fail(key, f"dask task failed: {err}")


def _abandon(catalog: Catalog, keys: list[str], why: str) -> None:
    """Jobs left when the cluster can run nothing more: resumable, with the reason."""
    note = f"{why}; run again to resume"
    catalog.mark_interrupted(keys, note)
    catalog.requeue(keys, note)
