"""``solvation bench md``: our engine's production loop against a plain OpenMM loop.

Both use the same System, integrator settings, platform and number of steps in the
same process; the plain loop has no reporters at all, ours writes the trajectory,
state.csv and progress at the protocol's intervals.
"""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import openmm
import openmm.unit as u

from solvation.errors import SolvationError
from solvation.rundir import RunDir, RunInfo

from .platforms import choose_platform
from .protocol import protocol_from
from .run import CheckpointReporter, RunContext, _run_steps, _simulation, read_build_and_design


class BenchError(SolvationError):
    """A benchmark asked for with impossible settings."""


def _prepared(directory: Path, protocol, build, platform, props, minimize: int = 1000):
    """Simulation at a relaxed state: the equilibrated one if the directory was run, else
    a short minimisation (``minimize`` iterations) of the built structure."""
    sim, barostat = _simulation(directory, protocol, build, platform, props, seed=1)
    state = RunDir(directory).stage_xml("npt")
    if state.exists():
        sim.loadState(str(state))
    else:
        sim.minimizeEnergy(maxIterations=minimize)
    return sim, barostat


def _plain(directory: Path, protocol, build, platform, props, steps: int, minimize) -> float:
    sim, _ = _prepared(directory, protocol, build, platform, props, minimize)
    ctx = sim.context
    ctx.setVelocitiesToTemperature(protocol.temperature_k * u.kelvin, 1)
    sim.integrator.step(100)  # warm-up (kernel compilation, neighbour lists)
    ctx.getState(getEnergy=True)
    t0 = time.perf_counter()
    sim.integrator.step(steps)
    ctx.getState(getEnergy=True)  # wait for the device
    return steps * protocol.dt_ps / 1000 / (time.perf_counter() - t0) * 86400


def _ours(directory: Path, protocol, build, platform, props, steps: int, minimize) -> float:
    sim, barostat = _prepared(directory, protocol, build, platform, props, minimize)
    sim.context.setVelocitiesToTemperature(protocol.temperature_k * u.kelvin, 1)
    sim.step(100)
    with tempfile.TemporaryDirectory() as tmp:
        tmpdir = Path(tmp)
        ctx = RunContext(tmpdir, protocol, sim, barostat, RunInfo(protocol=protocol.to_dict()), 1)
        traj = RunDir(tmpdir).trajectory("xtc")
        checkpoint = CheckpointReporter(tmpdir, protocol.checkpoint_steps, [traj])
        return _run_steps(
            ctx,
            "production",
            steps,
            RunDir(tmpdir).state_csv,
            False,
            openmm.app.XTCReporter(str(traj), protocol.report_steps, enforcePeriodicBox=True),
            checkpoint,
        )


def bench_md(
    directory: str | Path,
    steps: int = 5000,
    platform: str = "auto",
    hmr: bool = False,
    repeats: int = 2,
    minimize: int = 1000,
) -> dict:
    """ns/day of our production loop and of a plain OpenMM loop, and their ratio
    (``minimize``: iterations of the minimisation before timing, for a directory that was
    built but not run).

    Parameters
    ----------
    directory : str or Path
        A build directory.
    steps : int
        Steps timed per repeat.
    platform : str
        OpenMM platform name, or "auto".
    hmr : bool
        Hydrogen mass repartitioning (4 fs).
    repeats : int
        Timed repeats.
    minimize : int
        Minimiser iterations before timing.
    """
    directory = Path(directory)
    if steps < 1 or repeats < 1:
        raise BenchError(f"steps and repeats must be at least 1 (got {steps}, {repeats})")
    build, design = read_build_and_design(directory)
    protocol = protocol_from(
        design.get("protocol"), design.get("temperature"), hmr=True if hmr else None
    )
    plat, props = choose_platform(platform)
    args = (directory, protocol, build, plat, props, steps, minimize)
    plain = max(_plain(*args) for _ in range(repeats))
    ours = max(_ours(*args) for _ in range(repeats))
    return {
        "platform": plat.getName(),
        "n_atoms": build.n_atoms,
        "steps": steps,
        "timestep_fs": protocol.timestep_fs,
        "report_every_ps": protocol.report_every_ps,
        "plain_openmm_ns_per_day": plain,
        "solvation_ns_per_day": ours,
        "ratio": ours / plain,
    }
