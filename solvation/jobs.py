"""The job function shared by every executor: build, run, analyse one design replica.

Each stage is resumable on its own (build is a no-op when done, run continues from its
checkpoint, analyses are recomputed from the trajectory), so a job killed anywhere
finishes when it is started again.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

DEFAULT_ANALYSES = ("structure", "hbonds", "transport")
# water_activity: osmotic route for [osmotic] designs, a KB point (a_cc) for salt + water
# boxes; opt in with [analyses] list = [...] (KB costs five RDF passes)
ANALYSES = (*DEFAULT_ANALYSES, "water_activity")


def job_directory(campaign_dir: str | Path, key: str) -> Path:
    return Path(campaign_dir) / "jobs" / key


def run_job(
    job: dict, campaign_dir: str, platform: str = "auto", device: int | None = None
) -> dict:
    """Build, run and analyse ``job`` (a Job as dict); returns descriptors and timings."""
    from solvation.analysis.universe import load_universe, run_directory_charges
    from solvation.descriptors import (
        hbond_descriptors,
        structure_descriptors,
        transport_descriptors,
        water_activity_descriptors,
    )
    from solvation.design import parse_design
    from solvation.run import run
    from solvation.systems import build

    start = time.perf_counter()
    directory = job_directory(campaign_dir, job["key"])
    design = parse_design(job["design"], job["design_name"])
    build(design, directory)
    info = run(directory, platform=platform, device=device, **job["protocol"])
    u = load_universe(directory)
    build_info = json.loads((directory / "build.json").read_text())
    descriptors = {}
    if "water_activity" in job["analyses"]:
        descriptors.update(water_activity_descriptors(build_info, directory))
    if "structure" in job["analyses"]:
        descriptors.update(structure_descriptors(u, build_info, directory))
    if "hbonds" in job["analyses"]:
        descriptors.update(hbond_descriptors(u, build_info, directory))
    if "transport" in job["analyses"]:
        descriptors.update(
            transport_descriptors(
                u,
                build_info,
                directory,
                info["protocol"]["temperature_k"],
                run_directory_charges(directory),
            )
        )
    result = {
        "key": job["key"],
        "descriptors": descriptors,
        "seconds": time.perf_counter() - start,
        "ns_per_day": info["ns_per_day"].get("production"),
        "platform": info["platform"],
    }
    (directory / "descriptors.json").write_text(json.dumps(result, indent=1))
    return result
