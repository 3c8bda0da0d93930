"""The design file: what electrolyte (and optional Zn slab) to simulate.

A design is TOML validated with pydantic; unknown keys, missing values and unreadable
quantities are refused with the key path in the message. Every key is documented in
README.md ("Design files").
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from pathlib import Path
from typing import Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from solvation import quantities as q
from solvation.errors import SolvationError
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


def _length_in(v: str, what: str, low_nm: float, high_nm: float, low_open=False) -> str:
    """``v`` when it is a length within [low_nm, high_nm] (low_nm excluded if asked)."""
    nm = q.length_nm(v)
    if (nm <= low_nm if low_open else nm < low_nm) or nm > high_nm:
        lowest = f"above {low_nm:g}" if low_open else f"at least {low_nm:g}"
        raise ValueError(f"{what} {v!r} must be {lowest} and at most {high_nm:g} nm")
    return v


# The model family of a design that names none (docs/validation.md, section 3, says why).
DEFAULT_FAMILY = "scaled"
FAMILIES = ("full", "scaled")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WaterSpec(_Strict):
    """The water model by name (tip3p, spce, opc, opc3, tip4pew, tip4p2005); names are
    checked against the force-field library by ``solvation.systems.check_design``."""

    model: str = "tip3p"

    @field_validator("model")
    @classmethod
    def _lower(cls, v: str) -> str:
        return v.strip().lower()


def _valid_concentration(v: str) -> str:
    q.concentration(v)
    return v


class SaltSpec(_Strict):
    """A salt of the [[salts]] table.

    Attributes
    ----------
    formula : str
        Salt formula, e.g. 'ZnSO4', 'Zn(OTf)2'.
    concentration : str
        Concentration with its unit, e.g. '2 m' (read by ``solvation.quantities.concentration``).
    """

    formula: str
    concentration: str

    _conc = field_validator("concentration")(_valid_concentration)


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
    concentration : str
        Concentration with its unit, e.g. '0.1 m'.
    """

    concentration: str

    _conc = field_validator("concentration")(_valid_concentration)


class CosolventSpec(_Named):
    """A co-solvent (library name or SMILES) mixed with the water.

    Attributes
    ----------
    name, smiles : str or None
        Exactly one: a library molecule name or a SMILES string.
    resname : str or None
        Residue name (1-3 characters) for a SMILES molecule.
    fraction : str or None
        Amount below 100 vol%, mol% or wt%, e.g. '33.3 vol%'.
    ratio : str or None
        Water:co-solvent ratio instead of ``fraction``, e.g. '2:1 v/v'.
    """

    fraction: str | None = None  # "33.3 vol%", "10 mol%", "20 wt%"
    ratio: str | None = None  # water:cosolvent, "2:1 v/v"

    @model_validator(mode="after")
    def _one_amount(self):
        if (self.fraction is None) == (self.ratio is None):
            raise ValueError("give exactly one of 'fraction' or 'ratio' (water:cosolvent)")
        if self.fraction is not None:
            c = q.concentration(self.fraction)
            if c.unit not in ("vol%", "mol%", "wt%") or c.value >= 100:
                raise ValueError(
                    f"co-solvent fraction {self.fraction!r} must be below 100 vol%, mol% or wt%"
                )
        else:
            q.ratio(self.ratio)
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
    edge : str or None
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
    edge: str | None = None
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
    cutoff: str = "1.0 nm"
    seed: int = Field(1, ge=0, lt=2**31, strict=True)

    @field_validator("cutoff")
    @classmethod
    def _cutoff(cls, v: str) -> str:
        return _length_in(v, "cutoff", 0.5, 3.0)

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
    within : str
        Distance from the metal face with its unit, e.g. '5 A'.
    """

    n: int = Field(gt=0, le=100_000, strict=True)
    within: str = "5 A"

    @field_validator("within")
    @classmethod
    def _within(cls, v: str) -> str:
        return _length_in(v, "adsorbed.within", 0.0, 5.0, low_open=True)


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
    lateral: str | None = None
    lj: Literal["uff", "interface"] = "uff"
    gap: str = "2.5 A"  # metal face to the first electrolyte atom centres
    vacuum: str = "0 nm"
    frozen: bool = True
    adsorbed: AdsorbedSpec | None = None

    @field_validator("gap")
    @classmethod
    def _gap(cls, v: str) -> str:  # closer than 1 A, electrolyte atoms overlap the metal
        return _length_in(v, "slab.gap", 0.1, 2.0)

    @field_validator("vacuum")
    @classmethod
    def _vacuum(cls, v: str) -> str:
        return _length_in(v, "slab.vacuum", 0.0, 20.0)

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


class PMFSpec(_Strict):
    """Umbrella sampling of one ion's distance from the slab's top atomic plane, or with
    ``pair`` of the distance between a cation and a partner species (``solvation pmf``);
    every key can be overridden on the command line.

    For a pair, ``from``/``to`` take "far" (``boundary`` + ``tail``) and "contact"
    (``contact``); their slab defaults "bulk" and "surface" mean "far" and "contact"."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    ion: str = "Zn2+"
    start: str = Field("bulk", alias="from")  # "bulk" (mid-electrolyte) or a distance
    end: str = Field("surface", alias="to")  # "surface" (= surface_distance) or a distance
    surface_distance: str = "0.2 nm"
    spacing: str = "0.1 nm"
    force_constant: str = "auto"  # auto: 4 kT / spacing^2 (window width spacing / 2)
    equilibration: str = "100 ps"  # per window, after the ion is placed
    window_time: str = "1 ns"  # production per window
    shell_cutoff: str = "3.0 A"  # ion - water O distance of the first shell
    pull_time: str = "10 ps"  # steered MD that seeds the windows, per window spacing
    # pair PMF (cation - partner distance); None: the slab PMF above
    pair: list[str] | None = None  # [cation, partner], e.g. ["Zn2+", "SO4"]
    partner_atom: str | None = None  # atom name of the partner's reference atom; None: auto
    contact: str = "auto"  # closest window; auto: from the reference atom's chemistry
    boundary: str = "auto"  # K_A boundary; auto: Bjerrum distance (ion pairs)
    tail: str = "0.1 nm"  # windows beyond the boundary, for the Coulomb-tail match

    @field_validator("pair")
    @classmethod
    def _pair(cls, v: list[str] | None) -> list[str] | None:
        if v is not None and (len(v) != 2 or not all(x.strip() for x in v)):
            raise ValueError("pair needs two species, e.g. ['Zn2+', 'SO4']")
        return v

    @field_validator("contact", "boundary")
    @classmethod
    def _auto_length(cls, v: str) -> str:
        if v != "auto" and q.length_nm(v) <= 0:
            raise ValueError(f"{v!r} must be 'auto' or a positive length")
        return v

    @field_validator("tail")
    @classmethod
    def _tail(cls, v: str) -> str:
        if q.length_nm(v) < 0:
            raise ValueError(f"{v!r} must be a length >= 0")
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

    @field_validator("spacing")
    @classmethod
    def _spacing(cls, v: str) -> str:
        return _length_in(v, "spacing", 0.0, 2.0, low_open=True)

    @field_validator("shell_cutoff")
    @classmethod
    def _shell(cls, v: str) -> str:
        return _length_in(v, "shell_cutoff", 0.0, 1.0, low_open=True)

    @field_validator("surface_distance")
    @classmethod
    def _surface(cls, v: str) -> str:
        return _length_in(v, "surface_distance", MIN_SURFACE_DISTANCE_NM, MAX_EDGE_NM)

    @field_validator("start", "end")
    @classmethod
    def _end(cls, v: str) -> str:
        if v in ("bulk", "surface", "contact", "far"):
            return v
        try:
            nm = q.length_nm(v)
        except q.QuantityError:
            nm = None
        if nm is None or not MIN_SURFACE_DISTANCE_NM <= nm <= MAX_EDGE_NM:
            raise ValueError(
                f"{v!r} must be 'bulk', 'surface', 'contact', 'far' or a distance of at least "
                f"{MIN_SURFACE_DISTANCE_NM:g} nm (from the top atomic plane for a surface PMF: "
                "closer, the ion sits inside the surface; centre to partner for a pair)"
            )
        return v

    @field_validator("equilibration", "window_time", "pull_time")
    @classmethod
    def _time(cls, v: str) -> str:
        if q.time_ps(v) <= 0:
            raise ValueError(f"{v!r} must be a positive time")
        return v

    @field_validator("force_constant")
    @classmethod
    def _k(cls, v: str) -> str:
        if v != "auto":
            q.force_constant(v)
        return v


class MetadSpec(_Strict):
    """Well-tempered metadynamics on the cation - anion contact number of the design's box
    (``solvation metad``, campaign analysis "metad"); every key can be overridden on the
    command line."""

    cation: str = "Zn2+"
    anion: str = "SO4"
    time: str = "1 ns"
    height: float = Field(1.0, gt=0)  # kJ/mol, initial Gaussian height
    width: float = Field(0.3, gt=0)  # contacts
    bias_factor: float = Field(10.0, gt=1)
    deposit: str = "1 ps"  # between Gaussians
    checkpoint: str = "20 ps"

    @field_validator("time", "deposit", "checkpoint")
    @classmethod
    def _time(cls, v: str) -> str:
        if q.time_ps(v) <= 0:
            raise ValueError(f"{v!r} must be a positive time")
        return v


class ElectrodeSpec(_Strict):
    """The [slab] metal as a constant-potential electrode (OpenMM ConstantPotentialForce,
    finite-field method): its top face is held ``potential_difference`` above its bottom
    face (the slab's periodic image), as the electrolyte between them sees it."""

    potential_difference: str = "0 V"
    gaussian_width: str = "0.0505 nm"  # 1/eta, eta = 1.979 1/A (Reed et al. 2007)
    thomas_fermi_length: str = "0 A"  # 0: perfect conductor
    method: Literal["matrix", "cg"] = "matrix"  # matrix needs a frozen slab

    @field_validator("potential_difference")
    @classmethod
    def _v(cls, v: str) -> str:
        if abs(q.potential_v(v)) > 10.0:
            raise ValueError(f"potential_difference {v!r} must be within -10 to 10 V")
        return v

    @field_validator("gaussian_width", "thomas_fermi_length")
    @classmethod
    def _length(cls, v: str) -> str:
        return _length_in(v, "length", 0.0, 1.0)


class OsmoticSpec(_Strict):
    """Two-compartment box of the osmotic-pressure route (Luo & Roux 2010): the solution of
    [box] between flat-bottom walls normal to z that hold every non-water molecule, and
    pure water outside."""

    reservoir: float = Field(1.0, ge=0.2, le=10.0)  # reservoir waters per solution water
    force_constant: str = "4184 kJ/mol/nm^2"  # 10 kcal/mol/A^2, as Luo & Roux
    aspect: float = Field(2.0, ge=1.0, le=6.0)  # box z length over its lateral edge

    @field_validator("force_constant")
    @classmethod
    def _k(cls, v: str) -> str:
        q.force_constant(v)
        return v


class Design(_Strict):
    """A whole design file."""

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._+-]+$")
    temperature: str = "298.15 K"
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
        if q.length_nm(self.slab.vacuum) > 0:
            raise ValueError(
                "[electrode] uses the finite-field method: the electrolyte must touch both "
                "slab faces, so set slab.vacuum = '0 nm'"
            )
        if e.method == "matrix" and not self.slab.frozen:
            raise ValueError("electrode method 'matrix' needs a frozen slab; use method = 'cg'")
        return self

    @model_validator(mode="after")
    def _osmotic_needs_bulk_solutes(self):
        if self.osmotic is not None:
            if self.slab is not None:
                raise ValueError("[osmotic] and [slab] cannot be combined")
            if not (self.salts or self.additives or self.cosolvents):
                raise ValueError("[osmotic] needs solutes (salts, additives or cosolvents)")
        return self

    @field_validator("temperature")
    @classmethod
    def _temp(cls, v: str) -> str:
        q.temperature_k(v)
        return v

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
