"""H-bond statistics speed and memory against MDAnalysis HydrogenBondAnalysis, in one run.

    python benchmarks/bench_hbonds.py [--frames 500] [--n-water 3300] [--run-dir DIR]

Builds a 2 m ZnSO4 box (>10k atoms) and runs real MD with our engine (2 ps equilibration,
then N frames 20 fs apart; about 5 min on 2 CPU cores), or reuses ``--run-dir``. Then,
each in a fresh process, with the same criterion (donor-acceptor < 3.0 A, D-H...A angle
> 150 degrees, water only):

- ours: ``HydrogenBonds`` with the full network statistics (per-water donor/acceptor
  counts, classes, tetrahedral q, largest cluster, free water around Zn);
- MDAnalysis: ``HydrogenBondAnalysis`` (default update_selections) plus
  ``count_by_time()`` for H-bonds per frame.

Prints wall time (after the Universe is loaded; ours includes loading its compiled
kernels from the numba cache, warmed once before timing), the ratio and peak RSS; ours
is also run on a fifth of the frames to show that its memory does not grow with the
trajectory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import md_trajectory, timed_child

CHILD = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
u = mda.Universe(top, traj)
T0 = time.perf_counter()
if tool == "ours":
    from solvation.analysis.hbonds import HydrogenBonds
    HydrogenBonds(u, distance=3.0, angle=150.0, angle_definition="DHA", cations="resname ZN",
                  cation_cutoff=2.9).run(stop=stop)
else:
    from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis
    h = HydrogenBondAnalysis(u, donors_sel="resname HOH and name O",
                             hydrogens_sel="resname HOH and name H1 H2",
                             acceptors_sel="resname HOH and name O", d_a_cutoff=3.0,
                             d_h_a_angle_cutoff=150.0).run(stop=stop)
    h.count_by_time()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--n-water", type=int, default=3300)
    parser.add_argument("--run-dir", type=Path, help="reuse this run directory's trajectory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        run_dir = args.run_dir or md_trajectory(Path(tmp), args.n_water, args.frames)
        top, traj = run_dir / "topology.pdb", run_dir / "trajectory.xtc"
        made = time.perf_counter() - t0
        print(f"trajectory: {traj} (made in {made:.0f} s)")
        timed_child(CHILD, top, traj, "ours", 2)  # compiles the kernels into numba's cache
        ours = timed_child(CHILD, top, traj, "ours", args.frames)
        short = timed_child(CHILD, top, traj, "ours", args.frames // 5)
        ref = timed_child(CHILD, top, traj, "mdanalysis", args.frames)
    print(
        f"solvation HydrogenBonds (network stats): {ours['seconds']:7.1f} s, peak RSS "
        f"{ours['peak_rss_mib']:.0f} MiB ({args.frames // 5} frames: "
        f"{short['peak_rss_mib']:.0f} MiB)"
    )
    print(
        f"MDAnalysis HydrogenBondAnalysis:         {ref['seconds']:7.1f} s, peak RSS "
        f"{ref['peak_rss_mib']:.0f} MiB"
    )
    print(f"speed-up: {ref['seconds'] / ours['seconds']:.1f}x")


if __name__ == "__main__":
    main()
