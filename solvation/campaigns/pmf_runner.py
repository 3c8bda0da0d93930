"""``solvation pmf``: the umbrella windows of a PMF run concurrently through the campaign
executor (local process pool, Dask, or SLURM with a cluster table like a campaign's
``[executor]``), one catalog job per window.

The PMF directory gets a ``catalog.sqlite`` (status, timings, errors of each window).
Running the same command again skips finished windows and resumes interrupted ones;
failed ones run again only with ``retry_failed``.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from solvation.engine.umbrella import UmbrellaError, run_window
from solvation.rundir import UmbrellaInfo

from .catalog import Catalog
from .pmf import setup_pmf
from .runner import drain, job_share
from .slurm import check_options


@dataclass(frozen=True)
class WindowJob:
    """One window as a catalog job (the fields ``Catalog.register`` records).

    Attributes
    ----------
    key : str
    design_name : str
        'window-NNN'.
    replica : int
    design : dict
        The window's directory and centre (nm).
    protocol : dict
    """

    key: str
    design_name: str  # window-NNN
    replica: int
    design: dict  # the window's directory and centre
    protocol: dict


def _window_job(job: dict, directory: str, platform: str = "auto", device=None) -> dict:
    """Run (or resume) one window; its record for the catalog."""
    start = time.perf_counter()
    if job.get("threads"):
        os.environ.setdefault("OPENMM_CPU_THREADS", str(job["threads"]))
    info = run_window(Path(directory) / job["design"]["window"], job["protocol"], platform, device)
    return {
        "key": job["key"],
        "descriptors": {},
        "seconds": time.perf_counter() - start,
        "ns_per_day": info.ns_per_day.get("production"),
        "platform": info.platform,
    }


def _jobs(setup: UmbrellaInfo) -> list[WindowJob]:
    jobs = []
    for k, (name, centre) in enumerate(zip(setup.windows, setup.centres_nm, strict=True)):
        spec = {"window": name, "centre_nm": centre}
        text = json.dumps({"window": spec, "protocol": setup.protocol}, sort_keys=True)
        key = hashlib.sha256(text.encode()).hexdigest()[:12]
        jobs.append(WindowJob(key, f"window-{k:03d}", 0, spec, setup.protocol))
    return jobs


def run_pmf(
    source: str | Path,
    out: str | Path | None = None,
    executor: str = "local",
    slots: int = 1,
    scheduler: str | None = None,
    client=None,
    platform: str = "auto",
    retry_failed: bool = False,
    protocol: dict | None = None,
    device: int | None = None,
    cluster: dict | None = None,
    **settings,
) -> UmbrellaInfo:
    """Set up and run every unfinished window of the PMF of ``source`` (a design file, or a
    build/run directory) into ``out`` (default: RUN/pmf; required for a design file).

    ``settings``: the design's [pmf] keys (``ion``, ``from``, ``to``, ``spacing``,
    ``force_constant``, ``equilibration``, ``window_time``, ``surface_distance``,
    ``shell_cutoff``, ``pull_time``; for a pair PMF ``pair``, ``partner_atom``,
    ``contact``, ``boundary``, ``tail``), overriding its table. ``protocol``: overrides
    for the parent run when it has to be run. Raises UmbrellaError naming the first failed window.

    Parameters
    ----------
    source : str or Path
        A design file, or a build/run directory.
    out : str or Path, optional
        The PMF directory.
    executor : str
        'local', 'dask' or 'slurm' (as for campaigns; slurm takes its options from
        ``cluster``).
    slots : int
        Windows run side by side.
    scheduler : str, optional
        Dask scheduler address.
    client : dask.distributed.Client, optional
    platform : str
        OpenMM platform name, or "auto".
    retry_failed : bool
        Run failed windows again.
    protocol : dict, optional
        Overrides for the parent run.
    device : int, optional
        GPU index.
    cluster : dict, optional
        The slurm executor's options (a campaign's ``[executor]`` table, kind slurm).
    **settings
        The design's [pmf] keys (see above).
    """
    cluster = {"kind": "slurm", **(cluster or {})} if executor == "slurm" else None
    if cluster is not None:
        check_options(cluster, "the cluster options")
    out, setup = setup_pmf(source, out, platform, protocol, device, **settings)
    catalog = Catalog(out)
    catalog.claim("pmf", hashlib.sha256(setup.model_dump_json().encode()).hexdigest()[:16])
    jobs = _jobs(setup)
    catalog.register(jobs)
    todo = [
        j
        for j in jobs
        if catalog.status(j.key) != "done" and (retry_failed or catalog.status(j.key) != "failed")
    ]
    share = job_share(executor, client, slots, cluster) if cluster is not None else {}
    args = [({**asdict(j), **share}, str(out), platform, device) for j in todo]
    drain(catalog, _window_job, args, executor, slots, scheduler, client, cluster)
    failed = catalog.jobs().query("status == 'failed'")
    if len(failed):
        first = failed.iloc[0]
        raise UmbrellaError(
            f"{len(failed)} window(s) failed, first {first.design}: "
            f"{str(first.error).splitlines()[0]}; fix and run again with --retry-failed"
        )
    return setup
