"""Umbrella-sampling windows along the distance between a cation and a partner species
(an anion or a neutral molecule): the pair PMF of ``solvation pmf --pair``.

The coordinate is the minimum-image distance r between the cation's reference atom and
the partner's reference atom (``reference_atom``: a monatomic species' only atom; for a
molecular ion, its centre, the heavy atom bonded to the most O/N, then with the most
bonds: S of SO4^2- and of OTf^-, N of NH4+, B of BF4-; for a neutral molecule its first
O, an ether or hydroxyl O; overridable by atom name). Of all cation-partner pairs in the
box the closest one is restrained.

Windows run from ``contact`` to the K_A boundary plus ``tail``, one spacing apart:

- ``contact`` auto: 0.20 nm (a Zn2+-O bond) when the reference atom is itself an
  acceptor, plus 0.55 x its bond to the nearest acceptor when it is a centre (S of
  sulfate: 0.28 nm, between bidentate and monodentate contact), 0.23 nm for a monatomic
  halide;
- boundary auto: the Bjerrum distance of the pair in the model's own dielectric
  constant and with the model's charges (``solvation.analysis.pairing``), for a partner
  of opposite charge; else contact + 0.5 nm (the first two shells);
- ``tail``: windows past the boundary, where the analysis matches W(r) to the Coulomb tail.

The far end must lie within half the smallest box edge (minimum image). Each window is a
run directory with the parent's System plus a CustomBondForce named ``umbrella
restraint`` (E = k/2 (r - r0)^2, periodic), seeded by a steered pull (a moving stiff
restraint from the current distance out to the far end, then in through every centre).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np
import openmm
import openmm.app as app

from solvation.analysis.pairing import bjerrum_distance_nm
from solvation.design import Design
from solvation.forcefields import canonical_ion, water_dielectric
from solvation.rundir import (
    BUILD_JSON,
    BuildInfo,
    RunDir,
    UmbrellaInfo,
    WindowInfo,
    has_run,
    load_system,
    read_build,
)

from .protocol import Protocol
from .umbrella import (
    PULL_FORCE_CONSTANT,
    RESTRAINT_NAME,
    PMFSettings,
    UmbrellaError,
    claim,
    create_window,
    equilibrated_state,
    pull_context,
    steer,
    window_protocol,
)

PAIR_RESTRAINT_ENERGY = "0.5*k_umbrella*(r-r_umbrella)^2"
PAIR_PULL_ENERGY = "0.5*k_pull*(r-r_pull)^2"
ACCEPTOR_ELEMENTS = ("O", "N", "F", "Cl", "Br", "I")
CATION_ACCEPTOR_NM = 0.20  # Zn2+/Mg2+ - O bond (about 0.21 nm) less a margin
HALIDE_CONTACT_NM = 0.23  # Zn2+ - Cl- contact
CENTRE_FRACTION = 0.55  # of the centre-acceptor bond, between bi- and monodentate contact
NEUTRAL_BOUNDARY_NM = 0.5  # beyond contact: first and second shell of the cation
MARGIN_NM = 0.0  # the far end may reach half the smallest box edge
WINDOW_MINIMIZE_ITERATIONS = 200  # windows start from pulled MD configurations


def _bare(name: str) -> str:
    """A species spelling without its charge: 'SO4^2-' -> 'so4', 'Zn2+' -> 'zn'."""
    return re.sub(r"\^?\d*[+-]+$", "", name.strip()).lower()


def resolve_species(name: str, species: dict[str, str]) -> str:
    """The species key of ``species`` (species -> residue name, as in build.json) that
    ``name`` spells: exactly, by ion alias ('Zn', 'zn2+'), without its charge ('SO4^2-',
    'OTf-') or by residue name.

    Parameters
    ----------
    name : str
        A user spelling.
    species : dict of str to str
        Species -> residue name.

    Raises
    ------
    UmbrellaError
        When no species of the box matches.
    """
    ion = canonical_ion(name)
    for key, resname in species.items():
        if name in (key, resname) or ion == key:
            return key
        if _bare(name) in (_bare(key), resname.lower()):
            return key
    raise UmbrellaError(
        f"the box holds no {name} (species: {', '.join(k for k in species if k != 'water')})"
    )


def _element(atom: app.topology.Atom) -> str:
    return atom.element.symbol if atom.element is not None else atom.name[:1]


def _centre_key(atom, bonded: dict[int, list]) -> tuple:
    """Rank of an atom as a molecular ion's centre: bonded O/N first (S of SO4 and OTf,
    not the C of CF3), then its number of bonds (B of BF4, N of NH4), then its mass."""
    neighbours = bonded.get(atom.index, [])
    oxygens = sum(_element(b) in ("O", "N") for b in neighbours)
    mass = atom.element.mass._value if atom.element is not None else 0.0
    return (oxygens, len(neighbours), mass)


def _bonded(topology: app.Topology) -> dict[int, list]:
    out: dict[int, list] = {}
    for a, b in topology.bonds():
        out.setdefault(a.index, []).append(b)
        out.setdefault(b.index, []).append(a)
    return out


def reference_atom(residue, charge: float, bonded: dict[int, list], name: str | None = None):
    """The atom of ``residue`` that stands for its species on the pair coordinate.

    Parameters
    ----------
    residue : openmm.app.topology.Residue
    charge : float
        Net charge of the residue (e).
    bonded : dict of int to list
        Bonded neighbours of each atom index.
    name : str, optional
        Atom name that overrides the choice.

    Raises
    ------
    UmbrellaError
        When ``name`` is not an atom of the residue.
    """
    atoms = list(residue.atoms())
    if name is not None:
        found = [a for a in atoms if a.name == name]
        if not found:
            names = ", ".join(dict.fromkeys(a.name for a in atoms))
            raise UmbrellaError(f"{residue.name} has no atom {name!r} (atoms: {names})")
        return found[0]
    if len(atoms) == 1:
        return atoms[0]
    if abs(charge) > 1e-6:  # molecular ion: its centre, a heavy atom
        heavy = [a for a in atoms if _element(a) != "H"]
        return max(heavy, key=lambda a: _centre_key(a, bonded))
    for element in ("O", "N"):  # neutral molecule: its first O (else N)
        for a in atoms:
            if _element(a) == element:
                return a
    return max(atoms, key=lambda a: _centre_key(a, bonded))


def acceptors(residue) -> list[int]:
    """Atom indices of ``residue`` that can enter a cation's first shell (O, N, F and
    halogens).

    Parameters
    ----------
    residue : openmm.app.topology.Residue
    """
    return [a.index for a in residue.atoms() if _element(a) in ACCEPTOR_ELEMENTS]


def contact_distance_nm(atom, xyz: np.ndarray, bonded: dict[int, list]) -> float:
    """Automatic contact end of the path for a partner reference ``atom`` (module
    docstring).

    Parameters
    ----------
    atom : openmm.app.topology.Atom
    xyz : numpy.ndarray
        Positions (nm), for bond lengths.
    bonded : dict of int to list
    """
    element = _element(atom)
    neighbours = [b for b in bonded.get(atom.index, []) if _element(b) in ACCEPTOR_ELEMENTS]
    if element in ("Cl", "Br", "I") and not bonded.get(atom.index):
        return HALIDE_CONTACT_NM
    if element in ACCEPTOR_ELEMENTS or not neighbours:
        return CATION_ACCEPTOR_NM
    bond = min(float(np.linalg.norm(xyz[b.index] - xyz[atom.index])) for b in neighbours)
    return round(CATION_ACCEPTOR_NM + CENTRE_FRACTION * bond, 3)


def minimum_image(d: np.ndarray, box: np.ndarray) -> np.ndarray:
    """Minimum-image displacement(s) in a rectangular box (nm).

    Parameters
    ----------
    d : numpy.ndarray
        (..., 3) displacements (nm).
    box : numpy.ndarray
        3x3 box vectors (nm), rectangular.
    """
    lengths = np.diag(box)
    return d - lengths * np.round(d / lengths)


def closest_pair(xyz: np.ndarray, box: np.ndarray, first: list[int], second: list[int]):
    """(i, j, r_nm): the closest atoms of ``first`` and ``second`` (minimum image).

    Parameters
    ----------
    xyz : numpy.ndarray
        Positions (nm).
    box : numpy.ndarray
        3x3 box vectors (nm).
    first, second : list of int
        Candidate atom indices.
    """
    d = minimum_image(xyz[first][:, None, :] - xyz[second][None, :, :], box)
    r = np.linalg.norm(d, axis=-1)
    a, b = np.unravel_index(int(np.argmin(r)), r.shape)
    return first[a], second[b], float(r[a, b])


def residue_charges(system: openmm.System) -> np.ndarray:
    """Per-particle charges (e) of the System's NonbondedForce (scaled charges included).

    Parameters
    ----------
    system : openmm.System
    """
    force = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    return np.array(
        [force.getParticleParameters(i)[0]._value for i in range(force.getNumParticles())]
    )


@dataclass(frozen=True)
class PairPath:
    """Where the pair windows go and why (nm).

    Attributes
    ----------
    centres_nm : list of float
        Window centres, contact first.
    contact_nm, boundary_nm, far_nm : float
        Closest window, K_A boundary and farthest window.
    boundary_source : str
        How the boundary was chosen.
    """

    centres_nm: list[float]
    contact_nm: float
    boundary_nm: float
    far_nm: float
    boundary_source: str


def pair_path(
    settings: PMFSettings, contact_nm: float, charges: tuple[float, float], eps_r: float, t_k: float
) -> PairPath:
    """Window centres of a pair PMF (module docstring); ``from``/``to`` take 'contact',
    'far' (with the slab spellings 'surface', 'bulk') or a distance.

    Parameters
    ----------
    settings : PMFSettings
    contact_nm : float
        Automatic contact distance (nm), used unless ``settings.contact_nm`` is set.
    charges : tuple of float
        Net charges of cation and partner (e).
    eps_r : float
        Relative permittivity of the model's water.
    t_k : float
        Temperature (K).
    """
    contact = settings.contact_nm or contact_nm
    bjerrum = bjerrum_distance_nm(charges[0], charges[1], eps_r, t_k)
    if settings.boundary_nm is not None:
        boundary, source = settings.boundary_nm, "given"
    elif bjerrum is not None:
        boundary = bjerrum
        source = f"Bjerrum distance, q {charges[0]:+.3g} / {charges[1]:+.3g} e, eps_r {eps_r:g}"
    else:
        boundary, source = contact + NEUTRAL_BOUNDARY_NM, "contact + 0.5 nm (no Bjerrum boundary)"
    far = boundary + settings.tail_nm

    def at(end: str | float) -> float:
        if end in ("contact", "surface"):
            return contact
        return far if end in ("far", "bulk") else end

    low, high = sorted((at(settings.start), at(settings.end)))
    n = int(np.floor((high - low) / settings.spacing_nm + 1e-6)) + 1
    if n < 2:
        raise UmbrellaError(
            f"the path {low:.3f}-{high:.3f} nm holds fewer than two windows of spacing "
            f"{settings.spacing_nm:g} nm"
        )
    centres = [round(low + i * settings.spacing_nm, 6) for i in range(n)]
    return PairPath(centres, contact, boundary, centres[-1], source)


def check_box(path: PairPath, box_edges_nm, where: str) -> None:
    """Refuse a path whose far end exceeds half the smallest box edge.

    Parameters
    ----------
    path : PairPath
    box_edges_nm : sequence of float
        Box edge lengths (nm).
    where : str
        What the box belongs to, for the message.
    """
    half = 0.5 * min(box_edges_nm) - MARGIN_NM
    if path.far_nm > half + 1e-9:
        raise UmbrellaError(
            f"the pair path reaches {path.far_nm:.3f} nm, beyond half the smallest box edge "
            f"({half:.3f} nm) of {where}: use a larger box (n_water) or a shorter --from/--tail"
        )


def add_pair_restraint(system: openmm.System, i: int, j: int, r_nm: float, k: float) -> None:
    """Harmonic restraint k/2 (r - r_nm)^2 on the minimum-image distance of atoms i, j.

    Parameters
    ----------
    system : openmm.System
    i, j : int
        Atom indices.
    r_nm : float
        Restraint centre (nm).
    k : float
        Force constant (kJ/mol/nm^2).
    """
    force = openmm.CustomBondForce(PAIR_RESTRAINT_ENERGY)
    force.addPerBondParameter("k_umbrella")
    force.addPerBondParameter("r_umbrella")
    force.addBond(i, j, [k, r_nm])
    force.setUsesPeriodicBoundaryConditions(True)
    force.setName(RESTRAINT_NAME)
    system.addForce(force)


def pull_pair(parent, xyz, box, i, j, r_now, centres, settings, protocol, platform, device):
    """Seed positions of every window (in the order of ``centres``): the pair pulled by a
    stiff moving restraint from ``r_now`` out to the farthest centre, then in through the
    others.

    Parameters
    ----------
    parent : Path
        The parent run directory.
    xyz, box : numpy.ndarray
        Positions and box vectors after NPT (nm).
    i, j : int
        Atom indices of the pair.
    r_now : float
        Their distance at the start (nm).
    centres : list of float
        Window centres (nm).
    settings : PMFSettings
    protocol : Protocol
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    force = openmm.CustomBondForce(PAIR_PULL_ENERGY)
    force.addGlobalParameter("k_pull", PULL_FORCE_CONSTANT)
    force.addGlobalParameter("r_pull", r_now)
    force.addBond(i, j, [])
    force.setUsesPeriodicBoundaryConditions(True)
    context = pull_context(parent, xyz, box, force, protocol, platform, device)
    order = sorted(range(len(centres)), key=lambda k: -centres[k])
    steps_per_nm = settings.pull_ps / settings.spacing_nm / protocol.dt_ps
    seeds = steer(context, "r_pull", [centres[k] for k in order], steps_per_nm)
    by_index = dict(zip(order, seeds, strict=True))
    return [by_index[k] for k in range(len(centres))]


@dataclass(frozen=True)
class PairChoice:
    """The restrained pair in the parent's equilibrated box.

    Attributes
    ----------
    cation, partner : str
        Species keys (build.json).
    cation_index, partner_index : int
        Atom indices of the reference atoms.
    partner_atom : str
        Atom name of the partner's reference atom.
    partner_acceptors : list of int
        Acceptor atoms of the restrained partner molecule.
    r_nm : float
        Their distance at the end of NPT (nm).
    charges_e : tuple of float
        Net charges of the two species in the model (e).
    contact_nm : float
        Automatic contact distance (nm).
    """

    cation: str
    partner: str
    cation_index: int
    partner_index: int
    partner_atom: str
    partner_acceptors: list[int]
    r_nm: float
    charges_e: tuple[float, float]
    contact_nm: float


def _residues(topology: app.Topology, resname: str) -> list:
    return [r for r in topology.residues() if r.name == resname]


def choose_pair(parent: Path, settings: PMFSettings, build: BuildInfo, topology, xyz, box):
    """The closest cation-partner pair of the parent's box and its reference atoms.

    Parameters
    ----------
    parent : Path
    settings : PMFSettings
    build : BuildInfo
    topology : openmm.app.Topology
    xyz, box : numpy.ndarray
        Positions and box vectors (nm) after NPT.
    """
    cation = resolve_species(settings.pair[0], build.resnames)
    partner = resolve_species(settings.pair[1], build.resnames)
    if cation == partner:
        raise UmbrellaError(f"the pair needs two different species, got {cation} twice")
    system = load_system(parent)
    charge = residue_charges(system)
    bonded = _bonded(topology)

    def refs(key: str, atom: str | None):
        out = []
        for res in _residues(topology, build.resnames[key]):
            z = float(sum(charge[a.index] for a in res.atoms()))
            out.append((reference_atom(res, z, bonded, atom), res, z))
        return out

    cations, partners = refs(cation, None), refs(partner, settings.partner_atom)
    if cations[0][2] <= 0:
        raise UmbrellaError(f"{cation} is not a cation (charge {cations[0][2]:+.3g} e)")
    i, j, r = closest_pair(xyz, box, [c[0].index for c in cations], [p[0].index for p in partners])
    atom, residue, z = next(p for p in partners if p[0].index == j)
    return PairChoice(
        cation,
        partner,
        i,
        j,
        atom.name,
        acceptors(residue),
        r,
        (cations[0][2], z),
        contact_distance_nm(atom, xyz, bonded),
    )


def built_state(parent: Path) -> tuple[app.Topology, np.ndarray, np.ndarray]:
    """Topology, positions (nm) and box vectors (nm) of a build directory as built.

    Parameters
    ----------
    parent : Path
        A build or run directory.
    """
    pdb = app.PDBFile(str(RunDir(parent).topology_pdb))
    xyz = np.array(pdb.getPositions(asNumpy=True).value_in_unit(openmm.unit.nanometer))
    box = np.diag(read_build(parent).box_nm)
    return pdb.topology, xyz, box


def _pair_info(
    parent: Path, settings: PMFSettings, state: tuple | None = None
) -> tuple[UmbrellaInfo, PairChoice, tuple]:
    """The PMF record, the pair and the state it starts from (default: after NPT)."""
    build = read_build(parent)
    topology, xyz, box = state or equilibrated_state(parent)
    choice = choose_pair(parent, settings, build, topology, xyz, box)
    # a build not yet run (the check before its run) has no protocol: its temperature
    ran = has_run(parent)
    protocol = window_protocol(parent, settings) if ran else Protocol(build.temperature_k)
    # a window starts from a pulled MD configuration: a short minimisation suffices
    protocol = replace(protocol, minimize_max_iterations=WINDOW_MINIMIZE_ITERATIONS)
    eps = water_dielectric(build.water_model)
    path = pair_path(
        settings, choice.contact_nm, choice.charges_e, eps.eps_r, protocol.temperature_k
    )
    check_box(path, np.diag(box), f"{parent} ({'after NPT' if state is None else 'as built'})")
    info = UmbrellaInfo(
        parent=str(parent.resolve()),
        ion_species=choice.cation,
        ion_index=choice.cation_index,
        centres_nm=path.centres_nm,
        force_constant_kj_mol_nm2=settings.k(protocol.temperature_k),
        spacing_nm=settings.spacing_nm,
        temperature_k=protocol.temperature_k,
        shell_cutoff_angstrom=settings.shell_cutoff_angstrom,
        pull_ps=settings.pull_ps,
        windows=[f"windows/w{k:03d}" for k in range(len(path.centres_nm))],
        protocol=asdict(protocol),
        coordinate="distance",
        partner_species=choice.partner,
        partner_index=choice.partner_index,
        partner_atom=choice.partner_atom,
        partner_acceptors=choice.partner_acceptors,
        charges_e=list(choice.charges_e),
        dielectric=eps.eps_r,
        dielectric_source=eps.label,
        boundary_nm=path.boundary_nm,
        boundary_source=path.boundary_source,
    )
    return info, choice, (topology, xyz, box)


def prepare_pair_windows(
    parent: str | Path,
    out: str | Path,
    settings: PMFSettings,
    platform: str = "auto",
    device: int | None = None,
) -> UmbrellaInfo:
    """Write every window directory of the pair PMF into ``out`` (existing ones are kept;
    the pull that seeds missing ones runs on ``platform``); returns the PMF directory's
    record. Every setting is checked before the pull.

    Parameters
    ----------
    parent : str or Path
        The parent run directory (past NPT).
    out : str or Path
        The PMF directory.
    settings : PMFSettings
        With ``pair`` set.
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    parent, out = Path(parent), Path(out)
    if not (parent / BUILD_JSON).exists():
        raise UmbrellaError(f"{parent} is not a build or run directory")
    info, choice, (topology, xyz, box) = _pair_info(parent, settings)
    info = claim(out, info)
    (out / "windows").mkdir(exist_ok=True)
    missing = [k for k, name in enumerate(info.windows) if not (out / name).exists()]
    if not missing:
        return info
    protocol = Protocol(**info.protocol)
    seeds = pull_pair(
        parent, xyz, box, info.ion_index, info.partner_index, choice.r_nm,
        info.centres_nm, settings, protocol, platform, device,
    )  # fmt: skip
    for k in missing:
        window = WindowInfo(
            index=k,
            centre_nm=info.centres_nm[k],
            force_constant_kj_mol_nm2=info.force_constant_kj_mol_nm2,
            ion_index=info.ion_index,
            ion_species=info.ion_species,
            pull_rate_nm_per_ps=settings.pull_rate_nm_per_ps,
            coordinate="distance",
            partner_index=info.partner_index,
            partner_species=info.partner_species,
        )
        create_window(
            parent, out / info.windows[k], topology, box, window, seeds[k],
            lambda system, w=window: add_pair_restraint(
                system, w.ion_index, w.partner_index, w.centre_nm, w.force_constant_kj_mol_nm2
            ),
        )  # fmt: skip
    return info


def check_pair_design(design: Design, settings: PMFSettings, composition) -> None:
    """Refuse a pair PMF of a design file before it is built: both species in its
    composition, and the far end within half the estimated box edge (the contact end
    taken as ``CATION_ACCEPTOR_NM`` + 0.1 nm when automatic).

    Parameters
    ----------
    design : Design
    settings : PMFSettings
        With ``pair`` set.
    composition : solvation.systems.composition.Composition
        The design's sized box (``size_box``).
    """
    species = {
        k: c.template.resname
        for k, c in composition.components.items()
        if composition.counts.get(k)
    }
    cation = resolve_species(settings.pair[0], species)
    partner = resolve_species(settings.pair[1], species)
    scale = design.forcefield.charge_scale
    charges = tuple(composition.components[k].template.charge * scale for k in (cation, partner))
    eps = water_dielectric(design.water.model).eps_r
    path = pair_path(settings, CATION_ACCEPTOR_NM + 0.1, charges, eps, design.temperature.kelvin)
    edge = composition.volume_nm3 ** (1.0 / 3.0)
    check_box(path, [edge] * 3, f"the design's box (about {edge:.2f} nm estimated)")


def check_pair_source(parent: Path, settings: PMFSettings) -> None:
    """Refuse a pair PMF of a build/run directory before it is run: the species, the
    reference atom and the path against the box as built.

    Parameters
    ----------
    parent : Path
        A build or run directory.
    settings : PMFSettings
        With ``pair`` set.
    """
    _pair_info(parent, settings, built_state(parent))
