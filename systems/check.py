"""Check a design against the force-field library before anything expensive runs.

``solvation.design`` holds every rule a design obeys by itself (units, ranges, tables that
need each other); every check that needs the library is here, in one place: the names in
a design (water model, salts, molecules, per-ion and per-molecule overrides), the model
family's coverage (``solvation.forcefields.family``, called from here for designs), the
substrate and its facet, and the species a [pmf] names. The library lives above the core,
so these cannot run when the design is loaded.
"""

from __future__ import annotations

from solvation.design import Design, DesignError
from solvation.errors import SolvationError
from solvation.forcefields.family import check_family, check_species
from solvation.forcefields.library import (
    ION_RESNAMES,
    ION_SETS,
    canonical_ion,
    molecule,
    water_model,
)
from solvation.forcefields.molecules import METHODS
from solvation.forcefields.substrates import material as substrate


def _species(design: Design) -> set[str]:
    """Library species of the design's salts."""
    return {s for salt in design.salts for s, _ in salt.salt.ions}


def _check(where: str, func, *args) -> None:
    """Call ``func``; its error (same type) gets the design field as a prefix."""
    try:
        func(*args)
    except SolvationError as err:
        raise type(err)(f"invalid design: {where}: {err}") from None


def _check_family(design: Design) -> None:
    """The family's water model, charge scale and species (salts, additives, co-solvents,
    adsorbed molecules by library name)."""
    ff = design.forcefield
    overrides = {"ions": ff.ions, "methods": ff.methods}
    _check(
        "forcefield.family",
        check_family,
        ff.family,
        water_model(design.water.model).name,
        ff.charge_scale,
        overrides,
    )
    for k, salt in enumerate(design.salts):
        for species, _ in salt.salt.ions:
            _check(f"salts.{k}.formula", check_species, ff.family, species)
    named = [
        (f"{t}.{k}", s)
        for t in ("additives", "cosolvents")
        for k, s in enumerate(getattr(design, t))
    ]
    if design.slab is not None and design.slab.adsorbed is not None:
        named.append(("slab.adsorbed", design.slab.adsorbed))
    for where, spec in named:  # a SMILES molecule follows the family's SMILES rule
        if spec.name:
            _check(where, check_species, ff.family, molecule(spec.name).name)


def check_design(design: Design) -> None:
    """Raise DesignError naming the field when a name in ``design`` is unknown, an
    override names a species that is not in the box, or the model family does not cover
    the design.

    Parameters
    ----------
    design : Design

    Raises
    ------
    DesignError
        Naming the first field that fails.
    """
    _check("water.model", water_model, design.water.model)
    for k, salt in enumerate(design.salts):
        _check(f"salts.{k}.formula", getattr, salt, "salt")  # reads the formula, once
    for table in ("additives", "cosolvents"):
        for k, spec in enumerate(getattr(design, table)):
            if spec.name is not None:
                _check(f"{table}.{k}.name", molecule, spec.name)
    if design.slab is not None and design.slab.adsorbed and design.slab.adsorbed.name:
        _check("slab.adsorbed.name", molecule, design.slab.adsorbed.name)
    _check_family(design)
    _check_slab(design)
    present = _species(design)
    _check_pmf(design, present)
    for ion, set_name in design.forcefield.ions.items():
        name = canonical_ion(ion)
        if name is None or name not in ION_RESNAMES:
            raise DesignError(f"invalid design: forcefield.ions: {ion!r} is not a library ion")
        if name not in present:
            raise DesignError(
                f"invalid design: forcefield.ions: {ion!r} is not in the box (its ions: "
                f"{', '.join(sorted(s for s in present if s in ION_RESNAMES)) or 'none'})"
            )
        if set_name.strip().lower().replace("1264", "12-6-4") not in ION_SETS:
            raise DesignError(
                f"invalid design: forcefield.ions.{ion}: unknown set {set_name!r}; "
                f"use one of {', '.join(ION_SETS)}"
            )
    molecules = present | {
        molecule(s.name).name for s in design.additives + design.cosolvents if s.name
    }
    for name, method in design.forcefield.methods.items():
        if name not in molecules:
            raise DesignError(
                f"invalid design: forcefield.methods: {name!r} is not a molecule of this box "
                f"({', '.join(sorted(molecules - set(ION_RESNAMES))) or 'none'})"
            )
        if method not in METHODS:
            raise DesignError(
                f"invalid design: forcefield.methods.{name}: unknown method {method!r}; "
                f"use one of {', '.join(METHODS)}"
            )


def _check_slab(design: Design) -> None:
    """The substrate and facet exist; electrodes and mobile slabs only where they make
    sense (a metal; hcp Zn for a mobile slab)."""
    spec = design.slab
    if spec is None:
        return
    _check("slab.material", substrate, spec.material)
    mat = substrate(spec.material)
    _check("slab.facet", mat.facet, spec.facet)
    if design.electrode is not None and mat.kind != "metal":
        raise DesignError(
            f"invalid design: [electrode] needs a metal slab; {mat.name} is {mat.kind} "
            "(its frozen atoms carry fixed charges)"
        )
    if not spec.frozen and mat.name != "Zn":
        raise DesignError(
            f"invalid design: slab.frozen = false works for Zn only: the {mat.name} model "
            "(Lennard-Jones and fixed charges, no bonds) does not hold a lattice together"
        )


def _check_pmf(design: Design, present: set[str]) -> None:
    """A [pmf] table names an ion that is in the box (its slab: ``solvation.design``); a
    pair PMF (``pair``) does not: ``solvation pmf`` checks its species before anything
    runs."""
    if design.pmf is None or design.pmf.pair is not None:
        return
    ion = canonical_ion(design.pmf.ion)
    if ion is None or ion not in present:
        raise DesignError(
            f"invalid design: pmf.ion: {design.pmf.ion!r} is not an ion of this box "
            f"({', '.join(sorted(s for s in present if s in ION_RESNAMES)) or 'none'})"
        )
