"""Well-tempered metadynamics on the number of cation-anion contacts of a run
(``solvation metad``): the enhanced-sampling stage that lets sulfate enter and leave Zn2+
first shells at 298 K, reweighted afterwards to the unbiased distribution of contact
pairs (``solvation.analysis.reweight``).

Why well-tempered metadynamics (OpenMM ``app.Metadynamics``) and not OPES: it ships with
OpenMM (no hand-written bias update), saves its bias to disk so that a stopped run
resumes, and its frames reweight exactly with c(t) (Tiwary & Parrinello 2015); OPES
(Invernizzi & Parrinello 2020) converges its bias faster but would have to be written
and tested here first.

Collective variable: the smooth coordination number of the cation with the anion's
acceptor atoms (O of SO4^2-), N = sum_ij 1 / (1 + (r_ij / r0)^12) (PLUMED's RATIONAL
switching function with n = 12, m = 24, d0 = 0), summed by a periodic CustomBondForce
over every cation-acceptor pair inside a CustomCVForce. r0 = 0.26 nm sits between the
Zn-O contact (about 0.20 nm, s = 0.96) and the solvent-shared O (0.40 nm and beyond,
s < 0.006).

``cv = "exchange"`` biases instead N - N_w, where N_w is the same smooth count of water O
around the cations: a sulfate O entering a hydrated Zn2+ shell needs a water to leave
first, and on N alone the bias never pushes that water out (docs/validation.md, section
3.2: 85 kJ/mol on N in 1 ns did not make one contact from a pre-hydrated start). N - N_w
rises by one when a water leaves and by one more when an acceptor takes its place. The
reweighting is the same (it needs only the bias at each frame); the counts of contact
pairs in metad.csv are those of N.

Files in ``RUN/metad`` (each written at a checkpoint, every ``checkpoint_ps``):
``metad.json`` (settings, progress, step), ``checkpoint.chk`` (state), ``bias/`` (OpenMM's
bias files: a resumed run loads the earlier ones as another walker's bias, so their sum
is the bias), ``metad.csv`` one row per deposit: time_ps, cv (contacts), bias_kj_per_mol
(V at the CV), c_kj_per_mol (c(t)), n_pairs (cation-anion residue pairs in contact: an
acceptor within ``contact_angstrom``) and n_cations_in_contact. A killed run resumes
from its last checkpoint, with the rows after it cut off.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u
from pydantic import ValidationError

from solvation.analysis.coordination import MAX_FIRST_SHELL
from solvation.analysis.reweight import well_tempered_c
from solvation.console import LOGGER
from solvation.design import MetadSpec
from solvation.errors import SolvationError
from solvation.rundir import (
    METAD_CHECKPOINT,
    METAD_CSV,
    METAD_DIR,
    METAD_JSON,
    RunDir,
    load_system,
    read_build,
    read_run,
    write_json_atomic,
)

from .pair_umbrella import acceptors, minimum_image, resolve_species
from .platforms import choose_platform
from .protocol import Protocol
from .run import repartition_hydrogen_mass
from .umbrella import equilibrated_state

COLUMNS = ("time_ps", "cv", "bias_kj_per_mol", "c_kj_per_mol", "n_pairs", "n_cations_in_contact")
SWITCH = "1/(1+(r/{r0})^{n})"


class MetadError(SolvationError):
    """A metadynamics stage that cannot run as asked."""


@dataclass(frozen=True)
class MetadSettings:
    """The stage (times in ps, energies in kJ/mol, lengths in nm; CV in contacts).

    Attributes
    ----------
    cation, anion : str
        Species of the contact pairs.
    switch_nm : float
        r0 of the switching function (nm).
    exponent : int
        n of 1 / (1 + (r / r0)^n).
    height_kj_per_mol, width : float
        Initial Gaussian height (kJ/mol) and width (contacts).
    bias_factor : float
        gamma of well-tempered metadynamics.
    deposit_ps : float
        Time between Gaussians (and between recorded rows).
    time_ps, checkpoint_ps : float
        Length of the stage and the checkpoint interval.
    contact_angstrom : float
        Cation - acceptor distance of a contact pair (A), for the counts.
    grid : int
        Bias grid points over the CV range (at least two per Gaussian width).
    cv : str
        'contacts' (N) or 'exchange' (N - N_w: module docstring).
    """

    cation: str = "Zn2+"
    anion: str = "SO4"
    switch_nm: float = 0.26
    exponent: int = 12
    height_kj_per_mol: float = 1.0
    width: float = 0.3
    bias_factor: float = 10.0
    deposit_ps: float = 1.0
    time_ps: float = 1000.0
    checkpoint_ps: float = 20.0
    contact_angstrom: float = 3.0
    grid: int = 400
    cv: str = "contacts"


def metad_settings(spec: MetadSpec | None = None, **overrides) -> MetadSettings:
    """Settings from a design's ``[metad]`` table and overrides with the same keys (times
    with units); None values are ignored.

    Parameters
    ----------
    spec : MetadSpec, optional
        A design's ``[metad]`` table.
    **overrides
        Same keys.

    Raises
    ------
    MetadError
        For values the table would refuse.
    """
    data = (spec or MetadSpec()).model_dump()
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        spec = MetadSpec.model_validate(data)
    except ValidationError as err:
        fields = "; ".join(f"{e['loc'][0]}: {e['msg']}" for e in err.errors())
        raise MetadError(f"invalid metadynamics settings: {fields}") from None
    return MetadSettings(
        cation=spec.cation,
        anion=spec.anion,
        height_kj_per_mol=spec.height,
        width=spec.width,
        bias_factor=spec.bias_factor,
        deposit_ps=spec.deposit.ps,
        time_ps=spec.time.ps,
        checkpoint_ps=spec.checkpoint.ps,
        cv=spec.cv or "contacts",
    )


@dataclass(frozen=True)
class ContactSites:
    """Atoms of the contact CV and counts.

    Attributes
    ----------
    cations : list of int
        Cation atoms.
    acceptors : list of int
        Anion acceptor atoms.
    residue_of : numpy.ndarray
        For each acceptor, the index of its anion residue (0..n_anions-1).
    waters : tuple of int
        Water O atoms (the exchange CV only; empty otherwise).
    max_waters : int
        First-shell waters one cation can hold (``MAX_FIRST_SHELL``; exchange CV only):
        how far down the bias grid reaches.
    """

    cations: list[int]
    acceptors: list[int]
    residue_of: np.ndarray
    waters: tuple[int, ...] = ()
    max_waters: int = 0


def contact_sites(topology: app.Topology, resnames: dict[str, str], s: MetadSettings):
    """The cation atoms and anion acceptor atoms of the box.

    Parameters
    ----------
    topology : openmm.app.Topology
    resnames : dict of str to str
        Species -> residue name (build.json).
    s : MetadSettings
    """
    cation = resnames[resolve_species(s.cation, resnames)]
    anion = resnames[resolve_species(s.anion, resnames)]
    cations = [a.index for r in topology.residues() if r.name == cation for a in r.atoms()]
    sites, owner = [], []
    for k, residue in enumerate(r for r in topology.residues() if r.name == anion):
        found = acceptors(residue)
        sites += found
        owner += [k] * len(found)
    if not cations or not sites:
        raise MetadError(f"the box holds no {s.cation} - {s.anion} acceptor pairs")
    waters, limit = (), 0
    if s.cv == "exchange":
        water = resnames.get("water")
        waters = tuple(
            a.index
            for r in topology.residues()
            if r.name == water
            for a in r.atoms()
            if a.element is not None and a.element.symbol == "O"
        )
        if not waters:
            raise MetadError("the exchange CV needs water in the box; use cv = 'contacts'")
        limit = MAX_FIRST_SHELL.get(cation, max(MAX_FIRST_SHELL.values()))
    return ContactSites(cations, sites, np.array(owner), waters, limit)


def contact_cv(sites: ContactSites, s: MetadSettings) -> openmm.CustomBondForce:
    """The smooth contact number sum_ij w_ij / (1 + (r_ij / r0)^n) over every cation -
    acceptor pair (w = 1) and, for the exchange CV, every cation - water O pair (w = -1);
    periodic (module docstring).

    Parameters
    ----------
    sites : ContactSites
    s : MetadSettings
    """
    force = openmm.CustomBondForce("w*" + SWITCH.format(r0=s.switch_nm, n=s.exponent))
    force.addPerBondParameter("w")
    force.setUsesPeriodicBoundaryConditions(True)
    for i in sites.cations:
        for j in sites.acceptors:
            force.addBond(i, j, [1.0])
        for j in sites.waters:
            force.addBond(i, j, [-1.0])
    return force


def contact_counts(xyz: np.ndarray, box: np.ndarray, sites: ContactSites, cutoff_nm: float):
    """(contact pairs, cations in contact): cation - anion residue pairs with an acceptor
    within ``cutoff_nm``, and cations with at least one.

    Parameters
    ----------
    xyz : numpy.ndarray
        Positions (nm).
    box : numpy.ndarray
        3x3 box vectors (nm), rectangular.
    sites : ContactSites
    cutoff_nm : float
    """
    d = minimum_image(xyz[sites.cations][:, None, :] - xyz[sites.acceptors][None, :, :], box)
    close = np.linalg.norm(d, axis=-1) < cutoff_nm
    n_anions = int(sites.residue_of.max()) + 1
    per_residue = np.zeros((len(sites.cations), n_anions), dtype=bool)
    for k in range(n_anions):
        per_residue[:, k] = close[:, sites.residue_of == k].any(axis=1)
    return int(per_residue.sum()), int(per_residue.any(axis=1).sum())


@dataclass
class _Stage:
    """The running stage: simulation, bias, sites and step counts."""

    sim: app.Simulation
    meta: app.Metadynamics
    sites: ContactSites
    grid_nm: np.ndarray  # CV grid of the bias (contacts)
    deposit_steps: int
    rows_per_checkpoint: int
    dt_ps: float


def _cv_range(sites: ContactSites) -> tuple[float, float]:
    """CV grid: from -1 (exchange CV: -1 - ``max_waters`` per cation) to two contacts per
    cation + 1 (a bidentate anion on each)."""
    n = len(sites.cations)
    return -1.0 - sites.max_waters * n, 2.0 * n + 1.0


def _grid_points(low: float, high: float, s: MetadSettings) -> int:
    """Bias grid points: ``s.grid``, or more where that would leave fewer than two per
    Gaussian width (the exchange CV's range is several times the contact CV's)."""
    return max(s.grid, int(np.ceil(2.0 * (high - low) / s.width)) + 1)


def _stage(directory: Path, s: MetadSettings, protocol: Protocol, platform, device) -> _Stage:
    system = load_system(directory)
    topology = app.PDBFile(str(RunDir(directory).topology_pdb)).topology
    if protocol.hmr:
        repartition_hydrogen_mass(system, topology, protocol.hydrogen_mass_amu)
    sites = contact_sites(topology, read_build(directory).resnames, s)
    lo, hi = _cv_range(sites)
    points = _grid_points(lo, hi, s)
    variable = app.BiasVariable(contact_cv(sites, s), lo, hi, s.width, gridWidth=points)
    deposit = max(1, round(s.deposit_ps / protocol.dt_ps))
    rows = max(1, round(s.checkpoint_ps / s.deposit_ps))
    bias_dir = directory / METAD_DIR / "bias"
    bias_dir.mkdir(parents=True, exist_ok=True)
    meta = app.Metadynamics(
        system,
        [variable],
        protocol.temperature_k * u.kelvin,
        s.bias_factor,
        s.height_kj_per_mol * u.kilojoule_per_mole,
        deposit,
        deposit * rows,
        str(bias_dir),
    )
    integrator = openmm.LangevinMiddleIntegrator(
        protocol.temperature_k, protocol.friction_per_ps, protocol.dt_ps
    )
    integrator.setRandomNumberSeed(read_build(directory).seed + 7919)
    plat, props = choose_platform(platform, device)
    sim = app.Simulation(topology, system, integrator, plat, props)
    grid = np.linspace(lo, hi, points)
    return _Stage(sim, meta, sites, grid, deposit, rows, protocol.dt_ps)


def _record(stage: _Stage, s: MetadSettings, temperature_k: float) -> tuple:
    """One row of metad.csv at the current step."""
    cv = float(stage.meta.getCollectiveVariables(stage.sim)[0])
    free = stage.meta.getFreeEnergy().value_in_unit(u.kilojoule_per_mole)
    bias = -np.asarray(free).ravel() * (s.bias_factor - 1.0) / s.bias_factor
    state = stage.sim.context.getState(getPositions=True)
    xyz = state.getPositions(asNumpy=True).value_in_unit(u.nanometer)
    box = np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer))
    pairs, cations = contact_counts(xyz, box, stage.sites, s.contact_angstrom / 10.0)
    return (
        stage.sim.currentStep * stage.dt_ps,
        cv,
        float(np.interp(cv, stage.grid_nm, bias)),
        well_tempered_c(bias, temperature_k, s.bias_factor),
        pairs,
        cations,
    )


def _write_rows(path: Path, rows: list[tuple]) -> None:
    """metad.csv with every row so far, written to a temporary file and renamed."""
    tmp = path.with_suffix(".csv.tmp")
    lines = [",".join(COLUMNS)] + [
        f"{t:.4f},{cv:.6f},{b:.6f},{c:.6f},{p:d},{n:d}" for t, cv, b, c, p, n in rows
    ]
    tmp.write_text("\n".join(lines) + "\n")
    os.replace(tmp, path)


def _read_rows(path: Path, n: int) -> list[tuple]:
    """The first ``n`` rows of metad.csv (those covered by the last checkpoint)."""
    if n == 0 or not path.exists():
        return []
    table = np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)[:n]
    return [(a, b, c, d, int(p), int(q)) for a, b, c, d, p, q in table]


def _start(stage: _Stage, directory: Path, out: Path, record: dict | None, protocol, seed: int):
    """Positions and velocities: the last checkpoint, or the run's state after NPT."""
    if record is not None:
        stage.sim.loadCheckpoint(str(out / METAD_CHECKPOINT))
        stage.sim.currentStep = int(record["step"])
        return
    _, xyz, box = equilibrated_state(directory)
    stage.sim.context.setPeriodicBoxVectors(*box)
    stage.sim.context.setPositions(xyz)
    stage.sim.context.setVelocitiesToTemperature(protocol.temperature_k, seed)


def _checkpoint(stage: _Stage, out: Path, s: MetadSettings, rows: list, seconds: float) -> None:
    _write_rows(out / METAD_CSV, rows)
    stage.sim.saveCheckpoint(str(out / METAD_CHECKPOINT))
    simulated_ns = rows[-1][0] / 1000.0 if rows else 0.0
    write_json_atomic(
        out / METAD_JSON,
        {
            "settings": asdict(s),
            "step": stage.sim.currentStep,
            "rows": len(rows),
            "time_ps": rows[-1][0] if rows else 0.0,
            "n_cations": len(stage.sites.cations),
            "n_anions": int(stage.sites.residue_of.max()) + 1,
            "cv_range": [float(stage.grid_nm[0]), float(stage.grid_nm[-1])],
            "wall_seconds": seconds,
            "ns_per_day": simulated_ns / seconds * 86400.0 if seconds > 0 else None,
            "complete": len(rows) >= round(s.time_ps / s.deposit_ps),
        },
    )


def _claimed(out: Path, s: MetadSettings) -> dict | None:
    """The stage's record (None when it has not started); other settings are refused."""
    if not (out / METAD_JSON).exists():
        return None
    record = json.loads((out / METAD_JSON).read_text())
    old = {"cv": "contacts"} | {k: v for k, v in record["settings"].items() if k != "time_ps"}
    if old != {k: v for k, v in asdict(s).items() if k != "time_ps"}:
        raise MetadError(
            f"{out} holds a metadynamics stage of other settings; remove it or keep them "
            "(only the time may change, to extend it)"
        )
    return record


def run_metadynamics(
    directory: str | Path,
    settings: MetadSettings | None = None,
    platform: str = "auto",
    device: int | None = None,
) -> dict:
    """Run (or resume, or extend to a longer ``time_ps``) the metadynamics stage of a run
    directory past NPT equilibration; returns its ``metad.json`` record.

    Parameters
    ----------
    directory : str or Path
        A run directory (``solvation run`` past NPT).
    settings : MetadSettings, optional
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.

    Raises
    ------
    MetadError
        When the run has no NPT state, the species are missing, or the directory holds
        a stage of other settings.
    """
    directory, s = Path(directory), settings or MetadSettings()
    if "npt" not in read_run(directory).stages_done:
        raise MetadError(f"{directory} has no NPT-equilibrated state: run it first")
    out = directory / METAD_DIR
    record = _claimed(out, s)
    protocol = Protocol(**read_run(directory).protocol)
    stage = _stage(directory, s, protocol, platform, device)
    _start(stage, directory, out, record, protocol, read_build(directory).seed)
    rows = _read_rows(out / METAD_CSV, record["rows"] if record else 0)
    seconds = record["wall_seconds"] if record else 0.0
    total = round(s.time_ps / s.deposit_ps)
    started = time.perf_counter()
    while len(rows) < total:
        stage.meta.step(stage.sim, stage.deposit_steps)
        rows.append(_record(stage, s, protocol.temperature_k))
        if len(rows) % stage.rows_per_checkpoint == 0 or len(rows) == total:
            now = time.perf_counter()
            seconds, started = seconds + now - started, now
            _checkpoint(stage, out, s, rows, seconds)
            LOGGER.info(
                "metad %.0f ps: CV %.2f contacts, %d cations in contact",
                rows[-1][0], rows[-1][1], rows[-1][5],
            )  # fmt: skip
    if record is None or not (out / METAD_JSON).exists():
        _checkpoint(stage, out, s, rows, seconds)
    return json.loads((out / METAD_JSON).read_text())
