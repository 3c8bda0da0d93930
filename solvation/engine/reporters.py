"""OpenMM reporters of the run engine, each with one job (OpenMM's two-method protocol:
``describeNextReport`` and ``report``)."""

from __future__ import annotations

import math
import time
from pathlib import Path

import openmm
import openmm.unit as u
from tqdm.auto import tqdm

from solvation.console import LOGGER, show_progress
from solvation.constants import FARADAY_KJ_PER_MOL_V
from solvation.errors import SolvationError
from solvation.rundir import write_checkpoint

from .resume import ResumeError


class SimulationBlowUp(SolvationError):
    """The potential energy became NaN or exploded."""


class GuardReporter:
    """Stops the run when the potential energy is NaN or above ``max_per_atom`` x N
    (kJ/mol), naming the stage and step; records volumes for NPT averages.

    Parameters
    ----------
    interval : int
        Steps between checks.
    stage : str
        Stage name, for the message.
    n_atoms : int
        Atoms of the system.
    max_per_atom : float
        Largest potential energy per atom (kJ/mol).
    """

    def __init__(self, interval: int, stage: str, n_atoms: int, max_per_atom: float):
        self._interval = interval
        self.stage = stage
        self._limit = max_per_atom * n_atoms
        self.volumes_nm3: list[float] = []

    def describeNextReport(self, simulation):
        """OpenMM reporter protocol."""
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": None, "include": ["energy"]}

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        energy = state.getPotentialEnergy().value_in_unit(u.kilojoule_per_mole)
        if not math.isfinite(energy) or abs(energy) > self._limit:
            raise SimulationBlowUp(
                f"{self.stage}: potential energy {energy:.4g} kJ/mol at step "
                f"{simulation.currentStep} (NaN or beyond {self._limit:.3g}); the run stopped and "
                "the last good checkpoint is kept. Check the structure, or use a smaller timestep"
            )
        self.volumes_nm3.append(state.getPeriodicBoxVolume().value_in_unit(u.nanometer**3))


class ProgressReporter:
    """A tqdm progress bar over one stage with simulated time, ns/day and ETA; drawn only
    on a terminal at the default verbosity (``solvation.console.show_progress``).

    Parameters
    ----------
    interval : int
        Steps between updates.
    stage : str
        Stage name.
    start_step, end_step : int
        Step range of the stage.
    dt_ps : float
        Time step (ps).
    """

    def __init__(self, interval: int, stage: str, start_step: int, end_step: int, dt_ps: float):
        self._interval, self._dt = interval, dt_ps
        self._start, self._last, self._end = start_step, start_step, end_step
        self._t0 = time.perf_counter()
        # counts whole steps (shown in ps through unit_scale): no float sum can pass the
        # total, which made tqdm warn "clamping frac" with the environment's path
        self.bar = tqdm(
            total=end_step - start_step,
            unit="ps",
            unit_scale=dt_ps,
            desc=stage,
            leave=True,
            disable=not show_progress(),
            dynamic_ncols=True,
            bar_format=(
                "{desc}: {percentage:3.0f}%|{bar}| {n:.1f}/{total:.1f} ps "
                "[{elapsed}<{remaining}{postfix}]"
            ),
        )

    def describeNextReport(self, simulation):
        """OpenMM reporter protocol."""
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": None, "include": []}

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        step = min(simulation.currentStep, self._end)
        self.bar.update(step - self._last)
        self._last = step
        elapsed = time.perf_counter() - self._t0
        if elapsed > 0:
            self.bar.set_postfix_str(
                f"{(step - self._start) * self._dt / 1000 / elapsed * 86400:.1f} ns/day"
            )

    def close(self):
        """Close the progress bar."""
        self.bar.close()


class MinimizationProgress(openmm.MinimizationReporter):
    """Progress of the energy minimisation: a bar with the iteration and the energy on a
    terminal, a log line every ``log_every`` iterations elsewhere; stops the minimiser
    (returns True) when ``stop()`` says so.

    The energy shown is the system's own: OpenMM's "system energy" holds every force
    of the System, so the minimisation-only walls (``penalty``, the contact guard of a
    pre-hydrated start) are subtracted and shown beside it. It is not monotonic: OpenMM
    holds constraints (rigid water, bonds to H) with restraints that it stiffens in
    passes, and each pass starts from a geometry whose constraints are not yet met.

    Parameters
    ----------
    max_iterations : int
        Iteration limit of the minimiser (length of the bar).
    stop : callable
        Returns True to stop the minimiser.
    log_every : int
        Iterations between log lines off a terminal.
    penalty : callable, optional
        Energy (kJ/mol) of the minimisation-only forces at flat positions x (nm).
    """

    def __init__(self, max_iterations: int, stop=lambda: False, log_every: int = 500, penalty=None):
        super().__init__()
        self._stop, self._log_every, self._penalty = stop, log_every, penalty
        self.iterations, self.energy, self.penalty_energy = 0, math.nan, 0.0
        self.passes, self._strength = 0, None
        self.bar = tqdm(
            total=max_iterations or None,
            desc="minimize",
            unit="it",
            leave=True,
            disable=not show_progress(),
            dynamic_ncols=True,
        )

    def report(self, iteration, x, grad, args):
        # ``iteration`` restarts at 0 when the minimiser tightens its constraint restraints;
        # progress counts every iteration
        """OpenMM MinimizationReporter protocol; True stops the minimiser."""
        self.iterations += 1
        if self.bar.total is None or self.bar.n < self.bar.total:
            self.bar.update(1)
        self._new_pass(float(args["restraint strength"]))
        shown = self.iterations % 25 == 1 and not self.bar.disable
        logged = self.bar.disable and self.iterations % self._log_every == 1
        if shown or logged:
            self._energies(x, float(args["system energy"]))
        if shown:
            self.bar.set_postfix_str(self.text())
        if logged:
            LOGGER.info("minimize: iteration %d, %s", self.iterations, self.text())
        return bool(self._stop())

    def _new_pass(self, strength: float) -> None:
        """Count the minimiser's passes: each stiffens the restraints that stand in for
        constraints, and the energy may rise when one starts; say so off a terminal."""
        if strength == self._strength:
            return
        previous, self._strength, self.passes = self._strength, strength, self.passes + 1
        if previous and self.bar.disable:
            LOGGER.info(
                "minimize: pass %d: constraints (rigid water, bonds to H) held by %.3gx stiffer "
                "restraints; the energy may rise as molecules regain their shape",
                self.passes,
                strength / previous,
            )

    def _energies(self, x, total: float) -> None:
        """Split OpenMM's energy into the system's and the minimisation walls'."""
        self.penalty_energy = float(self._penalty(x)) if self._penalty is not None else 0.0
        self.energy = total - self.penalty_energy

    def text(self) -> str:
        """'E = ... kJ/mol', and the walls' energy when there are walls."""
        walls = f" (+ contact guard {self.penalty_energy:.4g})" if self._penalty is not None else ""
        return f"E = {self.energy:.6g} kJ/mol{walls}, pass {self.passes}"

    def close(self) -> None:
        """Close the progress bar."""
        self.bar.close()


class CsvRowReporter:
    """Base of the reporters that add one row to a CSV file every ``interval`` steps
    (``HEADER`` first unless appending to a resumed file); subclasses write the row in
    ``report``.

    Parameters
    ----------
    path : Path
        The CSV file.
    interval : int
        Steps between rows.
    append : bool
        Append to a resumed file (no header).
    """

    HEADER = ""

    def __init__(self, path: Path, interval: int, append: bool):
        self._interval = interval
        self._fh = path.open("a" if append else "w")
        if not append:
            self._fh.write(self.HEADER)

    def describeNextReport(self, simulation):
        """OpenMM reporter protocol."""
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": None, "include": []}

    def close(self) -> None:
        """Close the CSV file."""
        self._fh.close()


class ElectrodeChargeReporter(CsvRowReporter):
    """Every ``interval`` steps a row of ``electrode.csv``: step, time (ps), the solved
    charge (e) on the metal atoms of the top and of the bottom half of the slab, and the
    potential difference E_z L_z (V) at the current box length.

    Parameters
    ----------
    path : Path
        ``electrode.csv``.
    interval : int
        Steps between rows.
    force : openmm.ConstantPotentialForce
    top, bottom : iterable of int
        Electrode atom indices of the top and bottom halves of the slab.
    append : bool
        Append to a resumed file.
    """

    HEADER = "step,time_ps,q_top_e,q_bottom_e,delta_v_V\n"

    def __init__(self, path: Path, interval: int, force, top, bottom, append: bool):
        super().__init__(path, interval, append)
        self._force = force
        self._top, self._bottom = list(top), list(bottom)
        field_unit = u.kilojoule_per_mole / u.nanometer / u.elementary_charge
        self._field = force.getExternalField()[2].value_in_unit(field_unit)

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        charges = self._force.getCharges(simulation.context)
        q = [c.value_in_unit(u.elementary_charge) for c in charges]
        lz = state.getPeriodicBoxVectors()[2][2].value_in_unit(u.nanometer)
        top, bottom = sum(q[i] for i in self._top), sum(q[i] for i in self._bottom)
        time_ps = state.getTime().value_in_unit(u.picosecond)
        delta_v = self._field * lz / FARADAY_KJ_PER_MOL_V
        self._fh.write(
            f"{simulation.currentStep},{time_ps:.4f},{top:.6f},{bottom:.6f},{delta_v:.6f}\n"
        )
        self._fh.flush()


class CheckpointReporter:
    """Every ``interval`` steps: save ``checkpoint-<step>.chk``, then atomically point
    ``checkpoint.json`` at it together with its SHA-256 and the byte sizes of the output
    files, then delete older checkpoints. A kill at any moment leaves a consistent pair. An output
    that shrank since the last checkpoint (deleted or cut by another program while the
    run writes it) stops the run before it is recorded (``engine.resume``).

    Parameters
    ----------
    directory : Path
        The run directory.
    interval : int
        Steps between checkpoints.
    outputs : list of Path
        Output files whose sizes are recorded with each checkpoint.
    """

    def __init__(self, directory: Path, interval: int, outputs: list[Path]):
        self._dir, self._interval, self._outputs = directory, interval, outputs
        self._sizes = self._measure()

    def _measure(self) -> dict[str, int]:
        return {p.name: p.stat().st_size if p.exists() else 0 for p in self._outputs}

    def describeNextReport(self, simulation):
        """OpenMM reporter protocol."""
        steps = self._interval - simulation.currentStep % self._interval
        return {"steps": steps, "periodic": None, "include": []}

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        self.save(simulation)

    def save(self, simulation) -> None:
        """Save a checkpoint now (see the class docstring)."""
        step = simulation.currentStep
        sizes = self._measure()
        shrunk = [n for n, size in sizes.items() if size < self._sizes.get(n, 0)]
        if shrunk:
            raise ResumeError(
                f"{self._dir / shrunk[0]} shrank from {self._sizes[shrunk[0]]} to "
                f"{sizes[shrunk[0]]} bytes while this run was writing it (deleted or cut by "
                "another program); the run stopped at its last checkpoint, which the next "
                f"start checks: `solvation run {self._dir}`"
            )
        write_checkpoint(self._dir, step, simulation.context.createCheckpoint(), sizes)
        self._sizes = sizes
