"""The parameter library: which species and parameter sets exist, with their citations.

Data files (in ``data/``) hold every number with its source:

- ``ions.csv``: Li-Merz (HFE, IOD, CM, 12-6-4) and Joung-Cheatham ion sets per water
  model, generated from AmberTools' frcmod files by ``tools/make_ion_table.py``.
- ``polarizability_1264.csv``: atom-type polarisabilities for 12-6-4 cross terms.
- ``molecules.toml``: anions, molecular cations, additives and co-solvents (SMILES,
  charge, residue name, parametrisation routes, pure-substance density).
- ``otf_clp.xml``, ``bf4_clp.xml``: CL&P anions; ``tip4p2005.xml``: TIP4P/2005 water.
- ``scaled_family.toml`` (read by ``family.py``): the scaled-charge family, every number
  with its source and flag; ``so4_madrid2019.xml``: its rigid Madrid-2019 sulfate.
- ``water_dielectric.toml``: static dielectric constant of each water model near 298 K
  (the pair PMF's Coulomb tail and Bjerrum distance);
- ``water_viscosity.toml``: shear viscosity of each water model near 298 K (published
  values, each with its citation and how far it is backed: secondary, derived or
  unverified).
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from functools import cache

from solvation.errors import SolvationError
from solvation.formula import ION_RESNAMES

from . import substrates
from .common import DATA, KCAL, RMIN_TO_SIGMA, UnknownName, unknown
from .family import FAMILIES, FamilyError, FamilySpecies, PairTerm, scaled_family


class ForceFieldError(SolvationError, ValueError):
    """A force-field choice outside its valid range."""


@dataclass(frozen=True)
class WaterModel:
    """A rigid water model and where its parameters come from.

    Attributes
    ----------
    name : str
        Canonical name.
    label : str
        Display name.
    source : str
        OpenMM bundled XML path or our data file.
    sites : int
        Interaction sites per molecule.
    citation : str
    ion_water_model : str
        Whose ion parameter sets to use.
    aliases : tuple of str
    """

    name: str
    label: str
    source: str  # OpenMM bundled XML path or our data file
    sites: int
    citation: str
    ion_water_model: str  # whose ion sets to use
    aliases: tuple[str, ...] = ()


WATER_MODELS = {
    w.name: w
    for w in [
        WaterModel(
            "tip3p",
            "TIP3P",
            "openmm:amber14/tip3p.xml",
            3,
            "Jorgensen et al., J. Chem. Phys. 79 (1983) 926",
            "tip3p",
            ("tip3", "tip-3p"),
        ),
        WaterModel(
            "spce",
            "SPC/E",
            "openmm:amber14/spce.xml",
            3,
            "Berendsen, Grigera & Straatsma, J. Phys. Chem. 91 (1987) 6269",
            "spce",
            ("spc/e", "spc-e"),
        ),
        WaterModel(
            "opc",
            "OPC",
            "openmm:amber14/opc.xml",
            4,
            "Izadi, Anandakrishnan & Onufriev, J. Phys. Chem. Lett. 5 (2014) 3863",
            "opc",
        ),
        WaterModel(
            "opc3",
            "OPC3",
            "openmm:amber14/opc3.xml",
            3,
            "Izadi & Onufriev, J. Chem. Phys. 145 (2016) 074501",
            "opc3",
        ),
        WaterModel(
            "tip4pew",
            "TIP4P-Ew",
            "openmm:amber14/tip4pew.xml",
            4,
            "Horn et al., J. Chem. Phys. 120 (2004) 9665",
            "tip4pew",
            ("tip4p-ew", "tip4p/ew"),
        ),
        WaterModel(
            "tip4p2005",
            "TIP4P/2005",
            "data:tip4p2005.xml",
            4,
            "Abascal & Vega, J. Chem. Phys. 123 (2005) 234505",
            "tip4pew",
            ("tip4p/2005", "tip4p-2005"),
        ),
    ]
}


def water_model(name: str) -> WaterModel:
    """Look up a water model by name or alias (case-insensitive).

    Parameters
    ----------
    name : str
        Name, alias or label.

    Raises
    ------
    UnknownName
        Naming the closest matches.
    """
    key = name.strip().lower()
    for model in WATER_MODELS.values():
        if key == model.name or key in model.aliases or key == model.label.lower():
            return model
    raise unknown("water model", name, list(WATER_MODELS))


@dataclass(frozen=True)
class WaterViscosity:
    """Published shear viscosity of a water model (or of experiment) near 298 K.

    status: "secondary" (read in a source quoting the primary), "derived" (computed from
    the primary source's statement) or "unverified" (recalled, check before quoting).

    Attributes
    ----------
    model : str
    eta_mPa_s : float
        Shear viscosity (mPa s).
    temperature_k : float
        Temperature (K).
    citation : str
    status : str
        'secondary', 'derived' or 'unverified' (see above).
    note : str
    """

    model: str
    eta_mPa_s: float
    temperature_k: float
    citation: str
    status: str
    note: str

    @property
    def label(self) -> str:
        """'0.321 mPa s at 298 K (citation) [unverified]' style text for reports."""
        flag = f" [{self.status}]" if self.status != "secondary" else ""
        return f"{self.eta_mPa_s:g} mPa s at {self.temperature_k:g} K ({self.citation}){flag}"


@cache
def _viscosity_table() -> dict[str, WaterViscosity]:
    data = tomllib.loads((DATA / "water_viscosity.toml").read_text())
    return {k: WaterViscosity(model=k, **v) for k, v in data.items()}


def water_viscosity(name: str) -> WaterViscosity:
    """Published viscosity of water model ``name`` (any alias), or "experiment".

    Parameters
    ----------
    name : str
        Water model name or alias, or 'experiment'.
    """
    key = "experiment" if name.strip().lower() == "experiment" else water_model(name).name
    table = _viscosity_table()
    if key not in table:
        raise unknown("water model with a published viscosity", name, list(table))
    return table[key]


@dataclass(frozen=True)
class WaterDielectric:
    """Published static dielectric constant of a water model (or of experiment) near 298 K;
    ``status`` as for ``WaterViscosity`` (see ``water_dielectric.toml``).

    Attributes
    ----------
    model : str
    eps_r : float
        Relative static permittivity.
    err_eps : float
        Quoted uncertainty of ``eps_r`` (0: none read).
    temperature_k : float
        Temperature (K).
    citation, status, note : str
    """

    model: str
    eps_r: float
    err_eps: float
    temperature_k: float
    citation: str
    status: str
    note: str

    @property
    def label(self) -> str:
        """'97 (Hochtl et al. ...) [secondary]' style text for outputs."""
        err = f" +- {self.err_eps:g}" if self.err_eps else ""
        return f"{self.eps_r:g}{err} at {self.temperature_k:g} K ({self.citation}) [{self.status}]"


@cache
def _dielectric_table() -> dict[str, WaterDielectric]:
    data = tomllib.loads((DATA / "water_dielectric.toml").read_text())
    return {k: WaterDielectric(model=k, **v) for k, v in data.items()}


def water_dielectric(name: str) -> WaterDielectric:
    """Published static dielectric constant of water model ``name`` (any alias), or
    "experiment".

    Parameters
    ----------
    name : str
        Water model name or alias, or 'experiment'.
    """
    key = "experiment" if name.strip().lower() == "experiment" else water_model(name).name
    table = _dielectric_table()
    if key not in table:
        raise unknown("water model with a published dielectric constant", name, list(table))
    return table[key]


@dataclass(frozen=True)
class IonParameters:
    """12-6 (and optional 12-6-4) Lennard-Jones parameters of a monatomic ion.

    Attributes
    ----------
    species : str
    charge : int
        Charge (e).
    water_model : str
    set : str
        Parameter set ('12-6-4', 'hfe', 'iod', 'cm', 'jc').
    rmin_half_angstrom : float
        Rmin/2 (A).
    epsilon_kcal_per_mol : float
        Well depth (kcal/mol).
    mass_dalton : float
        Mass (Da).
    c4_kcal_per_mol_angstrom4 : float or None
        C4 of the 12-6-4 term (kcal/mol A^4).
    polarizability_angstrom3 : float
        Polarisability (A^3).
    source_file : str
    citation : str
    """

    species: str
    charge: int
    water_model: str
    set: str
    rmin_half_angstrom: float
    epsilon_kcal_per_mol: float
    mass_dalton: float
    c4_kcal_per_mol_angstrom4: float | None
    polarizability_angstrom3: float
    source_file: str
    citation: str

    @property
    def sigma_nm(self) -> float:
        """sigma (nm)."""
        return self.rmin_half_angstrom * RMIN_TO_SIGMA / 10.0

    @property
    def epsilon_kj_per_mol(self) -> float:
        """epsilon (kJ/mol)."""
        return self.epsilon_kcal_per_mol * KCAL

    @property
    def c4_kj_per_mol_nm4(self) -> float:
        """C4 in OpenMM units (kJ mol^-1 nm^4); 0 for 12-6 sets."""
        return (self.c4_kcal_per_mol_angstrom4 or 0.0) * KCAL * 1e-4


@cache
def ion_table() -> tuple[IonParameters, ...]:
    """All ion parameter rows of ``ions.csv``."""
    rows = []
    with (DATA / "ions.csv").open() as fh:
        for row in csv.DictReader(fh):
            c4 = row.pop("c4_kcal_per_mol_angstrom4")
            rows.append(
                IonParameters(
                    species=row["species"],
                    charge=int(row["charge"]),
                    water_model=row["water_model"],
                    set=row["set"],
                    rmin_half_angstrom=float(row["rmin_half_angstrom"]),
                    epsilon_kcal_per_mol=float(row["epsilon_kcal_per_mol"]),
                    mass_dalton=float(row["mass_dalton"]),
                    c4_kcal_per_mol_angstrom4=float(c4) if c4 else None,
                    polarizability_angstrom3=float(row["polarizability_angstrom3"]),
                    source_file=row["source_file"],
                    citation=row["citation"],
                )
            )
    return tuple(rows)


ION_SETS = ("12-6-4", "cm", "hfe", "iod", "jc")
METAL_RESNAME = "ZNM"  # residue name of the atoms of a metal or substrate slab


def ion_species() -> list[str]:
    """Names of the library's monatomic ions."""
    return list(ION_RESNAMES)


def canonical_ion(name: str) -> str | None:
    """Map user spellings ('Zn', 'zn2+', 'Zn++', 'ZN') to a library ion name, else None.

    Parameters
    ----------
    name : str
        A user spelling of an ion.
    """
    key = name.strip().replace("++", "2+").replace("+++", "3+")
    for species, resname in ION_RESNAMES.items():
        bare = species.rstrip("+-").rstrip("23")
        if key.lower() in (species.lower(), resname.lower(), bare.lower()):
            return species
    return None


def default_ion_set(species: str, multivalent_set: str = "12-6-4") -> str:
    """Default set: ``multivalent_set`` for 2+/3+ ions, Joung-Cheatham (or Li-Merz HFE
    where JC does not exist, OPC/OPC3) for monovalent ions.

    Parameters
    ----------
    species : str
        Library ion name.
    multivalent_set : str
        Set for 2+/3+ ions.
    """
    charge = next(r.charge for r in ion_table() if r.species == species)
    return multivalent_set if abs(charge) > 1 else "jc"


def ion_parameters(species: str, water: str, set_name: str) -> IonParameters:
    """Parameters of ``species`` for ``water`` (a WaterModel name) and ``set_name``.

    TIP4P/2005 has no published Li-Merz sets: the TIP4P-Ew sets are used and the
    citation says so. Monovalent 'jc' falls back to Li-Merz 'hfe' for OPC/OPC3.

    Parameters
    ----------
    species : str
        Ion (any spelling ``canonical_ion`` reads).
    water : str
        WaterModel name.
    set_name : str
        Parameter set.

    Raises
    ------
    UnknownName
        For an unknown ion or set.
    """
    name = canonical_ion(species)
    if name is None:
        raise unknown("ion", species, ion_species())
    model = water_model(water)
    set_key = set_name.strip().lower().replace("1264", "12-6-4")
    if set_key not in ION_SETS:
        raise unknown("ion parameter set", set_name, list(ION_SETS))
    rows = {
        (r.set): r
        for r in ion_table()
        if r.species == name and r.water_model == model.ion_water_model
    }
    if set_key == "jc" and "jc" not in rows and "hfe" in rows:
        set_key = "hfe"
    if set_key not in rows:
        raise unknown(f"parameter set for {name} in {model.label}", set_name, list(rows))
    row = rows[set_key]
    if model.ion_water_model != model.name:
        row = IonParameters(
            **{
                **row.__dict__,
                "water_model": model.name,
                "citation": f"{row.citation} ({row.water_model} set used for "
                f"{model.label}: none published for it)",
            }
        )
    return row


@cache
def polarizabilities() -> dict[str, float]:
    """Atom-type polarisabilities (A^3) used for 12-6-4 cross terms."""
    with (DATA / "polarizability_1264.csv").open() as fh:
        return {r["atom_type"]: float(r["polarizability_angstrom3"]) for r in csv.DictReader(fh)}


@dataclass(frozen=True)
class MoleculeSpecies:
    """A molecular species of the library (anion, molecular cation, additive, co-solvent).

    Attributes
    ----------
    name : str
    smiles : str
    charge : int
        Net charge (e).
    resname : str
    methods : tuple of str
        Parametrisation methods available.
    density_g_per_cm3 : float or None
        Liquid density (g/cm^3) for the volume estimate.
    aliases : tuple of str
    note : str
    """

    name: str
    smiles: str
    charge: int
    resname: str
    methods: tuple[str, ...]
    density_g_per_cm3: float | None = None
    aliases: tuple[str, ...] = ()
    note: str = ""


@cache
def molecule_table() -> dict[str, MoleculeSpecies]:
    """Library molecules by canonical name."""
    raw = tomllib.loads((DATA / "molecules.toml").read_text())
    return {
        name: MoleculeSpecies(
            name=name,
            smiles=e["smiles"],
            charge=e["charge"],
            resname=e["resname"],
            methods=tuple(e["methods"]),
            density_g_per_cm3=e.get("density_g_per_cm3"),
            aliases=tuple(e.get("aliases", ())),
            note=e.get("note", ""),
        )
        for name, e in raw.items()
    }


def molecule(name: str) -> MoleculeSpecies:
    """Look up a library molecule by name or alias (case-insensitive).

    Parameters
    ----------
    name : str
        Name or alias.

    Raises
    ------
    UnknownName
        Naming the closest matches.
    """
    key = name.strip().lower()
    for mol in molecule_table().values():
        if key == mol.name.lower() or key in (a.lower() for a in mol.aliases):
            return mol
    raise unknown("molecule", name, list(molecule_table()))


METHOD_CITATIONS = {
    "gaff2-am1bcc": "GAFF2 (Wang et al., J. Comput. Chem. 25 (2004) 1157; gaff-2.11) with AM1-BCC "
    "charges (Jakalian, Jack & Bayly, J. Comput. Chem. 23 (2002) 1623), "
    "AmberTools antechamber/sqm via openmmforcefields",
    "clp": "CL&P, Canongia Lopes & Padua, J. Phys. Chem. B 108 (2004) 16893 (paduagroup/clandp)",
    "sage": "OpenFF Sage 2.2 (SMIRNOFF), Boothroyd et al., J. Chem. Theory Comput. 19 (2023) "
    "3251; needs openff-forcefields",
}

_HCP_ZN = substrates.material("Zn")
ZN_METAL = {
    "species": "Zn(metal)",
    "set": "uff",
    "sigma_nm": 0.24616,
    "epsilon_kj_per_mol": 0.5188,
    "mass_dalton": 65.38,
    "a_nm": _HCP_ZN.cellpar[0] / 10.0,  # 0.26648 nm
    "c_nm": _HCP_ZN.cellpar[2] / 10.0,  # 0.49467 nm
    "citation": "UFF Zn: Rappe et al., J. Am. Chem. Soc. 114 (1992) 10024 (x1 = 2.763 A, "
    "D1 = 0.124 kcal/mol); chosen because INTERFACE FF (Heinz et al., J. Phys. "
    "Chem. C 112 (2008) 17281) covers fcc metals only. Lattice a, c: " + _HCP_ZN.cellpar_source,
}


@dataclass(frozen=True)
class ParameterSetRow:
    """One row of ``solvation forcefields list``.

    Attributes
    ----------
    species, water_model, set, citation, source : str
    parameters : dict
        The numbers (units in their keys).
    """

    species: str
    water_model: str
    set: str
    citation: str
    source: str = ""
    parameters: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """The row as a dict."""
        return {
            "species": self.species,
            "water_model": self.water_model,
            "set": self.set,
            "citation": self.citation,
            "source": self.source,
            "parameters": self.parameters,
        }


def _water_parameters(model: WaterModel) -> dict:
    eta = water_viscosity(model.name)
    return {"sites": model.sites, "viscosity_298K": eta.label, "viscosity_note": eta.note}


def parameter_sets() -> list[ParameterSetRow]:
    """Every parameter set of the library, one row each."""
    rows = [
        ParameterSetRow("water", w.name, w.name, w.citation, w.source, _water_parameters(w))
        for w in WATER_MODELS.values()
    ]
    for model in WATER_MODELS.values():
        for ion in ion_species():
            for set_name in ION_SETS:
                try:
                    p = ion_parameters(ion, model.name, set_name)
                except UnknownName:
                    continue
                if p.set != set_name:  # jc -> hfe fallback, listed under hfe
                    continue
                params = {
                    "sigma_nm": round(p.sigma_nm, 6),
                    "epsilon_kj_per_mol": round(p.epsilon_kj_per_mol, 8),
                    "charge_e": p.charge,
                    "mass_dalton": p.mass_dalton,
                }
                if p.c4_kcal_per_mol_angstrom4 is not None:
                    params["c4_kcal_per_mol_angstrom4"] = p.c4_kcal_per_mol_angstrom4
                rows.append(
                    ParameterSetRow(ion, model.name, set_name, p.citation, p.source_file, params)
                )
    for mol in molecule_table().values():
        for method in mol.methods:
            rows.append(
                ParameterSetRow(
                    mol.name,
                    "any",
                    method,
                    METHOD_CITATIONS[method],
                    "SMILES " + mol.smiles,
                    {"charge_e": mol.charge, "resname": mol.resname},
                )
            )
    rows.append(
        ParameterSetRow(
            ZN_METAL["species"],
            "any",
            ZN_METAL["set"],
            ZN_METAL["citation"],
            "forcefields/library.py",
            {
                k: ZN_METAL[k]
                for k in ("sigma_nm", "epsilon_kj_per_mol", "mass_dalton", "a_nm", "c_nm")
            },
        )
    )
    rows += [ParameterSetRow(water_model="any", **row) for row in substrates.parameter_rows()]
    return rows + scaled_rows()


def family_citation(values: dict) -> str:
    """Sources of a family row, each once, with the names of the numbers it gives.

    Parameters
    ----------
    values : dict of str to Value
    """
    by_source: dict[str, list[str]] = {}
    for key, v in values.items():
        by_source.setdefault(f"[{v.flag}] {v.source}", []).append(key)
    return "; ".join(f"{', '.join(keys)}: {src}" for src, keys in by_source.items())


def _family_row(
    species: str, water: str, values: dict, extra: dict, prefix: str = ""
) -> ParameterSetRow:
    params = {k: v.value for k, v in values.items()} | extra
    notes = {k: v.note for k, v in values.items() if v.note}
    if notes:
        params["notes"] = notes
    return ParameterSetRow(
        species,
        water,
        "scaled",
        prefix + family_citation(values),
        "forcefields/data/scaled_family.toml",
        params,
    )


def _scaled_species_row(species: FamilySpecies, water: str) -> ParameterSetRow:
    extra = {"route": species.route, "status": species.status}
    if species.note:
        extra["note"] = species.note
    prefix = {
        "provisional": f"PROVISIONAL ({species.note}); ",
        "assumption": f"ASSUMPTION ({species.note}); ",
        "fitted": f"FITTED HERE ({species.note}); ",
    }.get(species.status, "")
    if species.route in METHOD_CITATIONS:
        prefix += f"{METHOD_CITATIONS[species.route]}; "
    if species.route == "library":
        ion = ion_parameters(species.name, water, species.set)
        extra |= {
            "sigma_nm": round(ion.sigma_nm, 6),
            "epsilon_kj_per_mol": round(ion.epsilon_kj_per_mol, 8),
            "mass_dalton": ion.mass_dalton,
            "library_set": f"{ion.set} ({ion.water_model})",
        }
        prefix += f"Lennard-Jones: {ion.citation} ({ion.source_file}); "
    if species.see_also:
        extra["see_also"] = list(species.see_also)
    if species.fit:
        extra["fit"] = dict(species.fit)
    return _family_row(species.name, water, species.all_values(), extra, prefix)


def _scaled_pair_row(pair: PairTerm, water: str) -> ParameterSetRow:
    values = pair.values()
    prefix = {
        "fitted": "pair term, FITTED HERE; ",
        "provisional": f"pair term, PROVISIONAL ({pair.sigma.note}); ",
    }.get(pair.status, "pair term; ")
    return _family_row(
        pair.label, water, values, {"pair": [pair.a, pair.b], "status": pair.status}, prefix
    )


def scaled_rows() -> list[ParameterSetRow]:
    """Rows of the scaled-charge family: its species, then its pair-specific terms."""
    fam = scaled_family()
    water = str(fam.water.value)
    family = _family_row(
        "family", water, {"water": fam.water, "charge_scale": fam.charge_scale}, {}
    )
    return (
        [family, _scaled_species_row(fam.smiles_rule, water)]
        + [_scaled_species_row(s, water) for s in fam.species.values()]
        + [_scaled_pair_row(p, water) for p in fam.pairs]
    )


def _pair_members(row: ParameterSetRow) -> set[str]:
    return {m.split(":")[0].lower() for m in row.parameters.get("pair", ())}


def find_sets(name: str, family: str | None = None) -> list[ParameterSetRow]:
    """Rows whose species, water model or set equals ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        Species, water model or set name.
    family : str, optional
        Only the rows of this model family ('scaled': its own rows; 'full': the others).

    Raises
    ------
    UnknownName
        When nothing matches.
    FamilyError
        For an unknown family.
    """
    if family is not None and family not in FAMILIES:
        raise FamilyError(f"unknown model family {family!r}; use one of {', '.join(FAMILIES)}")
    rows = parameter_sets()
    key = name.strip().lower()
    ion = canonical_ion(name)
    try:
        key = molecule(name).name.lower()
    except UnknownName:
        pass
    try:
        key = water_model(name).name
    except UnknownName:
        pass
    hits = [
        r
        for r in rows
        if key in (r.species.lower(), r.set.lower())
        or (ion and r.species == ion)
        or (r.species == "water" and r.water_model == key)
        or key in _pair_members(r)
        or (ion and ion.lower() in _pair_members(r))
    ]
    if not hits:
        names = sorted({r.species for r in rows} | set(WATER_MODELS) | set(ION_SETS))
        raise unknown("species or parameter set", name, names)
    if family is not None:
        hits = [r for r in hits if (r.set == "scaled") == (family == "scaled")]
    return hits
