"""Pre-hydrated multivalent cations: each 2+/3+ cation is packed as a pre-formed aqua
complex, so that no contact ion pair exists at t = 0.

Zn2+ first shells exchange over tens of nanoseconds; a random packmol start would put
anions into cation shells and keep them there for the whole run, so the contact-pair
fraction would report the start, not the model. Here every 2+/3+ cation goes into the
box as [M(H2O)n] with the ion's known first-shell geometry (octahedral 6 for Zn2+, Mg2+,
Mn2+, Ni2+, Al3+; tricapped trigonal prism 9 for La3+, Ce3+) at its first-shell M-O
distance, waters pointing their hydrogens away from the ion. packmol places the complex
as one rigid piece, with no atom of another molecule within ``EXCLUSION_ANGSTROM`` of
its cation (``PackItem.exclusion_angstrom``) and no atom of an anion or other solute
within ``SOLUTE_EXCLUSION_ANGSTROM`` (``PackItem.solute_exclusion_angstrom``): anions
start in the second shell, as solvent-shared pairs. At the first-shell exclusion alone
an anion oxygen may sit 3.1-3.6 A from the cation, on the barrier between the shells;
there minimisation of the full-charge 12-6-4 model pulled it into the first shell, so
2-3 of 20 Zn2+ of a 2 m ZnSO4 box (560 waters) began dynamics in contact pairs
(docs/validation.md, section 2). After packing, each complex is split back into one ion
and n water residues.

First-shell M-O distances and coordination numbers (A): X-ray and neutron diffraction
of aqueous solutions as reviewed by Ohtaki & Radnai, Chem. Rev. 93 (1993) 1157 and
Marcus, Chem. Rev. 88 (1988) 1475 [R]. Minimisation then relaxes each complex to the
force field's own distance.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import openmm
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from solvation.errors import SolvationError

from .packing import PackItem
from .templates import ResidueTemplate, water_template

EXCLUSION_ANGSTROM = 3.1  # no atom of another molecule closer to a hydrated cation
# no anion or other solute atom closer: the Zn-O second-shell peak is at ~4.2 A (Ohtaki &
# Radnai 1993), so 4.0 A puts anion oxygens in the second shell, past the barrier
SOLUTE_EXCLUSION_ANGSTROM = 4.0
# minimisation only: anion acceptors held this far from pre-hydrated cations (A) by a
# flat-bottom wall of this stiffness (kJ/mol/nm^2; at 0.02 nm inside it pushes with
# 4000 kJ/mol/nm, more than the Coulomb pull of Zn2+ on a -1 oxygen at 3 A)
GUARD_ANGSTROM = 3.5
GUARD_K_KJ_MOL_NM2 = 1.0e5
CONTACT_CUTOFF_ANGSTROM = 3.0  # cation-anion acceptor distance counted as a contact
ANION_ACCEPTORS = ("O", "N", "F", "Cl", "Br", "I")


@dataclass(frozen=True)
class FirstShell:
    """Coordination number, M-O distance (A) and geometry of a cation's first shell.

    Attributes
    ----------
    n : int
        Coordination number.
    distance_angstrom : float
        M-O distance (A).
    geometry : str
        Shell geometry (e.g. 'octahedron').
    """

    n: int
    distance_angstrom: float
    geometry: str


CITATION = "Ohtaki & Radnai, Chem. Rev. 93 (1993) 1157; Marcus, Chem. Rev. 88 (1988) 1475 [R]"
FIRST_SHELLS = {
    "Zn2+": FirstShell(6, 2.09, "octahedron"),
    "Mg2+": FirstShell(6, 2.10, "octahedron"),
    "Mn2+": FirstShell(6, 2.18, "octahedron"),
    "Ni2+": FirstShell(6, 2.06, "octahedron"),
    "Al3+": FirstShell(6, 1.89, "octahedron"),
    "La3+": FirstShell(9, 2.55, "tricapped trigonal prism"),
    "Ce3+": FirstShell(9, 2.53, "tricapped trigonal prism"),
}


class HydrationError(SolvationError):
    """Cations that cannot be pre-hydrated as asked."""


def _directions(geometry: str) -> np.ndarray:
    """Unit vectors from the ion to its first-shell oxygens."""
    if geometry == "octahedron":
        return np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1.0]])
    # tricapped trigonal prism: two triangles at +-z (polar angle 48.2 deg), three caps
    # on the equator between them
    theta = math.radians(48.2)
    prism = [
        (math.sin(theta) * math.cos(phi), math.sin(theta) * math.sin(phi), sign * math.cos(theta))
        for sign in (1, -1)
        for phi in np.radians([0.0, 120.0, 240.0])
    ]
    caps = [(math.cos(phi), math.sin(phi), 0.0) for phi in np.radians([60.0, 180.0, 300.0])]
    return np.array(prism + caps)


def _oriented_water(direction: np.ndarray, distance: float, spin: float) -> np.ndarray:
    """Water coordinates (A) with O at ``distance`` along ``direction`` and the H-O-H
    bisector pointing away from the ion, turned by ``spin`` (rad) about that axis."""
    water = water_template().xyz_angstrom  # O at origin, bisector along +y
    to_axis, _ = Rotation.align_vectors([direction], [[0.0, 1.0, 0.0]])
    spun = Rotation.from_rotvec(spin * np.asarray(direction)) * to_axis
    return spun.apply(water) + distance * np.asarray(direction)


def aqua_template(ion: ResidueTemplate, species: str) -> ResidueTemplate:
    """[M(H2O)n] of ``species`` as one template: the ion first, then n waters.

    Parameters
    ----------
    ion : ResidueTemplate
        The cation.
    species : str
        Its species name (a key of ``FIRST_SHELLS``).
    """
    shell = FIRST_SHELLS[species]
    water = water_template()
    xyz = [np.zeros((1, 3))]
    for k, d in enumerate(_directions(shell.geometry)):
        xyz.append(_oriented_water(d / np.linalg.norm(d), shell.distance_angstrom, 0.7 * k))
    n = shell.n
    names = ion.names + water.names * n
    elements = ion.elements + water.elements * n
    bonds = tuple((1 + 3 * k + i, 1 + 3 * k + j) for k in range(n) for i, j in water.bonds)
    return ResidueTemplate(
        f"AQ{ion.resname}"[:4], names, elements, bonds, np.vstack(xyz), ion.charge
    )


def hydrated_species(items: list[PackItem], species_of: dict[str, str]) -> list[str]:
    """Species of the 2+/3+ cations among ``items`` (by residue name).

    Parameters
    ----------
    items : list of PackItem
    species_of : dict of str to str
        Species name of each residue name.
    """
    return [
        species_of[i.template.resname]
        for i in items
        if species_of.get(i.template.resname) in FIRST_SHELLS and i.count > 0
    ]


def hydrate_items(items: list[PackItem], species_of: dict[str, str]) -> list[PackItem]:
    """Replace each 2+/3+ cation item by its aqua complex and take the complexes' waters
    from the water item of the same compartment (``PackItem.compartment``), with no atom
    of another molecule within EXCLUSION_ANGSTROM of the cation and no solute atom within
    SOLUTE_EXCLUSION_ANGSTROM.

    Parameters
    ----------
    items : list of PackItem
    species_of : dict of str to str
        Species name of each residue name.
    """
    out = list(items)
    for k, item in enumerate(items):
        species = species_of.get(item.template.resname)
        if species not in FIRST_SHELLS or item.count == 0:
            continue
        need = item.count * FIRST_SHELLS[species].n
        w = next(
            (
                j
                for j, other in enumerate(out)
                if other.template.resname == "HOH" and other.compartment == item.compartment
            ),
            None,
        )
        if w is None or out[w].count < need:
            have = 0 if w is None else out[w].count
            raise HydrationError(
                f"{item.count} {species} need {need} waters for their first shells but the "
                f"box has {have}; use more water, or set [box] prehydrate = false"
            )
        out[w] = replace(out[w], count=out[w].count - need)
        out[k] = replace(
            item,
            template=aqua_template(item.template, species),
            exclusion_angstrom=EXCLUSION_ANGSTROM,
            solute_exclusion_angstrom=SOLUTE_EXCLUSION_ANGSTROM,
        )
    return out


def split_complexes(
    placed: list[tuple[ResidueTemplate, np.ndarray]], ions: dict[str, ResidueTemplate]
) -> list[tuple[ResidueTemplate, np.ndarray]]:
    """Complexes back into one ion and n waters each; residues of one kind stay together
    (ions after the other ions' block position, waters appended to the water block).

    Parameters
    ----------
    placed : list of (ResidueTemplate, numpy.ndarray)
        Each molecule's template and coordinates (A).
    ions : dict of str to ResidueTemplate
        The bare ion template of each complex's residue name.
    """
    water = water_template()
    groups: dict[str, list] = {}
    for template, xyz in placed:
        ion = ions.get(template.resname)
        if ion is None:
            groups.setdefault(template.resname, []).append((template, xyz))
            continue
        groups.setdefault(ion.resname, []).append((ion, xyz[:1]))
        waters = groups.setdefault(water.resname, [])
        waters += [(water, xyz[1 + 3 * k : 4 + 3 * k]) for k in range((len(xyz) - 1) // 3)]
    return [entry for block in groups.values() for entry in block]


def initial_pairing(
    placed: list[tuple[ResidueTemplate, np.ndarray]],
    cations: set[str],
    anions: set[str],
    box: np.ndarray | None,
) -> dict:
    """Contact state at t = 0: cation-anion acceptor pairs closer than
    CONTACT_CUTOFF_ANGSTROM, how many cations take part, the closest distance (A).

    Parameters
    ----------
    placed : list of (ResidueTemplate, numpy.ndarray)
        Each molecule's template and coordinates (A).
    cations : set of str
        Residue names of the cations.
    anions : set of str
        Residue names of the anions.
    box : numpy.ndarray or None
        Orthorhombic box edges (A) for periodic distances.
    """
    cat = [xyz[0] for t, xyz in placed if t.resname in cations]
    acc = [
        p
        for t, xyz in placed
        if t.resname in anions
        for e, p in zip(t.elements, xyz, strict=True)
        if e in ANION_ACCEPTORS
    ]
    record = {"contact_cutoff_angstrom": CONTACT_CUTOFF_ANGSTROM, "contact_pairs": 0}
    record |= {"cations_in_contact": 0, "min_cation_anion_distance_angstrom": None}
    if not cat or not acc:
        return record
    lengths = None if box is None else np.asarray(box, float)
    wrap = (lambda x: np.mod(x, lengths)) if lengths is not None else (lambda x: x)
    tree = cKDTree(wrap(np.array(acc)), boxsize=lengths)
    dist, _ = tree.query(wrap(np.array(cat)))
    near = tree.query_ball_point(wrap(np.array(cat)), CONTACT_CUTOFF_ANGSTROM)
    record["contact_pairs"] = int(sum(len(n) for n in near))
    record["cations_in_contact"] = int(sum(1 for n in near if n))
    record["min_cation_anion_distance_angstrom"] = round(float(dist.min()), 3)
    return record


def guard_pairs(
    topology: openmm.app.Topology, cations: set[str], anions: set[str]
) -> tuple[np.ndarray, np.ndarray]:
    """Atom indices of the cations of ``cations`` and of the acceptor atoms of ``anions``
    (residue names), the two sides of the minimisation guard (``contact_guard``).

    Parameters
    ----------
    topology : openmm.app.Topology
    cations, anions : set of str
        Residue names.
    """
    cat = [a.index for a in topology.atoms() if a.residue.name in cations]
    acc = [
        a.index
        for a in topology.atoms()
        if a.residue.name in anions
        and a.element is not None
        and a.element.symbol in ANION_ACCEPTORS
    ]
    return np.array(cat, dtype=int), np.array(acc, dtype=int)


def contact_guard(
    topology: openmm.app.Topology, cations: set[str], anions: set[str]
) -> openmm.CustomBondForce | None:
    """A flat-bottom wall, k (r0 - r)^2 for r < r0 (r0 = GUARD_ANGSTROM), between each
    cation of ``cations`` and each acceptor atom of ``anions``, periodic; None when the
    topology has no such pair.

    Meant for energy minimisation of a pre-hydrated start only: the full-charge 12-6-4
    model minimised from a packed box pulls anion oxygens 3-4.5 A from Zn2+ into the
    first shell (2 of 20 Zn2+ of a 2 m ZnSO4 box with 560 waters), so the minimiser, not
    the dynamics, would make the contact pairs. Dynamics then run without it.

    Parameters
    ----------
    topology : openmm.app.Topology
    cations, anions : set of str
        Residue names.
    """
    cat, acc = guard_pairs(topology, cations, anions)
    if not len(cat) or not len(acc):
        return None
    r0 = GUARD_ANGSTROM / 10.0
    force = openmm.CustomBondForce(f"{GUARD_K_KJ_MOL_NM2}*step({r0}-r)*({r0}-r)^2")
    force.setName("contact guard")
    force.setUsesPeriodicBoundaryConditions(True)
    for i in cat:
        for j in acc:
            force.addBond(int(i), int(j), [])
    return force


def guard_energy(
    positions_nm: np.ndarray, cations: np.ndarray, acceptors: np.ndarray, box_nm: np.ndarray
) -> float:
    """Energy (kJ/mol) of the ``contact_guard`` walls at ``positions_nm``: what the
    minimiser's energy holds beyond the system's own.

    Parameters
    ----------
    positions_nm : numpy.ndarray
        (N, 3) positions (nm).
    cations, acceptors : numpy.ndarray
        Atom indices of the two sides (``guard_pairs``).
    box_nm : numpy.ndarray
        (3, 3) periodic box vectors (nm), rows a, b, c in OpenMM's reduced form.
    """
    if not len(cations) or not len(acceptors):
        return 0.0
    x = np.asarray(positions_nm, dtype=float).reshape(-1, 3)
    d = x[cations][:, None, :] - x[acceptors][None, :, :]
    box = np.asarray(box_nm, dtype=float)
    for k in (2, 1, 0):  # minimum image in a reduced triclinic box, c first
        d -= np.round(d[..., k] / box[k, k])[..., None] * box[k]
    r = np.linalg.norm(d, axis=-1)
    inside = np.clip(GUARD_ANGSTROM / 10.0 - r, 0.0, None)
    return float(GUARD_K_KJ_MOL_NM2 * np.sum(inside**2))
