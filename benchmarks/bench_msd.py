"""MSD speed and memory against MDAnalysis EinsteinMSD(fft=True), in one run.

    python benchmarks/bench_msd.py [--frames 2000] [--n-water 3300]

Builds a 2 m ZnSO4 box (>10k atoms) and writes an unwrapped XTC in which every molecule
random-walks rigidly (D = 0.1 A^2/ps, 1 ps per frame). Then, each in a fresh process:

- ours: ``Transport`` for water, Zn2+ and SO4^2- (unwrapping, centres of mass, drift
  removal, FFT MSD, fits and block errors);
- MDAnalysis: ``EinsteinMSD(select="all", fft=True)`` (per atom; it needs unwrapped
  input and uses tidynamics).

Prints wall time, the ratio and each process's peak RSS.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

from _common import timed_child, write_trajectory, znso4_box

CHILD = r"""
import sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool = sys.argv[1:4]
u = mda.Universe(top, traj, dt=1.0)
T0 = time.perf_counter()
if tool == "ours":
    from solvation.analysis.transport import Transport
    Transport(u, {"water": "resname HOH", "zn": "resname ZN", "so4": "resname SO4"}).run()
else:
    from MDAnalysis.analysis.msd import EinsteinMSD
    EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
"""


def rigid_walk(universe):
    """Every molecule random-walks rigidly, D = 0.1 A^2/ps at 1 ps per frame."""
    import numpy as np

    res = universe.atoms.resindices
    shift = np.zeros((len(universe.residues), 3))

    def step(reference, rng):
        shift[:] += rng.normal(0, np.sqrt(2 * 0.1), shift.shape)
        return reference + shift[res]

    return step


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--n-water", type=int, default=3300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        u = znso4_box(Path(tmp), args.n_water, "bench-msd")
        traj = write_trajectory(u, Path(tmp) / "traj.xtc", args.frames, rigid_walk(u))
        top, n_atoms = Path(tmp) / "box" / "topology.pdb", u.atoms.n_atoms
        made = time.perf_counter() - t0
        print(f"box: {n_atoms} atoms, {args.frames} frames (made in {made:.0f} s)")
        ours = timed_child(CHILD, top, traj, "ours")
        ref = timed_child(CHILD, top, traj, "mdanalysis")
    print(
        f"solvation Transport (all molecules, COM): {ours['seconds']:7.1f} s, "
        f"peak RSS {ours['peak_rss_mib']:.0f} MiB"
    )
    print(
        f"MDAnalysis EinsteinMSD fft=True (atoms):   {ref['seconds']:7.1f} s, "
        f"peak RSS {ref['peak_rss_mib']:.0f} MiB"
    )
    print(f"speed-up: {ref['seconds'] / ours['seconds']:.2f}x")


if __name__ == "__main__":
    main()
