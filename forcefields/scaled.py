"""The scaled-charge family inside a System: residue templates for its species, the rigid
Madrid-2019 sulfate and the pair-specific Lennard-Jones terms.

Parameters come from ``data/scaled_family.toml`` (``family.scaled_family``). Ions are
written with their formal charges and the sulfate with its published charges divided by
the family's charge scale: ``system.scale_charges`` then multiplies every charged residue
by 0.85, which gives the published charges.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import openmm
import openmm.app as app

from .family import FamilyError, FamilySpecies, ModelFamily, scaled_family
from .ffxml import WATER_RESNAME, ion_ffxml
from .library import DATA, ION_RESNAMES, METHOD_CITATIONS, family_citation, molecule
from .nbfix import add_pair_term

SULFATE = "SO4"


@dataclass(frozen=True)
class ScaledIon:
    """A monatomic ion of the family in the form ``ffxml.ion_ffxml`` writes (formal charge).

    Attributes
    ----------
    species : str
    charge : int
        Formal charge before scaling (e).
    sigma_nm : float
        sigma (nm).
    epsilon_kj_per_mol : float
        epsilon (kJ/mol).
    mass_dalton : float
        Mass (Da).
    """

    species: str
    charge: int
    sigma_nm: float
    epsilon_kj_per_mol: float
    mass_dalton: float


def scaled_ion(species: FamilySpecies, charge_scale: float) -> ScaledIon:
    """The ion with its charge before scaling (charge_e / charge_scale, rounded).

    Parameters
    ----------
    species : FamilySpecies
        A family ion.
    charge_scale : float
        The family's charge scale.
    """
    return ScaledIon(
        species.name,
        round(species["charge_e"] / charge_scale),
        species["sigma_nm"],
        species["epsilon_kj_per_mol"],
        species["mass_dalton"],
    )


def ions_ffxml(names: list[str]) -> str:
    """ForceField XML of the family's monatomic ions ``names``.

    Parameters
    ----------
    names : list of str
        Family ion names.
    """
    fam = scaled_family()
    scale = float(fam.charge_scale.value)
    return ion_ffxml([scaled_ion(fam.species[n], scale) for n in names])


def provenance(species: FamilySpecies, library_ion=None) -> dict:
    """Build-record entry of one species: its numbers, status and sources with flags.

    Parameters
    ----------
    species : FamilySpecies
    library_ion : IonParameters, optional
        The library set a 'library' route ion takes its Lennard-Jones and mass from.
    """
    values = species.all_values()
    entry = {
        "species": species.name,
        "set": "scaled",
        "route": species.route,
        "status": species.status,
        "parameters": {k: v.value for k, v in values.items()},
        "citation": family_citation(values),
    }
    if species.route in METHOD_CITATIONS:
        entry["citation"] += f"; parameters: {METHOD_CITATIONS[species.route]}"
    if library_ion is not None:
        entry["parameters"] |= {
            "sigma_nm": library_ion.sigma_nm,
            "epsilon_kj_per_mol": library_ion.epsilon_kj_per_mol,
            "mass_dalton": library_ion.mass_dalton,
            "library_set": f"{library_ion.set} ({library_ion.water_model})",
        }
        entry["citation"] += f"; Lennard-Jones: {library_ion.citation} ({library_ion.source_file})"
    if species.see_also:
        entry["see_also"] = list(species.see_also)
    return entry


def molecule_ffxml(species: FamilySpecies) -> str:
    """ForceField XML of a family molecule shipped as a file (the Madrid-2019 sulfate).

    Parameters
    ----------
    species : FamilySpecies
        A family molecule of route 'madrid2019'.
    """
    if species.route == "madrid2019":
        return (DATA / species.file).read_text()
    raise FamilyError(f"scaled_family.toml: {species.name} (route {species.route}) has no file")


def rigid_sulfate(system: openmm.System, topology: app.Topology, o_o_nm: float) -> int:
    """Make every sulfate residue's S a massless virtual site at the centroid of its four O
    (LocalCoordinatesSite, origin weights 1/4) and constrain the six O-O distances to
    ``o_o_nm``. Returns the number of sulfates changed.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    o_o_nm : float
        Sulfate O-O distance (nm).
    """
    n, resname = 0, molecule(SULFATE).resname
    for residue in topology.residues():
        if residue.name != resname:
            continue
        oxygens = [a.index for a in residue.atoms() if a.element.symbol == "O"]
        (sulfur,) = [a.index for a in residue.atoms() if a.element.symbol == "S"]
        system.setParticleMass(sulfur, 0.0)
        site = openmm.LocalCoordinatesSite(
            oxygens, [0.25] * 4, [-1.0, 1.0, 0.0, 0.0], [-1.0, 0.0, 1.0, 0.0], openmm.Vec3(0, 0, 0)
        )
        system.setVirtualSite(sulfur, site)
        for k, i in enumerate(oxygens):
            for j in oxygens[k + 1 :]:
                system.addConstraint(i, j, o_o_nm)
        n += 1
    return n


def site_atoms(topology: app.Topology, site: str) -> list[int]:
    """Atom indices of a site ``species`` or ``species:element`` (``water:O``, ``SO4:O``).

    Parameters
    ----------
    topology : openmm.app.Topology
    site : str
        ``species`` or ``species:element``.
    """
    species, _, element = site.partition(":")
    if species == "water":
        resname = WATER_RESNAME
    elif species in ION_RESNAMES:
        resname = ION_RESNAMES[species]
    else:
        resname = molecule(species).resname
    return [
        a.index
        for a in topology.atoms()
        if a.residue.name == resname
        and (not element or (a.element is not None and a.element.symbol == element))
    ]


def add_pair_terms(
    system: openmm.System, topology: app.Topology, family: ModelFamily
) -> list[dict]:
    """One NBFix force per pair term whose two sites both occur in ``topology``; returns
    their build-record entries.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    family : ModelFamily
    """
    added = []
    for pair in family.pairs:
        atoms_a, atoms_b = site_atoms(topology, pair.a), site_atoms(topology, pair.b)
        if not atoms_a or not atoms_b:
            continue
        add_pair_term(
            system,
            pair.label,
            atoms_a,
            atoms_b,
            pair.sigma_nm,
            pair.epsilon_kj_per_mol,
            pair.c4_kj_per_mol_nm4,
        )
        values = pair.values()
        added.append(
            {
                "species": pair.label,
                "set": "scaled pair term",
                "status": pair.status,
                **{k: float(v.value) for k, v in values.items()},
                "citation": family_citation(values),
            }
        )
    return added


def finalize(system: openmm.System, topology: app.Topology) -> list[dict]:
    """Rigid sulfates and pair terms of the scaled family; returns the pair-term records.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    """
    fam = scaled_family()
    rigid_sulfate(system, topology, float(fam.species[SULFATE].geometry["o_o_nm"].value))
    return add_pair_terms(system, topology, fam)


def ideal_tetrahedron(bond_nm: float) -> np.ndarray:
    """Four vertices (nm) of a regular tetrahedron centred at the origin, ``bond_nm`` from it.

    Parameters
    ----------
    bond_nm : float
        Centre-vertex distance (nm).
    """
    return np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) * bond_nm / math.sqrt(3)
