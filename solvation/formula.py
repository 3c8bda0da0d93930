"""Salt formulas with stoichiometry: 'ZnSO4', 'Zn(OTf)2', 'Na2SO4', 'KAl(SO4)2', 'NH4Cl'.

A design's salts are read here, once (``solvation.design.SaltSpec.salt``). The ions a
formula may hold are the force-field library's: its monatomic ions (``ION_RESNAMES``,
which ``solvation.forcefields.library`` re-exports) and its molecular ions, whose charges
(``MOLECULAR_ION_CHARGES``) the tests check against the library's molecule table.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from solvation.errors import SolvationError

# library monatomic ions -> residue names
ION_RESNAMES = {
    "Li+": "LI",
    "Na+": "NA",
    "K+": "K",
    "Cl-": "CL",
    "Br-": "BR",
    "I-": "I",
    "Mg2+": "MG",
    "Mn2+": "MN",
    "Ni2+": "NI",
    "Zn2+": "ZN",
    "Al3+": "AL",
    "La3+": "LA",
    "Ce3+": "CE",
}
# library molecular ions -> charge (e), as forcefields/data/molecules.toml holds them
MOLECULAR_ION_CHARGES = {
    "SO4": -2,
    "OTf": -1,
    "TFSI": -1,
    "ClO4": -1,
    "OAc": -1,
    "BF4": -1,
    "NO3": -1,
    "NH4": 1,
}
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
        return sum(ion_charge(s) * n for s, n in self.ions)


def ion_charge(species: str) -> int:
    """Charge (e) of an ion a formula may hold.

    Parameters
    ----------
    species : str
        Library monatomic ion ('Zn2+') or molecular ion ('SO4').
    """
    if species in ION_RESNAMES:
        digits = species.rstrip("+-")[-1]
        size = int(digits) if digits.isdigit() else 1
        return -size if species.endswith("-") else size
    return MOLECULAR_ION_CHARGES[species]


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
    if not any(ion_charge(s) > 0 for s in merged) or not any(ion_charge(s) < 0 for s in merged):
        raise FormulaError(f"salt {formula!r} needs at least one cation and one anion")
    if salt.charge != 0:
        detail = " + ".join(f"{n} x {s} ({ion_charge(s):+d})" for s, n in salt.ions)
        raise FormulaError(
            f"salt {formula!r} is not neutral: {detail} = {salt.charge:+d} e; "
            "check the stoichiometry"
        )
    return salt
