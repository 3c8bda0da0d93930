"""MSD speed and memory against MDAnalysis EinsteinMSD(fft=True), in one run.

    python benchmarks/bench_msd.py [--frames 500] [--n-water 3300] [--run-dir DIR]

Uses real MD of a 2 m ZnSO4 box (>10k atoms) made by our engine (2 ps equilibration, then
N frames 20 fs apart), or ``--run-dir``; the trajectory is wrapped (as our engine and most
engines write it). Then, each in a fresh process, timed after the Universe is loaded:

- ours: ``Transport`` for water, Zn2+ and SO4^2- with their charges, in one pass
  (unwrapping, centres of mass, drift removal, FFT MSD, fits and block errors,
  conductivity), what a campaign job computes;
- MDAnalysis: ``NoJump`` unwrapping (EinsteinMSD needs unwrapped input) and
  ``EinsteinMSD(select="all", fft=True)`` (per atom, tidynamics).

Prints wall time, the ratio and each process's peak RSS.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import md_run_dir, timed_child

CHILD = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool = sys.argv[1:4]
u = mda.Universe(top, traj)
if tool == "ours":
    from solvation.analysis.transport import Transport
else:
    from MDAnalysis.analysis.msd import EinsteinMSD
    from MDAnalysis.transformations.nojump import NoJump
T0 = time.perf_counter()
if tool == "ours":
    Transport(u, {"water": "resname HOH", "zn": "resname ZN", "so4": "resname SO4"},
              charges={"water": 0.0, "zn": 2.0, "so4": -2.0}).run()
else:
    u.trajectory.add_transformations(NoJump())
    EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--n-water", type=int, default=3300)
    parser.add_argument("--run-dir", type=Path, help="reuse this run directory's trajectory")
    parser.add_argument("--every-steps", type=int, default=10, help="2 fs steps per frame")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = md_run_dir(args.run_dir, Path(tmp), args.n_water, args.frames, args.every_steps)
        top, traj = run_dir / "topology.pdb", run_dir / "trajectory.xtc"
        ours = timed_child(CHILD, top, traj, "ours")
        ref = timed_child(CHILD, top, traj, "mdanalysis")
    print(
        f"solvation Transport (all molecules, COM, conductivity): {ours['seconds']:7.1f} s, "
        f"peak RSS {ours['peak_rss_mib']:.0f} MiB"
    )
    print(
        f"MDAnalysis NoJump + EinsteinMSD fft=True (atoms):       {ref['seconds']:7.1f} s, "
        f"peak RSS {ref['peak_rss_mib']:.0f} MiB"
    )
    print(f"speed-up: {ref['seconds'] / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
