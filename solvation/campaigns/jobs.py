"""The job function shared by every executor: build, run, analyse one design replica.

Each stage is resumable on its own (build is a no-op when done, run continues from its
checkpoint, analyses are recomputed from the trajectory), so a job killed anywhere
finishes when it is started again. The job's descriptors go to ``result.json``
(``solvation.rundir.JobResult``).
"""

from __future__ import annotations

import time
from pathlib import Path

from solvation.analysis.universe import load_universe, run_directory_charges
from solvation.design import parse_design
from solvation.engine import run
from solvation.rundir import JobResult, read_build, write_result
from solvation.systems import build

from .descriptors import (
    hbond_descriptors,
    structure_descriptors,
    transport_descriptors,
    water_activity_descriptors,
)
from .pmf import pmf_descriptors

DEFAULT_ANALYSES = ("structure", "hbonds", "transport")
# water_activity: osmotic route for [osmotic] designs, a KB point (a_cc) for salt + water
# boxes; opt in with [analyses] list = [...] (KB costs five RDF passes).
# pmf: umbrella sampling of the design's [pmf] ion to its slab (windows run one after
# another inside the job)
ANALYSES = (*DEFAULT_ANALYSES, "water_activity", "pmf")


def job_directory(campaign_dir: str | Path, key: str) -> Path:
    """The directory of job ``key`` in a campaign directory."""
    return Path(campaign_dir) / "jobs" / key


def run_job(
    job: dict, campaign_dir: str, platform: str = "auto", device: int | None = None
) -> dict:
    """Build, run and analyse ``job`` (a Job as dict); returns its JobResult as a dict."""
    start = time.perf_counter()
    directory = job_directory(campaign_dir, job["key"])
    design = parse_design(job["design"], job["design_name"])
    build(design, directory)
    info = run(directory, platform=platform, device=device, **job["protocol"])
    u = load_universe(directory)
    built = read_build(directory)
    descriptors = {}
    if "water_activity" in job["analyses"]:
        descriptors.update(water_activity_descriptors(built, directory))
    if "structure" in job["analyses"]:
        descriptors.update(structure_descriptors(u, built, directory))
    if "hbonds" in job["analyses"]:
        descriptors.update(hbond_descriptors(u, built, directory))
    if "transport" in job["analyses"]:
        descriptors.update(
            transport_descriptors(
                u, built, directory, info.temperature_k, run_directory_charges(directory)
            )
        )
    if "pmf" in job["analyses"]:
        descriptors.update(pmf_descriptors(directory, platform, device))
    result = JobResult(
        key=job["key"],
        descriptors=descriptors,
        seconds=time.perf_counter() - start,
        ns_per_day=info.ns_per_day.get("production"),
        platform=info.platform,
    )
    write_result(directory, result)
    return result.model_dump(mode="json")
