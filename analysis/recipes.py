"""Analysis recipes for build/run directories, written once for every caller.

The command line, the campaign descriptors and the validation suite call these and only
format what they return:

- ``run_selections``: centre, shell and species selections from ``build.json``;
- ``shells_of_run``: Zn2+ shells with automatic cutoffs (first minimum of g(r), a
  3 A fallback where g(r) has none, said in ``cutoff_source``) and ion pairing with the
  second-shell cutoff at the second minimum (else the first cutoff + 2 A);
- ``hbonds_of_run`` and ``transport_of_run``: the H-bond network and transport of a run's
  species (transport in one pass: diffusion of every species and, with two or more ionic
  species, conductivity from the same centre-of-mass series);
- ``analyses_of_run``: any of shells, H-bonds and transport in one pass over the
  trajectory (``analysis.one_pass``), with the frames it read;
- ``interface_of_run``: profiles, contact layer of each face and the electrode's surface
  charge and capacitance;
- ``water_activity_of_runs``: the route (osmotic, Kirkwood-Buff series, free-water
  proxy) chosen from what the directories hold;
- ``pmf_of_directory``: the free-energy and water-count profile of an ion from the
  umbrella windows of ``solvation pmf``; ``pair_pmf_of_directory`` for a pair PMF
  (``--pair``): W(r), the CIP/SSIP states and the association constants;
- ``metad_of_directory``: the unbiased contact pairs of a metadynamics stage.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from solvation.constants import ELEMENTARY_CHARGE_C, FARADAY_KJ_PER_MOL_V
from solvation.forcefields import METAL_RESNAME, UnknownName, water_dielectric
from solvation.rundir import (
    BUILD_JSON,
    METAD_DIR,
    BuildInfo,
    RunDir,
    has_run,
    read_build,
    read_run,
    read_umbrella,
    read_window,
    temperature_of,
)
from solvation.systems.formula import species_charge

from . import water_activity as wa
from .base import frames_read, one_pass
from .contact import ContactLayer, ContactResult, contact_thickness
from .coordination import (
    FALLBACK_CUTOFF_ANGSTROM,
    SolvationResult,
    SolvationShells,
    shells_analysis,
    shells_result,
)
from .hbonds import HBondResult, HydrogenBonds, hydrogen_bonds
from .interface import InterfaceProfiles, InterfaceResult
from .pair_pmf import (
    DEFAULT_BOOTSTRAP,
    PairModel,
    PairPMFResult,
    PairSeries,
    pair_pmf_result,
)
from .pmf import PMFResult, WindowSeries, pmf_result
from .rdf import RDFResult
from .reweight import ContactPairsResult, contact_pairs_result
from .stats import estimate
from .transport import Transport, TransportResult
from .universe import InputError, load_universe, run_directory_charges, species_charges
from .viscosity import yeh_hummer_viscosity

ACCEPTOR_ELEMENTS = "element O N F Cl Br I"


@dataclass(frozen=True)
class RunSelections:
    """Selections of a run's species (MDAnalysis language).

    Attributes
    ----------
    centre : str or None
        The Zn2+ ions (None when the box has none).
    shells : dict of str to str
        Name -> coordinating atoms of each shell species (water O; acceptor atoms of anions
        and neutral molecules).
    molecules : dict of str to str
        Name -> whole molecules of every species except the metal.
    anion : str or None
        The first anion species (its contact pairs are the campaign's cip_fraction).
    additives : list of str
        The neutral species other than water (additives and co-solvents).
    """

    centre: str | None
    shells: dict[str, str]
    molecules: dict[str, str]
    anion: str | None
    additives: tuple[str, ...] = ()


def _charge(species: str) -> int:
    try:
        return species_charge(species)
    except KeyError:  # molecules from SMILES
        return 0


def run_selections(build: BuildInfo) -> RunSelections:
    """Selections from a build's species and residue names.

    Parameters
    ----------
    build : BuildInfo
        The run's ``build.json`` record.
    """
    resnames = {k: v for k, v in build.resnames.items() if v != METAL_RESNAME}
    centre = f"resname {resnames['Zn2+']}" if "Zn2+" in resnames else None
    shells = {"water": f"resname {resnames.get('water', 'HOH')} and name O*"}
    anion, additives = None, []
    for species, rn in resnames.items():
        if species in ("water", "Zn2+") or _charge(species) > 0:
            continue
        shells[species] = f"resname {rn} and ({ACCEPTOR_ELEMENTS})"
        if _charge(species) < 0 and anion is None:
            anion = species
        elif _charge(species) == 0:
            additives.append(species)
    molecules = {k: f"resname {rn}" for k, rn in resnames.items()}
    return RunSelections(centre, shells, molecules, anion, tuple(additives))


# --- shells, H-bonds, transport -------------------------------------------------------


@dataclass(frozen=True)
class ShellsOfRun:
    """Shell statistics of a run's Zn2+ and the g(r) their cutoffs came from.

    Attributes
    ----------
    selections : RunSelections
    result : SolvationResult or None
        None when the box holds no Zn2+.
    rdf : RDFResult or None
        The g(r) the cutoffs were found from.
    """

    selections: RunSelections
    result: SolvationResult | None
    rdf: RDFResult | None


def _shells_analysis(
    universe, build: BuildInfo, residence: bool, **options
) -> SolvationShells | None:
    """The shell analysis ``shells_of_run`` runs (None without Zn2+); ``options``:
    cutoffs, pairing, count, discard."""
    sel = run_selections(build)
    if sel.centre is None:
        return None
    return shells_analysis(
        universe,
        sel.centre,
        sel.shells,
        options.pop("cutoffs", None),
        options.pop("pairing", "auto"),
        residence=residence,
        fallback=FALLBACK_CUTOFF_ANGSTROM,
        solvent="water",
        **options,
    )


def _shells_of(analysis: SolvationShells | None, build: BuildInfo) -> ShellsOfRun:
    if analysis is None:
        return ShellsOfRun(run_selections(build), None, None)
    return ShellsOfRun(run_selections(build), *shells_result(analysis))


def shells_of_run(
    universe,
    build: BuildInfo,
    residence: bool = True,
    verbose: bool = False,
    cutoffs: dict | None = None,
    pairing="auto",
    count: str = "molecules",
    discard=0,
    **frames,
) -> ShellsOfRun:
    """Zn2+ shells of every shell species of ``build`` by the one first-shell definition
    (``analysis.coordination``): the water radius from its g(r) (3 A fallback), every
    other species' radius from its contact peak or the water's, pairing classes of every
    species but water against its second shell; the total first shell checked against
    Zn2+'s chemistry. The command line, campaigns, validation and figures all call this.
    ``result`` is None when the box holds no Zn2+.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    residence : bool
        Compute residence-time correlations.
    verbose : bool
        Show a progress bar.
    cutoffs : dict, optional
        First-shell radii (A) given by the user, by shell name.
    pairing : "auto" or dict
        Second-shell radii: "auto" (found for every non-water species) or shell -> A.
    count : str
        "molecules" or "atoms".
    discard : int or "auto"
        Leading frames left out of the means.
    **frames
        start, stop, step (frame indices).
    """
    analysis = _shells_analysis(
        universe, build, residence, cutoffs=cutoffs, pairing=pairing, count=count, discard=discard
    )
    if analysis is not None:
        analysis.run(verbose=verbose, **frames)
    return _shells_of(analysis, build)


def _hbonds_analysis(universe, build: BuildInfo, **options) -> HydrogenBonds:
    """The H-bond analysis ``hbonds_of_run`` runs (``options``: ``HydrogenBonds``'s
    criterion, cation_cutoff, lifetimes, discard)."""
    sel = run_selections(build)
    groups = {k: v for k, v in sel.molecules.items() if k in sel.shells and k != "water"}
    water = sel.molecules.get("water", "resname HOH")
    return HydrogenBonds(
        universe, water, groups, cations=sel.centre, fallback=FALLBACK_CUTOFF_ANGSTROM, **options
    )


def hbonds_of_run(
    universe, build: BuildInfo, verbose: bool = False, options: dict | None = None, **frames
) -> HBondResult:
    """Water H-bond network of a run, with every shell species as an H-bonding group and
    the Zn2+-water cutoff from g(r) (3 A fallback): ``hbonds_per_water`` counts every
    partner, ``water_hbonds_per_water`` water-water bonds only. The command line and the
    campaigns both call this.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    verbose : bool
        Show a progress bar.
    options : dict, optional
        ``HydrogenBonds`` options: distance (A), angle (degrees), angle_definition,
        cation_cutoff (A), lifetimes, discard.
    **frames
        start, stop, step (frame indices).
    """
    analysis = _hbonds_analysis(universe, build, **(options or {}))
    return analysis.run(verbose=verbose, **frames).results.hbonds


@dataclass(frozen=True)
class TransportOfRun:
    """Diffusion of every species, and the conductivity of the ions (empty without two
    charged species).

    Attributes
    ----------
    transport : TransportResult
    conductivity : dict
        Conductivity (``sigma_S_per_m`` with its error, Nernst-Einstein value ...); empty
        without two charged species.
    """

    transport: TransportResult
    conductivity: dict


def _transport_analysis(
    universe,
    build: BuildInfo,
    temperature_k: float,
    charges: np.ndarray | None,
    directory: str | Path | None = None,
) -> Transport:
    """Diffusion of every molecular species and, with two or more ionic species, the
    conductivity, from one Transport (neutral species carry charge 0 and add nothing);
    Yeh-Hummer with the viscosity ``yeh_hummer_viscosity`` picks for ``directory``."""
    species = run_selections(build).molecules
    z = species_charges(universe, species, charges)
    ions = [k for k, v in z.items() if abs(v) > 1e-6]
    eta, source = yeh_hummer_viscosity(None, directory)
    return Transport(
        universe,
        species,
        charges={k: z[k] if k in ions else 0.0 for k in species} if len(ions) >= 2 else None,
        temperature=temperature_k,
        viscosity=eta,
        viscosity_source=source,
    )


def _transport_of(analysis: Transport) -> TransportOfRun:
    result = analysis.results.transport
    return TransportOfRun(result, dict(result.conductivity))


def transport_of_run(
    universe,
    build: BuildInfo,
    temperature_k: float,
    charges: np.ndarray | None,
    directory: str | Path | None = None,
) -> TransportOfRun:
    """Self-diffusion of every molecular species and the ions' conductivity, one pass; the
    Yeh-Hummer correction uses the viscosity ``yeh_hummer_viscosity`` picks for
    ``directory`` (measured there, else the water model's published one).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    temperature_k : float
        Temperature (K).
    charges : numpy.ndarray or None
        Per-atom charges (e) for the conductivity.
    directory : str or Path, optional
        The run directory (its measured viscosity for the Yeh-Hummer correction).
    """
    analysis = _transport_analysis(universe, build, temperature_k, charges, directory)
    return _transport_of(analysis.run())


@dataclass(frozen=True)
class AnalysesOfRun:
    """What ``analyses_of_run`` computed (None: not asked for) and the frames it read.

    Attributes
    ----------
    shells : ShellsOfRun or None
    hbonds : HBondResult or None
    transport : TransportOfRun or None
    frames_read : int
        Frames read, including any second pass.
    """

    shells: ShellsOfRun | None
    hbonds: HBondResult | None
    transport: TransportOfRun | None
    frames_read: int


def analyses_of_run(
    universe,
    build: BuildInfo,
    which: tuple[str, ...] = ("structure", "hbonds", "transport"),
    temperature_k: float = 298.15,
    charges: np.ndarray | None = None,
    verbose: bool = False,
    directory: str | Path | None = None,
) -> AnalysesOfRun:
    """``shells_of_run`` ("structure"), ``hbonds_of_run`` ("hbonds") and
    ``transport_of_run`` ("transport") of every frame, in one pass over the trajectory;
    the results equal those of separate runs (``directory``: the run, for the viscosity
    of the Yeh-Hummer correction).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    which : tuple of str
        Among "structure", "hbonds", "transport".
    temperature_k : float
        Temperature (K) for the transport.
    charges : numpy.ndarray, optional
        Per-atom charges (e) for the conductivity.
    verbose : bool
        Show a progress bar.
    directory : str or Path, optional
        The run directory.
    """
    shells = _shells_analysis(universe, build, True) if "structure" in which else None
    hbonds = _hbonds_analysis(universe, build) if "hbonds" in which else None
    transport = None
    if "transport" in which:
        transport = _transport_analysis(universe, build, temperature_k, charges, directory)
    todo = [a for a in (shells, hbonds, transport) if a is not None]
    one_pass(todo, verbose=verbose)
    return AnalysesOfRun(
        _shells_of(shells, build) if "structure" in which else None,
        hbonds.results.hbonds if hbonds is not None else None,
        _transport_of(transport) if transport is not None else None,
        frames_read(todo) if todo else 0,
    )


# --- interface ------------------------------------------------------------------------


def slab_planes(path: str | Path, universe) -> dict[str, float]:
    """z (A) of the slab's top and bottom atomic planes in the trajectory's first frame
    (the barostat moves a frozen slab rigidly during NPT, so build.json's planes are only
    where it started); build.json's planes when the topology has no metal atoms.

    Parameters
    ----------
    path : str or Path
        The run directory.
    universe : MDAnalysis.Universe
        Its trajectory.

    Raises
    ------
    InputError
        When the run holds no slab.
    """
    slab = read_build(path).slab
    if slab is None:
        raise InputError(f"{path} holds no slab (its design has no [slab])")
    atoms = universe.select_atoms(f"resname {METAL_RESNAME}")
    if atoms.n_atoms == 0:
        return {"top": slab.z_faces_nm[1] * 10.0, "bottom": slab.z_faces_nm[0] * 10.0}
    universe.trajectory[0]
    z = atoms.positions[:, 2]
    return {"top": float(z.max()), "bottom": float(z.min())}


def electrode_summary(path: str | Path) -> dict | None:
    """Surface charge and integral capacitance of a constant-potential electrode run from
    its ``electrode.csv`` (None for other runs). sigma is the charge of the slab's top
    half per lateral area; C = sigma / dV is the capacitance of the cell (the two
    interfaces in series).

    Parameters
    ----------
    path : str or Path
        A run directory.

    Returns
    -------
    dict or None
        delta_v_V, sigma_top_e_per_nm2 (with error, n_eff, convergence), sigma_top_uC_per_cm2,
        sigma_bottom_e_per_nm2, field_V_per_nm, capacitance_uF_per_cm2 (with error) ...
    """
    path = Path(path)
    csv = RunDir(path).electrode_csv
    if not path.is_dir() or not csv.exists():
        return None
    info = read_build(path)
    table = pd.read_csv(csv)
    area = info.slab.area_nm2
    sigma = estimate(table["q_top_e"].to_numpy() / area)
    field_v_nm = info.electrode.field_kj_mol_nm_e / FARADAY_KJ_PER_MOL_V
    to_uc_cm2 = ELEMENTARY_CHARGE_C / 1e-14 * 1e6  # e/nm^2 -> microC/cm^2
    delta_v = float(table["delta_v_V"].mean())
    neutrality = float(np.abs(table["q_top_e"] + table["q_bottom_e"]).max())
    with np.errstate(divide="ignore", invalid="ignore"):
        cap, cap_err = sigma.mean * to_uc_cm2 / delta_v, sigma.err * to_uc_cm2 / abs(delta_v)
    return {
        "delta_v_V": delta_v,
        "sigma_top_e_per_nm2": sigma.mean,
        "sigma_top_e_per_nm2_err": sigma.err,
        "sigma_top_n_eff": sigma.n_eff,
        "sigma_top_converged": sigma.converged,
        "sigma_top_reason": sigma.reason,
        "sigma_top_uC_per_cm2": sigma.mean * to_uc_cm2,
        "sigma_bottom_e_per_nm2": float(table["q_bottom_e"].mean() / area),
        "field_V_per_nm": field_v_nm,
        "capacitance_uF_per_cm2": float(cap),
        "capacitance_uF_per_cm2_err": float(cap_err),
        "max_abs_total_electrode_charge_e": neutrality,
        "n_reports": len(table),
    }


def electrode_sheets(electrode: dict | None, planes: dict, lz: float) -> dict:
    """Sheets of the mean electrode face charges and the applied field (V/nm) for the
    Poisson potential of an electrode run (the trajectory holds no electrode charges).

    Parameters
    ----------
    electrode : dict or None
        From ``electrode_summary``.
    planes : dict of str to float
        z of the top and bottom atomic planes (A).
    lz : float
        Box length along z (A).

    Returns
    -------
    dict
        ``sheets`` (distance from the top plane, A -> e/nm^2) and ``external_field`` (V/nm),
        the keyword arguments of ``InterfaceProfiles``; empty for other runs.
    """
    if not electrode or "bottom" not in planes:
        return {}
    d_bottom = float((planes["bottom"] - planes["top"]) % lz)
    top, bottom = electrode["sigma_top_e_per_nm2"], electrode["sigma_bottom_e_per_nm2"]
    return {"sheets": {0.0: top, d_bottom: bottom}, "external_field": electrode["field_V_per_nm"]}


@dataclass(frozen=True)
class InterfaceOfRun:
    """Profiles from the top face, the contact layer of each face, and for electrode runs
    the surface charge, capacitance and the Poisson potential across the cell.

    Attributes
    ----------
    planes_angstrom : dict of str to float
        z of the slab's atomic planes (A).
    profiles : InterfaceResult
    contact : ContactResult
    electrode : dict or None
        ``electrode_summary`` of an electrode run.
    """

    planes_angstrom: dict[str, float]
    profiles: InterfaceResult
    contact: ContactResult
    electrode: dict | None


def interface_of_run(
    paths: list[Path],
    universe,
    species: dict[str, str] | None = None,
    z0: float | None = None,
    bin_width: float = 0.2,
    center: str | None = None,
    shells: dict[str, str] | None = None,
    cutoffs: dict[str, float] | None = None,
    contact: float | None = None,
    verbose: bool = False,
    **frames,
) -> InterfaceOfRun:
    """Interface analysis of a slab run (or of TOPOLOGY TRAJECTORY with ``z0`` given).

    species : name -> selection; default: every species of build.json (a run directory)
    z0 : surface plane (A); default the slab's top atomic plane in the first frame
    contact : contact-layer width (A); default the first minimum of the water-O profile

    Parameters
    ----------
    paths : list of Path
        A run directory, or TOPOLOGY TRAJECTORY.
    universe : MDAnalysis.Universe
    species : dict of str to str, optional
        Name -> selection; default: every species of build.json (a run directory).
    z0 : float, optional
        Surface plane (A); default the slab's top atomic plane in the first frame.
    bin_width : float
        Profile bin width (A).
    center : str, optional
        Selection of the centres whose coordination is profiled.
    shells : dict of str to str, optional
        Selection of each shell species.
    cutoffs : dict of str to float, optional
        First-shell cutoff of each shell (A).
    contact : float, optional
        Contact-layer width (A); default the first minimum of the water-O profile.
    verbose : bool
        Show a progress bar.
    **frames
        start, stop, step (frame indices).
    """
    run_dir = paths[0].is_dir()
    if species is None:
        if not run_dir:
            raise InputError(f"give --species NAME=SELECTION (no {BUILD_JSON} to take them from)")
        species = run_selections(read_build(paths[0])).molecules
    planes = slab_planes(paths[0], universe) if z0 is None else {"top": z0}
    electrode = electrode_summary(paths[0]) if run_dir else None
    charges = run_directory_charges(paths[0]) if run_dir else None
    if charges is None and hasattr(universe.atoms, "charges"):
        charges = universe.atoms.charges  # PSF, TPR, LAMMPS data ... carry them
    lz = float(universe.dimensions[2])
    profiles = (
        InterfaceProfiles(
            universe,
            species,
            planes["top"],
            bin_width,
            charges=charges,
            center=center,
            shells=shells or None,
            cutoffs=cutoffs or {},
            verbose=verbose,
            **electrode_sheets(electrode, planes, lz),
        )
        .run(**frames)
        .results.interface
    )
    if electrode:
        d_bottom = float((planes["bottom"] - planes["top"]) % lz)
        across = float(np.interp(d_bottom, profiles.distance_angstrom, profiles.potential_V))
        electrode["poisson_potential_bottom_minus_top_V"] = across
    thickness = contact or contact_thickness(
        profiles.distance_angstrom, profiles.water_o_density_per_nm3
    )
    layer = (
        ContactLayer(universe, species, planes, thickness, verbose=verbose)
        .run(**frames)
        .results.contact
    )
    return InterfaceOfRun(planes, profiles, layer, electrode)


# --- water activity -------------------------------------------------------------------

WATER_ACTIVITY_METHODS = ("auto", "osmotic", "kb", "free-water")


def osmotic_from_run(path, **frames) -> wa.WaterActivity:
    """The osmotic route on a run directory built with ``[osmotic]``.

    Parameters
    ----------
    path : str or Path
        A run directory built with ``[osmotic]``.
    **frames
        start, stop, step (frame indices).

    Raises
    ------
    InputError
        When the run has no osmotic walls.
    """
    walls = read_build(path).osmotic
    if walls is None:
        raise InputError(
            f"{path} was not built with an [osmotic] table (two compartments and walls); "
            "add one to the design, or use --method kb over a concentration series"
        )
    analysis = wa.OsmoticPressure(
        load_universe(path),
        tuple(walls.walls_nm),
        walls.force_constant_kj_mol_nm2,
        "resname " + " ".join(walls.confined_resnames),
        temperature_k=temperature_of(path),
    )
    return analysis.run(**frames).results.water_activity


def kb_from_run(path, **frames) -> wa.KBPoint:
    """Kirkwood-Buff point of a bulk run directory: every charged species of build.json is
    an ion (centre: its heaviest atom), water centres are its oxygens.

    Parameters
    ----------
    path : str or Path
        A bulk run directory.
    **frames
        start, stop, step (frame indices).

    Raises
    ------
    InputError
        When the run is not a homogeneous bulk box.
    """
    info = read_build(path)
    if info.slab is not None or info.osmotic is not None:
        raise InputError(f"{path} is not a homogeneous bulk box; KB integrals need one")
    universe = load_universe(path)
    resnames = {k: v for k, v in info.resnames.items() if k != "water"}
    water = info.resnames.get("water", "HOH")
    selections = {k: f"resname {v}" for k, v in resnames.items()}
    charges = species_charges(universe, selections, run_directory_charges(path))
    ions = {k: wa.centre_atoms(universe, resnames[k]) for k, z in charges.items() if z != 0}
    neutral = sorted(k for k, z in charges.items() if z == 0)
    if not ions or neutral:
        raise InputError(
            f"{path}: the KB route treats salt + water only (found ions {sorted(ions)}, "
            f"neutral solutes {neutral}); use --method osmotic for other mixtures"
        )
    return wa.kirkwood_buff(universe, ions, f"resname {water} and name O*", **frames)


def water_activity_method(paths: list[Path], method: str = "auto") -> str:
    """The route for ``paths``: osmotic for an [osmotic] run, kb for several runs.

    Parameters
    ----------
    paths : list of Path
        Run directories.
    method : str
        "auto", or one of ``WATER_ACTIVITY_METHODS`` to check.
    """
    if method not in WATER_ACTIVITY_METHODS:
        raise InputError(f"method must be one of {', '.join(WATER_ACTIVITY_METHODS)}")
    if method == "auto":
        osmotic = paths[0].is_dir() and read_build(paths[0]).osmotic is not None
        method = "osmotic" if osmotic else "kb" if len(paths) > 1 else ""
        if not method:
            raise InputError(
                "one run without [osmotic]: give --method free-water for the proxy, or "
                "several runs of one salt at different molalities for --method kb"
            )
    if method in ("osmotic", "free-water") and len(paths) > 1 and paths[1].is_dir():
        raise InputError(f"--method {method} takes one run directory")
    return method


def water_activity_of_runs(
    paths: list[Path], method: str = "auto", **frames
) -> list[wa.WaterActivity]:
    """Water activity by the route ``water_activity_method`` picks: one result for the
    osmotic route and the free-water proxy, one per molality for a KB series.

    Parameters
    ----------
    paths : list of Path
        Run directories.
    method : str
        "auto" or a route of ``WATER_ACTIVITY_METHODS``.
    **frames
        start, stop, step (frame indices).
    """
    method = water_activity_method(paths, method)
    if method == "osmotic":
        return [osmotic_from_run(paths[0], **frames)]
    if method == "kb":
        return wa.gibbs_duhem([kb_from_run(p, **frames) for p in paths])
    universe = load_universe(paths[0], *paths[1:])
    hb = hydrogen_bonds(universe, **frames)
    return [wa.free_water_proxy(hb.free_water_fraction)]


# --- umbrella sampling ----------------------------------------------------------------


def pmf_of_directory(
    path: str | Path,
    shell_cutoff_angstrom: float | None = None,
    bin_width_nm: float | None = None,
    verbose: bool = False,
) -> PMFResult | PairPMFResult:
    """PMF of the ion along its height above the slab from a PMF directory (its
    ``umbrella.json`` and window run directories): one pass over each window's
    trajectory, then MBAR. Defaults: the directory's shell cutoff; bins of a quarter of
    the window spacing. A pair PMF directory gives ``pair_pmf_of_directory``.

    Parameters
    ----------
    path : str or Path
        A PMF directory.
    shell_cutoff_angstrom : float, optional
        First-shell cutoff of the water count (A).
    bin_width_nm : float, optional
        Histogram bin width (nm).
    verbose : bool
        Show a progress bar.
    """
    path = Path(path)
    setup = read_umbrella(path)
    if setup.coordinate == "distance":
        return pair_pmf_of_directory(path, shell_cutoff_angstrom, bin_width_nm, verbose=verbose)
    cutoff = shell_cutoff_angstrom or setup.shell_cutoff_angstrom
    series, force_constants = [], []
    for name in setup.windows:
        window = path / name
        info = read_window(window)
        universe = load_universe(window)
        water = run_selections(read_build(window)).shells["water"]
        analysis = WindowSeries(
            universe,
            info.ion_index,
            f"resname {METAL_RESNAME}",
            water,
            cutoff,
            info.restraint_z_nm,
            verbose=verbose,
        )
        series.append(analysis.run().results.series)
        force_constants.append(info.force_constant_kj_mol_nm2)
    return pmf_result(
        series,
        force_constants,
        setup.temperature_k,
        bin_width_nm or setup.spacing_nm / 4.0,
        setup.ion_species,
        cutoff,
    )


def pair_model(setup, path: Path | None = None) -> PairModel:
    """The model facts a pair PMF's analysis needs, from its ``umbrella.json``.

    Parameters
    ----------
    setup : UmbrellaInfo
        A pair PMF's record.
    path : Path, optional
        The PMF directory: the quoted uncertainty of eps_r is looked up for its water.
    """
    err = 0.0
    if path is not None:
        try:
            err = water_dielectric(read_build(path / setup.windows[0]).water_model).err_eps
        except UnknownName:  # a water model without a published eps_r
            err = 0.0
    return PairModel(
        cation=setup.ion_species,
        partner=setup.partner_species,
        charges_e=tuple(setup.charges_e),
        dielectric=setup.dielectric,
        boundary_nm=setup.boundary_nm,
        temperature_k=setup.temperature_k,
        dielectric_source=setup.dielectric_source or "",
        boundary_source=setup.boundary_source or "",
        partner_atom=setup.partner_atom or "",
        dielectric_err=err,
    )


def pair_pmf_of_directory(
    path: str | Path,
    shell_cutoff_angstrom: float | None = None,
    bin_width_nm: float | None = None,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    verbose: bool = False,
    finished_only: bool = False,
) -> PairPMFResult:
    """Pair PMF W(r), states and association constants of a pair PMF directory
    (``solvation pmf --pair``): one pass over each window's trajectory, then MBAR with the
    Jacobian removed, the Coulomb-tail match and a bootstrap (``analysis.pair_pmf``).

    Parameters
    ----------
    path : str or Path
        A pair PMF directory.
    shell_cutoff_angstrom : float, optional
        First-shell cutoff of the cation (A); default the directory's.
    bin_width_nm : float, optional
        Histogram bin width (nm); default half the window spacing (windows of few
        uncorrelated samples leave finer bins empty).
    n_bootstrap : int
        Bootstrap resamples for the errors.
    verbose : bool
        Show a progress bar.
    finished_only : bool
        Use only the windows whose production has finished (a PMF still running); the
        result then says how many windows it holds and is not converged.
    """
    path = Path(path)
    setup = read_umbrella(path)
    cutoff = shell_cutoff_angstrom or setup.shell_cutoff_angstrom
    names = setup.windows
    if finished_only:
        names = [n for n in names if has_run(path / n) and read_run(path / n).complete]
        if len(names) < 2:
            raise InputError(f"{path}: fewer than two windows have finished")
    series, centres, force_constants = [], [], []
    for name in names:
        window = path / name
        info = read_window(window)
        water = run_selections(read_build(window)).shells["water"]
        analysis = PairSeries(
            load_universe(window),
            info.ion_index,
            info.partner_index,
            water,
            cutoff,
            setup.partner_acceptors,
            verbose=verbose,
        )
        series.append(analysis.run().result)
        centres.append(info.centre_nm)
        force_constants.append(info.force_constant_kj_mol_nm2)
    width = bin_width_nm or setup.spacing_nm / 2.0
    result = pair_pmf_result(
        series, centres, force_constants, pair_model(setup, path), width, cutoff, n_bootstrap
    )
    if len(names) < len(setup.windows):
        note = f"only {len(names)} of {len(setup.windows)} windows have finished"
        result = replace(result, warnings=[note, *result.warnings], converged=False)
    return result


# --- metadynamics ---------------------------------------------------------------------


def metad_of_directory(
    path: str | Path, skip_fraction: float = 0.2, points: int = 10
) -> ContactPairsResult:
    """Unbiased contact pairs of the metadynamics stage of a run directory
    (``RUN/metad``, ``solvation metad``), reweighted (``analysis.reweight``).

    Parameters
    ----------
    path : str or Path
        A run directory with a metadynamics stage.
    skip_fraction : float
        Leading fraction of the stage left out (the bias' build-up).
    points : int
        Running estimates reported.

    Raises
    ------
    InputError
        When the directory holds no metadynamics stage.
    """
    stage = RunDir(Path(path) / METAD_DIR)
    if not stage.metad_json.exists():
        raise InputError(f"{path} holds no metadynamics stage (run `solvation metad` first)")
    record = json.loads(stage.metad_json.read_text())
    table = pd.read_csv(stage.metad_csv).iloc[: record["rows"]]
    return contact_pairs_result(
        table,
        record["n_cations"],
        temperature_of(Path(path)),
        record["settings"]["bias_factor"],
        skip_fraction,
        points,
    )
