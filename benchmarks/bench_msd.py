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
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool = sys.argv[1:4]
u = mda.Universe(top, traj, dt=1.0)
t0 = time.perf_counter()
if tool == "ours":
    from solvation.analysis.transport import Transport
    Transport(u, {"water": "resname HOH", "zn": "resname ZN", "so4": "resname SO4"}).run()
else:
    from MDAnalysis.analysis.msd import EinsteinMSD
    EinsteinMSD(u, select="all", msd_type="xyz", fft=True).run()
print(json.dumps({"seconds": time.perf_counter() - t0,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def make_trajectory(root: Path, n_water: int, frames: int):
    import MDAnalysis as mda
    import numpy as np
    from solvation.systems import build

    from solvation.design import parse_design

    design = parse_design(
        {
            "name": "bench-msd",
            "box": {"n_water": n_water},
            "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        }
    )
    built = build(design, root / "box")
    u = mda.Universe(str(built.topology_pdb))
    rng = np.random.default_rng(0)
    ref = u.atoms.positions.copy()
    res = u.atoms.resindices
    shift = np.zeros((len(u.residues), 3))
    traj = root / "traj.xtc"
    with mda.Writer(str(traj), u.atoms.n_atoms) as w:
        for _ in range(frames):
            shift += rng.normal(0, np.sqrt(2 * 0.1), shift.shape)
            u.atoms.positions = ref + shift[res]
            w.write(u.atoms)
    return built.topology_pdb, traj, u.atoms.n_atoms


def child(top, traj, tool) -> dict:
    out = subprocess.run(
        [sys.executable, "-c", CHILD, str(top), str(traj), tool],
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=2000)
    parser.add_argument("--n-water", type=int, default=3300)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        top, traj, n_atoms = make_trajectory(Path(tmp), args.n_water, args.frames)
        made = time.perf_counter() - t0
        print(f"box: {n_atoms} atoms, {args.frames} frames (made in {made:.0f} s)")
        ours = child(top, traj, "ours")
        ref = child(top, traj, "mdanalysis")
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
