"""Salt formulas (read by ``solvation.formula``) and the charge of any library species."""

from __future__ import annotations

from solvation.forcefields.library import ION_RESNAMES, molecule_table
from solvation.formula import SYMBOLS, FormulaError, Salt, ion_charge, parse_salt


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


__all__ = ["SYMBOLS", "FormulaError", "Salt", "parse_salt", "species_charge"]
