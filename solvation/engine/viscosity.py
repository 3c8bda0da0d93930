"""The periodic-perturbation (cosine acceleration) run behind ``solvation run DIR --viscosity``.

Starting from the run's equilibrated state (``stage-npt.xml``: positions, velocities,
box), an NVT run accelerates every atom along x by A cos(2 pi z / L_z) and records the
flow amplitude V (nm/ps) every ``REPORT_STEPS`` steps in ``DIR/viscosity/viscosity.csv``;
``solvation.analysis.viscosity`` turns it into eta with its error.

OpenMM has no built-in for this. A force cannot carry it: a potential whose x force is
m A cos(kz) has a z force -m A k x sin(kz) that grows with the unwrapped x. So the
acceleration goes into the velocity kick of a CustomIntegrator (LangevinMiddle, BAOAB
with constraints, as OpenMM's own), and the thermostat acts on the velocity minus the
imposed profile V cos(kz) e_x, with V measured every step as the mass-weighted projection
2 sum m v_x cos(kz) / sum m. The mean flow then feels no friction, and eta = rho A /
(V k^2) holds as in GROMACS (which removes the profile from its thermostat the same
way); the kinetic energy, and so the reported temperature, excludes the flow. Tested in
tests/test_viscosity.py (the amplitude the integrator reports equals the projection of
the state's positions and velocities) and benchmarks/bench_viscosity.py (TIP3P).

The run is resumable: checkpoints every ``checkpoint_ps`` with the CSV's size, as in
production. It needs a bulk box (no slab, no osmotic walls) and uses the run's protocol
(timestep, friction, temperature, hydrogen mass repartitioning).
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u

from solvation.constants import AVOGADRO_PER_MOL, BOLTZMANN_J_PER_K
from solvation.rundir import (
    VISCOSITY_CSV,
    VISCOSITY_DIR,
    RunDir,
    ViscosityInfo,
    has_viscosity,
    load_system,
    read_build,
    read_run,
    read_viscosity,
    write_viscosity,
)

from .platforms import choose_platform
from .protocol import DEFAULT_ACCELERATION, DEFAULT_TIME_PS, Protocol
from .reporters import CheckpointReporter, CsvRowReporter, ProgressReporter
from .resume import ResumeError, read_checkpoint, restore
from .run import RunError, read_topology, repartition_hydrogen_mass

REPORT_STEPS = 10  # flow amplitude every 10 steps (20 fs at 2 fs): V decorrelates in ~1 ps
KB_KJ_PER_MOL_K = BOLTZMANN_J_PER_K * AVOGADRO_PER_MOL / 1000.0


def cosine_integrator(
    temperature_k: float, friction_per_ps: float, dt_ps: float, acceleration: float, lz_nm: float
) -> openmm.CustomIntegrator:
    """LangevinMiddle with the cosine acceleration A cos(2 pi z / lz) along x in the kick
    and friction and noise acting on v - V cos(kz) e_x (module docstring). Globals: Vamp
    (nm/ps), the flow amplitude after the step; A; kz.

    Parameters
    ----------
    temperature_k : float
        Temperature (K).
    friction_per_ps : float
        Langevin friction (1/ps).
    dt_ps : float
        Time step (ps).
    acceleration : float
        Acceleration amplitude A (nm/ps^2).
    lz_nm : float
        Box length along z (nm).
    """
    integrator = openmm.CustomIntegrator(dt_ps)
    decay = math.exp(-friction_per_ps * dt_ps)
    for name, value in (
        ("kT", KB_KJ_PER_MOL_K * temperature_k),
        ("a", decay),
        ("b", math.sqrt(1.0 - decay**2)),
        ("A", acceleration),
        ("kz", 2.0 * math.pi / lz_nm),
        ("mtot", 0.0),
        ("mvcos", 0.0),
        ("Vamp", 0.0),
    ):
        integrator.addGlobalVariable(name, value)
    integrator.addPerDofVariable("x1", 0.0)
    integrator.addPerDofVariable("vb", 0.0)  # the imposed profile, for the thermostat and KE
    flow = "2*m*v*cos(kz*_z(x))*vector(1,0,0)"
    integrator.addUpdateContextState()
    integrator.addComputeSum("mtot", "m*vector(1,0,0)")
    integrator.addComputePerDof("v", "v + dt*f/m + dt*A*cos(kz*_z(x))*vector(1,0,0)")
    integrator.addConstrainVelocities()
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputeSum("mvcos", flow)
    integrator.addComputeGlobal("Vamp", "mvcos/mtot")
    integrator.addComputePerDof(
        "v", "vb + a*(v - vb) + b*sqrt(kT/m)*gaussian; vb = Vamp*cos(kz*_z(x))*vector(1,0,0)"
    )
    integrator.addComputePerDof("x", "x + 0.5*dt*v")
    integrator.addComputePerDof("x1", "x")
    integrator.addConstrainPositions()
    integrator.addComputePerDof("v", "v + (x - x1)/dt")
    integrator.addComputeSum("mvcos", flow)
    integrator.addComputeGlobal("Vamp", "mvcos/mtot")
    integrator.addComputePerDof("vb", "Vamp*cos(kz*_z(x))*vector(1,0,0)")
    integrator.setKineticEnergyExpression("0.5*m*(v-vb)*(v-vb)")
    return integrator


class FlowAmplitudeReporter(CsvRowReporter):
    """Every ``interval`` steps a row of ``viscosity.csv``: step, time (ps), V (nm/ps);
    stops the run if V is not finite."""

    HEADER = "step,time_ps,V_nm_per_ps\n"

    def report(self, simulation, state):
        """OpenMM reporter protocol."""
        amplitude = simulation.integrator.getGlobalVariableByName("Vamp")
        if not math.isfinite(amplitude):
            raise RunError(
                f"viscosity: the flow amplitude is {amplitude} at step "
                f"{simulation.currentStep}; the last checkpoint is kept. Use a smaller "
                "acceleration or timestep"
            )
        time_ps = state.getTime().value_in_unit(u.picosecond)
        self._fh.write(f"{simulation.currentStep},{time_ps:.4f},{amplitude:.8g}\n")
        self._fh.flush()


def _settings(directory: Path, acceleration: float, time_ps: float) -> tuple[Protocol, dict]:
    """The run's protocol and the viscosity run's settings; refuses boxes it cannot use."""
    if acceleration <= 0 or time_ps <= 0:
        raise RunError("the acceleration (nm/ps^2) and the viscosity time must be positive")
    build = read_build(directory)
    if build.slab is not None or build.osmotic is not None:
        raise RunError(
            f"{directory} is not a homogeneous bulk box (slab or osmotic walls): the "
            "periodic-perturbation viscosity needs one"
        )
    info = read_run(directory)
    if "npt" not in info.stages_done:
        raise RunError(f"{directory} is not equilibrated yet; run `solvation run DIR` first")
    protocol = Protocol(**info.protocol)
    return protocol, {"seed": build.seed, "acceleration": acceleration, "time_ps": time_ps}


def _simulation(directory: Path, protocol: Protocol, acceleration: float, platform, props):
    files = RunDir(directory)
    system = load_system(files)
    pdb = read_topology(files.path)
    if protocol.hmr:
        repartition_hydrogen_mass(system, pdb.topology, protocol.hydrogen_mass_amu)
    state = openmm.XmlSerializer.deserialize(files.stage_xml("npt").read_text())
    box = [v.value_in_unit(u.nanometer) for v in state.getPeriodicBoxVectors()]
    lz = box[2][2]
    integrator = cosine_integrator(
        protocol.temperature_k, protocol.friction_per_ps, protocol.dt_ps, acceleration, lz
    )
    sim = app.Simulation(pdb.topology, system, integrator, platform, props)
    mass = sum(
        system.getParticleMass(i).value_in_unit(u.dalton) for i in range(system.getNumParticles())
    )
    volume = float(np.linalg.det(np.asarray(box)))
    density = mass / AVOGADRO_PER_MOL / 1000.0 / (volume * 1e-27)  # kg/m^3
    return sim, state, [box[0][0], box[1][1], lz], mass, density


def _record(protocol: Protocol, settings: dict, box, mass, density) -> ViscosityInfo:
    return ViscosityInfo(
        acceleration_nm_per_ps2=settings["acceleration"],
        time_ps=settings["time_ps"],
        report_steps=REPORT_STEPS,
        timestep_fs=protocol.timestep_fs,
        friction_per_ps=protocol.friction_per_ps,
        temperature_k=protocol.temperature_k,
        box_nm=box,
        mass_amu=mass,
        density_kg_per_m3=density,
        seed=settings["seed"],
    )


def run_viscosity(
    directory: str | Path,
    acceleration_nm_per_ps2: float = DEFAULT_ACCELERATION,
    time_ps: float = DEFAULT_TIME_PS,
    platform: str = "auto",
    device: int | None = None,
    precision: str | None = None,
    checkpoint_ps: float = 50.0,
) -> ViscosityInfo:
    """Run (or resume) the periodic-perturbation run of an equilibrated run directory;
    returns its ``viscosity/viscosity.json`` record (module docstring).

    Parameters
    ----------
    directory : str or Path
        An equilibrated run directory.
    acceleration_nm_per_ps2 : float
        Acceleration amplitude (nm/ps^2).
    time_ps : float
        Length of the run (ps).
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    precision : str, optional
        Platform precision ('mixed', 'double', 'single').
    checkpoint_ps : float
        Checkpoint interval (ps).
    """
    directory = Path(directory)
    protocol, settings = _settings(directory, acceleration_nm_per_ps2, time_ps)
    if has_viscosity(directory):
        old = read_viscosity(directory)
        if (old.acceleration_nm_per_ps2, old.time_ps) != (acceleration_nm_per_ps2, time_ps):
            raise RunError(
                f"{directory}/{VISCOSITY_DIR} holds a viscosity run with A = "
                f"{old.acceleration_nm_per_ps2} nm/ps^2 over {old.time_ps} ps; give the same "
                f"settings, or remove {VISCOSITY_DIR}/ to start another"
            )
        if old.complete:
            return old
    plat, props = choose_platform(platform, device, precision)
    sim, state, box, mass, density = _simulation(
        directory, protocol, acceleration_nm_per_ps2, plat, props
    )
    info = _record(protocol, settings, box, mass, density)
    info.platform, info.precision = plat.getName(), props.get("Precision", "platform default")
    write_viscosity(directory, info)
    info.ns_per_day = _advance(directory / VISCOSITY_DIR, sim, state, protocol, info, checkpoint_ps)
    info.complete = True
    write_viscosity(directory, info)
    return info


def _advance(folder: Path, sim, state, protocol, info, checkpoint_ps: float) -> float:
    """Run the remaining steps with the flow, progress and checkpoint reporters."""
    csv = folder / VISCOSITY_CSV
    marker = RunDir(folder).checkpoint_json
    sim.integrator.setRandomNumberSeed(info.seed)
    if marker.exists():  # rows written after the checkpoint go (engine.resume)
        hint = f"remove {folder} to run the viscosity run again"
        try:
            chk = read_checkpoint(folder)
        except ResumeError as err:
            raise ResumeError(f"{err}: {hint}") from None
        restore(folder, [csv], chk["step"], REPORT_STEPS, hint)
        sim.loadCheckpoint(str(folder / chk["file"]))
    else:  # not setState: the NPT state carries the barostat's parameters
        sim.context.setPeriodicBoxVectors(*state.getPeriodicBoxVectors())
        sim.context.setPositions(state.getPositions())
        sim.context.setVelocities(state.getVelocities())
        sim.currentStep = 0
        sim.context.setTime(0.0)
        csv.unlink(missing_ok=True)
    every = max(REPORT_STEPS, round(checkpoint_ps / protocol.dt_ps / REPORT_STEPS) * REPORT_STEPS)
    total = max(REPORT_STEPS, round(info.time_ps / protocol.dt_ps / REPORT_STEPS) * REPORT_STEPS)
    flow = FlowAmplitudeReporter(csv, REPORT_STEPS, csv.exists() and csv.stat().st_size > 0)
    checkpoint = CheckpointReporter(folder, every, [csv])
    if not marker.exists():
        checkpoint.save(sim)
    progress = ProgressReporter(REPORT_STEPS, "viscosity", sim.currentStep, total, protocol.dt_ps)
    sim.reporters = [flow, progress, checkpoint]
    start, wall = sim.currentStep, time.perf_counter()
    try:
        sim.step(total - sim.currentStep)
    except openmm.OpenMMException as err:
        raise RunError(f"viscosity: OpenMM stopped at step {sim.currentStep}: {err}") from None
    finally:
        flow.close()
        progress.close()
        sim.reporters = []
    checkpoint.save(sim)
    elapsed = max(time.perf_counter() - wall, 1e-9)
    return (sim.currentStep - start) * protocol.dt_ps / 1000.0 / elapsed * 86400.0
