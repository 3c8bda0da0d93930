"""Shared pieces of the benchmark scripts: a 2 m ZnSO4 box, a real MD trajectory of it
from our engine, a second CPU-bound process to measure under load, and timing a snippet
in a fresh process (for a clean peak-memory figure)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

PEAK = r"""
import json, resource, time
print(json.dumps({"seconds": time.perf_counter() - T0,
                  "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def znso4_box(root: Path, n_water: int, name: str, prehydrate: bool = True):
    """Build a 2 m ZnSO4 box of ``n_water`` waters; returns the MDAnalysis Universe."""
    import MDAnalysis as mda

    from solvation.design import parse_design
    from solvation.systems import build

    design = parse_design(
        {
            "name": name,
            "box": {"n_water": n_water, "prehydrate": prehydrate},
            "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
            "water": {"model": "tip3p"},  # the boxes benchmarks/README.md quotes
            "forcefield": {"family": "full"},
        }
    )
    built = build(design, root / "box")
    return mda.Universe(str(built.topology_pdb))


def write_trajectory(universe, path: Path, frames: int, displace) -> Path:
    """Write ``frames`` frames; ``displace(reference, rng)`` gives each frame's positions."""
    import MDAnalysis as mda
    import numpy as np

    rng = np.random.default_rng(0)
    reference = universe.atoms.positions.copy()
    with mda.Writer(str(path), universe.atoms.n_atoms) as writer:
        for _ in range(frames):
            universe.atoms.positions = displace(reference, rng)
            writer.write(universe.atoms)
    return path


def md_trajectory(
    root: Path, n_water: int, frames: int, every_steps: int = 10, prehydrate: bool = True
) -> Path:
    """A real MD trajectory of a 2 m ZnSO4 box: our engine (CPU or the fastest platform)
    minimises, heats and equilibrates for 2 ps, then writes ``frames`` frames every
    ``every_steps`` 2 fs steps; returns the run directory (topology.pdb, trajectory.xtc)."""
    from solvation.engine import protocol_from, run

    znso4_box(root, n_water, "bench-md", prehydrate)
    interval = every_steps * 0.002
    protocol = protocol_from(
        equilibration="2 ps",
        production=f"{frames * interval:g} ps",
        report_every=f"{interval:g} ps",
        checkpoint_every=f"{frames * interval:g} ps",
    )
    run(root / "box", protocol)
    return root / "box"


def md_run_dir(
    given: Path | None,
    tmp: Path,
    n_water: int,
    frames: int,
    every_steps: int = 10,
    prehydrate: bool = True,
) -> Path:
    """``given`` (a run directory with topology.pdb and trajectory.xtc), else a new real
    MD trajectory (``md_trajectory``, a frame every ``every_steps`` 2 fs steps) in
    ``tmp``; prints what it uses."""
    import time

    import MDAnalysis as mda

    t0 = time.perf_counter()
    run_dir = Path(given) if given else md_trajectory(tmp, n_water, frames, every_steps, prehydrate)
    u = mda.Universe(str(run_dir / "topology.pdb"), str(run_dir / "trajectory.xtc"))
    made = "" if given else f", made in {time.perf_counter() - t0:.0f} s"
    print(
        f"trajectory: real MD of 2 m ZnSO4 by our engine, {u.atoms.n_atoms} atoms, "
        f"{u.trajectory.n_frames} frames {u.trajectory.dt:g} ps apart "
        f"({run_dir}{made})",
        flush=True,
    )
    return run_dir


BURN = "import time\nwhile True:\n    sum(i * i for i in range(10000))\n"


class CpuLoad:
    """A second CPU-bound process running while the block runs (``with CpuLoad(): ...``)."""

    def __enter__(self):
        self.proc = subprocess.Popen([sys.executable, "-c", BURN])
        return self

    def __exit__(self, *exc):
        self.proc.kill()
        self.proc.wait()


def timed_child(code: str, *args) -> dict:
    """Run ``code`` (which must set T0 = time.perf_counter() before the timed part) in a
    fresh interpreter; returns its seconds, peak RSS and (``out``) the JSON of the line it
    printed before, if any."""
    out = subprocess.run(
        [sys.executable, "-c", code + PEAK, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
    )
    lines = out.stdout.strip().splitlines()
    result = json.loads(lines[-1])
    result["out"] = json.loads(lines[-2]) if len(lines) > 1 else {}
    return result
