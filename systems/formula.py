"""The charge of any library species; ``parse_salt`` and ``FormulaError`` (read by
``solvation.formula``) stay reachable as ``solvation.systems`` API."""

from __future__ import annotations

from solvation.forcefields.library import ION_RESNAMES, molecule_table
from solvation.formula import FormulaError, ion_charge, parse_salt


def species_charge(species: str) -> int:
    """Charge (e) of a library ion or molecular ion.

    Parameters
    ----------
    species : str
        Library ion ('Zn2+') or molecular ion ('SO4').
    """
    if species in ION_RESNAMES:
        return ion_charge(species)
    return molecule_table()[species].charge


__all__ = ["FormulaError", "parse_salt", "species_charge"]
