"""Wall time of one 4-job campaign through the slurm executor against the local executor.

    python benchmarks/bench_slurm.py [--dir /tmp/bench-slurm]

Starts a one-node SLURM with ``tools/slurm_localhost.sh`` (root on Debian; slurm-wlm and
munge are installed when missing). Then it runs the campaign of ``tests/test_slurm.py``
(ZnCl2 at 0.5 and 1 m x 2 replicas, 330 waters, 0.4 ps equilibration + 0.8 ps
production, structure analysis) twice: with the local executor at 2 slots, and with
``kind = "slurm"`` on 2 worker jobs of 1 CPU each. It prints both wall times, the
per-job seconds, and the time SLURM took to start and stop.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from test_slurm import CLUSTER, PROTOCOL, write_campaign  # noqa: E402

from solvation.campaigns import run_campaign  # noqa: E402


def _slurm(action: str, directory: Path) -> float:
    start = time.perf_counter()
    subprocess.run(
        ["bash", str(ROOT / "tools" / "slurm_localhost.sh"), action, str(directory)], check=True
    )
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dir", type=Path, default=Path("/tmp/bench-slurm"))
    args = parser.parse_args()
    root = args.dir
    os.environ["SLURM_CONF"] = str(root / "slurm" / "slurm.conf")
    up = _slurm("start", root / "slurm")
    rows = []
    try:
        for label, executor in (("local", {"kind": "local", "slots": 2}), ("slurm", CLUSTER)):
            path = write_campaign(root / label, f"bench-{label}", executor, PROTOCOL, 2)
            start = time.perf_counter()
            catalog = run_campaign(path, root / label / "out", platform="CPU")
            wall = time.perf_counter() - start
            jobs = catalog.jobs()
            assert set(jobs.status) == {"done"}, jobs.to_string()
            rows.append((label, wall, list(jobs.seconds.round(1))))
    finally:
        down = _slurm("stop", root / "slurm")
    print(f"SLURM start {up:.1f} s, stop {down:.1f} s")
    for label, wall, seconds in rows:
        print(f"{label:6s} 4 jobs in {wall:6.1f} s; per job {seconds}")


if __name__ == "__main__":
    main()
