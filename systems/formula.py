"""Salt formulas with stoichiometry: 'ZnSO4', 'Zn(OTf)2', 'Na2SO4', 'KAl(SO4)2', 'NH4Cl'."""

from __future__ import annotations

import re
from dataclasses import dataclass

from solvation.errors import SolvationError
from solvation.forcefields.library import ION_RESNAMES, molecule_table

# Symbols that may appear in a formula -> library species name.
_MONATOMIC = {s.rstrip("+-").rstrip("23"): s for s in ION_RESNAMES}
_POLYATOMIC = {
    "SO4": "SO4",
    "OTf": "OTf",
    "CF3SO3": "OTf",
    "TFSI": "TFSI",
    "NTf2": "TFSI",
    "ClO4": "ClO4",
    "OAc": "OAc",
    "CH3COO": "OAc",
    "BF4": "BF4",
    "NO3": "NO3",
    "NH4": "NH4",
}
SYMBOLS = {**_MONATOMIC, **_POLYATOMIC}


class FormulaError(SolvationError):
    """A salt formula that cannot be read or is not neutral."""


@dataclass(frozen=True)
class Salt:
    """A salt: formula text and its ions with stoichiometric counts per formula unit.

    Attributes
    ----------
    formula : str
        Formula text.
    ions : tuple of (str, int)
        Ion species and count per formula unit.
    """

    formula: str
    ions: tuple[tuple[str, int], ...]  # (species, count)

    @property
    def charge(self) -> int:
        """Net charge of one formula unit (e); 0 for a valid salt."""
        return sum(species_charge(s) * n for s, n in self.ions)


def species_charge(species: str) -> int:
    """Charge (e) of a library ion or molecular ion.

    Parameters
    ----------
    species : str
        Library ion ('Zn2+') or molecular ion ('SO4').
    """
    if species in ION_RESNAMES:
        digits = species.rstrip("+-")[-1]
        size = int(digits) if digits.isdigit() else 1
        return -size if species.endswith("-") else size
    return molecule_table()[species].charge


def _tokens(text: str, formula: str) -> list[tuple[str, int]]:
    out, pos = [], 0
    while pos < len(text):
        if text[pos] == "(":
            end = text.find(")", pos)
            if end < 0:
                raise FormulaError(f"unbalanced parenthesis in salt formula {formula!r}")
            inner = _tokens(text[pos + 1 : end], formula)
            count = re.match(r"\d*", text[end + 1 :]).group()
            out += [(s, n * int(count or 1)) for s, n in inner]
            pos = end + 1 + len(count)
            continue
        symbol = max((s for s in SYMBOLS if text.startswith(s, pos)), key=len, default=None)
        if symbol is None:
            raise FormulaError(
                f"cannot read {text[pos:]!r} in salt formula {formula!r}; known ions: "
                f"{', '.join(sorted(SYMBOLS))}"
            )
        count = re.match(r"\d*", text[pos + len(symbol) :]).group()
        out.append((SYMBOLS[symbol], int(count or 1)))
        pos += len(symbol) + len(count)
    return out


def parse_salt(formula: str) -> Salt:
    """Parse a salt formula into ions and counts; refuse formulas that are not neutral.

    Parameters
    ----------
    formula : str
        Salt formula, e.g. 'ZnSO4', 'Zn(OTf)2'.

    Raises
    ------
    FormulaError
        For unknown ions or a formula that is not neutral.
    """
    text = formula.strip().replace(" ", "")
    merged: dict[str, int] = {}
    for species, n in _tokens(text, formula):
        merged[species] = merged.get(species, 0) + n
    salt = Salt(formula, tuple(merged.items()))
    if not any(species_charge(s) > 0 for s in merged) or not any(
        species_charge(s) < 0 for s in merged
    ):
        raise FormulaError(f"salt {formula!r} needs at least one cation and one anion")
    if salt.charge != 0:
        detail = " + ".join(f"{n} x {s} ({species_charge(s):+d})" for s, n in salt.ions)
        raise FormulaError(
            f"salt {formula!r} is not neutral: {detail} = {salt.charge:+d} e; "
            "check the stoichiometry"
        )
    return salt
