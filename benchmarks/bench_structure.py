"""Structure analysis speed and memory against MDAnalysis, in one run.

    python benchmarks/bench_structure.py [--frames 500] [--n-water 3300]

Builds a 2 m ZnSO4 box (>10k atoms), writes an XTC of N frames (the packed structure
with independent Gaussian displacements of 0.3 A per frame: a stand-in trajectory that
costs the same to read and search as an MD one), then times, each in a fresh process:

- ours: one RDF pass for Zn-Ow, Zn-S(SO4) and Ow-Ow (rmax 10 A, 200 bins) plus the
  shell pass (coordination of Zn by water and sulfate, speciation, residence);
- MDAnalysis: InterRDF for the same three pairs (same bins; Ow-Ow with
  exclusion_block=(1, 1)), whose cumulative counts give the coordination numbers.

Prints wall time, the ratio, and each process's peak RSS; ours is also run on a fifth
of the frames to show that peak memory does not grow with the trajectory.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

from _common import timed_child, write_trajectory, znso4_box

PAIRS = {
    "zn-ow": ("resname ZN", "resname HOH and name O"),
    "zn-s": ("resname ZN", "resname SO4 and name S*"),
    "ow-ow": ("resname HOH and name O", "resname HOH and name O"),
}

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pairs = json.loads(sys.argv[5])
u = mda.Universe(top, traj)
T0 = time.perf_counter()
if tool == "ours":
    from solvation.analysis import RDF, SolvationShells
    RDF(u, {k: tuple(v) for k, v in pairs.items()}, rmax=10.0, nbins=200).run(stop=stop)
    SolvationShells(u, "resname ZN", {"water": "resname HOH and name O",
                    "SO4": "resname SO4 and name O*"}, {"water": 2.9, "SO4": 2.9}).run(stop=stop)
else:
    from MDAnalysis.analysis.rdf import InterRDF
    for a, b in pairs.values():
        block = {"exclusion_block": (1, 1)} if a == b else {}
        InterRDF(u.select_atoms(a), u.select_atoms(b), nbins=200, range=(0.0, 10.0),
                 **block).run(stop=stop)
"""


def child(top: Path, traj: Path, tool: str, stop: int) -> dict:
    return timed_child(CHILD, top, traj, tool, stop, json.dumps(PAIRS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--n-water", type=int, default=3300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        u = znso4_box(Path(tmp), args.n_water, "bench-structure")
        traj = write_trajectory(
            u,
            Path(tmp) / "traj.xtc",
            args.frames,
            lambda ref, rng: ref + rng.normal(0, 0.3, ref.shape),
        )
        top, n_atoms = Path(tmp) / "box" / "topology.pdb", u.atoms.n_atoms
        made = time.perf_counter() - t0
        print(f"box: {n_atoms} atoms, {args.frames} frames (made in {made:.0f} s)")
        ours = child(top, traj, "ours", args.frames)
        short = child(top, traj, "ours", args.frames // 5)
        mda_ = child(top, traj, "mdanalysis", args.frames)
    print(
        f"solvation (3 RDFs + shells, one pass each): {ours['seconds']:7.1f} s, "
        f"peak RSS {ours['peak_rss_mib']:.0f} MiB "
        f"({args.frames // 5} frames: {short['peak_rss_mib']:.0f} MiB)"
    )
    print(
        f"MDAnalysis InterRDF x3:                      {mda_['seconds']:7.1f} s, "
        f"peak RSS {mda_['peak_rss_mib']:.0f} MiB"
    )
    print(f"speed-up: {mda_['seconds'] / ours['seconds']:.1f}x")


if __name__ == "__main__":
    main()
