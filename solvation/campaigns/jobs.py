"""The job function shared by every executor: build, run, analyse one design replica.

Each stage is resumable on its own (build is a no-op when done, run continues from its
checkpoint, analyses are recomputed from the trajectory), so a job killed anywhere
finishes when it is started again. The per-frame analyses (structure, H-bonds, transport)
run in one pass over the trajectory (``solvation.runs.analyses_of_run``); the job's descriptors
and the frames its analyses read go to ``result.json`` (``solvation.rundir.JobResult``).
A job given ``threads`` (the campaign's cores / slots) runs its kernels and OpenMM's CPU
platform on that many threads.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from solvation.analysis.threads import set_threads
from solvation.analysis.universe import load_universe
from solvation.design import parse_design
from solvation.engine import run
from solvation.locks import holder, holder_alive, lock_path
from solvation.rundir import JobResult, read_build, write_result
from solvation.runs.analyses import analyses_of_run
from solvation.runs.selections import run_directory_charges
from solvation.systems import build

from .descriptors import (
    hbond_descriptors,
    structure_descriptors,
    transport_descriptors,
    water_activity_descriptors,
)
from .metad import metad_descriptors
from .pmf import pmf_descriptors

DEFAULT_ANALYSES = ("structure", "hbonds", "transport")
# water_activity: osmotic route for [osmotic] designs, a KB point (a_cc) for salt + water
# boxes; opt in with [analyses] list = [...] (KB costs five RDF passes).
# pmf: umbrella sampling of the design's [pmf] ion to its slab, or of its [pmf] pair
# (windows run one after another inside the job)
# metad: well-tempered metadynamics on the design's [metad] contact pairs, reweighted
ANALYSES = (*DEFAULT_ANALYSES, "water_activity", "pmf", "metad")


def job_directory(campaign_dir: str | Path, key: str) -> Path:
    """The directory of job ``key`` in a campaign directory.

    Parameters
    ----------
    campaign_dir : str or Path
    key : str
        Job key.
    """
    return Path(campaign_dir) / "jobs" / key


def with_processes(campaign_dir: str | Path, jobs):
    """The catalog's job table with the process of each running job ('pid N on HOST',
    from the job's lock file) and the jobs whose process has ended marked 'dead' (a
    killed campaign left them 'running'; `solvation campaign run` resumes them).

    Parameters
    ----------
    campaign_dir : str or Path
        The campaign directory.
    jobs : pandas.DataFrame
        ``Catalog.jobs()``.
    """
    jobs = jobs.copy()
    runner_alive = holder_alive(lock_path(campaign_dir)) is not False
    process, status = [], []
    for key, state in zip(jobs.key, jobs.status, strict=True):
        lock = lock_path(job_directory(campaign_dir, key), "job")
        pid, host = holder(lock)
        alive = holder_alive(lock) if pid is not None else False
        where = f"pid {pid} on {host or '?'}" if pid is not None else ""
        if state == "running" and alive is False and not runner_alive:
            state = "dead"
        elif state == "running" and alive is None:
            where += " (not checked: another host)"
        process.append(where if state in ("running", "dead") else "")
        status.append(state)
    jobs["status"], jobs["process"] = status, process
    return jobs


def run_job(
    job: dict, campaign_dir: str, platform: str = "auto", device: int | None = None
) -> dict:
    """Build, run and analyse ``job`` (a Job as dict); returns its JobResult as a dict.

    Parameters
    ----------
    job : dict
        A Job as dict.
    campaign_dir : str
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    start = time.perf_counter()
    if job.get("threads"):
        set_threads(job["threads"])
        os.environ.setdefault("OPENMM_CPU_THREADS", str(job["threads"]))
    directory = job_directory(campaign_dir, job["key"])
    design = parse_design(job["design"], job["design_name"])
    build(design, directory)
    info = run(directory, platform=platform, device=device, **job["protocol"])
    md_seconds = time.perf_counter() - start
    u = load_universe(directory)
    built = read_build(directory)
    descriptors = {}
    if "water_activity" in job["analyses"]:
        descriptors.update(water_activity_descriptors(built, directory))
    charges = run_directory_charges(directory)
    done = analyses_of_run(
        u, built, job["analyses"], info.temperature_k, charges, directory=directory
    )
    if done.shells is not None:
        descriptors.update(structure_descriptors(u, built, directory, done.shells))
    if done.hbonds is not None:
        descriptors.update(hbond_descriptors(u, built, directory, done.hbonds))
    if done.transport is not None:
        descriptors.update(
            transport_descriptors(u, built, directory, info.temperature_k, charges, done.transport)
        )
    if "pmf" in job["analyses"]:
        descriptors.update(pmf_descriptors(directory, platform, device))
    if "metad" in job["analyses"]:
        descriptors.update(metad_descriptors(directory, platform, device))
    seconds = time.perf_counter() - start
    result = JobResult(
        key=job["key"],
        descriptors=descriptors,
        seconds=seconds,
        ns_per_day=info.ns_per_day.get("production"),
        platform=info.platform,
        frames_read=done.frames_read,
        analysis_seconds=seconds - md_seconds,
    )
    write_result(directory, result)
    return result.model_dump(mode="json")
