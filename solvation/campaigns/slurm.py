"""The slurm executor: Dask workers submitted as SLURM batch jobs (dask-jobqueue
``SLURMCluster``), and what ``campaign status`` says about them.

A campaign's ``[executor]`` table with ``kind = "slurm"`` takes these keys (checked when
the campaign file is read, before anything runs):

=================  ======================================================================
partition          ``#SBATCH -p``
account            ``#SBATCH -A``
walltime           ``#SBATCH -t``, e.g. "24:00:00" (a worker job's lifetime; jobs it leaves
                   unfinished resume on the next ``campaign run``)
memory             memory of one worker job, e.g. "16 GB" (default "4 GB")
cpus_per_job       CPU threads of one campaign job (default 1): analysis kernels, OpenMM CPU
gpus_per_job       GPUs of one worker job (default 0)
gpu_directive      "gres" (``--gres=gpu:N``, default) or "gpus" (``--gpus=N``)
jobs_per_gpu       campaign jobs sharing one GPU at a time (packing, default 1): a worker job
                   runs gpus_per_job x jobs_per_gpu Dask worker processes
jobs               worker jobs kept submitted (default 1; fixed size)
maximum_jobs       adaptive scaling instead: up to this many worker jobs while jobs wait,
                   none when the queue is empty (``minimum_jobs``, default 0)
log_directory      worker logs (default CAMPAIGN_DIR/slurm-logs)
job_name           ``#SBATCH -J`` (default "solvation")
prologue           shell lines run before the worker starts (``module load ...``)
extra_directives   more ``#SBATCH`` options, e.g. ["--constraint=a100", "--qos=long"]
interface          network interface of the scheduler and workers, e.g. "ib0"
python             the Python that starts workers on the nodes (default this one)
jobqueue           any other SLURMCluster keyword, passed as given
=================  ======================================================================

A campaign job runs in one Dask worker process with one task slot, so a worker job of
gpus_per_job x jobs_per_gpu processes runs that many campaign jobs at once; each process
gets GPU ``index // jobs_per_gpu`` of its job's GPUs. The scheduler runs in the campaign
process with ``allowed-failures = 0``: a worker lost with its SLURM job (scancel,
walltime, node failure) ends the campaign jobs it was running as 'interrupted', with the
SLURM job's state and log in the catalog, and the next ``campaign run`` resumes them
from their checkpoints.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import time
from pathlib import Path

from solvation.errors import SolvationError

GPU_DIRECTIVES = ("gres", "gpus")
_TEXT = (str,)
_INT = (int,)
_LIST = (list,)
OPTIONS = {
    "kind": _TEXT,
    "partition": _TEXT,
    "account": _TEXT,
    "walltime": _TEXT,
    "memory": _TEXT,
    "cpus_per_job": _INT,
    "gpus_per_job": _INT,
    "gpu_directive": _TEXT,
    "jobs_per_gpu": _INT,
    "jobs": _INT,
    "maximum_jobs": _INT,
    "minimum_jobs": _INT,
    "log_directory": _TEXT,
    "job_name": _TEXT,
    "prologue": _LIST,
    "extra_directives": _LIST,
    "interface": _TEXT,
    "python": _TEXT,
    "jobqueue": (dict,),
}
MINIMUM = {"cpus_per_job": 1, "gpus_per_job": 0, "jobs_per_gpu": 1, "jobs": 1, "maximum_jobs": 1}
MINIMUM["minimum_jobs"] = 0
LOG_DIRECTORY = "slurm-logs"
COMMAND_SECONDS = 20.0


class SlurmError(SolvationError):
    """A slurm executor option that cannot work, or SLURM that cannot be reached."""


def check_options(table: dict, where: str) -> None:
    """Refuse unknown keys and values of the wrong type or range in a slurm ``[executor]``.

    Parameters
    ----------
    table : dict
        The ``[executor]`` table (kind = "slurm").
    where : str
        The campaign file, for the message.

    Raises
    ------
    SlurmError
        Naming the first bad key.
    """
    for key, value in table.items():
        if key not in OPTIONS:
            raise SlurmError(
                f"{where}: [executor] {key!r} is not a slurm executor option; use "
                f"{', '.join(k for k in OPTIONS if k != 'kind')}"
            )
        types = OPTIONS[key]
        if not isinstance(value, types) or isinstance(value, bool):
            kind = {str: "a string", int: "a whole number", list: "a list", dict: "a table"}
            raise SlurmError(f"{where}: [executor] {key} must be {kind[types[0]]}, got {value!r}")
        if key in MINIMUM and value < MINIMUM[key]:
            raise SlurmError(f"{where}: [executor] {key} must be >= {MINIMUM[key]}, got {value}")
    if table.get("gpu_directive", "gres") not in GPU_DIRECTIVES:
        raise SlurmError(f"{where}: [executor] gpu_directive must be 'gres' or 'gpus'")
    if "jobs" in table and "maximum_jobs" in table:
        raise SlurmError(
            f"{where}: [executor] give jobs (a fixed number of worker jobs) or maximum_jobs "
            "(adaptive scaling), not both"
        )
    if table.get("minimum_jobs", 0) > table.get("maximum_jobs", table.get("minimum_jobs", 0)):
        raise SlurmError(f"{where}: [executor] minimum_jobs exceeds maximum_jobs")


def processes_per_job(options: dict) -> int:
    """Dask worker processes (campaign jobs at once) in one SLURM worker job.

    Parameters
    ----------
    options : dict
        The slurm ``[executor]`` table.
    """
    return max(1, int(options.get("gpus_per_job", 0))) * int(options.get("jobs_per_gpu", 1))


def cluster_kwargs(options: dict, campaign_dir: str | Path) -> dict:
    """SLURMCluster keywords of a slurm ``[executor]`` table.

    Parameters
    ----------
    options : dict
        The slurm ``[executor]`` table.
    campaign_dir : str or Path
        Where the worker logs go by default (``slurm-logs/``).
    """
    processes = processes_per_job(options)
    gpus = int(options.get("gpus_per_job", 0))
    directives = []
    if gpus:
        gres = options.get("gpu_directive", "gres") == "gres"
        directives.append(f"--gres=gpu:{gpus}" if gres else f"--gpus={gpus}")
    directives += [str(d) for d in options.get("extra_directives", [])]
    logs = Path(options.get("log_directory", Path(campaign_dir) / LOG_DIRECTORY))
    kwargs = {
        "cores": processes,  # one task slot per worker process: one campaign job each
        "processes": processes,
        "job_cpu": processes * int(options.get("cpus_per_job", 1)),
        "memory": options.get("memory", "4 GB"),
        "queue": options.get("partition"),
        "account": options.get("account"),
        "walltime": options.get("walltime"),
        "job_name": options.get("job_name", "solvation"),
        "log_directory": str(logs.resolve()),
        "job_extra_directives": directives,
        "job_script_prologue": [str(line) for line in options.get("prologue", [])],
        "interface": options.get("interface"),
        "scheduler_options": {"dashboard_address": ":0"},
    }
    if "python" in options:
        kwargs["python"] = options["python"]
    return {**kwargs, **options.get("jobqueue", {})}


def start_cluster(options: dict, campaign_dir: str | Path):
    """A SLURMCluster for a slurm ``[executor]`` table, scaled or adaptive; its scheduler
    (in this process) gives up on a task whose worker dies (allowed-failures 0) and hands
    a worker one task at a time (worker-saturation 1.0).

    Parameters
    ----------
    options : dict
        The slurm ``[executor]`` table.
    campaign_dir : str or Path

    Returns
    -------
    cluster : dask_jobqueue.SLURMCluster
    adaptive : bool
        Whether the cluster scales itself (maximum_jobs given).
    """
    try:
        import dask
        from dask_jobqueue import SLURMCluster
    except ImportError:
        raise SlurmError("the slurm executor needs `pip install 'solvation[cluster]'`") from None
    settings = {
        "distributed.scheduler.allowed-failures": 0,
        "distributed.scheduler.worker-saturation": 1.0,
    }
    with dask.config.set(settings):
        try:
            cluster = SLURMCluster(**cluster_kwargs(options, campaign_dir))
        except (ValueError, TypeError) as err:
            raise SlurmError(f"cannot start the SLURM cluster: {err}") from None
    if "maximum_jobs" in options:
        cluster.adapt(
            minimum_jobs=int(options.get("minimum_jobs", 0)),
            maximum_jobs=int(options["maximum_jobs"]),
        )
        return cluster, True
    cluster.scale(jobs=int(options.get("jobs", 1)))
    return cluster, False


def worker_jobs(cluster) -> list[str]:
    """SLURM job ids of a cluster's submitted worker jobs.

    Parameters
    ----------
    cluster : dask_jobqueue.SLURMCluster
    """
    return [str(w.job_id) for w in list(cluster.workers.values()) if getattr(w, "job_id", None)]


def _run(args: list[str]) -> str | None:
    """stdout of a SLURM command, None when it cannot run or fails."""
    try:
        out = subprocess.run(args, capture_output=True, text=True, timeout=COMMAND_SECONDS)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return out.stdout if out.returncode == 0 else None


def _scontrol_fields(job_id: str) -> dict[str, str]:
    """``scontrol show job -o ID`` as a dict (empty when SLURM forgot the job)."""
    out = _run(["scontrol", "show", "job", "-o", str(job_id)]) or ""
    fields = {}
    for item in out.split():
        if "=" in item:
            key, value = item.split("=", 1)
            fields.setdefault(key, value)
    return fields


def job_state(job_id: str) -> dict[str, str | None]:
    """State of SLURM job ``job_id``: ``state`` (PENDING, RUNNING, COMPLETED, CANCELLED,
    TIMEOUT, FAILED, NODE_FAIL ...; None when SLURM no longer knows the job or cannot be
    asked), ``reason`` (why it waits or ended) and ``log`` (its stderr file).

    Parameters
    ----------
    job_id : str
    """
    fields = _scontrol_fields(job_id)
    reason = fields.get("Reason")
    log = fields.get("StdErr")  # the file name pattern as given to sbatch
    for pattern in ("%J", "%j"):
        log = log.replace(pattern, str(job_id)) if log else log
    return {
        "state": fields.get("JobState"),
        "reason": None if reason in (None, "None") else reason,
        "log": log,
    }


def where_am_i() -> dict:
    """Where this process runs: host, start time (s since the epoch), and in a SLURM job
    its id and stderr log (``SLURM_JOB_ID``; None elsewhere)."""
    job = os.environ.get("SLURM_JOB_ID")
    return {
        "host": socket.gethostname(),
        "started": time.time(),
        "slurm_job": job,
        "log": job_state(job)["log"] if job else None,
    }


def worker_device(gpus_per_job: int, jobs_per_gpu: int) -> int | None:
    """The GPU of this Dask worker process among its SLURM job's GPUs: process index k
    (dask-jobqueue names a job's processes NAME-0, NAME-1 ...) gets GPU k // jobs_per_gpu;
    None with one GPU or none (the job sees only its own: CUDA_VISIBLE_DEVICES).

    Parameters
    ----------
    gpus_per_job : int
    jobs_per_gpu : int
    """
    if gpus_per_job <= 1:
        return None
    with contextlib.suppress(ImportError, ValueError):
        from distributed import get_worker

        index = int(str(get_worker().name).rsplit("-", 1)[-1])
        return (index // jobs_per_gpu) % gpus_per_job
    return None


def describe(job_id: str | None, log: str | None = None) -> str:
    """'SLURM job 123: CANCELLED (reason); log PATH' for messages and ``campaign status``.

    Parameters
    ----------
    job_id : str or None
    log : str, optional
        The log recorded when the job started (used when SLURM has forgotten the job).
    """
    if not job_id:
        return ""
    state = job_state(job_id)
    text = f"SLURM job {job_id}: {state['state'] or 'gone from the queue'}"
    if state["reason"]:
        text += f" ({state['reason']})"
    path = log or state["log"]
    return f"{text}; log {path}" if path else text
