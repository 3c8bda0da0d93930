"""Speed ratios as a user meets them: whole processes, start-up included, through the CLI.

    python benchmarks/bench_cli.py [--run-dir DIR] [--frames 100 500] [--repeats 3]
        [--sa-defaults]

Each row times complete commands from the outside (``subprocess`` with a monotonic
clock), the two commands of a row taking turns, ``--repeats`` times each, and reports
the medians and their ratio:

- start-up: ``solvation --help`` and ``solvation --version`` against
  ``python -c "import numpy"`` (target: within 3x);
- ``solvation analyze hbonds RUN --stop N`` (its defaults: 3.5 A / 30 degrees, the
  Zn2+-water cutoff from g(r), every network statistic) against a script that imports
  MDAnalysis, opens the same files and runs ``HydrogenBondAnalysis`` (3.0 A / 150
  degrees, water donors and acceptors) with ``count_by_time()``;
- ``solvation analyze coordination RUN --stop N`` (automatic cutoffs found in the same
  pass) against a script that imports solvation_analysis, opens the files and runs
  ``Solute`` on the same shells given the cutoffs ours found (``skip_rdf=True``, its
  fastest), and with its own RDF radii (``--sa-defaults``).

The trajectory is real MD of 2 m ZnSO4 in TIP3P (10.6k atoms, 500 frames 20 fs apart,
made by our engine after 2 ps of equilibration; plain packing, which only makes the box
faster to build), or ``--run-dir``. Before timing, one untimed call of each of our verbs
fills numba's disk cache (a user's first analysis after installing compiles the kernels
once, with a notice). solvation_analysis is the ``bench`` extra
(``pip install -e ".[bench]"``).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import md_run_dir

SOLVATION = str(Path(sys.executable).with_name("solvation"))

HBA = r"""
import sys, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
from MDAnalysis.analysis.hydrogenbonds import HydrogenBondAnalysis
u = mda.Universe(sys.argv[1], sys.argv[2])
h = HydrogenBondAnalysis(u, donors_sel="resname HOH and name O",
                         hydrogens_sel="resname HOH and name H1 H2",
                         acceptors_sel="resname HOH and name O", d_a_cutoff=3.0,
                         d_h_a_angle_cutoff=150.0).run(stop=int(sys.argv[3]))
print(h.count_by_time().mean() / len(u.select_atoms("resname HOH and name O")))
"""

SA = r"""
import json, sys, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
from solvation_analysis.solute import Solute
u = mda.Universe(sys.argv[1], sys.argv[2])
shells, cutoffs = json.loads(sys.argv[4]), json.loads(sys.argv[5])
kw = {"radii": cutoffs, "skip_rdf": True} if cutoffs else {}
solute = Solute.from_atoms(u.select_atoms("resname ZN"),
                           {k: u.select_atoms(v) for k, v in shells.items()}, **kw)
solute.run(stop=int(sys.argv[3]))
print(json.dumps({k: float(v) for k, v in solute.coordination.coordination_numbers.items()}))
"""


def seconds(cmd: list[str]) -> tuple[float, float]:
    """Wall and CPU (user + system, the process and its children) time (s) of one whole
    process; its output is discarded, its failure raised. On a shared machine the CPU
    time is the steadier of the two."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def compare(label: str, ours: list[str], peer: list[str], repeats: int) -> dict:
    """Medians of ``repeats`` alternating runs of both commands and their ratios."""
    a, b = [], []
    for _ in range(repeats):
        a.append(seconds(ours))
        b.append(seconds(peer))
    row = {"label": label}
    for k, name in enumerate(("wall", "cpu")):
        row[f"ours_{name}_s"] = statistics.median(x[k] for x in a)
        row[f"peer_{name}_s"] = statistics.median(x[k] for x in b)
        row[f"{name}_ratio"] = row[f"peer_{name}_s"] / row[f"ours_{name}_s"]
    print(
        f"{label}: ours {row['ours_wall_s']:.2f} s ({row['ours_cpu_s']:.2f} s CPU), peer "
        f"{row['peer_wall_s']:.2f} s ({row['peer_cpu_s']:.2f} s CPU); peer/ours "
        f"{row['wall_ratio']:.2f} wall, {row['cpu_ratio']:.2f} CPU ({repeats} runs each)",
        flush=True,
    )
    return row


def shells_of(run_dir: Path, frames: int, tmp: Path) -> tuple[dict, dict]:
    """The run's shell selections and the cutoffs our coordination found (A)."""
    out = tmp / "cn.json"
    cmd = [SOLVATION, "analyze", "coordination", str(run_dir), "--stop", str(frames)]
    subprocess.run([*cmd, "--json", str(out)], check=True, capture_output=True)
    data = json.loads(out.read_text())
    shells = {k: v for k, v in data["provenance"]["selections"].items() if k != "center"}
    return shells, data["cutoffs_angstrom"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", type=Path, help="reuse this run directory")
    parser.add_argument("--frames", type=int, nargs="+", default=[100, 500])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--sa-defaults", action="store_true")
    args = parser.parse_args()
    numpy = [sys.executable, "-c", "import numpy"]
    rows = [
        compare("solvation --help vs python -c 'import numpy'", [SOLVATION, "--help"], numpy, 3),
        compare("solvation --version vs import numpy", [SOLVATION, "--version"], numpy, 3),
    ]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        run_dir = md_run_dir(args.run_dir, tmp, 3300, max(args.frames), prehydrate=False)
        top, traj = str(run_dir / "topology.pdb"), str(run_dir / "trajectory.xtc")
        seconds([SOLVATION, "analyze", "hbonds", str(run_dir), "--stop", "2"])  # numba cache
        for n in args.frames:
            ours = [SOLVATION, "analyze", "hbonds", str(run_dir), "--stop", str(n)]
            peer = [sys.executable, "-c", HBA, top, traj, str(n)]
            rows.append(compare(f"analyze hbonds, {n} frames", ours, peer, args.repeats))
        for n in args.frames:
            shells, cutoffs = shells_of(run_dir, n, tmp)
            ours = [SOLVATION, "analyze", "coordination", str(run_dir), "--stop", str(n)]
            peer = [sys.executable, "-c", SA, top, traj, str(n), json.dumps(shells)]
            label = f"analyze coordination, {n} frames"
            rows.append(compare(label, ours, [*peer, json.dumps(cutoffs)], args.repeats))
            if args.sa_defaults:
                rows.append(compare(f"{label} (peer's own radii)", ours, [*peer, "{}"], 1))
    print(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
