"""Molecule counts from concentrations, with the concentration actually reached.

Conventions (all per the design's solvent = water + co-solvents):

- ``m``: mol solute per kg solvent; ``M``/``mM``: mol per L of solution;
  ``wt%``: solute mass / solution mass; ``vol%``: solute volume / solution volume
  (pure-component volumes); ``mol%``: solute molecules / all molecules;
  ``mg/mL``: solute mass per solution volume. Salts count formula units.
- Co-solvents: ``vol%``/``wt%``/``mol%`` of the solvent, or ``ratio = "2:1 v/v"``
  water:co-solvent.

Solution volume (needed by M, vol%, mg/mL and by the box edge) is an estimate:
ideal additivity of molar volumes, V = sum_i n_i v_i, with v = M/rho for water and
molecules (pure-substance densities of the library) and approximate infinite-dilution
partial molar volumes for ions (``ION_VOLUMES``). The run stage reports the density
reached after NPT.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from solvation.constants import AVOGADRO_PER_MOL, WATER_DENSITY_298K_G_PER_CM3
from solvation.design import Design
from solvation.errors import SolvationError
from solvation.forcefields.library import ION_RESNAMES, molecule, molecule_table
from solvation.forcefields.molecules import to_molecule
from solvation.quantities import concentration, length_nm, ratio

from .formula import parse_salt
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


class CompositionError(SolvationError):
    """Concentrations that cannot be realised in the requested box."""


@dataclass(frozen=True)
class Component:
    """One molecular species of a box."""

    key: str  # species name (Zn2+, SO4, water, xylitol, or the SMILES of a custom molecule)
    role: str  # water | ion | additive | cosolvent
    template: ResidueTemplate
    volume_cm3_per_mol: float
    smiles: str | None = None
    density_estimated: bool = False

    @property
    def mass(self) -> float:
        return self.template.mass_dalton


@dataclass
class Composition:
    """Counts of every component, and requested vs achieved concentrations."""

    components: dict[str, Component]
    counts: dict[str, int]
    concentrations: list[dict] = field(default_factory=list)

    @property
    def volume_nm3(self) -> float:
        """Estimated solution volume (nm^3)."""
        return _volume_cm3(self.components, self.counts) / AVOGADRO_PER_MOL * 1e21

    @property
    def mass_g(self) -> float:
        return sum(self.components[k].mass * n for k, n in self.counts.items()) / AVOGADRO_PER_MOL

    @property
    def density_g_per_cm3(self) -> float:
        return self.mass_g / (self.volume_nm3 * 1e-21)

    @property
    def charge(self) -> int:
        return sum(self.components[k].template.charge * n for k, n in self.counts.items())

    @property
    def n_atoms(self) -> int:
        return sum(self.components[k].template.n_atoms * n for k, n in self.counts.items())


def _volume_cm3(components: dict[str, Component], counts: dict[str, float]) -> float:
    return sum(components[k].volume_cm3_per_mol * n for k, n in counts.items())


def molecule_component(
    name: str | None, smiles: str | None, role: str, resname: str | None, index: int
) -> Component:
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
    """Components of a design and the stoichiometry of each salt (ions per formula unit)."""
    comps = {
        "water": Component(
            "water",
            "water",
            water_template(),
            water_template().mass_dalton / WATER_DENSITY_298K_G_PER_CM3,
        )
    }
    for salt in design.salts:
        for species, _ in parse_salt(salt.formula).ions:
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
            a, b, kind = ratio(spec.ratio)
            amount_water = _UNIT_AMOUNT[kind](water, n_water)
            counts[comp.key] = amount_water * b / a / _UNIT_AMOUNT[kind](comp, 1.0)
        else:
            c = concentration(spec.fraction)
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
    text: str  # requested concentration as written
    stoichiometry: tuple[tuple[str, int], ...]


def _solutes(design: Design, comps: dict[str, Component]) -> list[_Solute]:
    out = [_Solute(s.formula, s.concentration, parse_salt(s.formula).ions) for s in design.salts]
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
            c = concentration(s.text)
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
    """Integer counts for ``n_water`` waters; raises when a solute rounds to zero."""
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
        c = concentration(s.text)
        achieved = units[s.label] / _per_unit(
            s, c.unit, comps, {k: float(v) for k, v in counts.items()}
        )
        result.concentrations.append(
            {
                "solute": s.label,
                "requested": s.text,
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
    """Composition sized by the design's ``[box]``: n_water, n_atoms or edge."""
    box = design.box
    if box.n_water is not None:
        return compose(design, box.n_water)
    probe_waters = 100_000  # composition is linear in n_water up to rounding
    probe = compose(design, probe_waters)
    if box.n_atoms is not None:
        n_water = round(box.n_atoms * probe_waters / probe.n_atoms)
    else:
        n_water = round(length_nm(box.edge) ** 3 * probe_waters / probe.volume_nm3)
    return compose(design, max(n_water, 1))
