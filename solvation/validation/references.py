"""Reference data for ``solvation validate``: YAML entries (value, uncertainty, unit,
conditions, citation), checked on load, and the comparison of a simulated value with one.

The shipped file is ``solvation/validation/data/reference_data.yaml``; users add their own
with ``--reference``. The deviation is given in units of the combined uncertainty,
(x_sim - x_ref) / sqrt(u_sim^2 + u_ref^2), and a quantity passes within 2 of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from solvation.errors import SolvationError
from solvation.inputs import InputError, read_text

UNITS = {
    "angstrom": ("length", 1e-10),
    "nm": ("length", 1e-9),
    "m2/s": ("diffusion", 1.0),
    "1e-9 m2/s": ("diffusion", 1e-9),
    "cm2/s": ("diffusion", 1e-4),
    "g/cm3": ("density", 1.0),
    "kg/m3": ("density", 1e-3),
    "mPa s": ("viscosity", 1e-3),
    "Pa s": ("viscosity", 1.0),
    "1": ("number", 1.0),
}
QUANTITIES = {
    "zn_o_first_peak": "length",
    "zn_first_shell_cn": "number",
    "zn_second_shell_cn": "number",
    "zn_self_diffusion": "diffusion",
    "water_density": "density",
    "water_self_diffusion": "diffusion",
    "hbonds_per_water": "number",
    "solution_density": "density",
    "cip_fraction": "number",
    "osmotic_coefficient": "number",
    "water_activity": "number",
    "log10_ka": "number",
    "shear_viscosity": "viscosity",
    "relative_viscosity": "number",
}
REQUIRED = ("quantity", "system", "value", "uncertainty", "unit", "conditions", "citation")
PASS_SIGMA = 2.0


class ReferenceError_(SolvationError):
    """A reference entry that cannot be used."""


@dataclass(frozen=True)
class Reference:
    """One reference value of the shipped or a user's YAML file.

    Attributes
    ----------
    quantity : str
        E.g. density, diffusion.
    system : str
        Reference system key (e.g. 'water', 'znso4_1m').
    value, uncertainty : float
        In ``unit``.
    unit : str
        A key of ``UNITS``.
    conditions : str
    citation : str
    """

    quantity: str
    system: str
    value: float
    uncertainty: float
    unit: str
    conditions: str
    citation: str

    @property
    def si(self) -> tuple[float, float]:
        """(value, uncertainty) in SI units."""
        factor = UNITS[self.unit][1]
        return self.value * factor, self.uncertainty * factor


def _check_entry(entry: dict, source: str, index: int) -> Reference:
    where = f"{source} entry {index + 1}"
    if not isinstance(entry, dict):
        raise ReferenceError_(f"{where}: expected a mapping with {', '.join(REQUIRED)}")
    missing = [k for k in REQUIRED if k not in entry or entry[k] in (None, "")]
    if missing:
        raise ReferenceError_(
            f"{where}: missing {', '.join(missing)} (every entry needs {', '.join(REQUIRED)})"
        )
    quantity, unit = entry["quantity"], str(entry["unit"])
    if quantity not in QUANTITIES:
        raise ReferenceError_(
            f"{where}: unknown quantity {quantity!r}; known: {', '.join(QUANTITIES)}"
        )
    if unit not in UNITS:
        raise ReferenceError_(f"{where}: unknown unit {unit!r}; use one of {', '.join(UNITS)}")
    if UNITS[unit][0] != QUANTITIES[quantity]:
        raise ReferenceError_(
            f"{where}: {quantity} is a {QUANTITIES[quantity]}, but unit "
            f"{unit!r} is a {UNITS[unit][0]}"
        )
    for key in ("value", "uncertainty"):
        try:
            float(entry[key])
        except (TypeError, ValueError):
            raise ReferenceError_(f"{where}: {key} {entry[key]!r} is not a number") from None
    if float(entry["uncertainty"]) < 0:
        raise ReferenceError_(f"{where}: uncertainty must not be negative")
    return Reference(
        quantity,
        str(entry["system"]),
        float(entry["value"]),
        float(entry["uncertainty"]),
        unit,
        str(entry["conditions"]),
        str(entry["citation"]),
    )


def load_references(paths: list[str | Path] | None = None) -> list[Reference]:
    """The shipped reference data plus ``paths``; every entry is checked.

    Parameters
    ----------
    paths : list of str or Path, optional
        User YAML files.

    Raises
    ------
    ReferenceError_
        For a missing file or an invalid entry.
    """
    sources = [
        (
            "shipped reference_data.yaml",
            (resources.files("solvation.validation") / "data" / "reference_data.yaml").read_text(),
        )
    ]
    for p in paths or []:
        try:
            sources.append((str(p), read_text(p, "reference file")))
        except InputError as err:
            raise ReferenceError_(str(err)) from None
    out = []
    for name, text in sources:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as err:
            where = getattr(err, "problem_mark", None)
            line = f" (line {where.line + 1})" if where is not None else ""
            problem = getattr(err, "problem", None) or type(err).__name__
            raise ReferenceError_(f"{name} is not valid YAML{line}: {problem}") from None
        if not isinstance(data, list):
            raise ReferenceError_(f"{name}: expected a list of entries")
        out += [_check_entry(e, name, k) for k, e in enumerate(data)]
    return out


@dataclass(frozen=True)
class Comparison:
    """A simulated value against a reference, in the reference's unit.

    Attributes
    ----------
    quantity, model : str
    simulated, simulated_err : float
        Simulated value and its standard error (``unit``).
    reference, reference_err : float
        Reference value and its uncertainty (``unit``).
    unit : str
    deviation_sigma : float
        (simulated - reference) in units of the combined uncertainty; NaN when the
        simulated value has no finite error (not converged).
    passed : bool
        ``|deviation_sigma| <= PASS_SIGMA`` (False for a NaN deviation).
    citation, conditions, system : str
    """

    quantity: str
    model: str
    simulated: float
    simulated_err: float
    reference: float
    reference_err: float
    unit: str
    deviation_sigma: float
    passed: bool
    citation: str
    conditions: str
    system: str = ""


def compare(
    quantity: str, model: str, value_si: float, err_si: float, ref: Reference, system: str = ""
) -> Comparison:
    """Simulated value (SI) against a reference, in the reference's unit.

    Parameters
    ----------
    quantity : str
    model : str
        Model label.
    value_si, err_si : float
        Simulated value and its standard error (SI).
    ref : Reference
    system : str
        Reference system key (default the reference's).
    """
    factor = UNITS[ref.unit][1]
    sim, sim_err = value_si / factor, (err_si / factor if np.isfinite(err_si) else math.inf)
    combined = math.hypot(sim_err, ref.uncertainty)
    # no finite error (the estimate did not converge): no deviation, and no pass
    dev = (sim - ref.value) / combined if 0 < combined < math.inf else math.nan
    return Comparison(
        quantity,
        model,
        sim,
        sim_err,
        ref.value,
        ref.uncertainty,
        ref.unit,
        dev,
        bool(abs(dev) <= PASS_SIGMA),
        ref.citation,
        ref.conditions,
        system or ref.system,
    )
