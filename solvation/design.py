"""The design file: what electrolyte (and optional Zn slab) to simulate.

A design is TOML validated with pydantic; unknown keys, missing values and unreadable
quantities are refused with the key path in the message. Every key is documented in
README.md ("Design files").

Each quantity is read once, here, at load: its field type turns the text into a typed
value (``solvation.quantities.Length``, ``Time`` ... with its value in nm, ps, K, V,
kJ/mol/nm^2 or a concentration unit) that keeps the text, and the text alone is hashed
and written back. Salt formulas are read once too (``SaltSpec.salt``).

Design checks live in two modules with one job each: every rule a design obeys by itself
(units, ranges, one of two keys, tables that need each other) is here; every check
against the force-field library (names, the model family's coverage, substrate materials
and facets, species of the box) is ``solvation.systems.check_design``, which the build
and campaigns call before anything expensive.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Callable
from functools import cached_property
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
    model_serializer,
    model_validator,
)

from solvation import quantities as q
from solvation.errors import SolvationError
from solvation.formula import Salt, parse_salt
from solvation.inputs import InputError, read_text

# Defaults of the scaled-charge family (forcefields/data/scaled_family.toml holds the same
# values with their sources; tests check that they agree). The library checks the choices.
SCALED_DEFAULTS = {"water": "tip4p2005", "charge_scale": 0.85}
# sizes beyond these are typos (n_water = 1e9) or beyond what packmol and one GPU handle
MAX_WATERS = 2_000_000
MAX_ATOMS = 6_000_000
MAX_EDGE_NM = 40.0
MAX_PACKMOL_SECONDS = 1.0e6
MIN_SURFACE_DISTANCE_NM = 0.15  # closer, the ion's centre sits inside the metal's LJ wall


def _text(v) -> str:
    """``v`` when it is text (a quantity is written as a string with its unit)."""
    if not isinstance(v, str):
        raise ValueError("Input should be a valid string")
    return v


def _reader(kind: type, make: Callable, check: Callable | None) -> Callable:
    """Validator: a ``kind`` as is, else text made into one by ``make`` and ``check``-ed."""

    def read(v):
        if isinstance(v, kind):
            return v
        value = make(_text(v))
        if check is not None:
            check(value)
        return value

    return read


def _typed(kind: type, make: Callable, check: Callable | None = None):
    """A pydantic field type read once, at load: ``make`` turns the text into ``kind`` (a
    ``solvation.quantities.Quantity`` or ``Ratio`` that keeps the text), ``check`` refuses
    values out of range; the unchanged text is what is written back and hashed."""
    return Annotated[
        kind,
        PlainValidator(_reader(kind, make, check)),
        PlainSerializer(lambda v: v.text, return_type=str),
        WithJsonSchema({"type": "string"}),
    ]


def _or_word(words: tuple[str, ...], kind: type, make: Callable, check: Callable | None = None):
    """Like ``_typed``, but one of ``words`` (e.g. 'auto') stays a plain string."""
    read = _reader(kind, make, check)

    def either(v):
        return v if isinstance(v, str) and v in words else read(v)

    return Annotated[
        kind | str,
        PlainValidator(either),
        PlainSerializer(lambda v: v if isinstance(v, str) else v.text, return_type=str),
        WithJsonSchema({"type": "string"}),
    ]


def _length_in(v: q.Length, what: str, low_nm: float, high_nm: float, low_open=False):
    """Refuse a length outside [low_nm, high_nm] (low_nm excluded if asked)."""
    nm = v.nm
    if (nm <= low_nm if low_open else nm < low_nm) or nm > high_nm:
        lowest = f"above {low_nm:g}" if low_open else f"at least {low_nm:g}"
        raise ValueError(f"{what} {v.text!r} must be {lowest} and at most {high_nm:g} nm")


def _positive_time(v: q.Time) -> None:
    """Refuse a time (ps) that is not positive."""
    if v.ps <= 0:
        raise ValueError(f"{v.text!r} must be a positive time")


def _length(text: str) -> q.Length:
    """A length ('3 A', '0.5 nm') read into nm."""
    return q.Length(q.length_nm(text), "nm", text)


def _concentration(text: str) -> q.Concentration:
    """A concentration in its canonical unit, keeping ``text`` exactly as written."""
    c = q.concentration(text)
    return q.Concentration(c.value, c.unit, text)


def _bounded_length(what: str, low_nm: float, high_nm: float, low_open=False):
    """A length field refused outside [low_nm, high_nm], named ``what`` in the message."""
    return _typed(q.Length, _length, lambda v: _length_in(v, what, low_nm, high_nm, low_open))


def _force_constant(text: str) -> q.ForceConstant:
    """A force constant read into kJ/mol/nm^2."""
    return q.ForceConstant(q.force_constant(text), "kJ/mol/nm^2", text)


# The field types of design quantities (each parsed once, when the design is loaded)
Concentration = _typed(q.Concentration, _concentration)
Length = _typed(q.Length, _length)
Time = _typed(q.Time, lambda t: q.Time(q.time_ps(t), "ps", t), _positive_time)
Temperature = _typed(q.Temperature, lambda t: q.Temperature(q.temperature_k(t), "K", t))
ForceConstant = _typed(q.ForceConstant, _force_constant)
Ratio = _typed(q.Ratio, lambda t: q.Ratio(*q.ratio(t), t))


# The model family of a design that names none (docs/validation.md, section 4, says why).
DEFAULT_FAMILY = "scaled"
FAMILIES = ("full", "scaled")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


class WaterSpec(_Strict):
    """The water model by name (tip3p, spce, opc, opc3, tip4pew, tip4p2005); names are
    checked against the force-field library by ``solvation.systems.check_design``."""

    model: str = "tip3p"

    @field_validator("model")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


class SaltSpec(_Strict):
    """A salt of the [[salts]] table.

    Attributes
    ----------
    formula : str
        Salt formula, e.g. 'ZnSO4', 'Zn(OTf)2'; ``salt`` holds it read.
    concentration : solvation.quantities.Concentration
        Concentration with its unit, e.g. '2 m', read at load.
    """

    formula: str
    concentration: Concentration

    @cached_property
    def salt(self) -> Salt:
        """The formula read into its ions (once; ``solvation.systems.check_design`` names
        the field when it cannot be read).

        Raises
        ------
        solvation.formula.FormulaError
            For unknown ions or a formula that is not neutral.
        """
        return parse_salt(self.formula)


class _Named(_Strict):
    name: str | None = None
    smiles: str | None = None
    resname: str | None = Field(None, max_length=3, min_length=1)

    @model_validator(mode="after")
    def _one_identity(self):
        if (self.name is None) == (self.smiles is None):
            raise ValueError("give exactly one of 'name' (library molecule) or 'smiles'")
        return self


class AdditiveSpec(_Named):
    """An additive molecule (library name or SMILES) at a concentration.

    Attributes
    ----------
    name, smiles : str or None
        Exactly one: a library molecule name or a SMILES string.
    resname : str or None
        Residue name (1-3 characters) for a SMILES molecule.
    concentration : solvation.quantities.Concentration
        Concentration with its unit, e.g. '0.1 m', read at load.
    """

    concentration: Concentration


class CosolventSpec(_Named):
    """A co-solvent (library name or SMILES) mixed with the water.

    Attributes
    ----------
    name, smiles : str or None
        Exactly one: a library molecule name or a SMILES string.
    resname : str or None
        Residue name (1-3 characters) for a SMILES molecule.
    fraction : solvation.quantities.Concentration or None
        Amount below 100 vol%, mol% or wt%, e.g. '33.3 vol%'.
    ratio : solvation.quantities.Ratio or None
        Water:co-solvent ratio instead of ``fraction``, e.g. '2:1 v/v'.
    """

    fraction: Concentration | None = None  # "33.3 vol%", "10 mol%", "20 wt%"
    ratio: Ratio | None = None  # water:cosolvent, "2:1 v/v"

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.fraction is None) == (self.ratio is None):
            raise ValueError("give exactly one of 'fraction' or 'ratio' (water:cosolvent)")
        c = self.fraction
        if c is not None and (c.unit not in ("vol%", "mol%", "wt%") or c.value >= 100):
            raise ValueError(f"co-solvent fraction {c.text!r} must be below 100 vol%, mol% or wt%")
        return self


class BoxSpec(_Strict):
    """The [box] table: its size (exactly one of ``n_water``, ``n_atoms``, ``edge``) and
    packing options.

    Attributes
    ----------
    n_water : int or None
        Number of water molecules.
    n_atoms : int or None
        Approximate total number of atoms; the water count is scaled to reach it.
    edge : solvation.quantities.Length or None
        Cubic box edge with its unit, e.g. '4 nm' (must exceed 1 nm).
    tolerance_angstrom : float
        Packmol minimum distance between molecules, in A (0.5 < value <= 4).
    prehydrate : bool
        Pack 2+/3+ cations as aqua complexes (``solvation.systems.hydration``).
    allow_supersaturated : bool or None
        Build anyway beyond a salt's solubility or the solvent-per-ion guard.
    packmol_timeout_s : float or None
        Packmol time limit in s; by default it grows with the atom count.
    """

    n_water: int | None = Field(None, gt=0, le=MAX_WATERS, strict=True)
    n_atoms: int | None = Field(None, gt=0, le=MAX_ATOMS, strict=True)
    edge: Length | None = None
    tolerance_angstrom: float = Field(2.0, gt=0.5, le=4.0)
    prehydrate: bool = True  # 2+/3+ cations packed as aqua complexes (systems.hydration)
    # build anyway beyond a salt's solubility or the solvent-per-ion guard
    allow_supersaturated: bool | None = None
    packmol_timeout_s: float | None = Field(None, gt=0, le=MAX_PACKMOL_SECONDS)  # grows with atoms

    @model_serializer(mode="wrap")
    def _omit_unset_options(self, handler):
        """Options left unset are not written, so that the hashes of designs written before
        they existed (build spec hash, campaign job keys) stay the same."""
        data = handler(self)
        for key in ("allow_supersaturated", "packmol_timeout_s"):
            if data.get(key, 0) is None:
                del data[key]
        return data

    @model_validator(mode="after")
    def _one_size(self):
        given = [k for k in ("n_water", "n_atoms", "edge") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "give exactly one of n_water, n_atoms or edge in [box]"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.edge is not None:
            _length_in(self.edge, "box edge", 1.0, MAX_EDGE_NM, low_open=True)
        return self


class ForceFieldSpec(_Strict):
    """The [forcefield] table. ``family``: "full" (the sets chosen below) or "scaled"
    (TIP4P/2005, charges x 0.85, its own ion and anion parameters); ``DEFAULT_FAMILY``
    when not given."""

    family: Literal["full", "scaled"] = DEFAULT_FAMILY
    zn: str = "12-6-4"
    ions: dict[str, str] = {}
    methods: dict[str, str] = {}
    charge_scale: float = Field(1.0, ge=0.5, le=1.0)
    cutoff: _bounded_length("cutoff", 0.5, 3.0) = "1.0 nm"
    seed: int = Field(1, ge=0, lt=2**31, strict=True)

    @field_validator("zn")
    @classmethod
    def _set(cls, v: str) -> str:
        v = v.strip().lower().replace("1264", "12-6-4")
        if v not in ("12-6-4", "cm", "hfe", "iod"):
            raise ValueError(f"zn must be one of 12-6-4, cm, hfe, iod (got {v!r})")
        return v

    @model_validator(mode="before")
    @classmethod
    def _scaled_defaults(cls, data):
        """The scaled family's charge scale when none is given; no full-family zn set."""
        if isinstance(data, dict) and data.get("family", DEFAULT_FAMILY) == "scaled":
            if "zn" in data:
                default = "" if "family" in data else " (the default family)"
                raise ValueError(
                    "zn chooses a Zn2+ set of the full-charge family; the scaled family"
                    f"{default} has its own Zn2+: remove zn or set family = 'full'"
                )
            data = {"charge_scale": SCALED_DEFAULTS["charge_scale"], **data}
        return data

    @model_serializer(mode="wrap")
    def _family_fields(self, handler):
        """The family is always written (a copy must not change family when the default
        does); zn only for the full family, which alone accepts it."""
        data = handler(self)
        if data.get("family") != "full":
            data.pop("zn", None)
        return data


class AdsorbedSpec(_Named):
    """Molecules placed next to the slab surface.

    Attributes
    ----------
    name, smiles : str or None
        Exactly one: a library molecule name or a SMILES string.
    resname : str or None
        Residue name (1-3 characters) for a SMILES molecule.
    n : int
        Number of molecules (> 0).
    within : solvation.quantities.Length
        Distance from the metal face with its unit, e.g. '5 A'.
    """

    n: int = Field(gt=0, le=100_000, strict=True)
    within: _bounded_length("adsorbed.within", 0.0, 5.0, low_open=True) = "5 A"


ZN_SLAB_DEFAULTS = {"facet": "002", "repeats": (12, 12)}  # hcp Zn before materials existed


class SlabSpec(_Strict):
    """The substrate slab. ``material`` and ``facet`` are checked against the substrate
    library by ``solvation.systems.check_design``; ``facet`` None is the material's
    default. Lateral size: ``repeats`` (surface cells), or ``lateral`` (smallest lateral
    width, e.g. "3 nm"), else 12 x 12 for Zn and a width matching the electrolyte box for
    the other materials."""

    material: str = "Zn"
    facet: str | None = None
    layers: int = Field(4, ge=2, le=40)
    repeats: tuple[int, int] | None = None
    lateral: Length | None = None
    lj: Literal["uff", "interface"] = "uff"
    # metal face to the first electrolyte atom centres; closer than 1 A, they overlap it
    gap: _bounded_length("slab.gap", 0.1, 2.0) = "2.5 A"
    vacuum: _bounded_length("slab.vacuum", 0.0, 20.0) = "0 nm"
    frozen: bool = True
    adsorbed: AdsorbedSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _no_family(cls, data):
        """The model family is forcefield.family; the slab's Lennard-Jones set is
        ``lj``."""
        if isinstance(data, dict) and "family" in data:
            raise ValueError(
                "slab.family is not a key: the slab's Lennard-Jones set is slab.lj "
                "('uff' or 'interface'); the model family (full or scaled) is forcefield.family"
            )
        return data

    @model_validator(mode="before")
    @classmethod
    def _zn_defaults(cls, data):
        """hcp Zn keeps the defaults it had before other materials existed (002, 12 x 12),
        so that older designs build (and hash) as they did."""
        if isinstance(data, dict) and str(data.get("material", "Zn")).strip() == "Zn":
            data = dict(data)
            data.setdefault("facet", ZN_SLAB_DEFAULTS["facet"])
            if "lateral" not in data:
                data.setdefault("repeats", ZN_SLAB_DEFAULTS["repeats"])
        return data

    @model_validator(mode="after")
    def _one_size(self):
        if self.repeats is not None and self.lateral is not None:
            raise ValueError("give either slab.repeats or slab.lateral, not both")
        if self.repeats is not None and not 1 <= min(self.repeats) <= max(self.repeats) <= 200:
            raise ValueError("slab.repeats must be whole numbers from 1 to 200")
        if self.lateral is not None:
            _length_in(self.lateral, "slab.lateral", 0.0, MAX_EDGE_NM, low_open=True)
        return self

    def hash_dict(self) -> dict:
        """The slab as hashed: keys added with materials are left out at their defaults
        (material Zn, lj uff, no lateral), so older Zn designs keep their hash."""
        data = self.model_dump(mode="json")
        for key, default in (("material", "Zn"), ("lj", "uff"), ("lateral", None)):
            if data[key] == default:
                del data[key]
        return data


PATH_ENDS = ("bulk", "surface", "contact", "far")


def _path_end(text: str) -> q.Length:
    """A PMF path end given as a distance (nm), refused below MIN_SURFACE_DISTANCE_NM."""
    try:
        length = _length(text)
    except q.QuantityError:
        length = None
    if length is None or not MIN_SURFACE_DISTANCE_NM <= length.nm <= MAX_EDGE_NM:
        raise ValueError(
            f"{text!r} must be 'bulk', 'surface', 'contact', 'far' or a distance of at least "
            f"{MIN_SURFACE_DISTANCE_NM:g} nm (from the top atomic plane for a surface PMF: "
            "closer, the ion sits inside the surface; centre to partner for a pair)"
        )
    return length


def _positive_length(v: q.Length) -> None:
    """Refuse a length (nm) that is not positive."""
    if v.nm <= 0:
        raise ValueError(f"{v.text!r} must be 'auto' or a positive length")


def _length_at_least_0(v: q.Length) -> None:
    """Refuse a negative length (nm)."""
    if v.nm < 0:
        raise ValueError(f"{v.text!r} must be a length >= 0")


PathEnd = _or_word(PATH_ENDS, q.Length, _path_end)
AutoLength = _or_word(("auto",), q.Length, _length, _positive_length)
AutoForceConstant = _or_word(("auto",), q.ForceConstant, _force_constant)


class PMFSpec(_Strict):
    """Umbrella sampling of one ion's distance from the slab's top atomic plane, or with
    ``pair`` of the distance between a cation and a partner species (``solvation pmf``);
    every key can be overridden on the command line.

    For a pair, ``from``/``to`` take "far" (``boundary`` + ``tail``) and "contact"
    (``contact``); their slab defaults "bulk" and "surface" mean "far" and "contact"."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, populate_by_name=True, validate_default=True
    )

    ion: str = "Zn2+"
    start: PathEnd = Field("bulk", alias="from")  # "bulk" (mid-electrolyte) or a distance
    end: PathEnd = Field("surface", alias="to")  # "surface" (= surface_distance) or a distance
    surface_distance: _bounded_length("surface_distance", MIN_SURFACE_DISTANCE_NM, MAX_EDGE_NM) = (
        "0.2 nm"
    )
    spacing: _bounded_length("spacing", 0.0, 2.0, low_open=True) = "0.1 nm"
    # auto: 4 kT / spacing^2 (window width spacing / 2)
    force_constant: AutoForceConstant = "auto"
    equilibration: Time = "100 ps"  # per window, after the ion is placed
    window_time: Time = "1 ns"  # production per window
    # ion - water O distance of the first shell
    shell_cutoff: _bounded_length("shell_cutoff", 0.0, 1.0, low_open=True) = "3.0 A"
    pull_time: Time = "10 ps"  # steered MD that seeds the windows, per window spacing
    # pair PMF (cation - partner distance); None: the slab PMF above
    pair: list[str] | None = None  # [cation, partner], e.g. ["Zn2+", "SO4"]
    partner_atom: str | None = None  # atom name of the partner's reference atom; None: auto
    contact: AutoLength = "auto"  # closest window; auto: from the reference atom's chemistry
    boundary: AutoLength = "auto"  # K_A boundary; auto: Bjerrum distance (ion pairs)
    # windows beyond the boundary, for the Coulomb-tail match
    tail: _typed(q.Length, _length, _length_at_least_0) = "0.1 nm"

    @field_validator("pair")
    @classmethod
    def _pair(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (len(v) != 2 or not all(x.strip() for x in v)):
            raise ValueError("pair needs two species, e.g. ['Zn2+', 'SO4']")
        return v

    def hash_dict(self) -> dict:
        """The table for the design hash: the pair keys only when they are not their
        defaults (designs written before them keep their hash)."""
        data = self.model_dump(mode="json")
        defaults = PMFSpec().model_dump(mode="json")
        for key in ("pair", "partner_atom", "contact", "boundary", "tail"):
            if data[key] == defaults[key]:
                del data[key]
        return data


class MetadSpec(_Strict):
    """Well-tempered metadynamics on the cation - anion contact number of the design's box
    (``solvation metad``, campaign analysis "metad"); every key can be overridden on the
    command line."""

    cation: str = "Zn2+"
    anion: str = "SO4"
    time: Time = "1 ns"
    height: float = Field(1.0, gt=0)  # kJ/mol, initial Gaussian height
    width: float = Field(0.3, gt=0)  # contacts
    bias_factor: float = Field(10.0, gt=1)
    deposit: Time = "1 ps"  # between Gaussians
    checkpoint: Time = "20 ps"
    # contacts (None: the default): N, the cation - acceptor contacts; exchange: N minus
    # the cations' first-shell water count (solvation.engine.metadynamics). None, not
    # "contacts", so that designs and design.toml files written before it stay the same.
    cv: Literal["contacts", "exchange"] | None = None

    def hash_dict(self) -> dict:
        """The table for the design hash: ``cv`` only when given (designs written before
        it keep their hash)."""
        data = self.model_dump(mode="json")
        if data["cv"] is None:
            del data["cv"]
        return data


def _potential(text: str) -> q.Potential:
    """An electric potential (difference) read into V."""
    return q.Potential(q.potential_v(text), "V", text)


def _within_10_volts(v: q.Potential) -> None:
    """Refuse a potential difference beyond 10 V either way."""
    if abs(v.volts) > 10.0:
        raise ValueError(f"potential_difference {v.text!r} must be within -10 to 10 V")


class ElectrodeSpec(_Strict):
    """The [slab] metal as a constant-potential electrode (OpenMM ConstantPotentialForce,
    finite-field method): its top face is held ``potential_difference`` above its bottom
    face (the slab's periodic image), as the electrolyte between them sees it."""

    potential_difference: _typed(q.Potential, _potential, _within_10_volts) = "0 V"
    # 1/eta, eta = 1.979 1/A (Reed et al. 2007)
    gaussian_width: _bounded_length("length", 0.0, 1.0) = "0.0505 nm"
    thomas_fermi_length: _bounded_length("length", 0.0, 1.0) = "0 A"  # 0: perfect conductor
    method: Literal["matrix", "cg"] = "matrix"  # matrix needs a frozen slab


class OsmoticSpec(_Strict):
    """Two-compartment box of the osmotic-pressure route (Luo & Roux 2010): the solution of
    [box] between flat-bottom walls normal to z that hold every non-water molecule, and
    pure water outside."""

    reservoir: float = Field(1.0, ge=0.2, le=10.0)  # reservoir waters per solution water
    force_constant: ForceConstant = "4184 kJ/mol/nm^2"  # 10 kcal/mol/A^2, as Luo & Roux
    aspect: float = Field(2.0, ge=1.0, le=6.0)  # box z length over its lateral edge


class Design(_Strict):
    """A whole design file."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._+-]+$")
    temperature: Temperature = "298.15 K"
    water: WaterSpec = WaterSpec()
    salts: list[SaltSpec] = []
    additives: list[AdditiveSpec] = []
    cosolvents: list[CosolventSpec] = []
    box: BoxSpec = BoxSpec(n_water=1000)
    forcefield: ForceFieldSpec = ForceFieldSpec()
    slab: SlabSpec | None = None
    osmotic: OsmoticSpec | None = None
    electrode: ElectrodeSpec | None = None
    pmf: PMFSpec | None = None
    metad: MetadSpec | None = None
    protocol: dict = {}

    @model_validator(mode="before")
    @classmethod
    def _scaled_water(cls, data):
        """The scaled family's water model when the design names none."""
        if not isinstance(data, dict):
            return data
        ff, water = data.get("forcefield"), data.get("water")
        family = ff.family if isinstance(ff, ForceFieldSpec) else (ff or {}).get("family")
        family = family or DEFAULT_FAMILY
        given = "model" in (water.model_fields_set if isinstance(water, WaterSpec) else water or {})
        if family == "scaled" and not given:
            return {**data, "water": {"model": SCALED_DEFAULTS["water"]}}
        return data

    @model_validator(mode="after")
    def _electrode_needs_a_slab(self):
        e = self.electrode
        if e is None:
            return self
        if self.slab is None:
            raise ValueError("[electrode] needs a [slab] (the metal is the electrode)")
        if self.slab.vacuum.nm > 0:
            raise ValueError(
                "[electrode] uses the finite-field method: the electrolyte must touch both "
                "slab faces, so set slab.vacuum = '0 nm'"
            )
        if e.method == "matrix" and not self.slab.frozen:
            raise ValueError("electrode method 'matrix' needs a frozen slab; use method = 'cg'")
        return self

    @model_validator(mode="after")
    def _surface_pmf_needs_a_slab(self):
        """A [pmf] table of an ion's height (no ``pair``) needs a slab without vacuum."""
        if self.pmf is None or self.pmf.pair is not None:
            return self
        if self.slab is None:
            raise ValueError("[pmf] needs a [slab] (the path ends at its surface)")
        if self.slab.vacuum.nm > 0:
            raise ValueError(
                "[pmf] needs slab.vacuum = '0 nm' (its bulk end is the middle of the "
                "electrolyte between the slab and its periodic image)"
            )
        return self

    @model_validator(mode="after")
    def _osmotic_needs_bulk_solutes(self):
        if self.osmotic is not None:
            if self.slab is not None:
                raise ValueError("[osmotic] and [slab] cannot be combined")
            if not (self.salts or self.additives or self.cosolvents):
                raise ValueError("[osmotic] needs solutes (salts, additives or cosolvents)")
        return self

    def spec_hash(self) -> str:
        """Content hash of the design (sha256 of its canonical JSON, 16 hex digits)."""
        data = self.model_dump(mode="json")
        for key in ("osmotic", "electrode", "pmf", "metad"):  # added later: older hashes stay
            if data[key] is None:
                del data[key]
        if self.slab is not None:
            data["slab"] = self.slab.hash_dict()
        if self.pmf is not None:
            data["pmf"] = self.pmf.hash_dict()
        if self.metad is not None:
            data["metad"] = self.metad.hash_dict()
        text = json.dumps(data, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


class DesignError(SolvationError):
    """A design file that cannot be read or validated."""


def _format(err: ValidationError, source: str) -> str:
    """One line: the file, then each problem as ``field: message``, separated by ';'."""
    problems = []
    for e in err.errors():
        where = ".".join(str(p) for p in e["loc"]) or "(top level)"
        msg = e["msg"].removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            msg = "unknown key (see README 'Design files' for the keys)"
        problems.append(f"{where}: {msg}")
    return f"invalid design {source}: " + "; ".join(problems)


def parse_design(data: dict, source: str = "<dict>") -> Design:
    """Validate a design given as a dict (e.g. a parsed TOML file).

    Parameters
    ----------
    data : dict
        The design tables (e.g. a parsed TOML file).
    source : str
        Name of the source, used in error messages.

    Raises
    ------
    DesignError
        For a design that does not validate (one line per problem).
    """
    try:
        return Design.model_validate(data)
    except ValidationError as err:
        raise DesignError(_format(err, source)) from None


def load_design(path: str | Path) -> Design:
    """Read and validate a design TOML file.

    Parameters
    ----------
    path : str or Path
        A design TOML file.

    Raises
    ------
    DesignError
        When the file is missing, is not TOML, or does not validate.
    """
    path = Path(path)
    try:
        text = read_text(path, "design file")
    except InputError as err:
        raise DesignError(str(err)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise DesignError(f"{path} is not valid TOML: {err}") from None
    return parse_design(data, str(path))
