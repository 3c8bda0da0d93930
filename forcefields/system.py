"""Turn an OpenMM Topology plus force-field choices into an OpenMM System.

Residues are recognised by name: ``HOH`` water, library ion names (``ZN``, ``CL``, ...),
library molecule names (``SO4``, ``OTF``, ``XYL``, ...), ``ZNM`` metal, and any other
name given a SMILES in ``smiles_by_resname``. Each residue is given its template
explicitly (``residueTemplates``), so a Zn2+ ion and a Zn metal atom can never be
confused.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from io import StringIO

import openmm
import openmm.app as app
import openmm.unit as u

from solvation.design import DEFAULT_FAMILY

from . import ffxml as fx
from . import scaled, substrates
from .charges import fixed_charges
from .family import check_family, check_species, scaled_family
from .library import (
    ION_RESNAMES,
    METAL_RESNAME,
    METHOD_CITATIONS,
    ZN_METAL,
    ForceFieldError,
    WaterModel,
    default_ion_set,
    ion_parameters,
    molecule,
    molecule_table,
    unknown,
    water_model,
)
from .lj1264 import ALPHA_OW, c4_ffxml, finalize_c4_force
from .molecules import Parametrized, parametrize
from .substrates import atom_types as substrate_types

METAL_TYPE = "solv-Zn-metal"


@dataclass(frozen=True)
class ForceFieldChoices:
    """Force-field choices of a design (the ``[forcefield]`` and ``[water]`` tables).

    Parameters
    ----------
    water : str or None
        Water model name (default tip3p; tip4p2005, the only choice, for 'scaled').
    zn : str
        Set for Zn2+ and other 2+/3+ ions ('12-6-4', 'cm', 'hfe', 'iod'; unused by 'scaled').
    ions : dict of str to str
        Per-species overrides, e.g. {'Cl-': 'hfe'}.
    methods : dict of str to str
        Per-molecule parametrisation route, e.g. {'OTf': 'gaff2-am1bcc'}.
    charge_scale : float or None
        Factor (0.5-1] applied to every ion and charged molecule (ECC; default 1, and 0.85,
        the only choice, for 'scaled').
    cutoff_nm : float
        Real-space cutoff (nm).
    freeze_metal : bool
        Give metal atoms mass 0.
    family : str
        'full' (the library's sets above) or 'scaled' (data/scaled_family.toml: TIP4P/2005,
        charges x 0.85, Madrid-2019 and fitted ions, every other species by the library's
        route with ionic charges scaled, pair-specific LJ terms); default
        ``solvation.design.DEFAULT_FAMILY``.
    substrate : str
        The slab material of ``ZNM`` residues (``forcefields.substrates``).
    substrate_lj : str
        Its Lennard-Jones family ('uff' or 'interface').
    """

    water: str | None = None
    zn: str = "12-6-4"
    ions: dict[str, str] = field(default_factory=dict)
    methods: dict[str, str] = field(default_factory=dict)
    charge_scale: float | None = None
    cutoff_nm: float = 1.0
    freeze_metal: bool = True
    family: str = DEFAULT_FAMILY
    substrate: str = "Zn"
    substrate_lj: str = "uff"

    def __post_init__(self) -> None:
        scaled_default = self.family == "scaled"
        if self.water is None:
            default = scaled_family().water.value if scaled_default else "tip3p"
            object.__setattr__(self, "water", default)
        if self.charge_scale is None:
            default = scaled_family().charge_scale.value if scaled_default else 1.0
            object.__setattr__(self, "charge_scale", default)
        check_family(
            self.family,
            water_model(self.water).name,
            self.charge_scale,
            {"ions": self.ions, "methods": self.methods},
        )
        substrates.material(self.substrate)
        if not 0.5 <= self.charge_scale <= 1.0:
            raise ForceFieldError(
                f"charge_scale must be within [0.5, 1.0] (ECC uses 0.75-0.85), "
                f"got {self.charge_scale}"
            )
        if not 0.7 <= self.cutoff_nm <= 2.0:
            raise ForceFieldError(f"cutoff_nm must be within [0.7, 2.0] nm, got {self.cutoff_nm}")


@dataclass
class _Parts:
    """ForceField XML pieces and per-residue template names collected for one topology."""

    xml: list[str] = field(default_factory=list)
    templates: dict[str, str] = field(default_factory=dict)  # resname -> template name
    provenance: list[dict] = field(default_factory=list)
    ion_c4: dict[str, float] = field(default_factory=dict)
    alpha: dict[str, float] = field(default_factory=dict)  # fixed 12-6-4 polarisabilities
    clp_resnames: set[str] = field(default_factory=set)


def _add_water(parts: _Parts, model: WaterModel) -> None:
    xml = fx.water_ffxml(model)
    parts.xml.append(xml)
    parts.alpha.update(fx.water_polarizabilities(xml, ALPHA_OW))
    parts.templates[fx.WATER_RESNAME] = fx.WATER_RESNAME
    parts.provenance.append(
        {"species": "water", "set": model.name, "citation": model.citation, "source": model.source}
    )


def _add_scaled_ions(parts: _Parts, species: list[str], water: str) -> None:
    """The scaled family's monatomic ions: its own numbers ('ion' route) or the library
    set it names ('library' route, for ``water``), written with formal charges (scaled
    later with every charged residue)."""
    fam = scaled_family()
    rows = []
    for name in species:
        check_species("scaled", name)
        entry = fam.species[name]
        parts.templates[ION_RESNAMES[name]] = ION_RESNAMES[name]
        if entry.route == "library":
            params = ion_parameters(name, water, entry.set)
            rows.append(params)
            parts.provenance.append(scaled.provenance(entry, params))
        else:
            rows.append(scaled.scaled_ion(entry, float(fam.charge_scale.value)))
            parts.provenance.append(scaled.provenance(entry))
    if rows:
        parts.xml.append(fx.ion_ffxml(rows))


def _add_scaled_molecule(parts: _Parts, resname: str, mol) -> None:
    """A library molecule in the scaled family: the shipped Madrid-2019 file, or the
    library's route (CL&P, GAFF2/AM1-BCC) whose charges ``scale_charges`` scales when the
    molecule is charged."""
    check_species("scaled", mol.name)
    species = scaled_family().species[mol.name]
    if species.route == "madrid2019":
        xml = scaled.molecule_ffxml(species)
        parts.xml.append(xml)
        parts.templates[resname] = fx.template_names(xml)[0]
    else:
        _add_molecule(parts, resname, mol.smiles, mol.name, species.route, mol.charge)
        parts.provenance.pop()  # replaced by the family's entry, which cites the route
    parts.provenance.append(scaled.provenance(species))


def _add_ions(parts: _Parts, species: list[str], choices: ForceFieldChoices) -> None:
    if choices.family == "scaled":
        _add_scaled_ions(parts, species, choices.water)
        return
    params = []
    for name in species:
        set_name = choices.ions.get(name) or default_ion_set(name, choices.zn)
        p = ion_parameters(name, choices.water, set_name)
        params.append(p)
        parts.templates[ION_RESNAMES[name]] = ION_RESNAMES[name]
        parts.alpha[fx.ion_type(name)] = p.polarizability_angstrom3
        if p.set == "12-6-4":
            parts.ion_c4[fx.ion_type(name)] = p.c4_kj_per_mol_nm4
        parts.provenance.append(
            {
                "species": name,
                "set": p.set,
                "water_model": p.water_model,
                "sigma_nm": p.sigma_nm,
                "epsilon_kj_per_mol": p.epsilon_kj_per_mol,
                "c4_kcal_per_mol_angstrom4": p.c4_kcal_per_mol_angstrom4,
                "citation": p.citation,
                "source": p.source_file,
            }
        )
    if params:
        parts.xml.append(fx.ion_ffxml(params))


def _add_molecule(
    parts: _Parts, resname: str, smiles: str, name: str, method: str, charge: int | None
) -> Parametrized:
    result = parametrize(smiles, method, charge=charge)
    parts.xml.append(result.ffxml)
    parts.templates[resname] = result.template
    if method == "clp":
        parts.clp_resnames.add(resname)
    parts.provenance.append(
        {
            "species": name,
            "set": method,
            "smiles": result.smiles,
            "citation": METHOD_CITATIONS[method],
            "cached": result.cached,
        }
    )
    return result


def _metal_ffxml() -> str:
    m = ZN_METAL
    return (
        f'<ForceField><AtomTypes><Type name="{METAL_TYPE}" class="{METAL_TYPE}" element="Zn" '
        f'mass="{m["mass_dalton"]}"/></AtomTypes><Residues><Residue name="{METAL_RESNAME}">'
        f'<Atom name="ZN" type="{METAL_TYPE}" charge="0.0"/></Residue></Residues>'
        '<NonbondedForce coulomb14scale="0.8333333333333334" lj14scale="0.5">'
        '<UseAttributeFromResidue name="charge"/>'
        f'<Atom type="{METAL_TYPE}" sigma="{m["sigma_nm"]}" epsilon="{m["epsilon_kj_per_mol"]}"/>'
        "</NonbondedForce></ForceField>"
    )


def _add_substrate(parts: _Parts, choices: ForceFieldChoices) -> None:
    """The slab atoms (``ZNM`` residues): hcp Zn as before (one UFF type), any other
    material one template per element (``forcefields.substrates``; its provenance, with
    sources and limits, is added by the builder)."""
    if choices.substrate == "Zn":
        parts.xml.append(_metal_ffxml())
        parts.alpha[METAL_TYPE] = 0.0
        parts.templates[METAL_RESNAME] = METAL_RESNAME
        parts.provenance.append(
            {
                "species": ZN_METAL["species"],
                "set": ZN_METAL["set"],
                "citation": ZN_METAL["citation"],
            }
        )
        return
    mat = substrates.material(choices.substrate)
    parts.xml.append(substrates.substrate_ffxml(mat, choices.substrate_lj))
    parts.alpha.update({t: 0.0 for t in substrate_types(mat)})  # no 12-6-4 term to the slab
    for el in mat.elements:
        parts.templates[_substrate_key(el)] = substrates.template_name(mat, el)


def _substrate_key(element: str) -> str:
    return f"{METAL_RESNAME}:{element}"


def residue_templates(topology: app.Topology, names: dict[str, str]) -> dict:
    """residue -> template name for ``createSystem``: by residue name, and for substrate
    atoms of a material other than Zn by element.

    Parameters
    ----------
    topology : openmm.app.Topology
    names : dict of str to str
        Residue name -> template name.
    """
    out = {}
    for r in topology.residues():
        if r.name == METAL_RESNAME and r.name not in names:
            out[r] = names[_substrate_key(next(r.atoms()).element.symbol)]
        else:
            out[r] = names[r.name]
    return out


def _collect(
    topology: app.Topology, choices: ForceFieldChoices, smiles_by_resname: dict[str, str]
) -> _Parts:
    parts = _Parts()
    resnames = sorted({r.name for r in topology.residues()})
    ion_by_resname = {v: k for k, v in ION_RESNAMES.items()}
    lib_by_resname = {m.resname: m for m in molecule_table().values()}
    ions = []
    for resname in resnames:
        if resname == fx.WATER_RESNAME:
            _add_water(parts, water_model(choices.water))
        elif resname in ion_by_resname:
            ions.append(ion_by_resname[resname])
        elif resname == METAL_RESNAME:
            _add_substrate(parts, choices)
        elif resname in smiles_by_resname:
            _add_molecule(
                parts,
                resname,
                smiles_by_resname[resname],
                resname,
                choices.methods.get(resname, "gaff2-am1bcc"),
                None,
            )
        elif resname in lib_by_resname and choices.family == "scaled":
            _add_scaled_molecule(parts, resname, lib_by_resname[resname])
        elif resname in lib_by_resname:
            mol = lib_by_resname[resname]
            method = choices.methods.get(mol.name, mol.methods[0])
            _add_molecule(parts, resname, mol.smiles, mol.name, method, mol.charge)
        else:
            raise unknown(
                "residue name (give its SMILES in smiles_by_resname)",
                resname,
                [fx.WATER_RESNAME, METAL_RESNAME, *ion_by_resname, *lib_by_resname],
            )
    _add_ions(parts, ions, choices)
    return parts


def _apply_opls_14(system: openmm.System, topology: app.Topology, resnames: set[str]) -> None:
    """CL&P residues: 1-4 pairs scaled 0.5/0.5 with geometric sigma (OPLS convention)."""
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    members = {a.index for r in topology.residues() if r.name in resnames for a in r.atoms()}
    for k in range(nb.getNumExceptions()):
        i, j, qq, sig, eps = nb.getExceptionParameters(k)
        if i in members and j in members and (qq._value != 0 or eps._value != 0):
            qi, si, ei = nb.getParticleParameters(i)
            qj, sj, ej = nb.getParticleParameters(j)
            nb.setExceptionParameters(
                k, i, j, 0.5 * qi * qj, (si * sj).sqrt(), 0.5 * (ei * ej).sqrt()
            )


def scale_charges(system: openmm.System, topology: app.Topology, factor: float) -> list[int]:
    """Multiply the charges of every charged residue (ion or molecule) by ``factor``.

    Intramolecular exception charge products in those residues scale by factor^2.
    Neutral residues are untouched. Returns the indices of the scaled particles.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    factor : float
        Charge scale.
    """
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    scaled: set[int] = set()
    for residue in topology.residues():
        idx = [a.index for a in residue.atoms()]
        total = sum(nb.getParticleParameters(i)[0].value_in_unit(u.elementary_charge) for i in idx)
        if abs(total) > 1e-6:
            scaled.update(idx)
    if factor == 1.0:
        return sorted(scaled)
    for i in scaled:
        q, sig, eps = nb.getParticleParameters(i)
        nb.setParticleParameters(i, q * factor, sig, eps)
    for k in range(nb.getNumExceptions()):
        i, j, qq, sig, eps = nb.getExceptionParameters(k)
        if i in scaled and j in scaled:
            nb.setExceptionParameters(k, i, j, qq * factor**2, sig, eps)
    return sorted(scaled)


def build_forcefield(
    topology: app.Topology,
    choices: ForceFieldChoices,
    smiles_by_resname: dict[str, str] | None = None,
) -> tuple[app.ForceField, dict[str, str], _Parts]:
    """OpenMM ForceField for the residues of ``topology`` and resname -> template name.

    Parameters
    ----------
    topology : openmm.app.Topology
    choices : ForceFieldChoices
    smiles_by_resname : dict of str to str, optional
        SMILES of the custom molecules by residue name.
    """
    parts = _collect(topology, choices, smiles_by_resname or {})
    if parts.ion_c4:
        types = {}
        for xml in parts.xml:
            types.update(fx.atom_types(xml))
        parts.xml.append(c4_ffxml(types, parts.ion_c4, parts.alpha))
    forcefield = app.ForceField()
    for xml in parts.xml:
        forcefield.loadFile(StringIO(xml))
    return forcefield, parts.templates, parts


def add_virtual_sites(
    topology: app.Topology,
    positions,
    choices: ForceFieldChoices | None = None,
    smiles_by_resname: dict[str, str] | None = None,
):
    """Add the extra particles of 4-site water models; returns (topology, positions).

    Parameters
    ----------
    topology : openmm.app.Topology
    positions : openmm Quantity or list
        Positions (nm).
    choices : ForceFieldChoices, optional
    smiles_by_resname : dict of str to str, optional
        SMILES of the custom molecules by residue name.
    """
    choices = choices or ForceFieldChoices()
    if water_model(choices.water).sites == 3:
        return topology, positions
    forcefield, names, _ = build_forcefield(topology, choices, smiles_by_resname)
    modeller = app.Modeller(topology, positions)
    modeller.addExtraParticles(forcefield, residueTemplates=residue_templates(topology, names))
    return modeller.topology, modeller.positions


def create_system(
    topology: app.Topology,
    choices: ForceFieldChoices | None = None,
    smiles_by_resname: dict[str, str] | None = None,
    hydrogen_mass_amu: float | None = None,
) -> tuple[openmm.System, list[dict]]:
    """Parametrise ``topology``; return the System and the provenance of every set used.

    PME electrostatics, ``choices.cutoff_nm`` cutoff, bonds to hydrogen constrained, rigid
    water, 12-6-4 C4 force when a 12-6-4 ion set is used, charge scaling, frozen metal;
    for the scaled family also rigid sulfates and its pair-specific LJ terms.
    4-site water needs its virtual sites in ``topology`` (see ``add_virtual_sites``).
    ``hydrogen_mass_amu`` turns on hydrogen mass repartitioning (e.g. 3.0 for 4 fs).

    Parameters
    ----------
    topology : openmm.app.Topology
    choices : ForceFieldChoices, optional
    smiles_by_resname : dict of str to str, optional
        SMILES of the custom molecules by residue name.
    hydrogen_mass_amu : float, optional
        Hydrogen mass for repartitioning (Da).
    """
    choices = choices or ForceFieldChoices()
    forcefield, names, parts = build_forcefield(topology, choices, smiles_by_resname)
    system = forcefield.createSystem(
        topology,
        nonbondedMethod=app.PME,
        nonbondedCutoff=choices.cutoff_nm * u.nanometer,
        constraints=app.HBonds,
        rigidWater=True,
        ewaldErrorTolerance=5e-4,
        residueTemplates=residue_templates(topology, names),
        hydrogenMass=hydrogen_mass_amu * u.amu if hydrogen_mass_amu else None,
    )
    finalize_c4_force(system)
    if parts.clp_resnames:
        _apply_opls_14(system, topology, parts.clp_resnames)
    scale_charges(system, topology, choices.charge_scale)
    if choices.family == "scaled":
        parts.provenance.extend(scaled.finalize(system, topology))
    if choices.freeze_metal:
        for residue in topology.residues():
            if residue.name == METAL_RESNAME:
                for atom in residue.atoms():
                    system.setParticleMass(atom.index, 0.0)
    return system, parts.provenance


def net_charge(system: openmm.System) -> float:
    """Total fixed charge (e) of the system.

    Parameters
    ----------
    system : openmm.System
    """
    return math.fsum(fixed_charges(system))


__all__ = [
    "ForceFieldChoices",
    "create_system",
    "build_forcefield",
    "add_virtual_sites",
    "scale_charges",
    "net_charge",
    "fixed_charges",
    "molecule",
    "METAL_RESNAME",
]
