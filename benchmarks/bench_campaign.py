"""Campaign overhead per job and Dask throughput, in one run.

    python benchmarks/bench_campaign.py [--jobs 40] [--work-s 0.5]

- Overhead: N jobs whose job function returns at once, run by the local executor; the
  wall time per job is scheduling plus catalog writes (target < 1 s).
- Throughput: N jobs that each burn ``work_s`` of CPU, on a Dask LocalCluster with 1 and
  with 2 worker processes; prints jobs/s and the speed-up.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import tomli_w


def _instant(job, directory, platform, device):
    return {
        "key": job["key"],
        "descriptors": {"D_zn": {"value": 1.0, "err": 0.1}},
        "seconds": 0.0,
        "ns_per_day": None,
        "platform": "none",
    }


def _busy(job, directory, platform, device, seconds=0.5):
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return _instant(job, directory, platform, device)


def write(root: Path, n: int) -> Path:
    (root / "base.toml").write_text(
        tomli_w.dumps({"name": "b", "salts": [{"formula": "ZnCl2", "concentration": "1 m"}]})
    )
    grid = {"forcefield.seed": list(range(1, n + 1))}
    path = root / "bench.toml"
    path.write_text(tomli_w.dumps({"name": "bench", "base": "base.toml", "grid": grid}))
    return path


def main() -> None:
    from dask.distributed import Client, LocalCluster

    from solvation.campaigns import run_campaign

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", type=int, default=40)
    parser.add_argument("--work-s", type=float, default=0.5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        path = write(root, args.jobs)
        t0 = time.perf_counter()
        run_campaign(path, root / "overhead", job_function=_instant)
        per_job = (time.perf_counter() - t0) / args.jobs
        print(
            f"overhead: {1000 * per_job:.1f} ms per job (load, schedule, catalog), {args.jobs} jobs"
        )
        rates = {}
        for workers in (1, 2):
            with (
                LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as c,
                Client(c) as client,
            ):
                t0 = time.perf_counter()
                run_campaign(path, root / f"dask{workers}", client=client, job_function=_busy)
                rates[workers] = args.jobs / (time.perf_counter() - t0)
            print(f"dask LocalCluster, {workers} worker(s): {rates[workers]:.2f} jobs/s")
        print(f"2 vs 1 workers: {rates[2] / rates[1]:.2f}x")


if __name__ == "__main__":
    main()
