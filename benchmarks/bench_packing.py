"""Packing small jobs on one device: 1, 2, 4 and 8 campaign jobs at once, aggregate ns/day.

    python benchmarks/bench_packing.py [--jobs 1,2,4,8] [--n-water 930]
        [--production-ps 20] [--platform CUDA]
    python benchmarks/bench_packing.py --quick   # CI-sized check on the CPU platform

For each N, a campaign of N replicas of a 2 m ZnSO4 box (930 waters: about 3k atoms) runs
through the campaign executor (local, N slots; with one GPU every job gets device 0), MD
only (no analyses). Aggregate ns/day is the sum of the jobs' production ns/day (the jobs
run side by side); the ratio is against one job alone. Target on one H100/H200: 8 jobs
give >= 2x the aggregate ns/day of one. ``--quick``: CPU, 1 and 2 jobs of ~1000 atoms,
0.1 ps each (shows that it runs, not a figure).

Each round runs in a fresh process: a process that has run OpenMM's CPU platform and
then forks workers (the N-slot executor) was seen to hang its workers.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import tomli_w

from solvation.campaigns.runner import run_campaign
from solvation.rundir import read_result


def write_campaign(root: Path, replicas: int, n_water: int, production_ps: float) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    base = {
        "name": "pack",
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "box": {"n_water": n_water},
    }
    (root / "base.toml").write_text(tomli_w.dumps(base))
    report = max(production_ps / 10, 0.02)
    campaign = {
        "name": f"pack{replicas}",
        "base": "base.toml",
        "replicas": replicas,
        "protocol": {
            "equilibration": f"{max(production_ps / 5, 0.04):g} ps",
            "production": f"{production_ps:g} ps",
            "report_every": f"{report:g} ps",
            "checkpoint_every": f"{production_ps:g} ps",
            "minimize_max_iterations": 200,
        },
        "analyses": {"list": []},
        "executor": {"kind": "local", "slots": replicas},
    }
    path = root / "campaign.toml"
    path.write_text(tomli_w.dumps(campaign))
    return path


def pack(root: Path, n: int, n_water: int, production_ps: float, platform: str) -> dict:
    """Run n jobs at once; their summed production ns/day and the wall time."""
    path = write_campaign(root / f"n{n}", n, n_water, production_ps)
    t0 = time.perf_counter()
    catalog = run_campaign(path, root / f"n{n}" / "out", platform=platform, slots=n)
    wall = time.perf_counter() - t0
    jobs = catalog.jobs()
    if list(jobs.status) != ["done"] * n:
        raise SystemExit(f"{n} jobs: not all finished: {jobs.error.dropna().tolist()[:1]}")
    speeds = [read_result(root / f"n{n}" / "out" / "jobs" / k).ns_per_day for k in jobs.key]
    return {"jobs": n, "aggregate_ns_per_day": sum(speeds), "per_job": speeds, "wall_s": wall}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--jobs", default="1,2,4,8")
    parser.add_argument("--n-water", type=int, default=930)
    parser.add_argument("--production-ps", type=float, default=20.0)
    parser.add_argument("--platform", default="CUDA")
    parser.add_argument("--quick", action="store_true", help="CPU, 1 and 2 tiny jobs")
    args = parser.parse_args()
    if args.quick:
        args.jobs, args.n_water, args.production_ps, args.platform = "1,2", 300, 0.1, "CPU"
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.jobs.split(",")):
            # each round in a fresh process: forking a process that already ran OpenMM
            # (the one-job round runs in process) can hang the forked workers
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as ex:
                args_n = (Path(tmp), n, args.n_water, args.production_ps, args.platform)
                rows.append(ex.submit(pack, *args_n).result())
            r = rows[-1]
            print(
                f"{n} job(s) at once: aggregate {r['aggregate_ns_per_day']:.1f} ns/day "
                f"({r['aggregate_ns_per_day'] / rows[0]['aggregate_ns_per_day']:.2f}x one job; "
                f"per job {', '.join(f'{s:.1f}' for s in r['per_job'])}; wall {r['wall_s']:.0f} s)",
                flush=True,
            )
    print(json.dumps({"platform": args.platform, "rows": rows}))


if __name__ == "__main__":
    main()
