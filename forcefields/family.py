"""Model families: the full-charge family (the library's default sets) and the
scaled-charge family, whose every number lives in ``data/scaled_family.toml`` with a
source and a flag.

Flags: ``V`` read in the cited source, ``R`` read in a secondary copy of it, ``D`` derived
here (the note gives the formula), ``F`` fitted here (the note names the script and data),
``A`` this project's assumption (no published value for the family found or read).

The scaled family covers every species of the library: its own numbers where Madrid-2019
(or this project's fit) has them, else the library's parametrisation with the charges of
ions and charged molecules scaled (``route``; see the file's header). Molecules given by
SMILES follow ``ModelFamily.smiles_rule``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

from solvation.errors import SolvationError

FAMILIES = ("full", "scaled")
FLAGS = {
    "V": "read in the source",
    "R": "read in a secondary copy of the source",
    "D": "derived here",
    "F": "fitted here",
    "A": "this project's assumption",
}
ROUTES = ("ion", "library", "madrid2019", "clp", "gaff2-am1bcc")
STATUSES = ("published", "fitted", "provisional", "assumption")
SCALED_FILE = "scaled_family.toml"


class FamilyError(SolvationError, ValueError):
    """A species or choice that the chosen model family does not cover."""


@dataclass(frozen=True)
class Value:
    """One number (or name) of the family with its flag, source text and note.

    Attributes
    ----------
    value : float or str
        The number (in the unit its key names) or name.
    flag : str
        How the value is known (a key of ``FLAGS``).
    source : str
        Source text (citation).
    note : str
        Remarks.
    """

    value: float | str
    flag: str
    source: str
    note: str = ""


@dataclass(frozen=True)
class Site:
    """Parameters of one atom kind (charge_e, sigma_nm, epsilon_kj_per_mol, mass_dalton).

    Attributes
    ----------
    values : dict of str to Value
        charge_e (e), sigma_nm (nm), epsilon_kj_per_mol (kJ/mol), mass_dalton (Da).
    """

    values: dict[str, Value]

    def __getitem__(self, key: str) -> float:
        return float(self.values[key].value)


@dataclass(frozen=True)
class FamilySpecies:
    """An ion (one site) or molecule (named sites, a route, optional geometry).

    Attributes
    ----------
    name : str
        Library species name.
    kind : str
        'ion' or 'molecule'.
    status : str
        One of ``STATUSES``.
    route : str
        One of ``ROUTES``: 'ion' (own numbers), 'library' (the library ion set ``set``),
        or how the molecule is parametrised ('madrid2019', 'clp', 'gaff2-am1bcc').
    values : dict of str to Value
        The species' own numbers (charge_e; an ion's LJ and mass).
    sites : dict of str to Site
        Parameters of each atom kind of a molecule.
    geometry : dict of str to Value
        Bond lengths and angles of a molecule.
    file : str
        Residue file of the molecule.
    note : str
        Remarks.
    set : str
        Library ion set of a 'library' route ion ('iod', ...).
    see_also : tuple of str
        Citations of related models not used (e.g. a published one that could not be read).
    fit : dict of str to str
        What a fitted species' fit reached: quantity -> 'target ...; result; residual'.
    """

    name: str
    kind: str  # ion | molecule
    status: str  # one of STATUSES
    route: str  # one of ROUTES
    values: dict[str, Value]  # the species' own numbers (charge_e; an ion's LJ and mass)
    sites: dict[str, Site] = field(default_factory=dict)
    geometry: dict[str, Value] = field(default_factory=dict)
    file: str = ""
    note: str = ""
    set: str = ""
    see_also: tuple[str, ...] = ()
    fit: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, key: str) -> float:
        return float(self.values[key].value)

    def all_values(self) -> dict[str, Value]:
        """Every number: own values, then ``<site>_<key>`` per site, then the geometry."""
        out = dict(self.values)
        for site, params in self.sites.items():
            out.update({f"{site}_{k}": v for k, v in params.values.items()})
        return out | self.geometry


@dataclass(frozen=True)
class PairTerm:
    """A pair-specific Lennard-Jones term between the atoms of two sites.

    A site is ``species`` or ``species:element`` (``water:O``, ``SO4:O``).

    Attributes
    ----------
    a, b : str
        The two sites.
    sigma : Value
        sigma (nm).
    epsilon : Value
        epsilon (kJ/mol).
    status : str
        One of ``STATUSES``.
    c4 : Value or None
        C4 of a -C4/r^4 term (kJ mol^-1 nm^4), or None (a 12-6 term only).
    """

    a: str
    b: str
    sigma: Value
    epsilon: Value
    status: str
    c4: Value | None = None

    @property
    def sigma_nm(self) -> float:
        """sigma (nm)."""
        return float(self.sigma.value)

    @property
    def epsilon_kj_per_mol(self) -> float:
        """epsilon (kJ/mol)."""
        return float(self.epsilon.value)

    @property
    def c4_kj_per_mol_nm4(self) -> float | None:
        """C4 (kJ mol^-1 nm^4) or None."""
        return None if self.c4 is None else float(self.c4.value)

    def values(self) -> dict[str, Value]:
        """sigma_nm, epsilon_kj_per_mol and (if any) c4_kj_per_mol_nm4."""
        out = {"sigma_nm": self.sigma, "epsilon_kj_per_mol": self.epsilon}
        return out | ({"c4_kj_per_mol_nm4": self.c4} if self.c4 is not None else {})

    @property
    def label(self) -> str:
        """'a / b'."""
        return f"{self.a} / {self.b}"


@dataclass(frozen=True)
class ModelFamily:
    """A model family: its water model, charge scale, species and pair terms.

    Attributes
    ----------
    name : str
    water : Value
        The water model.
    charge_scale : Value
        Scale of the ionic charges.
    species : dict of str to FamilySpecies
    pairs : tuple of PairTerm
    sources : dict of str to str
        Citations by key.
    smiles_rule : FamilySpecies
        How a molecule given by SMILES is treated (route, charge scales).
    """

    name: str
    water: Value
    charge_scale: Value
    species: dict[str, FamilySpecies]
    pairs: tuple[PairTerm, ...]
    sources: dict[str, str]
    smiles_rule: FamilySpecies


def _value(raw: dict, sources: dict[str, str]) -> Value:
    if raw["flag"] not in FLAGS:
        raise FamilyError(f"{SCALED_FILE}: unknown flag {raw['flag']!r} (use {', '.join(FLAGS)})")
    return Value(raw["value"], raw["flag"], sources[raw["source"]], raw.get("note", ""))


def _values(raw: dict, sources: dict[str, str]) -> dict[str, Value]:
    return {k: _value(v, sources) for k, v in raw.items() if isinstance(v, dict) and "value" in v}


def _species(name: str, raw: dict, sources: dict[str, str]) -> FamilySpecies:
    route, status = raw.get("route", "ion"), raw["status"]
    if route not in ROUTES or status not in STATUSES:
        raise FamilyError(f"{SCALED_FILE}: {name}: unknown route {route!r} or status {status!r}")
    return FamilySpecies(
        name=name,
        kind=raw.get("kind", "molecule"),
        status=status,
        route=route,
        values=_values(raw, sources),
        sites={k: Site(_values(v, sources)) for k, v in raw.get("sites", {}).items()},
        geometry=_values(raw.get("geometry", {}), sources),
        file=raw.get("file", ""),
        note=raw.get("note", ""),
        set=raw.get("set", ""),
        see_also=tuple(sources[k] for k in raw.get("see_also", ())),
        fit=dict(raw.get("fit", {})),
    )


@cache
def scaled_family() -> ModelFamily:
    """The scaled-charge family as stored in ``data/scaled_family.toml``."""
    raw = tomllib.loads(
        (resources.files("solvation.forcefields") / "data" / SCALED_FILE).read_text()
    )
    sources = raw["sources"]
    return ModelFamily(
        name=raw["family"]["name"],
        water=_value(raw["family"]["water"], sources),
        charge_scale=_value(raw["family"]["charge_scale"], sources),
        species={k: _species(k, v, sources) for k, v in raw["species"].items()},
        pairs=tuple(
            PairTerm(
                p["a"],
                p["b"],
                _value(p["sigma_nm"], sources),
                _value(p["epsilon_kj_per_mol"], sources),
                p["status"],
                _value(p["c4_kj_per_mol_nm4"], sources) if "c4_kj_per_mol_nm4" in p else None,
            )
            for p in raw["pairs"]
        ),
        sources=sources,
        smiles_rule=_species("SMILES", raw["rules"]["smiles"], sources),
    )


def check_family(
    family: str, water: str, charge_scale: float, overrides: dict[str, dict[str, str]]
) -> None:
    """Refuse choices that contradict ``family``.

    ``water``: canonical water model name; ``overrides``: {"ions": {...}, "methods": {...}}
    (per-species set choices, which the scaled family fixes itself).

    Parameters
    ----------
    family : str
        'full' or 'scaled'.
    water : str
        Canonical water model name.
    charge_scale : float
        Scale of the ionic charges.
    overrides : dict of str to dict of str to str
        {"ions": {...}, "methods": {...}}: per-species set choices.

    Raises
    ------
    FamilyError
        For an unknown family or a choice it contradicts.
    """
    if family not in FAMILIES:
        raise FamilyError(f"unknown model family {family!r}; use one of {', '.join(FAMILIES)}")
    if family == "full":
        return
    fam = scaled_family()
    if water != fam.water.value:
        raise FamilyError(
            f"the scaled family uses {fam.water.value} water, not {water!r}; "
            f"remove the water model (it defaults to {fam.water.value}) or use family 'full'"
        )
    if charge_scale != fam.charge_scale.value:
        raise FamilyError(
            f"the scaled family scales charges by {fam.charge_scale.value}, not {charge_scale}; "
            "remove charge_scale or use family 'full' for another factor"
        )
    for table, given in overrides.items():
        if given:
            raise FamilyError(
                f"the scaled family fixes every species' parameters; remove forcefield.{table} "
                f"({', '.join(given)}) or use family 'full'"
            )


def check_species(family: str, species: str) -> None:
    """Refuse a library species (name) that ``family`` holds no parameters for.

    The scaled family lists every species of the library (``data/scaled_family.toml``);
    molecules given by SMILES follow its SMILES rule and are not checked here.

    Parameters
    ----------
    family : str
        'full' or 'scaled'.
    species : str
        Library species name.

    Raises
    ------
    FamilyError
        When the family has no parameters for the species.
    """
    if family == "full":
        return
    fam = scaled_family()
    if species not in fam.species:
        raise FamilyError(
            f"the scaled family has no parameters for {species!r} (it holds "
            f'{", ".join(fam.species)}); use [forcefield] family = "full"'
        )
