"""Execute a campaign locally (process pool) or on Dask, recording every job in the catalog.

The same job function (``jobs.run_job``) runs in both executors. Finished jobs are
skipped on a re-run, interrupted ones resume, failed ones are retried only with
``retry_failed``; one failing job never stops the others and its error is stored.
"""

from __future__ import annotations

import multiprocessing
import subprocess
import traceback
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict
from pathlib import Path

from solvation.engine import available_platforms
from solvation.errors import SolvationError

from .campaign import Campaign, load_campaign
from .catalog import Catalog
from .jobs import run_job


class ExecutorError(SolvationError):
    """The executor cannot be started or reached."""


def _safe(function, job: dict, directory: str, platform: str, device):
    """Run one job; exceptions come back as a result so that the others go on.
    KeyboardInterrupt and SystemExit are not caught: they stop the campaign."""
    try:
        return function(job, directory, platform, device)
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
    executor: str = "local",
    scheduler: str | None = None,
    slots: int | None = None,
    retry_failed: bool = False,
    platform: str = "auto",
    job_function=run_job,
    client=None,
) -> Catalog:
    """Run every unfinished job of the campaign at ``path``; returns the catalog."""
    campaign: Campaign = load_campaign(path)
    directory = Path(directory) if directory else Path(path).parent / campaign.name
    catalog = Catalog(directory)
    catalog.claim(campaign.name, campaign.file_hash)
    catalog.register(campaign.jobs)
    todo = [
        j
        for j in campaign.jobs
        if catalog.status(j.key) != "done" and (retry_failed or catalog.status(j.key) != "failed")
    ]
    slots = slots or int(campaign.executor.get("slots", 1))
    gpus = _gpu_count()
    args = [
        (asdict(j), str(directory), platform, (k % gpus) if gpus else None)
        for k, j in enumerate(todo)
    ]
    drain(catalog, job_function, args, executor, slots, scheduler, client, campaign.executor)
    return catalog


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
    ``options``: the campaign's [executor] table)."""
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
    if "error" in result:
        catalog.fail(result["key"], result["error"])
    else:
        catalog.finish(result["key"], result)


def _drain_local(catalog: Catalog, function, args: list, slots: int) -> None:
    """Run the jobs here (one slot) or in a process pool. Ctrl-C stops the campaign and
    leaves the jobs that were running resumable ('interrupted', not failed)."""
    pending: set[str] = set()
    try:
        if slots <= 1:  # in process: the progress bars of the job stay visible
            for a in args:
                pending = {a[0]["key"]}
                catalog.mark_running(a[0]["key"])
                _record(catalog, _safe(function, *a))
            pending = set()
            return
        _drain_pool(catalog, function, args, slots, pending)
    except KeyboardInterrupt:
        catalog.mark_interrupted(sorted(pending))
        raise


def _drain_pool(catalog: Catalog, function, args: list, slots: int, pending: set) -> None:
    # spawn, not fork: a process that has run OpenMM (its CPU platform's threads) can
    # leave a forked worker deadlocked (seen with `solvation pmf`, which runs the parent
    # system in this process before its windows)
    pool = ProcessPoolExecutor(max_workers=slots, mp_context=multiprocessing.get_context("spawn"))
    try:
        futures = {}
        for a in args:
            catalog.mark_running(a[0]["key"])
            pending.add(a[0]["key"])
            futures[pool.submit(_safe, function, *a)] = a[0]["key"]
        for future in as_completed(futures):
            key = futures[future]
            try:
                _record(catalog, future.result())
            except Exception as err:  # the worker process died
                catalog.fail(key, f"worker process failed: {err}")
            pending.discard(key)
    finally:
        pool.shutdown(wait=not pending, cancel_futures=True)


def _drain_dask(client, catalog: Catalog, function, args: list) -> None:
    from dask.distributed import as_completed as dask_completed

    futures = {}
    for a in args:
        catalog.mark_running(a[0]["key"])
        futures[client.submit(_safe, function, *a, pure=False, key=f"job-{a[0]['key']}")] = a[0][
            "key"
        ]
    for future in dask_completed(list(futures)):
        try:
            _record(catalog, future.result())
        except Exception as err:
            catalog.fail(futures[future], f"dask task failed: {err}")
