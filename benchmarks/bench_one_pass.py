"""One-pass analysis time: RDFs, Zn2+ shells (automatic cutoffs) and H-bonds of one
trajectory in one loop over its frames (``solvation.analysis.one_pass``), in-process.

    python benchmarks/bench_one_pass.py --run-dir DIR [--frames 500] [--repeats 3]

``DIR`` is a run directory (topology.pdb, trajectory.xtc, build.json) of 2 m ZnSO4; the
analyses are those a campaign job runs (``shells_analysis_of_run``,
``hbonds_analysis_of_run``) plus ``RDF`` of Zn-Ow, Zn-S, Ow-Ow (10 A, 200 bins). The
compiled kernels are warmed on 2 frames first; prints the median and every repeat (wall
and process CPU seconds).
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

PAIRS = {
    "zn-ow": ("resname ZN", "resname HOH and name O"),
    "zn-s": ("resname ZN", "resname SO4 and name S*"),
    "ow-ow": ("resname HOH and name O", "resname HOH and name O"),
}


def analyses(u, build):
    """The analyses of one pass, not yet run."""
    from solvation.analysis import RDF
    from solvation.runs.structure import hbonds_analysis_of_run, shells_analysis_of_run

    rdf = RDF(u, PAIRS, rmax=10.0, nbins=200)
    return [rdf, shells_analysis_of_run(u, build, True), hbonds_analysis_of_run(u, build)]


def timed(u, build, frames: int) -> float:
    """Seconds of one ``one_pass`` over the first ``frames`` frames."""
    from solvation.analysis.base import one_pass

    todo = analyses(u, build)
    t0, c0 = time.perf_counter(), time.process_time()
    one_pass(todo, stop=frames)
    return time.perf_counter() - t0, time.process_time() - c0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    from solvation.analysis import load_universe
    from solvation.rundir import read_build

    u = load_universe(args.run_dir)
    build = read_build(args.run_dir)
    timed(u, build, 2)  # numba's cache, first allocations
    runs = [timed(u, build, args.frames) for _ in range(args.repeats)]
    seconds, cpu = [w for w, _ in runs], [c for _, c in runs]
    print(
        f"one pass (3 RDFs + shells + H-bonds), {u.atoms.n_atoms} atoms, {args.frames} "
        f"frames: median {statistics.median(seconds):.2f} s "
        f"({', '.join(f'{s:.2f}' for s in seconds)}); CPU median "
        f"{statistics.median(cpu):.2f} s ({', '.join(f'{c:.2f}' for c in cpu)})"
    )


if __name__ == "__main__":
    main()
