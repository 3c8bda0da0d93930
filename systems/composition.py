"""Molecule counts from concentrations, with the concentration actually reached.

Conventions (all per the design's solvent = water + co-solvents):

- ``m``: mol solute per kg solvent; ``M``/``mM``: mol per L of solution;
  ``wt%``: solute mass / solution mass; ``vol%``: solute volume / solution volume
  (pure-component volumes); ``mol%``: solute molecules / all molecules;
  ``mg/mL``: solute mass per solution volume. Salts count formula units.
- Co-solvents: ``vol%``/``wt%``/``mol%`` of the solvent, or ``ratio = "2:1 v/v"``
  water:co-solvent.

Solution volume (needed by M, vol%, mg/mL and by the box edge) is an estimate:
V = sum_i n_i v_i over water and molecules (v = M/rho, pure-substance densities of the
library) plus the ions' apparent molar volume at the solution's ionic strength I
(Masson's rule with the Debye-Hueckel limiting slope, Redlich & Meyer, Chem. Rev. 64
(1964) 221; Millero, Chem. Rev. 71 (1971) 147):

    V_ions = sum_i n_i V0_i + k_v (1/2 sum_i n_i z_i^2) sqrt(I),   k_v = 1.868 cm3 L^1/2 mol^-3/2

with V0_i the infinite-dilution partial molar volumes (``ION_VOLUMES``, several of them
negative: electrostriction) and I = 1/2 sum_i c_i z_i^2 in mol/L (solved together with V,
at most I_MAX). For one salt this is phi_V = phi_V0 + k_v w^3/2 sqrt(c), w = 1/2 sum nu_i
z_i^2; ZnSO4 comes within 0.5% of the CRC densities up to 10 wt%. The volume never falls
below that of the solvent and molecules alone, so the estimated box never shrinks as salt
is added. The run stage reports the density reached after NPT.

Guards before any packing (``check_feasible``): a salt above its solubility in water near
25 degC (``SOLUBILITY_G_PER_100G``) or fewer than MIN_SOLVENT_PER_ION solvent molecules
per ion is refused, unless the design sets ``[box] allow_supersaturated = true``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from solvation.console import warn
from solvation.constants import AVOGADRO_PER_MOL, WATER_DENSITY_298K_G_PER_CM3
from solvation.design import Design
from solvation.errors import SolvationError
from solvation.forcefields.library import ION_RESNAMES, molecule, molecule_table
from solvation.forcefields.molecules import to_molecule
from solvation.formula import parse_salt
from solvation.quantities import Concentration

from .templates import (
    ResidueTemplate,
    ion_template,
    library_template,
    smiles_template,
    water_template,
)

DEFAULT_DENSITY = 1.2  # g/cm3, molecules of unknown density (reported as such)
# Approximate partial molar volumes at infinite dilution, cm3/mol, conventional scale
# (V(H+) = 0), after Marcus, "Ion Properties" (1997) and Millero, Chem. Rev. 71 (1971) 147;
# used only to estimate the initial box volume.
ION_VOLUMES = {
    "Li+": -0.9,
    "Na+": -1.2,
    "K+": 9.0,
    "NH4": 17.9,
    "Mg2+": -21.2,
    "Zn2+": -21.6,
    "Mn2+": -17.7,
    "Ni2+": -24.0,
    "Al3+": -42.2,
    "La3+": -39.1,
    "Ce3+": -38.0,
    "Cl-": 17.8,
    "Br-": 24.7,
    "I-": 36.2,
    "SO4": 14.0,
    "NO3": 29.0,
    "ClO4": 44.1,
    "OAc": 40.5,
    "BF4": 44.2,
    "OTf": 80.5,
    "TFSI": 146.0,
}
# Debye-Hueckel limiting slope of apparent molar volumes at 25 degC, cm3 L^1/2 mol^-3/2
# (Millero 1971, Table II; Redlich & Meyer 1964); the sqrt(I) term is not extrapolated
# beyond I_MAX mol/L, where the limiting law has long stopped meaning much
DH_VOLUME_SLOPE = 1.868
I_MAX_MOL_PER_L = 15.0
# Solubility in water near 25 degC, g of anhydrous salt per 100 g water (CRC Handbook of
# Chemistry and Physics, "Aqueous Solubility of Inorganic Compounds at Various
# Temperatures"; ZnSO4 at 20 degC). Salts not listed get only the solvent-per-ion guard.
SOLUBILITY_G_PER_100G = {
    "ZnSO4": 57.7,
    "ZnCl2": 432.0,
    "NaCl": 36.0,
    "KCl": 35.5,
    "LiCl": 84.5,
    "Na2SO4": 28.1,
    "K2SO4": 12.0,
    "MgSO4": 35.1,
}
# Fewer solvent molecules per ion than this is no liquid solution: the most concentrated
# aqueous "water-in-salt" electrolytes (30 m ZnCl2, 21 m LiTFSI) have 0.6-1.3 per ion
MIN_SOLVENT_PER_ION = 0.5


class CompositionError(SolvationError):
    """Concentrations that cannot be realised in the requested box."""


@dataclass(frozen=True)
class Component:
    """One molecular species of a box.

    Attributes
    ----------
    key : str
        Species name (Zn2+, SO4, water, xylitol, or the SMILES of a custom molecule).
    role : str
        water, ion, additive or cosolvent.
    template : ResidueTemplate
    volume_cm3_per_mol : float
        Molar volume (cm^3/mol) for the solution volume estimate.
    smiles : str or None
        SMILES of a custom molecule.
    density_estimated : bool
        True when no density was known and a default stood in.
    """

    key: str  # species name (Zn2+, SO4, water, xylitol, or the SMILES of a custom molecule)
    role: str  # water | ion | additive | cosolvent
    template: ResidueTemplate
    volume_cm3_per_mol: float
    smiles: str | None = None
    density_estimated: bool = False

    @property
    def mass(self) -> float:
        """Molar mass (Da, g/mol)."""
        return self.template.mass_dalton


@dataclass
class Composition:
    """Counts of every component, and requested vs achieved concentrations.

    Attributes
    ----------
    components : dict of str to Component
    counts : dict of str to int
        Molecules of each component.
    concentrations : list of dict
        Requested and achieved concentration of each salt and additive.
    """

    components: dict[str, Component]
    counts: dict[str, int]
    concentrations: list[dict] = field(default_factory=list)

    @property
    def volume_nm3(self) -> float:
        """Estimated solution volume (nm^3)."""
        return _volume_cm3(self.components, self.counts) / AVOGADRO_PER_MOL * 1e21

    @property
    def mass_g(self) -> float:
        """Mass of the box contents (g)."""
        return sum(self.components[k].mass * n for k, n in self.counts.items()) / AVOGADRO_PER_MOL

    @property
    def density_g_per_cm3(self) -> float:
        """Estimated density (g/cm^3) from the estimated volume."""
        return self.mass_g / (self.volume_nm3 * 1e-21)

    @property
    def charge(self) -> int:
        """Net charge (e)."""
        return sum(self.components[k].template.charge * n for k, n in self.counts.items())

    @property
    def n_atoms(self) -> int:
        """Number of atoms."""
        return sum(self.components[k].template.n_atoms * n for k, n in self.counts.items())


def _volume_cm3(components: dict[str, Component], counts: dict[str, float]) -> float:
    """Estimated solution volume (cm3 per mol of counts): molecules at their molar volumes
    plus the ions' apparent volume at the solution's ionic strength (module docstring);
    never below the molecules' volume alone."""
    neutral = sum(
        components[k].volume_cm3_per_mol * n for k, n in counts.items() if _neutral(components[k])
    )
    ions = {k: n for k, n in counts.items() if not _neutral(components[k])}
    if not ions:
        return neutral
    base = neutral + sum(components[k].volume_cm3_per_mol * n for k, n in ions.items())
    strength = 0.5 * sum(n * components[k].template.charge ** 2 for k, n in ions.items())
    volume = max(base, neutral, 1e-9)
    for _ in range(50):  # V = base + k S sqrt(I(V)): a contraction, converges in a few steps
        ionic = min(1000.0 * strength / volume, I_MAX_MOL_PER_L)
        new = max(base + DH_VOLUME_SLOPE * strength * math.sqrt(ionic), neutral)
        if abs(new - volume) <= 1e-10 * new:
            break
        volume = new
    return new


def _neutral(component: Component) -> bool:
    return component.role != "ion"


def molecule_component(
    name: str | None, smiles: str | None, role: str, resname: str | None, index: int
) -> Component:
    """Component of a library molecule (by ``name``) or a SMILES molecule; a SMILES that
    matches a library molecule becomes that molecule.

    Parameters
    ----------
    name : str or None
        Library molecule name.
    smiles : str or None
        SMILES string, when ``name`` is None.
    role : str
        water, ion, additive or cosolvent.
    resname : str or None
        Residue name of a SMILES molecule (default ``L{index:02d}``).
    index : int
        Position of the molecule in the design, for the default residue name.
    """
    if name is not None:
        mol = molecule(name)
        template = library_template(mol.name)
        density = mol.density_g_per_cm3
        key, smiles = mol.name, None
    else:
        lib = next(
            (
                m
                for m in molecule_table().values()
                if to_molecule(m.smiles).is_isomorphic_with(to_molecule(smiles))
            ),
            None,
        )
        if lib is not None:
            return molecule_component(lib.name, None, role, resname, index)
        template = smiles_template(smiles, resname or f"L{index:02d}")
        density, key = None, smiles
    v = template.mass_dalton / (density or DEFAULT_DENSITY)
    return Component(key, role, template, v, smiles, density is None)


def _ion_component(species: str) -> Component:
    template = ion_template(species) if species in ION_RESNAMES else library_template(species)
    return Component(species, "ion", template, ION_VOLUMES[species])


def components_of(design: Design) -> dict[str, Component]:
    """Components of a design and the stoichiometry of each salt (ions per formula unit).

    Parameters
    ----------
    design : Design
    """
    comps = {
        "water": Component(
            "water",
            "water",
            water_template(),
            water_template().mass_dalton / WATER_DENSITY_298K_G_PER_CM3,
        )
    }
    for salt in design.salts:
        for species, _ in salt.salt.ions:
            comps.setdefault(species, _ion_component(species))
    for i, spec in enumerate(design.cosolvents + design.additives, start=1):
        role = "cosolvent" if spec in design.cosolvents else "additive"
        c = molecule_component(spec.name, spec.smiles, role, spec.resname, i)
        if c.template.charge != 0:
            raise CompositionError(
                f"{role} {c.key!r} carries charge {c.template.charge:+d} e; "
                "charged species go in [[salts]]"
            )
        comps[c.key] = c
    return comps


_UNIT_AMOUNT = {
    "vol": lambda c, n: n * c.volume_cm3_per_mol,
    "wt": lambda c, n: n * c.mass,
    "mol": lambda c, n: n,
}


def _solvent_counts(design: Design, comps: dict[str, Component], n_water: int) -> dict[str, float]:
    """Water and co-solvent molecule counts (floats) for ``n_water`` waters."""
    water = comps["water"]
    counts: dict[str, float] = {"water": float(n_water)}
    fractions = []
    for spec, comp in zip(
        design.cosolvents, [c for c in comps.values() if c.role == "cosolvent"], strict=True
    ):
        if spec.ratio is not None:
            a, b, kind = spec.ratio.first, spec.ratio.second, spec.ratio.basis
            amount_water = _UNIT_AMOUNT[kind](water, n_water)
            counts[comp.key] = amount_water * b / a / _UNIT_AMOUNT[kind](comp, 1.0)
        else:
            c = spec.fraction
            fractions.append((comp, c.unit.removesuffix("%"), c.value / 100.0))
    kinds = {k for _, k, _ in fractions}
    if len(kinds) > 1:
        raise CompositionError(
            "co-solvent fractions mix units "
            f"({', '.join(sorted(kinds))}); use one unit for all of them"
        )
    total = sum(f for _, _, f in fractions)
    if total >= 1.0:
        raise CompositionError(
            f"co-solvent fractions add up to {100 * total:g}%; leave room for water"
        )
    for comp, kind, f in fractions:
        solvent_amount = _UNIT_AMOUNT[kind](water, n_water) / (1.0 - total)
        counts[comp.key] = f * solvent_amount / _UNIT_AMOUNT[kind](comp, 1.0)
    return counts


@dataclass(frozen=True)
class _Solute:
    label: str  # formula or additive key
    concentration: Concentration  # as requested (its text as written)
    stoichiometry: tuple[tuple[str, int], ...]


def _solutes(design: Design, comps: dict[str, Component]) -> list[_Solute]:
    out = [_Solute(s.formula, s.concentration, s.salt.ions) for s in design.salts]
    additives = [c for c in comps.values() if c.role == "additive"]
    out += [
        _Solute(c.key, spec.concentration, ((c.key, 1),))
        for spec, c in zip(design.additives, additives, strict=True)
    ]
    return out


def _per_unit(
    solute: _Solute, unit: str, comps: dict[str, Component], counts: dict[str, float]
) -> float:
    """Formula units of ``solute`` that one unit of concentration means, given ``counts``."""
    mass = sum(comps[s].mass * n for s, n in solute.stoichiometry)  # g/mol per formula unit
    vol = sum(comps[s].volume_cm3_per_mol * n for s, n in solute.stoichiometry)
    solvent_g = sum(
        comps[k].mass * n for k, n in counts.items() if comps[k].role in ("water", "cosolvent")
    )
    total_g = sum(comps[k].mass * n for k, n in counts.items())
    volume = _volume_cm3(comps, counts)
    return {
        "mol/kg": solvent_g / 1000.0,
        "mol/L": volume / 1000.0,
        "g/L": volume / 1000.0 / mass,
        "wt%": total_g / 100.0 / mass,
        "vol%": volume / 100.0 / vol if vol > 0 else math.inf,
        "mol%": sum(counts.values()) / 100.0,
    }[unit]


def _with_solutes(
    base: dict[str, float], solutes: list[_Solute], units: dict[str, int]
) -> dict[str, float]:
    counts = dict(base)
    for solute in solutes:
        for species, nu in solute.stoichiometry:
            counts[species] = counts.get(species, 0.0) + nu * units[solute.label]
    return counts


def _exact_units(
    solutes: list[_Solute], comps: dict[str, Component], base: dict[str, float]
) -> dict[str, float]:
    """Formula units (floats) of each solute, solved self-consistently (fixed point)."""
    units = {s.label: 0.0 for s in solutes}
    for _ in range(500):
        counts = _with_solutes(base, solutes, units)
        new = {}
        for s in solutes:
            c = s.concentration
            new[s.label] = c.value * _per_unit(s, c.unit, comps, counts)
        if any(not math.isfinite(v) or v > 1e3 * sum(base.values()) for v in new.values()):
            break
        if all(abs(new[k] - units[k]) <= 1e-9 * max(1.0, new[k]) for k in units):
            return new
        units = new
    raise CompositionError(
        "the requested concentrations cannot be realised: the solutes would take more than "
        "the whole solution (check units, e.g. 'M' vs 'mM', 'wt%' below 100)"
    )


def compose(design: Design, n_water: int) -> Composition:
    """Integer counts for ``n_water`` waters; raises when a solute rounds to zero.

    Parameters
    ----------
    design : Design
    n_water : int
        Water molecules.

    Raises
    ------
    CompositionError
        When a solute rounds to zero molecules.
    """
    comps = components_of(design)
    base = _solvent_counts(design, comps, n_water)
    solutes = _solutes(design, comps)
    exact = _exact_units(solutes, comps, base)
    for key in list(base):
        if key != "water" and round(base[key]) == 0:
            raise CompositionError(_too_small(key, base[key], n_water))
    units = {}
    for label, x in exact.items():
        units[label] = round(x)
        if units[label] == 0:
            raise CompositionError(_too_small(label, x, n_water))
    solvent = {k: float(round(v)) for k, v in base.items()}
    counts = {k: int(round(v)) for k, v in _with_solutes(solvent, solutes, units).items()}
    result = Composition(comps, counts)
    for s in solutes:
        c = s.concentration
        achieved = units[s.label] / _per_unit(
            s, c.unit, comps, {k: float(v) for k, v in counts.items()}
        )
        result.concentrations.append(
            {
                "solute": s.label,
                "requested": c.text,
                "requested_value": c.value,
                "achieved": achieved,
                "unit": c.unit,
                "formula_units": units[s.label],
            }
        )
    return result


def _too_small(label: str, exact: float, n_water: int) -> str:
    need = math.ceil(n_water / max(exact, 1e-12))
    return (
        f"{label} gives {exact:.3g} molecules in a box of {n_water} waters, which rounds to "
        f"zero; use n_water >= {need} (or a larger n_atoms/edge)"
    )


def size_box(design: Design) -> Composition:
    """Composition sized by the design's ``[box]``: n_water, n_atoms or edge; checked by
    ``check_feasible`` before anything is packed.

    Parameters
    ----------
    design : Design
    """
    box = design.box
    if box.n_water is not None:
        comp = compose(design, box.n_water)
    else:
        probe_waters = 100_000  # composition is linear in n_water up to rounding
        probe = compose(design, probe_waters)
        if box.n_atoms is not None:
            n_water = round(box.n_atoms * probe_waters / probe.n_atoms)
        else:
            n_water = round(box.edge.nm**3 * probe_waters / probe.volume_nm3)
        comp = compose(design, max(n_water, 1))
    check_feasible(design, comp)
    return comp


def _salt_key(ions) -> tuple:
    return tuple(sorted(ions))


_SOLUBLE = {_salt_key(parse_salt(f).ions): (f, g) for f, g in SOLUBILITY_G_PER_100G.items()}


def check_feasible(design: Design, comp: Composition) -> None:
    """Refuse a salt above its solubility in water, or fewer than MIN_SOLVENT_PER_ION solvent
    molecules per ion, unless ``[box] allow_supersaturated = true`` (then a warning).

    Parameters
    ----------
    design : Design
    comp : Composition
        The sized composition.

    Raises
    ------
    CompositionError
        For a supersaturated or too concentrated box without ``allow_supersaturated``.
    """
    problems = []
    water_g = comp.counts.get("water", 0) * comp.components["water"].mass / AVOGADRO_PER_MOL
    for k, (c, salt) in enumerate(zip(comp.concentrations, design.salts, strict=False)):
        known = _SOLUBLE.get(_salt_key(salt.salt.ions))
        if known is None or water_g <= 0:
            continue
        mass = sum(comp.components[s].mass * n for s, n in salt.salt.ions)
        molality = c["formula_units"] / AVOGADRO_PER_MOL / (water_g / 1000.0)
        limit = known[1] / 100.0 / mass * 1000.0
        if molality > limit:
            problems.append(
                f"salts.{k}: {salt.formula} at {molality:.3g} mol/kg of water exceeds its "
                f"solubility near 25 degC ({limit:.3g} mol/kg, {known[1]:g} g per 100 g water, CRC)"
            )
    n_ions = sum(n for k, n in comp.counts.items() if comp.components[k].role == "ion")
    solvent = sum(
        n for k, n in comp.counts.items() if comp.components[k].role in ("water", "cosolvent")
    )
    if n_ions and solvent / n_ions < MIN_SOLVENT_PER_ION:
        problems.append(
            f"salts: {solvent} solvent molecules for {n_ions} ions "
            f"({solvent / n_ions:.2f} per ion; no liquid solution has fewer than "
            f"{MIN_SOLVENT_PER_ION:g})"
        )
    if not problems:
        return
    text = "; ".join(problems)
    if design.box.allow_supersaturated:
        warn(f"{text}; building anyway ([box] allow_supersaturated = true)")
        return
    raise CompositionError(
        f"{text}. Lower the concentration, or set [box] allow_supersaturated = true to "
        "build it anyway (a supersaturated or glassy study)"
    )
