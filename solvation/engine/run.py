"""``solvation run``: minimise, heat (NVT), equilibrate (NPT) and produce, resumably.

Files written into the build directory:

- ``run.json``: protocol, platform, precision, ns/day per stage, NPT density and
  concentrations, versions, seeds; ``complete`` once production is finished.
- ``equilibration.csv`` (minimisation to NPT) and ``state.csv`` (production): step,
  time, potential energy, temperature, volume, density, speed.
- ``stage-<name>.xml``: the state at the end of each equilibration stage.
- ``trajectory.xtc`` (or ``.dcd``): production frames, molecules wrapped into the box,
  frame times = production time.
- ``checkpoint-<step>.chk`` + ``checkpoint.json``: production checkpoints.

Restart: an interrupted stage starts again from the end of the previous one;
production continues from the last checkpoint after cutting the trajectory and
state.csv back to what they held at that checkpoint, so every frame is there once.

One writer at a time: a run holds ``DIR/.lock`` (``solvation.locks``) while it works.
SIGINT/SIGTERM stop it at the next report interval with a checkpoint
(``engine.interrupt``); ``run(..., extend="10 ns")`` appends production to a finished
run from its last checkpoint.
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u

from solvation.analysis.stats import estimate
from solvation.console import LOGGER, warn
from solvation.constants import AVOGADRO_PER_MOL
from solvation.errors import Interrupted, SolvationError
from solvation.forcefields import METAL_RESNAME
from solvation.forcefields.electrode import electrode_force
from solvation.locks import DirectoryLock
from solvation.provenance import RUN_PACKAGES, versions
from solvation.quantities import QuantityError, time_ps
from solvation.rundir import (
    CHECKPOINT_JSON,
    RUN_JSON,
    SYSTEM_XML,
    TOPOLOGY_PDB,
    BuildInfo,
    RunDir,
    RunInfo,
    has_run,
    load_system,
    read_build,
    read_design_table,
    read_run,
    remove_checkpoints,
    write_run,
)
from solvation.systems.hydration import GUARD_ANGSTROM, contact_guard, guard_energy, guard_pairs

from .interrupt import StopReporter, StopRequest, StopRequested, stop_requests
from .plan import log_plan
from .platforms import choose_platform
from .protocol import (
    EXECUTION_FIELDS,
    EXECUTION_KEYS,
    Protocol,
    ProtocolError,
    check_protocol,
    protocol_from,
    rounding_notes,
)
from .reporters import (
    CheckpointReporter,
    ElectrodeChargeReporter,
    GuardReporter,
    MinimizationProgress,
    ProgressReporter,
)
from .resume import (
    RESTART_HINT,
    ResumeError,
    check_complete,
    read_checkpoint,
    restore,
)

EQUILIBRATION_STAGES = ("minimize", "heating", "npt", "anneal", "cool")


class RunError(SolvationError):
    """A run directory that cannot be run or resumed as asked."""


@dataclass
class RunContext:
    """Everything a stage needs: the simulation, its barostat and bookkeeping.

    Attributes
    ----------
    directory : Path
    protocol : Protocol
    simulation : openmm.app.Simulation
    barostat : openmm.Force
    info : RunInfo
    seed : int
        Random seed.
    mass_g : float
        Mass of the system (g).
    npt_volumes : list of float
        Box volumes of the NPT stage (nm^3).
    stop : StopRequest
    checkpoint : CheckpointReporter or None
    fresh_production : bool
        An equilibration stage ran in this start: any production on disk is stale.
    """

    directory: Path
    protocol: Protocol
    simulation: app.Simulation
    barostat: openmm.Force
    info: RunInfo
    seed: int
    mass_g: float = 0.0
    npt_volumes: list[float] = field(default_factory=list)
    stop: StopRequest = field(default_factory=StopRequest)
    checkpoint: CheckpointReporter | None = None
    fresh_production: bool = False

    @property
    def files(self) -> RunDir:
        """The run directory's files (``solvation.rundir.RunDir``)."""
        return RunDir(self.directory)

    @property
    def n_atoms(self) -> int:
        """Particles of the system."""
        return self.simulation.system.getNumParticles()


def read_build_and_design(directory: Path) -> tuple[BuildInfo, dict]:
    """build.json and the design table of a build directory.

    Parameters
    ----------
    directory : Path
        A build directory.
    """
    return read_build(directory), read_design_table(directory)


def repartition_hydrogen_mass(
    system: openmm.System, topology: app.Topology, mass_amu: float
) -> int:
    """Move mass from heavy atoms to their bonded hydrogens (not water); returns the number
    of hydrogens changed.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    mass_amu : float
        Hydrogen mass (Da).
    """
    changed = 0
    for a, b in topology.bonds():
        if a.element == app.element.hydrogen:
            a, b = b, a
        if b.element != app.element.hydrogen or a.element in (None, app.element.hydrogen):
            continue
        if b.residue.name == "HOH":
            continue
        extra = mass_amu - system.getParticleMass(b.index).value_in_unit(u.amu)
        system.setParticleMass(b.index, mass_amu)
        system.setParticleMass(
            a.index, system.getParticleMass(a.index).value_in_unit(u.amu) - extra
        )
        changed += 1
    return changed


def _bind_metal(system: openmm.System, topology: app.Topology) -> None:
    """Join the frozen metal atoms with zero-force bonds so that OpenMM treats the slab
    as one molecule: the barostat then moves it rigidly, and wrapping never splits it."""
    metal = [a.index for a in topology.atoms() if a.residue.name == METAL_RESNAME]
    if len(metal) < 2:
        return
    force = openmm.HarmonicBondForce()
    for i, j in zip(metal[:-1], metal[1:], strict=True):
        force.addBond(i, j, 0.0, 0.0)
    force.setName("slab connectivity (k = 0)")
    system.addForce(force)


def _barostat(protocol: Protocol, slab: bool) -> openmm.Force:
    p, t = protocol.pressure_bar * u.bar, protocol.temperature_k * u.kelvin
    if slab:  # z only: the lateral size is fixed by the metal lattice
        return openmm.MonteCarloAnisotropicBarostat(
            openmm.Vec3(1, 1, 1) * p, t, False, False, True, protocol.barostat_interval
        )
    return openmm.MonteCarloBarostat(p, t, protocol.barostat_interval)


def _simulation(
    directory: Path, protocol: Protocol, build: BuildInfo, platform, props, seed: int
) -> tuple[app.Simulation, openmm.Force]:
    system = load_system(directory)
    pdb = read_topology(directory)
    if pdb.topology.getNumAtoms() != system.getNumParticles():
        raise RunError(
            f"{TOPOLOGY_PDB} has {pdb.topology.getNumAtoms()} atoms but {SYSTEM_XML} "
            f"{system.getNumParticles()}; rebuild the directory"
        )
    if protocol.hmr:
        repartition_hydrogen_mass(system, pdb.topology, protocol.hydrogen_mass_amu)
    slab = build.slab is not None
    if slab:
        _bind_metal(system, pdb.topology)
    barostat = _barostat(protocol, slab)
    barostat.setFrequency(0)
    system.addForce(barostat)
    integrator = openmm.LangevinMiddleIntegrator(
        protocol.temperature_k * u.kelvin,
        protocol.friction_per_ps / u.picosecond,
        protocol.dt_ps * u.picosecond,
    )
    integrator.setRandomNumberSeed(seed)
    sim = app.Simulation(pdb.topology, system, integrator, platform, props)
    sim.context.setPeriodicBoxVectors(*pdb.topology.getPeriodicBoxVectors())
    sim.context.setPositions(pdb.positions)
    return sim, barostat


def read_topology(directory: Path) -> app.PDBFile:
    """``topology.pdb`` of a build directory; a missing or damaged one is refused.

    Parameters
    ----------
    directory : Path
        A build or run directory.

    Raises
    ------
    RunError
        When the file is missing or cannot be read.
    """
    path = RunDir(directory).topology_pdb
    if not path.is_file():
        raise RunError(f"{directory} holds no {path.name}; rebuild it with `solvation build`")
    try:
        return app.PDBFile(str(path))
    except Exception as err:  # OpenMM's PDB reader raises several types for damaged files
        raise RunError(
            f"{path} cannot be read ({type(err).__name__}: {err}); rebuild the directory "
            "with `solvation build DESIGN.toml -o NEW_DIR`"
        ) from None


def _set_barostat(ctx: RunContext, on: bool) -> None:
    freq = ctx.protocol.barostat_interval if on else 0
    if ctx.barostat.getFrequency() != freq:
        ctx.barostat.setFrequency(freq)
        _electrode_method(ctx, on)
        ctx.simulation.context.reinitialize(preserveState=True)


def _electrode_method(ctx: RunContext, barostat_on: bool) -> None:
    """A constant-potential electrode solves its charges by CG while the barostat changes
    the box: the matrix method rebuilds its matrix at every box change (measured on a
    4.5k-atom Zn(002) slab, CPU: matrix 4.5 ns/day without barostat, 0.36 with it every
    25 steps; CG 0.94 with it). Without the barostat the design's method is used."""
    force = electrode_force(ctx.simulation.system)
    if force is None:
        return
    electrode = read_build(ctx.directory).electrode
    chosen = electrode.method if electrode else "matrix"
    method = "cg" if barostat_on else chosen
    force.setConstantPotentialMethod(
        openmm.ConstantPotentialForce.CG if method == "cg" else openmm.ConstantPotentialForce.Matrix
    )


def _save_state(ctx: RunContext, stage: str) -> None:
    path = ctx.files.stage_xml(stage)
    tmp = path.with_suffix(".tmp")
    ctx.simulation.saveState(str(tmp))
    os.replace(tmp, path)


def _state_reporter(path: Path, interval: int, append: bool, total_steps: int):
    """OpenMM's StateDataReporter into ``path``; appends only to a file that holds rows
    (a resume from the checkpoint written before the first report truncates the file to
    nothing, and the header must then be written again)."""
    append = append and _size(path) > 0
    return app.StateDataReporter(
        str(path),
        interval,
        step=True,
        time=True,
        potentialEnergy=True,
        temperature=True,
        volume=True,
        density=True,
        speed=True,
        separator=",",
        append=append,
        totalSteps=total_steps,
    )


def _truncate(path: Path, size: int) -> None:
    if path.exists():
        with path.open("r+b") as fh:
            fh.truncate(size)


def _run_steps(
    ctx: RunContext,
    stage: str,
    steps: int,
    csv: Path,
    append: bool,
    trajectory=None,
    checkpoint: CheckpointReporter | None = None,
    extra: tuple = (),
    progress: ProgressReporter | None = None,
) -> float:
    """Advance ``steps`` with guard, trajectory, state, progress and checkpoint reporters
    (in that order, so a checkpoint always follows the frame and row of its step);
    returns ns/day. ``progress``: a bar over a longer stretch (the caller closes it),
    else one over these steps."""
    sim, p = ctx.simulation, ctx.protocol
    start = sim.currentStep
    guard = GuardReporter(p.report_steps, stage, ctx.n_atoms, p.max_energy_kj_mol_per_atom)
    own = progress is None
    if own:
        progress = ProgressReporter(p.report_steps, stage, start, start + steps, p.dt_ps)
    sim.reporters = [
        guard,
        *([trajectory] if trajectory else []),
        _state_reporter(csv, p.report_steps, append, start + steps),
        *extra,
        progress,
        *([checkpoint] if checkpoint else []),
        StopReporter(p.report_steps, stage, ctx.stop),
    ]
    t0 = time.perf_counter()
    try:
        sim.step(steps)
    except openmm.OpenMMException as err:
        raise RunError(
            f"{stage}: OpenMM stopped at step {sim.currentStep}: {err}. The last good "
            "checkpoint is kept"
        ) from None
    finally:
        if own:
            progress.close()
        for reporter in extra:
            reporter.close()
        sim.reporters = []
    wall = time.perf_counter() - t0
    if stage == "npt":
        ctx.npt_volumes = guard.volumes_nm3
    return (sim.currentStep - start) * p.dt_ps / 1000.0 / max(wall, 1e-9) * 86400.0


def _contact_guard(ctx: RunContext):
    """The minimisation wall of a pre-hydrated start (``hydration.contact_guard``) and
    its energy as a function of the flat positions (nm), or (None, None): plain packing,
    or a build.json written before the guard existed."""
    start = read_build(ctx.directory).initial_structure or {}
    if not start.get("prehydrated") or "anion_resnames" not in start:
        return None, None
    topology = ctx.simulation.topology
    cations, anions = set(start["cation_resnames"]), set(start["anion_resnames"])
    force = contact_guard(topology, cations, anions)
    if force is None:
        return None, None
    cat, acc = guard_pairs(topology, cations, anions)
    box = ctx.simulation.context.getState().getPeriodicBoxVectors(asNumpy=True)
    box_nm = box.value_in_unit(u.nanometer)
    return force, lambda x: guard_energy(x, cat, acc, box_nm)


def _minimize(ctx: RunContext) -> float:
    p, sim = ctx.protocol, ctx.simulation
    t0 = time.perf_counter()
    guard, penalty = _contact_guard(ctx)
    progress = MinimizationProgress(
        p.minimize_max_iterations, lambda: ctx.stop.requested, penalty=penalty
    )
    if guard is not None:  # on for the minimiser only; dynamics run without it
        index = sim.system.addForce(guard)
        sim.context.reinitialize(preserveState=True)
        LOGGER.info(
            "minimize: anions held %.1f A from pre-hydrated cations (a wall for the "
            "minimiser only; its energy is shown apart from the system's)",
            GUARD_ANGSTROM,
        )
    try:
        sim.minimizeEnergy(
            tolerance=p.minimize_tolerance_kj_mol_nm * u.kilojoule_per_mole / u.nanometer,
            maxIterations=p.minimize_max_iterations,
            reporter=progress,
        )
    finally:
        progress.close()
        if guard is not None:
            sim.system.removeForce(index)
            sim.context.reinitialize(preserveState=True)
    if ctx.stop.requested:
        raise StopRequested("minimize", 0)
    energy = sim.context.getState(getEnergy=True).getPotentialEnergy()
    if not math.isfinite(energy.value_in_unit(u.kilojoule_per_mole)):
        raise RunError("minimize: energy is not finite after minimisation; check the structure")
    ctx.info.minimized_energy_kj_mol = energy.value_in_unit(u.kilojoule_per_mole)
    LOGGER.info(
        "minimize: %d iterations in %.1f s, E = %.6g kJ/mol (the system's, walls removed)",
        progress.iterations,
        time.perf_counter() - t0,
        ctx.info.minimized_energy_kj_mol,
    )
    return time.perf_counter() - t0


def _heating(ctx: RunContext) -> float:
    p, sim = ctx.protocol, ctx.simulation
    _set_barostat(ctx, False)
    sim.context.setVelocitiesToTemperature(p.heating_start_k * u.kelvin, ctx.seed)
    sim.currentStep = 0
    segments = 10
    chunk = max(p.report_steps, p.heating_steps // segments // p.report_steps * p.report_steps)
    rates = []
    progress = ProgressReporter(p.report_steps, "heating", 0, p.heating_steps, p.dt_ps)
    try:  # one bar for the stage, over its ten temperature steps
        while sim.currentStep < p.heating_steps:
            frac = min(1.0, (sim.currentStep + chunk) / p.heating_steps)
            sim.integrator.setTemperature(
                (p.heating_start_k + frac * (p.temperature_k - p.heating_start_k)) * u.kelvin
            )
            n = min(chunk, p.heating_steps - sim.currentStep)
            csv = ctx.files.equilibration_csv
            rates.append(_run_steps(ctx, "heating", n, csv, _size(csv) > 0, progress=progress))
    finally:
        progress.close()
    sim.integrator.setTemperature(p.temperature_k * u.kelvin)
    return sum(rates) / len(rates) if rates else 0.0


def _npt(ctx: RunContext) -> float:
    ctx.simulation.currentStep = 0
    _set_barostat(ctx, True)
    csv = ctx.files.equilibration_csv
    rate = _run_steps(ctx, "npt", ctx.protocol.npt_steps, csv, _size(csv) > 0)
    volumes = (
        np.asarray(ctx.npt_volumes)
        if ctx.npt_volumes
        else np.array(
            [ctx.simulation.context.getState().getPeriodicBoxVolume().value_in_unit(u.nanometer**3)]
        )
    )
    # the NPT stage is equilibration: its detected transient is dropped; a transient that
    # takes most of the stage flags the density as drifting (stats.drift_reasons)
    density = estimate(ctx.mass_g / (volumes * 1e-21), equilibration=True)
    ctx.info.npt_volume_nm3 = float(volumes[density.n_equilibration :].mean())
    ctx.info.density_g_per_cm3 = density.mean
    ctx.info.density_err_g_per_cm3 = density.err
    ctx.info.density_n_eff = density.n_eff
    ctx.info.density_converged = density.converged
    ctx.info.density_reason = density.reason
    return rate


def _trajectory_reporter(path: Path, interval: int, append: bool):
    if path.suffix == ".dcd":
        return app.DCDReporter(str(path), interval, append=append, enforcePeriodicBox=True)
    return app.XTCReporter(str(path), interval, append=append, enforcePeriodicBox=True)


def _outputs(ctx: RunContext) -> list[Path]:
    """The production outputs this run writes: trajectory, state.csv, electrode.csv."""
    electrode = electrode_force(ctx.simulation.system) is not None
    return ctx.files.production_outputs(ctx.protocol.trajectory_format, electrode)


def _remove_production(directory: Path) -> None:
    """Delete the production outputs and checkpoints (production starts again)."""
    for path in RunDir(directory).production_files():
        path.unlink(missing_ok=True)
    remove_checkpoints(directory)


def _resume_production(ctx: RunContext, outputs: list[Path]) -> bool:
    """Continue from the production checkpoint after checking every output against it
    (``engine.resume``): True when resumed, False when production starts afresh."""
    d, sim = ctx.directory, ctx.simulation
    record = _checkpoint_record(d)
    if record is None:
        return False
    notes = restore(d, outputs, record["step"], ctx.protocol.report_steps)
    try:
        sim.loadCheckpoint(str(d / record["file"]))
    except Exception as err:  # OpenMM raises plain Exception for a damaged checkpoint
        raise ResumeError(
            f"{d / record['file']} cannot be loaded ({str(err).strip() or type(err).__name__}): "
            + RESTART_HINT.format(directory=d)
        ) from None
    for note in notes:
        LOGGER.info("resume: %s", note)
    return True


def _checkpoint_record(directory: Path) -> dict | None:
    """``checkpoint.json`` (``resume.read_checkpoint``), a damaged one refused with what
    to do."""
    try:
        return read_checkpoint(directory)
    except ResumeError as err:
        raise ResumeError(f"{err}: " + RESTART_HINT.format(directory=directory)) from None


def _production(ctx: RunContext) -> float:
    p, sim, d = ctx.protocol, ctx.simulation, ctx.directory
    outputs = _outputs(ctx)
    traj, csv = outputs[0], outputs[1]
    if ctx.fresh_production:  # equilibration ran again: an older production is stale
        _remove_production(d)
    resume = _resume_production(ctx, outputs)
    if not resume:
        _remove_production(d)
        sim.currentStep = 0
        sim.context.setTime(0.0)
    _set_barostat(ctx, p.ensemble == "NPT")
    checkpoint = ctx.checkpoint = CheckpointReporter(d, p.checkpoint_steps, outputs)
    if not resume:
        checkpoint.save(sim)  # production restarts from here, never from scratch
    remaining = p.production_steps - sim.currentStep
    rate = ctx.info.ns_per_day.get("production") or 0.0
    if remaining > 0:
        rate = _run_steps(
            ctx,
            "production",
            remaining,
            csv,
            resume and csv.exists(),
            _trajectory_reporter(traj, p.report_steps, traj.exists() and traj.stat().st_size > 0),
            checkpoint,
            _electrode_reporters(ctx, RunDir(d).electrode_csv),
        )
    checkpoint.save(sim)
    check_complete(d, outputs, p.production_steps, p.report_steps)
    ctx.info.n_frames = p.production_steps // p.report_steps
    ctx.info.trajectory = traj.name
    return rate


def _electrode_reporters(ctx: RunContext, path: Path) -> tuple:
    """The electrode-charge reporter when the system has a constant-potential electrode."""
    sim = ctx.simulation
    force = electrode_force(sim.system)
    if force is None:
        return ()
    metal = [a.index for a in sim.topology.atoms() if a.residue.name == METAL_RESNAME]
    z = sim.context.getState(getPositions=True).getPositions(asNumpy=True)[metal, 2]
    mid = float(np.median(z._value))
    top = [i for i, zi in zip(metal, z._value, strict=True) if zi > mid]
    bottom = [i for i, zi in zip(metal, z._value, strict=True) if zi <= mid]
    append = _size(path) > 0
    return (ElectrodeChargeReporter(path, ctx.protocol.report_steps, force, top, bottom, append),)


def _nvt_at(ctx: RunContext, stage: str, temperature_k: float, steps: int) -> float:
    """``steps`` of NVT with the thermostat at ``temperature_k``; the thermostat returns
    to the run temperature afterwards."""
    ctx.simulation.currentStep = 0
    _set_barostat(ctx, False)
    ctx.simulation.integrator.setTemperature(temperature_k * u.kelvin)
    csv = ctx.files.equilibration_csv
    try:
        return _run_steps(ctx, stage, steps, csv, _size(csv) > 0)
    finally:
        ctx.simulation.integrator.setTemperature(ctx.protocol.temperature_k * u.kelvin)


def _anneal(ctx: RunContext) -> float:
    """NVT at the annealing temperature: lets contact pairs form and break."""
    p = ctx.protocol
    return _nvt_at(ctx, "anneal", p.anneal_temperature_k, p.anneal_steps)


def _cool(ctx: RunContext) -> float:
    """NVT back at the run temperature after annealing."""
    p = ctx.protocol
    return _nvt_at(ctx, "cool", p.temperature_k, p.cool_steps)


STAGES = {
    "minimize": _minimize,
    "heating": _heating,
    "npt": _npt,
    "anneal": _anneal,
    "cool": _cool,
    "production": _production,
}


def _concentrations_after_npt(build: BuildInfo, volume_nm3: float | None) -> list[dict]:
    """Molar concentrations rescaled from the packed volume to the mean NPT volume (bulk)."""
    if volume_nm3 is None or build.slab is not None:
        return []
    packed = float(np.prod(build.box_nm))
    out = []
    for c in build.concentrations:
        entry = {"solute": c.solute, "unit": c.unit, "built": c.achieved}
        if c.unit in ("mol/L", "g/L"):
            entry["after_npt"] = c.achieved * packed / volume_nm3
        else:
            entry["after_npt"] = c.achieved  # mass- and count-based units do not change
        out.append(entry)
    return out


def _start_info(directory: Path, protocol: Protocol) -> RunInfo:
    if not has_run(directory):
        return RunInfo(protocol=protocol.to_dict())
    info = read_run(directory)
    changed = protocol.differences(info.protocol, info.stages_done)
    if changed:
        state = "finished" if info.complete else "interrupted"
        raise RunError(
            f"{directory} holds a {state} run with a different protocol ({'; '.join(changed)}); "
            "run it with the same options (or none: `solvation run DIR` resumes the "
            "recorded protocol), extend a finished run with --extend, or copy the build "
            "files to a new directory"
        )
    info.protocol = protocol.to_dict()  # an execution field (checkpoint interval) may change
    return info


def _recorded_protocol(info: RunInfo, directory: Path) -> Protocol:
    try:
        return Protocol(**info.protocol)
    except TypeError:
        raise RunError(
            f"{directory}/{RUN_JSON} holds a protocol this version cannot read; run the "
            "build files in a new directory"
        ) from None


def _protocol(directory: Path, design: dict, protocol: Protocol | None, overrides) -> Protocol:
    """The protocol to run: given, else the recorded one when no option or only execution
    options (checkpoint interval) are given (resume), else the design's ``[protocol]``
    table with ``overrides``."""
    if protocol is not None:
        return protocol
    given = {k: v for k, v in overrides.items() if v is not None}
    if has_run(directory) and set(given) <= set(EXECUTION_KEYS):
        recorded = _recorded_protocol(read_run(directory), directory)
        new = protocol_from(**given)
        return replace(recorded, **{f: getattr(new, f) for f in EXECUTION_FIELDS if given})
    return protocol_from(design.get("protocol"), design.get("temperature"), **overrides)


def _refuse_physics_with_extend(protocol: Protocol | None, overrides: dict) -> None:
    """``--extend`` keeps the recorded physics: a protocol or a physics option is refused
    (execution options - platform, device, precision, threads, checkpoint interval - may
    change)."""
    physics = [k for k, v in overrides.items() if v is not None and k not in EXECUTION_KEYS]
    if protocol is None and not physics:
        return
    options = {"production": "time"}  # the command line's name of a protocol key
    named = ", ".join(f"--{options.get(k, k).replace('_', '-')}" for k in physics) or "a protocol"
    raise RunError(
        f"--extend continues the recorded protocol, whose physics cannot change: drop "
        f"{named}. Execution options (--platform, --device, --precision, --threads, "
        "--checkpoint-every) may be given"
    )


def extend_production(directory: str | Path, amount: str) -> RunInfo:
    """Lengthen the production of a finished run by ``amount`` (e.g. "10 ns"), recorded in
    run.json's ``extensions``; ``run`` then appends it from the last checkpoint. Call it
    while holding the directory's lock (``run(..., extend=...)`` does).

    Parameters
    ----------
    directory : str or Path
        A finished run directory.
    amount : str
        Time with its unit ('10 ns').
    """
    directory = Path(directory)
    info = read_run(directory)
    if not info.complete:
        raise RunError(
            f"{directory} holds an unfinished run; finish it first with `solvation run "
            f"{directory}`, then extend it"
        )
    try:
        extra = time_ps(amount)
    except QuantityError as err:
        raise ProtocolError(f"--extend: {err}") from None
    old = _recorded_protocol(info, directory)
    new = replace(old, production_ps=old.production_ps + extra)
    if extra > 0:
        try:
            check_protocol(new)
        except ProtocolError as err:
            raise ProtocolError(f"--extend {amount!r}: {err}") from None
    if extra <= 0 or new.production_steps <= old.production_steps:
        raise ProtocolError(
            f"--extend {amount!r} adds no frame; give at least one report interval "
            f"({old.report_every_ps:g} ps)"
        )
    to_ps = lambda p: p.production_steps * p.dt_ps  # noqa: E731
    info.extensions = [
        *info.extensions,
        {"from_ps": to_ps(old), "to_ps": to_ps(new), "requested": str(amount)},
    ]
    info.protocol = new.to_dict()
    info.stages_done = [s for s in info.stages_done if s != "production"]
    info.complete = False
    write_run(directory, info)
    return info


def run(
    directory: str | Path,
    protocol: Protocol | None = None,
    platform: str = "auto",
    device: int | None = None,
    precision: str | None = None,
    extend: str | None = None,
    threads: int | None = None,
    restart_production: bool = False,
    **overrides,
) -> RunInfo:
    """Run (or resume) the simulation of a build directory; returns its ``run.json`` record.

    ``protocol`` defaults to the design's ``[protocol]`` table with ``overrides``
    (same keys, values with units, e.g. ``production="2 ns"``); with no overrides a
    directory that holds a run resumes its recorded protocol. A finished run is not run
    again (its outputs are checked); ``extend`` ("10 ns") appends that much production to
    it. Every start checks the production outputs against the checkpoint
    (``engine.resume``): cut back exactly, or refused; ``restart_production`` discards
    production and runs it again from the equilibrated state. The directory is locked
    against other writers (``DirectoryBusy`` names the holder's PID). SIGINT or SIGTERM
    stop the run with a checkpoint and raise ``RunInterrupted`` (exit 130).

    Parameters
    ----------
    directory : str or Path
        A build or run directory.
    protocol : Protocol, optional
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    precision : str, optional
        Platform precision ('mixed', 'double', 'single').
    extend : str, optional
        Production to append to a finished run, with its unit ('10 ns').
    threads : int, optional
        Threads of the CPU platform (default: OpenMM's, OPENMM_CPU_THREADS or every core).
    restart_production : bool
        Discard the production outputs and run production again from the end of
        equilibration.
    **overrides
        Protocol keys with units ('production="2 ns"').

    Raises
    ------
    DirectoryBusy
        When another process holds the directory.
    RunInterrupted
        On SIGINT or SIGTERM, after a checkpoint.
    """
    directory = Path(directory)
    build, design = read_build_and_design(directory)
    if extend is not None:
        if restart_production:
            raise RunError("--extend continues the recorded production; drop --restart-production")
        _refuse_physics_with_extend(protocol, overrides)
    with DirectoryLock(directory, "a run"), stop_requests() as stop:
        if restart_production:
            _restart_production(directory)
        if extend is not None:
            extend_production(directory, extend)
        protocol = _protocol(directory, design, protocol, overrides)
        info = _start_info(directory, protocol)
        if info.complete:
            _check_finished(directory, protocol)
            return info
        for note in rounding_notes(protocol) if "npt" not in info.stages_done else ():
            warn(note)
        plat, props = choose_platform(platform, device, precision, threads)
        LOGGER.debug("platform %s, properties %s", plat.getName(), props or "defaults")
        LOGGER.debug("protocol %s", protocol.to_dict())
        _checkpoint_record(directory)  # a damaged record is refused before any work
        sim, barostat = _simulation(directory, protocol, build, plat, props, build.seed)
        ctx = RunContext(directory, protocol, sim, barostat, info, build.seed, stop=stop)
        _describe(ctx, plat, props, device)
        log_plan(ctx)
        try:
            _stages(ctx, build)
        except StopRequested as stopped:
            raise _interrupted(ctx, stopped) from None
    return info


def _check_finished(directory: Path, protocol: Protocol) -> None:
    """A finished run's outputs still hold every frame and row it recorded."""
    files = RunDir(directory)
    record = _checkpoint_record(directory)
    if record is None:
        raise ResumeError(
            f"{directory}/{RUN_JSON} says the run finished, but its {CHECKPOINT_JSON} is gone: "
            + RESTART_HINT.format(directory=directory)
        )
    electrode = files.electrode_csv.exists() or files.build.electrode is not None
    outputs = files.production_outputs(protocol.trajectory_format, electrode)
    check_complete(directory, outputs, protocol.production_steps, protocol.report_steps)


def _restart_production(directory: Path) -> None:
    """Discard production (outputs, checkpoints) so that it runs again from the end of
    equilibration; refused before equilibration has finished."""
    if not has_run(directory):
        raise RunError(f"{directory} holds no run yet; run it with `solvation run {directory}`")
    info = read_run(directory)
    stages = _recorded_protocol(info, directory).stages
    if not set(stages[:-1]) <= set(info.stages_done):
        raise RunError(
            f"{directory} has not finished equilibration; `solvation run {directory}` "
            "continues it (--restart-production is for a damaged production)"
        )
    _remove_production(directory)
    info.stages_done = [s for s in info.stages_done if s != "production"]
    info.complete, info.n_frames = False, None
    write_run(directory, info)
    warn(f"{directory}: production discarded; it runs again from the equilibrated state")


def _describe(ctx: RunContext, plat, props: dict, device: int | None) -> None:
    system, info = ctx.simulation.system, ctx.info
    ctx.mass_g = (
        sum(
            system.getParticleMass(i).value_in_unit(u.dalton)
            for i in range(system.getNumParticles())
        )
        / AVOGADRO_PER_MOL
    )
    info.platform = plat.getName()
    info.precision = props.get("Precision", "platform default")
    info.device = device
    info.versions = versions(RUN_PACKAGES)
    info.seed = ctx.seed
    info.n_atoms = system.getNumParticles()


def _load_stage(ctx: RunContext, stage: str, previous: str) -> None:
    """Start ``stage`` from the saved end state of ``previous``; production resuming from
    its checkpoint needs none (the checkpoint holds the whole state)."""
    if stage == "production" and not ctx.fresh_production and _checkpoint_record(ctx.directory):
        return
    path = ctx.files.stage_xml(previous)
    try:
        ctx.simulation.loadState(str(path))
    except Exception as err:  # a missing or truncated state file
        raise StaleStage(previous, f"{path.name} cannot be read ({type(err).__name__})") from None


class StaleStage(Exception):
    """The saved end state of a finished stage cannot be loaded.

    Parameters
    ----------
    stage : str
        The stage whose state is damaged.
    why : str
        What is wrong with it.
    """

    def __init__(self, stage: str, why: str):
        super().__init__(why)
        self.stage, self.why = stage, why


def _stages(ctx: RunContext, build: BuildInfo) -> None:
    """Every stage not yet done, each from the end state of the one before. A damaged
    stage state (``stage-X.xml``) makes equilibration run again from the start, with a
    warning, unless production can resume from its own checkpoint."""
    try:
        _run_stages(ctx, build)
    except StaleStage as stale:
        warn(f"{ctx.directory}: {stale.why}: equilibration runs again from the start")
        ctx.info.stages_done, ctx.info.equilibration_csv_bytes = [], 0
        pdb = read_topology(ctx.directory)
        ctx.simulation.context.setPeriodicBoxVectors(*pdb.topology.getPeriodicBoxVectors())
        ctx.simulation.context.setPositions(pdb.positions)
        _run_stages(ctx, build)


def _run_stages(ctx: RunContext, build: BuildInfo) -> None:
    directory, info, sim = ctx.directory, ctx.info, ctx.simulation
    previous = None
    for stage in ctx.protocol.stages:
        func = STAGES[stage]
        if stage in info.stages_done:
            previous = stage
            continue
        if ctx.stop.requested:
            raise StopRequested(stage, sim.currentStep)
        if previous is not None:  # production may then jump ahead to its checkpoint
            _load_stage(ctx, stage, previous)
        _truncate_equilibration(directory, info, stage)
        ctx.fresh_production = ctx.fresh_production or stage != "production"
        value = func(ctx)
        info.ns_per_day = {**info.ns_per_day, stage: value if stage != "minimize" else None}
        if stage == "minimize":
            info.minimize_seconds = value
        if stage != "production":
            _save_state(ctx, stage)
            info.equilibration_csv_bytes = _size(RunDir(directory).equilibration_csv)
        info.stages_done = [*info.stages_done, stage]
        if stage == "npt":
            info.concentrations_after_npt = _concentrations_after_npt(build, info.npt_volume_nm3)
        info.complete = stage == "production"
        write_run(directory, info)
        previous = stage


class RunInterrupted(Interrupted):
    """A run stopped by SIGINT/SIGTERM after saving what resumes it."""


def _interrupted(ctx: RunContext, stopped: StopRequested) -> RunInterrupted:
    """Checkpoint a stopped production (its outputs end at this report step) and say
    where the run stopped and how to resume it."""
    d, p, sim = ctx.directory, ctx.protocol, ctx.simulation
    if stopped.stage == "production" and ctx.checkpoint is not None:
        ctx.checkpoint.save(sim)
        done = sim.currentStep * p.dt_ps
        where = (
            f"production at {done:g} of {p.production_steps * p.dt_ps:g} ps; checkpoint "
            "saved, every frame so far is kept"
        )
    else:
        where = f"{stopped.stage} (it starts again from the stage before when resumed)"
    write_run(d, ctx.info)
    return RunInterrupted(f"{d}: run stopped in {where}. Resume with: solvation run {d}")


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else 0


def _truncate_equilibration(directory: Path, info: RunInfo, stage: str) -> None:
    """Drop rows an interrupted equilibration stage wrote (it starts again)."""
    if stage in EQUILIBRATION_STAGES:
        _truncate(RunDir(directory).equilibration_csv, info.equilibration_csv_bytes)
