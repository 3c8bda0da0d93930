"""What each model family is validated for: the rows of docs/validation.md that
``solvation validate --profile cpu`` measured, stored in ``data/family_validation.toml``
with the simulated value, its standard error and experiment, so that every sentence a user
reads (``solvation run``, build.json) is computed from the numbers and cannot disagree
with them.

``box_status(family, salts, others)`` gives, for one box, the validated statements of its
salts and what in the box no row covers.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import cache

from .common import DATA

STATUS_FILE = "family_validation.toml"


@dataclass(frozen=True)
class StatusRow:
    """One validated quantity of one family and salt, at one or more molalities.

    Attributes
    ----------
    family, salt, quantity, unit : str
    molality : tuple of float
        mol/kg.
    simulated, error, experiment : tuple of float
        Per molality, in ``unit`` (error: standard error; NaN: unknown).
    source : str
        Where the numbers come from (command and date).
    style : str
        'percent' (deviation in % of experiment) or 'value' (the values and experiment's).
    """

    family: str
    salt: str
    quantity: str
    unit: str
    molality: tuple[float, ...]
    simulated: tuple[float, ...]
    error: tuple[float, ...]
    experiment: tuple[float, ...]
    source: str
    style: str = "percent"

    def deviations_percent(self) -> list[float]:
        """(simulated / experiment - 1) x 100 per molality."""
        return [100.0 * (s / e - 1.0) for s, e in zip(self.simulated, self.experiment, strict=True)]

    def sentence(self) -> str:
        """'ZnSO4 density +0.2, +0.1, -0.2% from experiment at 0.5-2 m (worst 0.2%)', or for
        style 'value' 'ZnSO4 Zn-O peak 2.09-2.10 A at 0.5-2 m (experiment 2.09 A)'. A row
        that fails says so by its numbers: 'ZnSO4 viscosity -32.8% from experiment at 1 m'."""
        span = f"{min(self.molality):g}-{max(self.molality):g} m"
        if len(self.molality) == 1:
            span = f"{self.molality[0]:g} m"
        where = f" at {span}" if self.salt != "water" else ""
        if self.style == "value":
            low, high = min(self.simulated), max(self.simulated)
            values = f"{low:g}" if low == high else f"{low:g}-{high:g}"
            exp = ", ".join(f"{e:g}" for e in sorted(set(self.experiment)))
            return f"{self.salt} {self.quantity} {values} {self.unit}{where} (experiment {exp})"
        dev = self.deviations_percent()
        worst = max(abs(d) for d in dev)
        each = ", ".join(f"{d:+.1f}" for d in dev)
        if len(dev) == 1:
            return f"{self.salt} {self.quantity} {each}% from experiment{where}"
        return f"{self.salt} {self.quantity} {each}% from experiment{where} (worst {worst:.1f}%)"


@cache
def _table() -> tuple[str, tuple[StatusRow, ...]]:
    raw = tomllib.loads((DATA / STATUS_FILE).read_text())
    rows = tuple(
        StatusRow(
            family=r["family"],
            salt=r["salt"],
            quantity=r["quantity"],
            unit=r["unit"],
            molality=tuple(r["molality"]),
            simulated=tuple(r["simulated"]),
            error=tuple(float(e) for e in r["error"]),
            experiment=tuple(r["experiment"]),
            source=raw["source"],
            style=r.get("style", "percent"),
        )
        for r in raw["rows"]
    )
    return raw["source"], rows


def status_rows(family: str) -> list[StatusRow]:
    """The validated rows of ``family``.

    Parameters
    ----------
    family : str
        'full' or 'scaled'.
    """
    return [r for r in _table()[1] if r.family == family]


def box_status(family: str, salts: list[str], others: list[str]) -> dict:
    """Validation status of one box: the sentences of the rows of its salts and of its
    water model (rows of salt 'water'), and the salts and other components (additives,
    co-solvents, slab) that no row covers.

    Parameters
    ----------
    family : str
        'full' or 'scaled'.
    salts : list of str
        Salt formulas of the box.
    others : list of str
        Other components, described ('additive xylitol', 'Zn(002) slab').
    """
    rows = status_rows(family)
    covered = {r.salt for r in rows}
    validated = [r.sentence() for r in rows if r.salt in salts or r.salt == "water"]
    missing = [f"salt {s}" for s in salts if s not in covered] + list(others)
    return {
        "family": family,
        "validated": validated,
        "not_validated": missing,
        "source": _table()[0],
    }
