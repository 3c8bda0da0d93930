"""Anode substrates (``[slab] material``): crystal data, facets, Lennard-Jones parameters
and charges of the frozen slab atoms, from ``data/substrates.toml``, where every number
has its source beside it.

Force fields. INTERFACE FF (Heinz et al., J. Phys. Chem. C 112 (2008) 17281) covers fcc
metals only (here: Cu) and has no Zn, so every element has a UFF entry and a material
uses one Lennard-Jones set for all of its atoms (``lj = "uff"``, the default). ``lj = "interface"``
takes INTERFACE FF where it has the element and UFF otherwise; its provenance says that
this mixes two force-field philosophies (Cu well 40x deeper than Zn's), which makes Cu
sites artificially hydrophilic. The ionic substrates (ZnO, ZnS, ZnF2) have no published
charged model that could be obtained: their atoms carry formal charges (a neutral,
dipole-free slab is built) and UFF Lennard-Jones, and each material's ``limits`` text
says what that means; it is copied into build.json and shown by
``solvation forcefields show``. OpenMM mixes every pair by Lorentz-Berthelot (UFF's own
rule is geometric), as for the Zn slab that came before.
"""

from __future__ import annotations

import math
import re
import tomllib
from dataclasses import dataclass
from functools import cache

from solvation.errors import SolvationError

from .common import DATA, KCAL, RMIN_TO_SIGMA, unknown

LJ_SETS = ("uff", "interface")  # Lennard-Jones sets of ``[slab] lj`` (not a model family)


class SubstrateError(SolvationError, ValueError):
    """A substrate, facet or Lennard-Jones set that cannot be used as asked."""


@dataclass(frozen=True)
class Facet:
    """A facet of a material: its label in designs, the ``ase.build.surface`` indices for
    the material's cell, and its crystallographic name.

    Attributes
    ----------
    label : str
        Label in designs (e.g. '111').
    miller : tuple of int
        ``ase.build.surface`` indices for the material's cell.
    name : str
        Crystallographic name.
    """

    label: str
    miller: tuple[int, int, int]
    name: str


@dataclass(frozen=True)
class Material:
    """A substrate crystal with its sources (lengths in A, angles in degrees).

    Attributes
    ----------
    name : str
    kind : str
        'metal' or 'ionic'.
    phase : str
    formula : str
    spacegroup : int
    cellpar : tuple of float
        a, b, c (A), alpha, beta, gamma (degrees).
    cellpar_source : str
    sites : tuple of dict
        Asymmetric-unit sites.
    sites_source : str
    atoms_per_cell : int
    flag : str
        How the crystal data are known.
    verified : bool
    default_facet : str
    facets : dict of str to Facet
    polar : dict of str to str
        Refused polar facets and what to use instead.
    limits : str
        What the model of the material cannot do.
    approximant : dict or None
        Ordered approximant of a disordered phase (CuZn5).
    """

    name: str
    kind: str  # metal | ionic
    phase: str
    formula: str
    spacegroup: int
    cellpar: tuple[float, ...]
    cellpar_source: str
    sites: tuple[dict, ...]
    sites_source: str
    atoms_per_cell: int
    flag: str
    verified: bool
    default_facet: str
    facets: dict[str, Facet]
    polar: dict[str, str]
    limits: str
    approximant: dict | None = None

    @property
    def composition(self) -> dict[str, int]:
        """Element -> count in the formula unit (``Cu5Zn8`` -> {Cu: 5, Zn: 8})."""
        return {el: int(n or 1) for el, n in re.findall(r"([A-Z][a-z]?)(\d*)", self.formula)}

    @property
    def elements(self) -> tuple[str, ...]:
        """Elements of the material, sorted."""
        return tuple(sorted(self.composition))

    @property
    def cell_volume_angstrom3(self) -> float:
        """Volume of the crystallographic cell (A^3), triclinic formula."""
        a, b, c, alpha, beta, gamma = self.cellpar
        ca, cb, cg = (math.cos(math.radians(x)) for x in (alpha, beta, gamma))
        return a * b * c * math.sqrt(1 - ca * ca - cb * cb - cg * cg + 2 * ca * cb * cg)

    @property
    def volume_per_atom_nm3(self) -> float:
        """Volume per atom (nm^3) of the bulk crystal."""
        return self.cell_volume_angstrom3 / self.atoms_per_cell / 1000.0

    def facet(self, label: str | None) -> Facet:
        """The facet called ``label`` (None: the material's default); polar and unknown
        facets are refused with what to use instead."""
        label = self.default_facet if label is None else label.strip()
        if label in self.facets:
            return self.facets[label]
        if label in self.polar:
            raise SubstrateError(f"{self.name} facet {label}: {self.polar[label]}")
        raise SubstrateError(
            f"{self.name} has no facet {label!r}; use one of {', '.join(self.facets)}"
        )

    def charge(self, element: str) -> float:
        """Charge (e) of a frozen atom of ``element``: 0 in metals, formal in ionic
        substrates."""
        return _charges()[element] if self.kind == "ionic" else 0.0

    @property
    def citation(self) -> str:
        """Sources of the lattice and of the sites."""
        return f"lattice: {self.cellpar_source}; sites: {self.sites_source}"


@dataclass(frozen=True)
class LJParameters:
    """Lennard-Jones parameters of one substrate element (OpenMM units) and the published
    numbers they come from.

    Attributes
    ----------
    element : str
    lj_set : str
        'uff' or 'interface'.
    atom_type : str
    sigma_nm : float
        sigma (nm).
    epsilon_kj_per_mol : float
        epsilon (kJ/mol).
    published : dict
        The published numbers, in their own units.
    citation : str
    source : str
    """

    element: str
    lj_set: str  # uff | interface
    atom_type: str
    sigma_nm: float
    epsilon_kj_per_mol: float
    published: dict
    citation: str
    source: str


def _material(name: str, raw: dict) -> Material:
    facets = {
        label: Facet(label, tuple(f["miller"]), f["name"]) for label, f in raw["facets"].items()
    }
    return Material(
        name=name,
        kind=raw["kind"],
        phase=raw["phase"],
        formula=raw["formula"],
        spacegroup=raw["spacegroup"],
        cellpar=tuple(raw["cellpar"]),
        cellpar_source=raw["cellpar_source"],
        sites=tuple(raw["sites"]),
        sites_source=raw["sites_source"],
        atoms_per_cell=raw["atoms_per_cell"],
        flag=raw["flag"],
        verified=raw.get("verified", True),
        default_facet=raw["default_facet"],
        facets=facets,
        polar=dict(raw.get("polar", {})),
        limits=raw["limits"],
        approximant=raw.get("approximant"),
    )


@cache
def _data() -> dict:
    return tomllib.loads((DATA / "substrates.toml").read_text())


@cache
def _charges() -> dict[str, float]:
    return {k: float(v) for k, v in _data()["charges"].items() if k != "source"}


@cache
def materials() -> dict[str, Material]:
    """Every substrate of the library by name."""
    return {name: _material(name, raw) for name, raw in _data()["materials"].items()}


def material(name: str) -> Material:
    """Look up a substrate by name (case-insensitive).

    Parameters
    ----------
    name : str

    Raises
    ------
    UnknownName
        Naming the closest matches.
    """
    table = materials()
    for key, value in table.items():
        if key.lower() == name.strip().lower():
            return value
    raise unknown("substrate material", name, list(table))


def lj_parameters(element: str, lj_set: str = "uff") -> LJParameters:
    """Lennard-Jones parameters of ``element`` in ``lj_set``: INTERFACE FF where it has
    the element (``lj_set = 'interface'``), UFF otherwise.

    Parameters
    ----------
    element : str
    lj_set : str
        'uff' or 'interface' (``[slab] lj``).

    Raises
    ------
    SubstrateError
        For an unknown set or element.
    """
    if lj_set not in LJ_SETS:
        raise SubstrateError(f"unknown Lennard-Jones set {lj_set!r}; use uff or interface")
    tables = _data()["lj"]
    if lj_set == "interface" and element in tables["interface"]:
        entry, table = tables["interface"][element], tables["interface"]
        rmin_half = entry["rmin_half_angstrom"]
        eps_kcal, used = entry["eps_kcal_per_mol"], "interface"
        atom_type = element
    else:
        entry, table = tables["uff"][element], tables["uff"]
        rmin_half = entry["x_angstrom"] / 2.0  # UFF x is the distance of the minimum
        eps_kcal, used = entry["D_kcal_per_mol"], "uff"
        atom_type = entry["type"]
    return LJParameters(
        element,
        used,
        atom_type,
        rmin_half * RMIN_TO_SIGMA / 10.0,
        eps_kcal * KCAL,
        dict(entry),
        table["citation"],
        f"{table['source']}; mixing: {table['mixing']}",
    )


def _type_name(mat: Material, element: str) -> str:
    return f"solv-{mat.name}-{element}"


def template_name(mat: Material, element: str) -> str:
    """ForceField residue-template name of one frozen atom of ``element`` in ``mat``.

    Parameters
    ----------
    mat : Material
    element : str
    """
    return f"substrate-{mat.name}-{element}"


def atom_name(element: str) -> str:
    """Atom name of a substrate atom in topology.pdb (``ZN``, ``CU``, ``O`` ...).

    Parameters
    ----------
    element : str
    """
    return element.upper()


def substrate_ffxml(mat: Material, lj_set: str = "uff") -> str:
    """OpenMM ForceField XML: one atom type and one single-atom residue template per
    element of ``mat`` (charge from ``Material.charge``, Lennard-Jones from ``lj_set``).

    Parameters
    ----------
    mat : Material
    lj_set : str
        Lennard-Jones set, 'uff' or 'interface'.
    """
    from openmm.app import element  # here: the library tables load without OpenMM

    types, residues, atoms = [], [], []
    for el in mat.elements:
        lj = lj_parameters(el, lj_set)
        mass = element.get_by_symbol(el).mass._value
        name = _type_name(mat, el)
        types.append(f'<Type name="{name}" class="{name}" element="{el}" mass="{mass}"/>')
        residues.append(
            f'<Residue name="{template_name(mat, el)}"><Atom name="{atom_name(el)}" '
            f'type="{name}" charge="{mat.charge(el)}"/></Residue>'
        )
        atoms.append(
            f'<Atom type="{name}" sigma="{lj.sigma_nm}" epsilon="{lj.epsilon_kj_per_mol}"/>'
        )
    return (
        f"<ForceField><AtomTypes>{''.join(types)}</AtomTypes>"
        f"<Residues>{''.join(residues)}</Residues>"
        '<NonbondedForce coulomb14scale="0.8333333333333334" lj14scale="0.5">'
        f'<UseAttributeFromResidue name="charge"/>{"".join(atoms)}</NonbondedForce>'
        "</ForceField>"
    )


def atom_types(mat: Material) -> list[str]:
    """Atom-type names of ``mat`` in its ForceField XML.

    Parameters
    ----------
    mat : Material
    """
    return [_type_name(mat, el) for el in mat.elements]


def provenance(mat: Material, lj_set: str = "uff") -> list[dict]:
    """build.json entries: the crystal with its sources and limits, then one entry per
    element with its Lennard-Jones parameters, charge and citation.

    Parameters
    ----------
    mat : Material
    lj_set : str
        Lennard-Jones set, 'uff' or 'interface'.
    """
    crystal = {
        "species": f"{mat.name}(slab)",
        "set": "crystal",
        "phase": mat.phase,
        "cellpar_angstrom_deg": list(mat.cellpar),
        "flag": mat.flag,
        "citation": mat.citation,
        "limits": mat.limits,
    }
    if not mat.verified:
        crystal["warning"] = "lattice constants not verified against a published source"
    entries = [crystal]
    sets = set()
    for el in mat.elements:
        lj = lj_parameters(el, lj_set)
        sets.add(lj.lj_set)
        entries.append(
            {
                "species": f"{el}({mat.name} slab)",
                "set": lj.lj_set,
                "atom_type": lj.atom_type,
                "sigma_nm": lj.sigma_nm,
                "epsilon_kj_per_mol": lj.epsilon_kj_per_mol,
                "charge_e": mat.charge(el),
                "charge_source": _data()["charges"]["source"] if mat.kind == "ionic" else "",
                "citation": lj.citation,
                "source": lj.source,
            }
        )
    if len(sets) > 1:
        crystal["warning_mixing"] = (
            "INTERFACE FF and UFF mixed in one slab: the Cu well depth is about 40x Zn's, "
            "so Cu sites are artificially hydrophilic (an artefact of mixing force fields)"
        )
    return entries


def parameter_rows() -> list[dict]:
    """One row per material and Lennard-Jones set for ``solvation forcefields list``:
    species, set, citation, source, parameters."""
    rows = []
    for mat in materials().values():
        for lj_set in LJ_SETS:
            lj = {el: lj_parameters(el, lj_set) for el in mat.elements}
            if lj_set == "interface" and all(p.lj_set == "uff" for p in lj.values()):
                continue  # no element of this material is in INTERFACE FF
            params = {
                "kind": mat.kind,
                "phase": mat.phase,
                "formula": mat.formula,
                "spacegroup": mat.spacegroup,
                "cellpar_angstrom_deg": list(mat.cellpar),
                "facets": {k: f.name for k, f in mat.facets.items()},
                "flag": mat.flag,
            }
            for el, p in lj.items():
                params[f"{el}: sigma_nm, epsilon_kj_per_mol, charge_e ({p.lj_set})"] = [
                    round(p.sigma_nm, 6),
                    round(p.epsilon_kj_per_mol, 6),
                    mat.charge(el),
                ]
            params["limits"] = mat.limits
            citations = sorted({p.citation for p in lj.values()})
            rows.append(
                {
                    "species": mat.name,
                    "set": lj_set,
                    "citation": "; ".join([*citations, mat.citation]),
                    "source": "forcefields/data/substrates.toml",
                    "parameters": params,
                }
            )
    return rows


__all__ = [
    "LJ_SETS",
    "Facet",
    "LJParameters",
    "Material",
    "SubstrateError",
    "atom_name",
    "atom_types",
    "lj_parameters",
    "material",
    "materials",
    "parameter_rows",
    "provenance",
    "substrate_ffxml",
    "template_name",
]
