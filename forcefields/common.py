"""What the library's modules share: the data folder, unit conversions of published
parameters, and the error for a name the library does not hold."""

from __future__ import annotations

import difflib
from importlib import resources

from solvation.errors import SolvationError

DATA = resources.files("solvation.forcefields") / "data"
KCAL = 4.184  # kJ per kcal (thermochemical)
RMIN_TO_SIGMA = 2.0 / 2.0 ** (1.0 / 6.0)  # sigma = 2 * Rmin/2 / 2^(1/6)


class UnknownName(SolvationError, KeyError):
    """A species, water model, material or parameter set that the library does not hold."""

    def __str__(self) -> str:  # KeyError quotes its message; show it plainly
        return str(self.args[0])


def unknown(kind: str, name: str, choices: list[str]) -> UnknownName:
    """Build an error naming the closest matches among ``choices``.

    Parameters
    ----------
    kind : str
        What was looked up ('ion', 'water model' ...).
    name : str
        The name given.
    choices : list of str
        The known names.
    """
    lowered = {c.lower(): c for c in choices}
    close = difflib.get_close_matches(name.lower(), list(lowered), n=4, cutoff=0.4)
    hint = f"; did you mean {', '.join(lowered[c] for c in close)}?" if close else ""
    return UnknownName(f"unknown {kind} {name!r}{hint} (known: {', '.join(sorted(choices))})")
