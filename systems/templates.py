"""Residue templates: one molecule of a species with names, bonds and 3D coordinates,
and assembly of many placed copies into an OpenMM Topology."""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import cache

import numpy as np
import openmm.app as app
import openmm.unit as u
from rdkit import Chem
from rdkit.Chem import AllChem

from solvation.forcefields.family import scaled_family
from solvation.forcefields.library import ION_RESNAMES, molecule_table
from solvation.forcefields.molecules import ParametrizationError, to_molecule
from solvation.forcefields.scaled import SULFATE, ideal_tetrahedron
from solvation.forcefields.substrates import atom_name
from solvation.forcefields.system import METAL_RESNAME

WATER_GEOMETRY = (0.9572, 104.52)  # A, degrees (TIP3P/TIP4P family, rigid)


@dataclass(frozen=True)
class ResidueTemplate:
    """One molecule: residue name, atom names and elements, bonds, coordinates (A).

    Attributes
    ----------
    resname : str
        Residue name.
    names, elements : tuple of str
        Atom names and elements.
    bonds : tuple of (int, int)
        Bonded atom index pairs.
    xyz_angstrom : numpy.ndarray
        Coordinates (A).
    charge : int
        Net charge (e).
    smiles : str or None
        SMILES of the molecule, when known.
    """

    resname: str
    names: tuple[str, ...]
    elements: tuple[str, ...]
    bonds: tuple[tuple[int, int], ...]
    xyz_angstrom: np.ndarray
    charge: int
    smiles: str | None = None

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return len(self.names)

    @property
    def mass_dalton(self) -> float:
        """Molecular mass (Da)."""
        return sum(app.element.get_by_symbol(e).mass.value_in_unit(u.dalton) for e in self.elements)


def water_template() -> ResidueTemplate:
    """A rigid three-site water (O, H1, H2) of ``WATER_GEOMETRY``, coordinates in A."""
    r, theta = WATER_GEOMETRY
    half = math.radians(theta) / 2
    xyz = np.array(
        [
            [0, 0, 0],
            [r * math.sin(half), r * math.cos(half), 0],
            [-r * math.sin(half), r * math.cos(half), 0],
        ]
    )
    return ResidueTemplate("HOH", ("O", "H1", "H2"), ("O", "H", "H"), ((0, 1), (0, 2)), xyz, 0)


def ion_template(species: str) -> ResidueTemplate:
    """Monatomic ion of the library (``Zn2+``, ``Cl-``, ...).

    Parameters
    ----------
    species : str
        Library ion name.
    """
    resname = ION_RESNAMES[species]
    element = species.rstrip("+-").rstrip("23")
    charge = int(species[-2]) if species[-2].isdigit() else 1
    return ResidueTemplate(
        resname,
        (resname,),
        (element,),
        (),
        np.zeros((1, 3)),
        -charge if species.endswith("-") else charge,
    )


def metal_template(element: str = "Zn") -> ResidueTemplate:
    """One substrate atom (Zn metal by default): residue ``ZNM`` whatever the element, so
    that every slab atom is found by one residue name.

    Parameters
    ----------
    element : str
        Element symbol.
    """
    return ResidueTemplate(
        METAL_RESNAME, (atom_name(element),), (element,), (), np.zeros((1, 3)), 0
    )


def slab_template(elements: tuple[str, ...]) -> ResidueTemplate:
    """All atoms of a slab as one rigid piece (for packing only).

    Parameters
    ----------
    elements : tuple of str
        Element of each slab atom.
    """
    return ResidueTemplate(
        METAL_RESNAME,
        tuple(atom_name(e) for e in elements),
        tuple(elements),
        (),
        np.zeros((len(elements), 3)),
        0,
    )


@cache
def smiles_template(smiles: str, resname: str, seed: int = 1) -> ResidueTemplate:
    """Template of a molecule from SMILES with one RDKit conformer (deterministic seed).

    Parameters
    ----------
    smiles : str
    resname : str
        Residue name.
    seed : int
        RDKit conformer seed.
    """
    rdmol = Chem.AddHs(to_molecule(smiles).to_rdkit())
    params = AllChem.ETKDGv3()
    params.randomSeed = seed
    if AllChem.EmbedMolecule(rdmol, params) != 0:
        raise ParametrizationError(f"RDKit could not embed a 3D structure for {smiles!r}")
    xyz = rdmol.GetConformer().GetPositions()
    counts: dict[str, int] = {}
    names = []
    for atom in rdmol.GetAtoms():
        sym = atom.GetSymbol()
        counts[sym] = counts.get(sym, 0) + 1
        names.append(f"{sym}{counts[sym]}"[:4])
    bonds = tuple((b.GetBeginAtomIdx(), b.GetEndAtomIdx()) for b in rdmol.GetBonds())
    charge = sum(a.GetFormalCharge() for a in rdmol.GetAtoms())
    return ResidueTemplate(
        resname,
        tuple(names),
        tuple(a.GetSymbol() for a in rdmol.GetAtoms()),
        bonds,
        xyz - xyz.mean(axis=0),
        charge,
        smiles,
    )


def library_template(name: str) -> ResidueTemplate:
    """Template of a library molecule (``SO4``, ``OTf``, ``xylitol`` ...) by canonical name.

    Sulfate is an ideal tetrahedron with the rigid Madrid-2019 S-O distance (1.49 A), which
    its constraints need and the flexible GAFF2 sulfate also starts well from.

    Parameters
    ----------
    name : str
        Canonical library name.
    """
    mol = molecule_table()[name]
    template = smiles_template(mol.smiles, mol.resname)
    if name != SULFATE:
        return template
    s_o_nm = float(scaled_family().species[SULFATE].geometry["s_o_nm"].value)
    xyz = np.zeros((template.n_atoms, 3))
    oxygens = [k for k, e in enumerate(template.elements) if e == "O"]
    xyz[oxygens] = ideal_tetrahedron(s_o_nm) * 10.0  # S stays at the origin
    return ResidueTemplate(**{**template.__dict__, "xyz_angstrom": xyz})


def assemble(
    placed: list[tuple[ResidueTemplate, np.ndarray]], box_nm: np.ndarray | None = None
) -> tuple[app.Topology, np.ndarray]:
    """Topology and positions (nm) from (template, coordinates in A) pairs.

    One chain per run of consecutive residues with the same name. ``box_nm`` is the
    3x3 box vectors matrix in nm.

    Parameters
    ----------
    placed : list of (ResidueTemplate, numpy.ndarray)
        Each molecule's template and coordinates (A).
    box_nm : numpy.ndarray, optional
        3x3 box vectors (nm).
    """
    top = app.Topology()
    chain, last = None, None
    positions = []
    for template, xyz in placed:
        if template.resname != last:
            chain, last = top.addChain(), template.resname
        residue = top.addResidue(template.resname, chain)
        atoms = [
            top.addAtom(n, app.element.get_by_symbol(e), residue)
            for n, e in zip(template.names, template.elements, strict=True)
        ]
        for i, j in template.bonds:
            top.addBond(atoms[i], atoms[j])
        positions.append(np.asarray(xyz, dtype=float) / 10.0)
    if box_nm is not None:
        top.setPeriodicBoxVectors(np.asarray(box_nm) * u.nanometer)
    return top, np.concatenate(positions) if positions else np.zeros((0, 3))
