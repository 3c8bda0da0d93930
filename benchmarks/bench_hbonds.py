"""H-bond statistics speed and memory against MDAnalysis HydrogenBondAnalysis, in one run.

    python benchmarks/bench_hbonds.py [--frames 500] [--n-water 3300] [--run-dir DIR]
        [--no-load]

Uses real MD of a 2 m ZnSO4 box (>10k atoms) made by our engine (2 ps equilibration, then
N frames 20 fs apart; about 5-10 min on 2 CPU cores), or ``--run-dir``. Then, each in a
fresh process, timed after the Universe is loaded:

- ours, defaults: ``hydrogen_bonds(u)``, the path of ``solvation analyze hbonds`` with its
  defaults (Luzar-Chandler 3.5 A / 30 degrees, the Zn2+-water cutoff found from g(r) in
  the same pass, every network statistic: classes, partners, shell and free water,
  tetrahedral q, largest cluster);
- ours, MDAnalysis' criterion: the same call with donor-acceptor < 3.0 A, D-H...A > 150
  degrees (water only), automatic cation cutoff included;
- MDAnalysis: ``HydrogenBondAnalysis`` with that criterion plus ``count_by_time()``.

Alone and with a second CPU-bound process running (unless ``--no-load``). Prints wall
times, ratios and peak RSS (ours also at a fifth of the frames).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import CpuLoad, md_run_dir, timed_child

CHILD = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = mda.Universe(top, traj)
if tool.startswith("ours"):
    from solvation.analysis.hbonds import hydrogen_bonds
else:
    from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis
T0 = time.perf_counter()
if tool == "ours-defaults":
    hydrogen_bonds(u, stop=stop)
elif tool == "ours-mda-criterion":
    hydrogen_bonds(u, distance=3.0, angle=150.0, angle_definition="DHA", stop=stop)
else:
    h = HydrogenBondAnalysis(u, donors_sel="resname HOH and name O",
                             hydrogens_sel="resname HOH and name H1 H2",
                             acceptors_sel="resname HOH and name O", d_a_cutoff=3.0,
                             d_h_a_angle_cutoff=150.0).run(stop=stop)
    h.count_by_time()
"""


def child(run_dir: Path, tool: str, stop: int) -> dict:
    return timed_child(CHILD, run_dir / "topology.pdb", run_dir / "trajectory.xtc", tool, stop)


def compare(run_dir: Path, frames: int, label: str) -> None:
    ours = {k: child(run_dir, f"ours-{k}", frames) for k in ("defaults", "mda-criterion")}
    ref = child(run_dir, "mdanalysis", frames)
    for k, v in ours.items():
        print(
            f"[{label}] ours ({k}): {v['seconds']:.2f} s, peak RSS {v['peak_rss_mib']:.0f} "
            f"MiB; HydrogenBondAnalysis {ref['seconds']:.2f} s, peak RSS "
            f"{ref['peak_rss_mib']:.0f} MiB: {ref['seconds'] / v['seconds']:.1f}x",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--n-water", type=int, default=3300)
    parser.add_argument("--run-dir", type=Path, help="reuse this run directory's trajectory")
    parser.add_argument("--every-steps", type=int, default=10, help="2 fs steps per frame")
    parser.add_argument("--no-load", action="store_true", help="skip the loaded round")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = md_run_dir(args.run_dir, Path(tmp), args.n_water, args.frames, args.every_steps)
        child(run_dir, "ours-defaults", 2)  # compiles the kernels into numba's cache
        compare(run_dir, args.frames, "alone")
        short = child(run_dir, "ours-defaults", args.frames // 5)
        print(
            f"ours (defaults) on {args.frames // 5} frames: peak RSS "
            f"{short['peak_rss_mib']:.0f} MiB"
        )
        if not args.no_load:
            with CpuLoad():
                compare(run_dir, args.frames, "loaded")


if __name__ == "__main__":
    main()
