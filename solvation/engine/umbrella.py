"""Umbrella-sampling windows along one ion's distance from the slab's top atomic plane.

A window is a run directory like any other (``system.xml``, ``topology.pdb``,
``build.json``, ``design.toml``) made from an equilibrated parent run, plus
``window.json`` (``solvation.rundir.WindowInfo``):

- the ion: of the chosen species, the one nearest to the middle of the electrolyte;
- positions and box: from the parent's state after NPT equilibration
  (``stage-npt.xml``), the ion is pulled (steered MD, NVT) by a stiff harmonic restraint
  whose centre moves at a constant rate from the ion's height to the highest window,
  then down through every window; the configuration at each window's centre seeds it.
  The ion arrives with the water it kept on the way, and no atom is added or removed
  (every window has the same Hamiltonian, as MBAR needs);
- ``system.xml``: the parent's System plus a CustomExternalForce named
  ``umbrella restraint``, E = k/2 d^2, d the minimum-image z distance between the ion
  and the plane ``restraint_z_nm`` = top plane + centre. The frozen slab does not move
  in NVT production, so the restraint is a harmonic bias on the ion's height above the
  top plane there; the analysis measures both in every frame.

``engine.run`` then runs each window (minimise, heat, NPT, NVT production), resumably.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u
from pydantic import ValidationError

from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K
from solvation.design import PMFSpec
from solvation.errors import SolvationError
from solvation.forcefields import METAL_RESNAME, canonical_ion
from solvation.quantities import Length
from solvation.rundir import (
    BUILD_JSON,
    DESIGN_TOML,
    UMBRELLA_JSON,
    RunDir,
    UmbrellaInfo,
    WindowInfo,
    load_system,
    read_build,
    read_run,
    read_umbrella,
    read_window,
    save_system,
    write_build,
    write_umbrella,
    write_window,
)

from .platforms import choose_platform
from .protocol import Protocol, ProtocolError, check_protocol
from .run import repartition_hydrogen_mass, run

RESTRAINT_NAME = "umbrella restraint"
RESTRAINT_ENERGY = "0.5*k_umbrella*periodicdistance(0, 0, z, 0, 0, z_umbrella)^2"
PULL_FORCE_CONSTANT = 5000.0  # kJ/mol/nm^2: the pulled ion stays within ~0.02 nm of its centre
PULL_ENERGY = "0.5*k_pull*periodicdistance(0, 0, z, 0, 0, z_pull)^2"


class UmbrellaError(SolvationError):
    """Umbrella windows that cannot be set up as asked."""


@dataclass(frozen=True)
class PMFSettings:
    """The path and the windows (lengths in nm, times in ps, k in kJ/mol/nm^2).

    Attributes
    ----------
    ion : str
    start, end : str or float
        'bulk', 'surface' ('contact', 'far' for a pair) or a distance (nm) from the top
        plane (from the cation for a pair).
    surface_distance_nm : float
        Closest window to the top plane (nm).
    spacing_nm : float
        Window spacing (nm).
    force_constant : float or None
        Restraint force constant (kJ/mol/nm^2); None: 4 kT / spacing^2.
    equilibration_ps, window_ps : float
        Equilibration and production time per window (ps).
    shell_cutoff_angstrom : float
        First-shell cutoff of the water count (A).
    pull_ps : float
        Steered-MD time per window spacing (ps).
    pair : tuple of str, optional
        (cation, partner) of a pair PMF (``solvation.engine.pair_umbrella``); None: the
        ion's height above a slab.
    partner_atom : str, optional
        Atom name of the partner's reference atom; None: chosen from its chemistry.
    contact_nm, boundary_nm : float, optional
        Closest window and K_A boundary of a pair PMF (nm); None: automatic.
    tail_nm : float
        Windows beyond the boundary of a pair PMF (nm).
    """

    ion: str = "Zn2+"
    start: str | float = "bulk"  # "bulk" or a distance from the top plane (nm)
    end: str | float = "surface"
    surface_distance_nm: float = 0.2
    spacing_nm: float = 0.1
    force_constant: float | None = None  # None: 4 kT / spacing^2
    equilibration_ps: float = 100.0
    window_ps: float = 1000.0
    shell_cutoff_angstrom: float = 3.0
    pull_ps: float = 10.0  # steered-MD time per window spacing
    pair: tuple[str, str] | None = None  # (cation, partner): a pair PMF
    partner_atom: str | None = None
    contact_nm: float | None = None  # None: from the reference atom's chemistry
    boundary_nm: float | None = None  # None: Bjerrum distance (ion pairs)
    tail_nm: float = 0.1

    @property
    def pull_rate_nm_per_ps(self) -> float:
        """Pull speed (nm/ps)."""
        return self.spacing_nm / self.pull_ps

    def k(self, temperature_k: float) -> float:
        """Force constant (kJ/mol/nm^2): as given, or 4 kT / spacing^2, which makes a
        window's width (kT/k)^1/2 half the spacing, so neighbours overlap."""
        if self.force_constant is not None:
            return self.force_constant
        return 4.0 * GAS_CONSTANT_KJ_PER_MOL_K * temperature_k / self.spacing_nm**2


def pmf_settings(spec: PMFSpec | None = None, **overrides) -> PMFSettings:
    """Settings from a design's ``[pmf]`` table and overrides with the same keys (``from``,
    ``to``, ``spacing``, ``force_constant``, ``equilibration``, ``window_time`` ...);
    None values are ignored.

    Parameters
    ----------
    spec : PMFSpec, optional
        A design's ``[pmf]`` table.
    **overrides
        Same keys, values with units.
    """
    data = (spec or PMFSpec()).model_dump(by_alias=True)
    data.update({k: v for k, v in overrides.items() if v is not None})
    try:
        spec = PMFSpec.model_validate(data)
    except ValidationError as err:
        fields = "; ".join(
            f"{e['loc'][0]}: {e['msg'].removeprefix('Value error, ')}" for e in err.errors()
        )
        raise UmbrellaError(f"invalid PMF settings: {fields}") from None
    if spec.pair is None and canonical_ion(spec.ion) is None:
        raise UmbrellaError(f"unknown ion {spec.ion!r} for the PMF (e.g. Zn2+)")

    def auto(value) -> float | None:  # 'auto' or a Quantity
        return None if value == "auto" else value.value

    return PMFSettings(
        ion=canonical_ion(spec.ion) if spec.pair is None else spec.pair[0],
        start=_path_end(spec.start),
        end=_path_end(spec.end),
        surface_distance_nm=spec.surface_distance.nm,
        spacing_nm=spec.spacing.nm,
        force_constant=auto(spec.force_constant),
        equilibration_ps=spec.equilibration.ps,
        window_ps=spec.window_time.ps,
        shell_cutoff_angstrom=spec.shell_cutoff.angstrom,
        pull_ps=spec.pull_time.ps,
        pair=None if spec.pair is None else (spec.pair[0], spec.pair[1]),
        partner_atom=spec.partner_atom,
        contact_nm=auto(spec.contact),
        boundary_nm=auto(spec.boundary),
        tail_nm=spec.tail.nm,
    )


def _path_end(end: str | Length) -> str | float:
    """A path end of a ``[pmf]`` table: its keyword ('bulk', 'surface', 'contact', 'far'),
    or its distance in nm."""
    return end if isinstance(end, str) else end.nm


def window_centres(settings: PMFSettings, thickness_nm: float) -> list[float]:
    """Window centres (nm above the top plane) from the surface end to the bulk end, one
    spacing apart; ``thickness_nm``: electrolyte between the slab's faces.

    Parameters
    ----------
    settings : PMFSettings
    thickness_nm : float
        Electrolyte between the slab's faces (nm).
    """
    middle = thickness_nm / 2.0

    def at(end: str | float) -> float:
        if end == "bulk":
            return middle
        return settings.surface_distance_nm if end == "surface" else end

    low, high = sorted((at(settings.start), at(settings.end)))
    if high > middle + 1e-9:
        raise UmbrellaError(
            f"the path reaches {high:.3f} nm from the surface, beyond the middle of the "
            f"electrolyte ({middle:.3f} nm): use a smaller distance or a thicker box"
        )
    n = math.floor((high - low) / settings.spacing_nm + 1e-6) + 1
    if n < 2:
        raise UmbrellaError(
            f"the path {low:.3f}-{high:.3f} nm holds fewer than two windows of spacing "
            f"{settings.spacing_nm:g} nm"
        )
    return [round(low + i * settings.spacing_nm, 6) for i in range(n)]


@dataclass(frozen=True)
class ParentState:
    """The parent run after NPT: topology, positions (nm), box vectors (nm), slab planes.

    Attributes
    ----------
    topology : openmm.app.Topology
    positions : numpy.ndarray
        (n, 3) positions (nm).
    box : numpy.ndarray
        3x3 box vectors (nm).
    top_nm, bottom_nm : float
        z of the slab's top and bottom atomic planes (nm).
    """

    topology: app.Topology
    positions: np.ndarray
    box: np.ndarray
    top_nm: float
    bottom_nm: float

    @property
    def lz(self) -> float:
        """Box length along z (nm)."""
        return float(self.box[2, 2])

    @property
    def thickness_nm(self) -> float:
        """Electrolyte between the top face and the bottom face's periodic image."""
        return self.lz - (self.top_nm - self.bottom_nm)


def parent_state(parent: Path) -> ParentState:
    """Topology and the state after NPT equilibration of the run in ``parent``.

    Parameters
    ----------
    parent : Path
        A run directory past NPT equilibration.

    Raises
    ------
    UmbrellaError
        When the parent has no NPT state or no slab.
    """
    topology, xyz, box = equilibrated_state(parent)
    slab = [a.index for a in topology.atoms() if a.residue.name == METAL_RESNAME]
    if not slab:
        raise UmbrellaError(f"{parent} holds no slab: the PMF path ends at a slab surface")
    z = xyz[slab, 2]
    return ParentState(topology, xyz, box, float(z.max()), float(z.min()))


def equilibrated_state(parent: Path) -> tuple[app.Topology, np.ndarray, np.ndarray]:
    """Topology (with bonds), positions (nm) and box vectors (nm) of the run in
    ``parent`` after NPT equilibration.

    Parameters
    ----------
    parent : Path
        A run directory past NPT equilibration.

    Raises
    ------
    UmbrellaError
        When the parent has no NPT state.
    """
    files = RunDir(parent)
    path = files.stage_xml("npt")
    if not path.exists():
        raise UmbrellaError(f"{parent} has no equilibrated state ({path.name}): run it first")
    state = openmm.XmlSerializer.deserialize(path.read_text())
    pdb = app.PDBFile(str(files.topology_pdb))
    xyz = state.getPositions(asNumpy=True).value_in_unit(u.nanometer)
    box = np.array(state.getPeriodicBoxVectors().value_in_unit(u.nanometer))
    return pdb.topology, xyz, box


def choose_ion(state: ParentState, resname: str) -> int:
    """Index of the ion (residue ``resname``) nearest to the middle of the electrolyte.

    Parameters
    ----------
    state : ParentState
    resname : str
        Residue name of the ion.
    """
    ions = [a.index for a in state.topology.atoms() if a.residue.name == resname]
    if not ions:
        raise UmbrellaError(f"the box holds no {resname} ion")
    height = (state.positions[ions, 2] - state.top_nm) % state.lz
    return ions[int(np.argmin(np.abs(height - state.thickness_nm / 2.0)))]


def pull_context(
    parent: Path,
    positions: np.ndarray,
    box: np.ndarray,
    force: openmm.Force,
    protocol: Protocol,
    platform,
    device,
) -> openmm.Context:
    """A context of the parent's System plus ``force`` (the moving restraint of a pull),
    at ``positions`` and ``box`` (nm), NVT at the protocol's temperature, velocities drawn
    with the parent's seed.

    Parameters
    ----------
    parent : Path
        The parent run directory.
    positions : numpy.ndarray
        (n, 3) positions (nm).
    box : numpy.ndarray
        3x3 box vectors (nm).
    force : openmm.Force
        The pulling restraint.
    protocol : Protocol
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    system = load_system(parent)
    system.addForce(force)
    if protocol.hmr:  # the windows' time step needs the windows' masses
        topology = app.PDBFile(str(RunDir(parent).topology_pdb)).topology
        repartition_hydrogen_mass(system, topology, protocol.hydrogen_mass_amu)
    integrator = openmm.LangevinMiddleIntegrator(
        protocol.temperature_k, protocol.friction_per_ps, protocol.dt_ps
    )
    seed = read_build(parent).seed
    integrator.setRandomNumberSeed(seed)
    plat, props = choose_platform(platform, device)
    context = openmm.Context(system, integrator, plat, props)
    context.setPeriodicBoxVectors(*box)
    context.setPositions(positions)
    context.setVelocitiesToTemperature(protocol.temperature_k, seed)
    return context


def steer(
    context: openmm.Context, parameter: str, targets: list[float], steps_per_nm: float
) -> list[np.ndarray]:
    """Move the restraint centre ``parameter`` (nm) from its value through ``targets`` in
    order, at ``steps_per_nm`` MD steps per nm, and return the positions (nm) reached at
    each target.

    Parameters
    ----------
    context : openmm.Context
    parameter : str
        Global parameter of the moving restraint's centre (nm).
    targets : list of float
        Centres to visit, in order (nm).
    steps_per_nm : float
        MD steps per nm of centre movement.
    """
    chunk, out = 10, []
    for target in targets:
        start = context.getParameter(parameter)
        n = max(1, round(abs(target - start) * steps_per_nm / chunk))
        for i in range(1, n + 1):
            context.setParameter(parameter, start + (target - start) * i / n)
            context.getIntegrator().step(chunk)
        positions = context.getState(getPositions=True).getPositions(asNumpy=True)
        out.append(positions.value_in_unit(u.nanometer))
    return out


def pull_ion(
    parent: Path,
    state: ParentState,
    ion: int,
    centres: list[float],
    settings: PMFSettings,
    protocol: Protocol,
    platform: str = "auto",
    device: int | None = None,
) -> list[np.ndarray]:
    """Positions (nm) seeding each window: the ion pulled (NVT, stiff moving restraint,
    ``settings.pull_ps`` per spacing) from its height to the highest centre, then down
    through the others; one configuration per centre, in the order of ``centres``.

    Parameters
    ----------
    parent : Path
        The parent run directory.
    state : ParentState
    ion : int
        Atom index of the ion.
    centres : list of float
        Window centres (nm above the top plane).
    settings : PMFSettings
    protocol : Protocol
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    z = float(state.positions[ion, 2])  # the ion's own periodic image
    force = openmm.CustomExternalForce(PULL_ENERGY)
    force.addGlobalParameter("k_pull", PULL_FORCE_CONSTANT)
    force.addGlobalParameter("z_pull", z)
    force.addParticle(ion, [])
    context = pull_context(parent, state.positions, state.box, force, protocol, platform, device)
    height = (z - state.top_nm) % state.lz
    order = sorted(range(len(centres)), key=lambda i: -centres[i])
    targets = [z + (centres[k] - height) for k in order]
    steps_per_nm = settings.pull_ps / settings.spacing_nm / protocol.dt_ps
    seeds = dict(zip(order, steer(context, "z_pull", targets, steps_per_nm), strict=True))
    return [seeds[k] for k in range(len(centres))]


def add_restraint(system: openmm.System, ion: int, z_nm: float, k: float) -> None:
    """Harmonic restraint on the ion's z (minimum image) about ``z_nm``.

    Parameters
    ----------
    system : openmm.System
    ion : int
        Atom index.
    z_nm : float
        Restraint centre (nm).
    k : float
        Force constant (kJ/mol/nm^2).
    """
    force = openmm.CustomExternalForce(RESTRAINT_ENERGY)
    force.addPerParticleParameter("k_umbrella")
    force.addPerParticleParameter("z_umbrella")
    force.addParticle(ion, [k, z_nm])
    force.setName(RESTRAINT_NAME)
    system.addForce(force)


def create_window(
    parent: Path,
    path: Path,
    topology: app.Topology,
    box: np.ndarray,
    info: WindowInfo,
    xyz: np.ndarray,
    restrain,
) -> None:
    """The window directory: the parent's System with ``restrain(system)`` applied, its
    topology at ``xyz`` (nm) in ``box`` (nm), the parent's design, build record (seed +
    1 + index; not a pre-hydrated start, so ``solvation run`` minimises it without the
    contact guard) and ``window.json``; written to a temporary sibling and renamed.

    Parameters
    ----------
    parent : Path
        The parent run directory.
    path : Path
        The window directory to create.
    topology : openmm.app.Topology
    box : numpy.ndarray
        3x3 box vectors (nm).
    info : WindowInfo
    xyz : numpy.ndarray
        (n, 3) seed positions (nm).
    restrain : callable
        Adds the window's restraint to an ``openmm.System``.
    """
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.tmp-", dir=path.parent))
    try:
        system = load_system(parent)
        restrain(system)
        save_system(tmp, system)
        topology.setPeriodicBoxVectors(box * u.nanometer)
        with RunDir(tmp).topology_pdb.open("w") as fh:
            app.PDBFile.writeFile(topology, xyz * u.nanometer, fh, keepIds=False)
        shutil.copy(parent / DESIGN_TOML, tmp / DESIGN_TOML)
        build = read_build(parent)
        # a window starts from the pull, not from a pre-hydrated packing: no contact guard
        # in its minimisation (it would push a restrained contact pair apart)
        start = {**(build.initial_structure or {}), "prehydrated": False, "seeded_by": "pull"}
        update = {"seed": build.seed + 1 + info.index, "initial_structure": start}
        write_build(tmp, build.model_copy(update=update))
        write_window(tmp, info)
        os.replace(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def window_protocol(parent: Path, settings: PMFSettings) -> Protocol:
    """The parent run's protocol with the windows' equilibration and production times.

    Parameters
    ----------
    parent : Path
        The parent run directory.
    settings : PMFSettings
    """
    protocol = Protocol(**read_run(parent).protocol)
    window = replace(
        protocol, equilibration_ps=settings.equilibration_ps, production_ps=settings.window_ps
    )
    try:
        check_protocol(window)
    except ProtocolError as err:
        raise UmbrellaError(f"window_time: {err}") from None
    return window


def _umbrella_info(parent: Path, settings: PMFSettings, state: ParentState) -> UmbrellaInfo:
    build = read_build(parent)
    if settings.ion not in build.resnames:
        raise UmbrellaError(
            f"the box of {parent} holds no {settings.ion} (species: {', '.join(build.resnames)})"
        )
    protocol = window_protocol(parent, settings)
    centres = window_centres(settings, state.thickness_nm)
    return UmbrellaInfo(
        parent=str(parent.resolve()),
        ion_species=settings.ion,
        ion_index=choose_ion(state, build.resnames[settings.ion]),
        centres_nm=centres,
        force_constant_kj_mol_nm2=settings.k(protocol.temperature_k),
        spacing_nm=settings.spacing_nm,
        temperature_k=protocol.temperature_k,
        shell_cutoff_angstrom=settings.shell_cutoff_angstrom,
        pull_ps=settings.pull_ps,
        windows=[f"windows/w{k:03d}" for k in range(len(centres))],
        protocol=asdict(protocol),
    )


def claim(out: Path, info: UmbrellaInfo) -> UmbrellaInfo:
    """The PMF directory's record: written once; the same settings again reuse it.

    Parameters
    ----------
    out : Path
        The PMF directory.
    info : UmbrellaInfo
    """
    if (out / UMBRELLA_JSON).exists():
        old = read_umbrella(out)
        if old.model_dump(exclude={"schema_version"}) != info.model_dump(
            exclude={"schema_version"}
        ):
            raise UmbrellaError(
                f"{out} holds windows of other PMF settings or another parent; "
                "choose another -o or remove it"
            )
        return old
    out.mkdir(parents=True, exist_ok=True)
    write_umbrella(out, info)
    return info


def prepare_windows(
    parent: str | Path,
    out: str | Path,
    settings: PMFSettings,
    platform: str = "auto",
    device: int | None = None,
) -> UmbrellaInfo:
    """Write every window directory of the PMF into ``out`` (existing ones are kept; the
    pull that seeds missing ones runs on ``platform``); returns the PMF directory's
    record.

    Parameters
    ----------
    parent : str or Path
        The parent run directory (a slab run).
    out : str or Path
        The PMF directory.
    settings : PMFSettings
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    parent, out = Path(parent), Path(out)
    if not (parent / BUILD_JSON).exists():
        raise UmbrellaError(f"{parent} is not a build or run directory")
    state = parent_state(parent)
    info = claim(out, _umbrella_info(parent, settings, state))
    (out / "windows").mkdir(exist_ok=True)
    missing = [k for k, name in enumerate(info.windows) if not (out / name).exists()]
    for name in info.windows:
        if (out / name).exists():
            read_window(out / name)  # a window made earlier: it must be readable
    if not missing:
        return info
    protocol = Protocol(**info.protocol)
    seeds = pull_ion(
        parent, state, info.ion_index, info.centres_nm, settings, protocol, platform, device
    )
    for index in missing:
        centre = info.centres_nm[index]
        window = WindowInfo(
            index=index,
            centre_nm=centre,
            force_constant_kj_mol_nm2=info.force_constant_kj_mol_nm2,
            ion_index=info.ion_index,
            ion_species=info.ion_species,
            restraint_z_nm=state.top_nm + centre,
            top_plane_start_nm=state.top_nm,
            pull_rate_nm_per_ps=settings.pull_rate_nm_per_ps,
        )
        create_window(
            parent,
            out / info.windows[index],
            state.topology,
            state.box,
            window,
            seeds[index],
            lambda system, w=window: add_restraint(
                system, w.ion_index, w.restraint_z_nm, w.force_constant_kj_mol_nm2
            ),
        )
    return info


def run_window(
    window: str | Path, protocol: dict, platform: str = "auto", device: int | None = None
):
    """Run (or resume) one window with ``protocol`` (a Protocol as dict); its RunInfo.

    Parameters
    ----------
    window : str or Path
        A window directory.
    protocol : dict
        A Protocol as dict.
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    return run(Path(window), Protocol(**protocol), platform=platform, device=device)
