"""Parse quantities written with units in design files ("2 m", "100 mM", "298.15 K", "5 nm").

Concentration units are domain-specific (``m`` is molality, not metres), so they are
parsed here rather than with a general unit library. Every other unit is a factor to the
unit the function returns (OpenMM's exact definitions: 1 A = 0.1 nm, 1 atm = 1.01325 bar,
1 kcal = 4.184 kJ), so that reading a design or a command line needs no OpenMM import.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from solvation.errors import SolvationError

_NUMBER = r"[-+]?(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?"
_QUANTITY = re.compile(rf"^\s*({_NUMBER})\s*([^\d\s].*?)?\s*$")

CONCENTRATION_UNITS = {
    # unit text -> (canonical unit, factor to canonical)
    "m": ("mol/kg", 1.0),
    "mol/kg": ("mol/kg", 1.0),
    "mm": ("mol/kg", 1e-3),
    "M": ("mol/L", 1.0),
    "mol/L": ("mol/L", 1.0),
    "mol/l": ("mol/L", 1.0),
    "mM": ("mol/L", 1e-3),
    "wt%": ("wt%", 1.0),
    "w%": ("wt%", 1.0),
    "vol%": ("vol%", 1.0),
    "v%": ("vol%", 1.0),
    "mol%": ("mol%", 1.0),
    "mg/mL": ("g/L", 1.0),
    "mg/ml": ("g/L", 1.0),
    "g/L": ("g/L", 1.0),
}
# unit text -> factor to the unit each parser returns (nm, ps, K, bar, kJ/mol/nm^2)
LENGTH_UNITS = {"nm": 1.0, "A": 0.1, "Å": 0.1, "angstrom": 0.1, "pm": 1e-3}
TIME_UNITS = {"fs": 1e-3, "ps": 1.0, "ns": 1e3, "us": 1e6, "µs": 1e6}
TEMPERATURE_UNITS = {"K": 1.0}
PRESSURE_UNITS = {"bar": 1.0, "atm": 1.01325}
POTENTIAL_UNITS = {"V": 1.0, "mV": 1e-3}
KCAL_PER_MOL_A2_IN_KJ_PER_MOL_NM2 = 4.184 * 100.0
FORCE_CONSTANT_UNITS = {
    "kJ/mol/nm^2": 1.0,
    "kJ/mol/nm2": 1.0,
    "kcal/mol/A^2": KCAL_PER_MOL_A2_IN_KJ_PER_MOL_NM2,
    "kcal/mol/A2": KCAL_PER_MOL_A2_IN_KJ_PER_MOL_NM2,
}


class QuantityError(SolvationError, ValueError):
    """A quantity string that cannot be read, or has the wrong kind of unit."""


@dataclass(frozen=True)
class Quantity:
    """A quantity read from text: its value in a canonical unit and the text itself (what
    a design file holds, writes back and hashes).

    Attributes
    ----------
    value : float
        The number, in ``unit``.
    unit : str
        The canonical unit of the kind (nm, ps, K, bar, V, kJ/mol/nm^2, or a concentration
        unit).
    text : str
        The text it was parsed from, unchanged.
    """

    value: float
    unit: str
    text: str

    def __str__(self) -> str:
        return self.text


@dataclass(frozen=True)
class Concentration(Quantity):
    """A concentration: value in one of the canonical units mol/kg, mol/L, wt%, vol%,
    mol% or g/L (mg/mL is read as g/L)."""


@dataclass(frozen=True)
class Length(Quantity):
    """A length; ``value`` in nm."""

    @property
    def nm(self) -> float:
        """The length in nm."""
        return self.value

    @property
    def angstrom(self) -> float:
        """The length in A."""
        return self.value * 10.0


@dataclass(frozen=True)
class Time(Quantity):
    """A time; ``value`` in ps."""

    @property
    def ps(self) -> float:
        """The time in ps."""
        return self.value


@dataclass(frozen=True)
class Temperature(Quantity):
    """A temperature; ``value`` in K."""

    @property
    def kelvin(self) -> float:
        """The temperature in K."""
        return self.value


@dataclass(frozen=True)
class Potential(Quantity):
    """An electric potential (difference); ``value`` in V."""

    @property
    def volts(self) -> float:
        """The potential in V."""
        return self.value


@dataclass(frozen=True)
class ForceConstant(Quantity):
    """A harmonic force constant; ``value`` in kJ/mol/nm^2."""

    @property
    def kj_per_mol_nm2(self) -> float:
        """The force constant in kJ/mol/nm^2."""
        return self.value


@dataclass(frozen=True)
class Ratio:
    """A two-part ratio such as '2:1 v/v' (water : co-solvent).

    Attributes
    ----------
    first, second : float
        The two parts (positive).
    basis : str
        What they divide: 'vol', 'wt' or 'mol'.
    text : str
        The text it was parsed from, unchanged.
    """

    first: float
    second: float
    basis: str
    text: str

    def __str__(self) -> str:
        return self.text


def _split(text: str, what: str) -> tuple[float, str]:
    if isinstance(text, bool):
        raise QuantityError(f"cannot read {what} {text!r}: write a number and a unit, e.g. '2 m'")
    match = _QUANTITY.match(str(text))
    if not match:
        raise QuantityError(f"cannot read {what} {text!r}: write a number and a unit, e.g. '2 m'")
    value = float(match.group(1))
    if not math.isfinite(value):
        raise QuantityError(f"{what} {text!r} is not a finite number")
    return value, (match.group(2) or "").strip()


def concentration(text: str) -> Concentration:
    """Parse a concentration such as '2 m', '1 M', '20 mM', '0.5 wt%', '2 mg/mL'.

    Parameters
    ----------
    text : str
        A number with its unit, e.g. '2 m' (mol/kg), '1 M' (mol/L), '20 mM', '0.5 wt%'.

    Returns
    -------
    Concentration
        Value in its canonical unit.

    Raises
    ------
    QuantityError
        For an unknown unit or a number that cannot be read.
    """
    value, unit = _split(text, "concentration")
    if unit not in CONCENTRATION_UNITS:
        raise QuantityError(
            f"unknown concentration unit {unit!r} in {text!r}; use one of "
            f"{', '.join(CONCENTRATION_UNITS)}"
        )
    if value <= 0:
        raise QuantityError(f"concentration must be positive, got {text!r}")
    canonical, factor = CONCENTRATION_UNITS[unit]
    return Concentration(value * factor, canonical, str(text).strip())


def _with_units(text: str, table: dict[str, float], what: str) -> float:
    """The number of ``text`` times its unit's factor in ``table``."""
    value, unit = _split(text, what)
    if not unit:
        raise QuantityError(
            f"{what} {text!r} has no unit; write e.g. '{value:g} {next(iter(table))}' "
            f"(units: {', '.join(table)})"
        )
    if unit not in table:
        raise QuantityError(
            f"unknown {what} unit {unit!r} in {text!r}; use one of {', '.join(table)}"
        )
    return value * table[unit]


def length_nm(text: str | float) -> float:
    """Length in nm from '5 nm' or '12 A'.

    Parameters
    ----------
    text : str or float
        A length with its unit ('5 nm', '12 A').

    Returns
    -------
    float
        The length in nm.

    Raises
    ------
    QuantityError
        For a missing or unknown unit.
    """
    return _with_units(str(text), LENGTH_UNITS, "length")


TIME_LIMIT_PS = 1.0e8  # 100 us: a longer time is a typo (a unit or an exponent)


def time_ps(text: str | float) -> float:
    """Time in ps from '2 fs', '10 ps', '2 ns'.

    Parameters
    ----------
    text : str or float
        A time with its unit ('2 fs', '10 ps', '2 ns').

    Returns
    -------
    float
        The time in ps.

    Raises
    ------
    QuantityError
        For a missing or unknown unit, or a time beyond ``TIME_LIMIT_PS``.
    """
    ps = _with_units(str(text), TIME_UNITS, "time")
    if abs(ps) > TIME_LIMIT_PS:
        raise QuantityError(
            f"time {text!r} is beyond {TIME_LIMIT_PS / 1e6:g} us, longer than any simulation "
            "this package runs; check the unit"
        )
    return ps


TEMPERATURE_LIMITS_K = (50.0, 1000.0)  # refused outside: no liquid electrolyte, no valid model


def temperature_k(text: str | float) -> float:
    """Temperature in K from '298.15 K'; a number without its unit is refused, and so is a
    temperature outside TEMPERATURE_LIMITS_K (the run heats from 50 K; force fields of
    liquid water and ions are not meant for 1000 K and above).

    Parameters
    ----------
    text : str or float
        A temperature with its unit ('298.15 K').

    Returns
    -------
    float
        The temperature in K.

    Raises
    ------
    QuantityError
        For a missing unit or a temperature outside ``TEMPERATURE_LIMITS_K``.
    """
    kelvin = _with_units(str(text), TEMPERATURE_UNITS, "temperature")
    low, high = TEMPERATURE_LIMITS_K
    if not low <= kelvin <= high:
        raise QuantityError(
            f"temperature {text!r} is outside {low:g}-{high:g} K, where liquid electrolytes "
            "and their force fields make sense"
        )
    return kelvin


PRESSURE_LIMITS_BAR = (0.0, 1.0e4)  # (exclusive, inclusive): a barostat needs p > 0


def pressure_bar(text: str | float) -> float:
    """Pressure in bar from '1 bar' or '1 atm', positive and at most 10 kbar
    (``PRESSURE_LIMITS_BAR``).

    Parameters
    ----------
    text : str or float
        A pressure with its unit ('1 bar', '1 atm').

    Returns
    -------
    float
        The pressure in bar.

    Raises
    ------
    QuantityError
        For a missing or unknown unit, or a pressure outside ``PRESSURE_LIMITS_BAR``.
    """
    bar = _with_units(str(text), PRESSURE_UNITS, "pressure")
    low, high = PRESSURE_LIMITS_BAR
    if not low < bar <= high:
        raise QuantityError(
            f"pressure {text!r} is outside {low:g}-{high:g} bar (positive, and no more than "
            "liquid-state force fields are made for)"
        )
    return bar


def ratio(text: str) -> tuple[float, float, str]:
    """Parse '2:1 v/v' (also w/w, mol/mol) -> (2.0, 1.0, 'vol').

    Parameters
    ----------
    text : str
        Two positive parts and their basis: '2:1 v/v', '3:1 w/w', '1:1 mol/mol' (a ratio
        without its basis is refused: it would be a guess).

    Returns
    -------
    tuple of (float, float, str)
        The two parts and the basis ('vol', 'wt' or 'mol').

    Raises
    ------
    QuantityError
        For text that is not a ratio, a part that is not positive, or no basis.
    """
    match = re.match(rf"^\s*({_NUMBER})\s*:\s*({_NUMBER})\s*(v/v|w/w|m/m|mol/mol)?\s*$", str(text))
    if not match:
        raise QuantityError(f"cannot read ratio {text!r}; write e.g. '2:1 v/v'")
    a, b = float(match.group(1)), float(match.group(2))
    if not (math.isfinite(a) and math.isfinite(b)) or a <= 0 or b <= 0:
        raise QuantityError(f"ratio parts must be positive finite numbers, got {text!r}")
    if match.group(3) is None:
        raise QuantityError(
            f"ratio {text!r} does not say what it divides: add v/v (volumes), w/w (masses) "
            f"or mol/mol, e.g. '{a:g}:{b:g} v/v'"
        )
    kind = {"v/v": "vol", "w/w": "wt", "m/m": "wt", "mol/mol": "mol"}[match.group(3)]
    return a, b, kind


def force_constant(text: str | float) -> float:
    """Harmonic force constant in kJ/mol/nm^2 from '4184 kJ/mol/nm^2' or '10 kcal/mol/A^2'.

    Parameters
    ----------
    text : str or float
        A force constant with its unit ('4184 kJ/mol/nm^2', '10 kcal/mol/A^2').

    Returns
    -------
    float
        The force constant in kJ/mol/nm^2.

    Raises
    ------
    QuantityError
        For a missing or unknown unit or a value that is not positive.
    """
    k = _with_units(str(text), FORCE_CONSTANT_UNITS, "force constant")
    if k <= 0:
        raise QuantityError(f"force constant must be positive, got {text!r}")
    return k


def potential_v(text: str | float) -> float:
    """Electric potential (difference) in V from '1 V' or '-500 mV'.

    Parameters
    ----------
    text : str or float
        A potential with its unit ('1 V', '-500 mV').

    Returns
    -------
    float
        The potential in V.

    Raises
    ------
    QuantityError
        For a missing or unknown unit.
    """
    value, unit = _split(str(text), "potential")
    if unit not in POTENTIAL_UNITS:
        raise QuantityError(f"unknown potential unit {unit!r} in {text!r}; use V or mV")
    return value * POTENTIAL_UNITS[unit]
