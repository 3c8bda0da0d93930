"""GPU set: ns/day of 2 m ZnSO4 boxes of about 5k, 20k and 100k atoms at 2 fs and at 4 fs
(HMR), with the 12-6-4 Zn2+ model and with the plain 12-6 CM set, on CUDA.

    python benchmarks/bench_gpu.py [--platform CUDA] [--steps 20000] [--sizes 5000,20000,100000]
    python benchmarks/bench_gpu.py --quick      # CI-sized check on the CPU platform

Each line also gives the plain OpenMM loop on the same System and the ratio (see
`solvation bench md`). Meant for a machine with a GPU and `pip install -e ".[cuda]"`;
``--quick`` (CPU, one ~1000-atom box, 20 steps, one repeat) only shows that it runs.
Targets: ours >= 0.97 of the plain loop; 20k atoms at 4 fs HMR >= 1500 ns/day on one
H100/H200.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
from pathlib import Path

from solvation.design import parse_design
from solvation.engine import bench_md
from solvation.systems import build

ATOMS_PER_WATER = 3.22  # 2 m ZnSO4 in TIP3P: (3 n_w + 6 n_salt) / n_w


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--platform", default="CUDA")
    parser.add_argument("--steps", type=int, default=20000)
    parser.add_argument("--sizes", default="5000,20000,100000")
    parser.add_argument("--repeats", type=int, default=2, help="best of N timings")
    parser.add_argument("--minimize", type=int, default=1000, help="iterations before timing")
    parser.add_argument("--quick", action="store_true", help="CPU, 1000 atoms, 20 steps")
    args = parser.parse_args()
    if args.quick:
        args.platform, args.steps, args.sizes, args.repeats = "CPU", 20, "1000", 1
        args.minimize = 200
    print(
        f"{'atoms':>7} {'zn':>7} {'dt':>5} {'solvation ns/day':>17} {'plain ns/day':>13} "
        f"{'ratio':>6}"
    )
    with tempfile.TemporaryDirectory() as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            for zn in ("12-6-4", "cm"):
                design = parse_design(
                    {
                        "name": f"gpu-{size}-{zn.replace('-', '')}",
                        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
                        "box": {"n_water": round(size / ATOMS_PER_WATER)},
                        "forcefield": {"family": "full", "zn": zn},
                    }
                )
                built = build(design, Path(tmp) / design.name)
                for hmr in (False, True):
                    r = bench_md(
                        built.path,
                        args.steps,
                        args.platform,
                        hmr=hmr,
                        repeats=args.repeats,
                        minimize=args.minimize,
                    )
                    print(
                        f"{r['n_atoms']:>7} {zn:>7} {r['timestep_fs']:>4g}f "
                        f"{r['solvation_ns_per_day']:>17.1f} {r['plain_openmm_ns_per_day']:>13.1f}"
                        f" {r['ratio']:>6.3f}",
                        flush=True,
                    )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
