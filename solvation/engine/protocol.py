"""The run protocol: minimisation, NVT heating, NPT equilibration, production.

Defaults follow common practice for aqueous electrolytes: LangevinMiddleIntegrator at
1/ps, 2 fs with bonds to H constrained and rigid water (4 fs with hydrogen mass
repartitioning to 3 amu), PME, MonteCarloBarostat at 1 bar every 25 steps (z only for
slabs), 500 ps of equilibration (20% heating, 80% NPT), NVT production at the NPT
density. Every length of time and interval carries its unit.

An optional annealing stage (``anneal = { temperature = "400 K", time = "2 ns" }``) runs
NVT at the higher temperature after NPT equilibration, so that slow degrees of freedom
(Zn2+ first-shell exchange, ion pairing) can relax, then NVT at the run temperature for
``cool`` (default 10% of the annealing time, at least 10 ps) before production.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, replace

from solvation.errors import SolvationError
from solvation.quantities import (
    QuantityError,
    Temperature,
    pressure_bar,
    temperature_k,
    time_ps,
)

# fields that may change between invocations of one run (they change neither the physics
# nor the outputs); every other field is fixed once a run has started, except that the
# settings of a stage no longer matter once the stage is done (STAGE_FIELDS)
EXECUTION_FIELDS = ("checkpoint_every_ps",)
STAGE_FIELDS = {
    "minimize_tolerance_kj_mol_nm": "minimize",
    "minimize_max_iterations": "minimize",
}
EXECUTION_KEYS = ("checkpoint_every",)  # their option names (``protocol_from`` keys)

# the periodic-perturbation viscosity run (``engine.viscosity``, ``run --viscosity``)
DEFAULT_ACCELERATION = 0.02  # nm/ps^2: shear rate V k well below 0.1/ps for water boxes
DEFAULT_TIME_PS = 200.0


class ProtocolError(SolvationError):
    """A protocol value that is missing its unit or is out of range."""


@dataclass(frozen=True)
class Protocol:
    """Run settings; times in ps, temperature in K, pressure in bar.

    Attributes
    ----------
    temperature_k : float
        Thermostat temperature (K).
    pressure_bar : float
        Barostat pressure (bar).
    production_ps, equilibration_ps : float
        Production and equilibration times (ps).
    heating_fraction : float
        Fraction of the equilibration spent heating from ``heating_start_k``.
    heating_start_k : float
        Starting temperature of the heating (K).
    anneal_temperature_k : float or None
        Annealing temperature (K); None: no annealing stage.
    anneal_ps, anneal_cool_ps : float
        Annealing and cooling times (ps).
    ensemble : str
        Production ensemble, 'NVT' or 'NPT'.
    timestep_fs : float
        Time step (fs).
    hmr : bool
        Hydrogen mass repartitioning.
    hydrogen_mass_amu : float
        Hydrogen mass with ``hmr`` (Da).
    friction_per_ps : float
        Langevin friction (1/ps).
    barostat_interval : int
        Steps between barostat moves.
    report_every_ps, checkpoint_every_ps : float
        Report and checkpoint intervals (ps).
    minimize_tolerance_kj_mol_nm : float
        Minimiser tolerance: root-mean-square force component (kJ/mol/nm) at which it
        stops.
    minimize_max_iterations : int
    trajectory_format : str
        'xtc' or 'dcd'.
    max_energy_kj_mol_per_atom : float
        Potential energy per atom (kJ/mol) above which (or NaN) the run stops.
    """

    temperature_k: float = 298.15
    pressure_bar: float = 1.0
    production_ps: float = 2000.0
    equilibration_ps: float = 500.0
    heating_fraction: float = 0.2
    heating_start_k: float = 50.0
    anneal_temperature_k: float | None = None  # None: no annealing stage
    anneal_ps: float = 0.0
    anneal_cool_ps: float = 0.0
    ensemble: str = "NVT"  # production ensemble: NVT | NPT
    timestep_fs: float = 2.0
    hmr: bool = False
    hydrogen_mass_amu: float = 3.0
    friction_per_ps: float = 1.0
    barostat_interval: int = 25
    report_every_ps: float = 1.0
    checkpoint_every_ps: float = 100.0
    # RMS force component (OpenMM's criterion) at which minimisation stops. It only has
    # to remove packing strain before heating from 50 K, where thermal forces are far
    # larger: 2 m ZnSO4, 500 waters, pre-hydrated, 1 CPU thread: 3018 iterations (35 s)
    # at 10, 665 (8 s) at 100, 212 (2.3 s) at 300, no contact pair and no blow-up after
    minimize_tolerance_kj_mol_nm: float = 300.0
    minimize_max_iterations: int = 10000
    trajectory_format: str = "xtc"
    max_energy_kj_mol_per_atom: float = 1.0e3  # above this (or NaN) the run stops

    @property
    def dt_ps(self) -> float:
        """Time step (ps)."""
        return self.timestep_fs / 1000.0

    def steps(self, time: float) -> int:
        """Steps in ``time`` ps (rounded to whole report intervals)."""
        every = self.report_steps
        return max(every, round(time / self.dt_ps / every) * every)

    @property
    def report_steps(self) -> int:
        """Steps between reports."""
        return max(1, round(self.report_every_ps / self.dt_ps))

    @property
    def checkpoint_steps(self) -> int:
        """Checkpoint interval in steps, a whole number of report intervals."""
        every = self.report_steps
        return max(every, round(self.checkpoint_every_ps / self.dt_ps / every) * every)

    @property
    def heating_steps(self) -> int:
        """Steps of the heating stage."""
        return self.steps(self.equilibration_ps * self.heating_fraction)

    @property
    def npt_steps(self) -> int:
        """Steps of the NPT equilibration stage."""
        return self.steps(self.equilibration_ps * (1.0 - self.heating_fraction))

    @property
    def production_steps(self) -> int:
        """Steps of the production stage."""
        return self.steps(self.production_ps)

    @property
    def anneal_steps(self) -> int:
        """Steps of the annealing stage."""
        return self.steps(self.anneal_ps)

    @property
    def cool_steps(self) -> int:
        """Steps of the cooling stage after annealing."""
        return self.steps(self.anneal_cool_ps)

    @property
    def stages(self) -> tuple[str, ...]:
        """Stage names in run order."""
        anneal = ("anneal", "cool") if self.anneal_temperature_k is not None else ()
        return ("minimize", "heating", "npt", *anneal, "production")

    def to_dict(self) -> dict:
        """The settings as a dict (as run.json records them)."""
        return asdict(self)

    def differences(self, recorded: dict, done: tuple[str, ...] | list[str] = ()) -> list[str]:
        """Fields of this protocol that differ from ``recorded`` (a ``to_dict()`` of the
        protocol a run started with), each as 'name: recorded R, now N'; execution fields
        and the fields of stages in ``done`` are left out.

        Parameters
        ----------
        recorded : dict
            The recorded protocol.
        done : sequence of str
            Stages the run has finished.
        """
        now = self.to_dict()
        skip = {*EXECUTION_FIELDS, *(k for k, stage in STAGE_FIELDS.items() if stage in done)}
        return [
            f"{k}: recorded {recorded.get(k)!r}, now {v!r}"
            for k, v in now.items()
            if k not in skip and recorded.get(k) != v
        ] + [f"{k}: recorded {recorded[k]!r}, now absent" for k in recorded if k not in now]


_TIME_KEYS = {
    "production": "production_ps",
    "time": "production_ps",
    "equilibration": "equilibration_ps",
    "report_every": "report_every_ps",
    "checkpoint_every": "checkpoint_every_ps",
}


def protocol_from(
    table: dict | None = None, temperature: str | Temperature | None = None, **overrides
) -> Protocol:
    """Protocol from a design's ``[protocol]`` table (values with units) plus overrides.

    Keys: production/time, equilibration, report_every, checkpoint_every (times, e.g.
    "2 ns"); timestep ("2 fs"); temperature ("298.15 K"); pressure ("1 bar"); ensemble
    (NVT|NPT); hmr (bool); friction ("1/ps"); barostat_interval (steps);
    trajectory_format (xtc|dcd); heating_fraction. ``overrides`` use the same keys.

    Parameters
    ----------
    table : dict, optional
        A design's ``[protocol]`` table.
    temperature : str or solvation.quantities.Temperature, optional
        Temperature with its unit ('298.15 K'), e.g. a design's.
    **overrides
        Same keys as the table; None values are ignored.

    Raises
    ------
    ProtocolError
        For unknown keys, values without units or values out of range.
    """
    values: dict = {}
    merged = {**(table or {}), **{k: v for k, v in overrides.items() if v is not None}}
    if temperature is not None and "temperature" not in merged:
        merged["temperature"] = temperature
    if merged.get("hmr") and "timestep" not in merged:
        merged["timestep"] = "4 fs"
    try:
        for key, value in merged.items():
            _set(values, key, value)
    except QuantityError as err:
        raise ProtocolError(f"[protocol] {err}") from None
    protocol = replace(Protocol(), **values)
    check_protocol(protocol)
    return protocol


def _set(values: dict, key: str, value) -> None:
    if key in _TIME_KEYS:
        values[_TIME_KEYS[key]] = time_ps(value)
    elif key == "timestep":
        values["timestep_fs"] = time_ps(value) * 1000.0
    elif key == "temperature":  # a design's temperature comes read
        values["temperature_k"] = (
            value.kelvin if isinstance(value, Temperature) else temperature_k(value)
        )
    elif key == "pressure":
        values["pressure_bar"] = pressure_bar(value)
    elif key == "anneal":
        values.update(_anneal(value))
    elif key == "friction":
        values["friction_per_ps"] = _number(key, str(value).split("/")[0], float)
    elif key == "ensemble":
        if str(value).upper() not in ("NVT", "NPT"):
            raise ProtocolError(f"[protocol] ensemble must be NVT or NPT, got {value!r}")
        values["ensemble"] = str(value).upper()
    elif key == "trajectory_format":
        if value not in ("xtc", "dcd"):
            raise ProtocolError(f"[protocol] trajectory_format must be xtc or dcd, got {value!r}")
        values["trajectory_format"] = value
    elif key in (
        "hmr",
        "barostat_interval",
        "heating_fraction",
        "hydrogen_mass_amu",
        "minimize_max_iterations",
        "minimize_tolerance_kj_mol_nm",
    ):
        values[key] = _number(key, value, type(getattr(Protocol, key)))
    else:
        known = [
            *_TIME_KEYS,
            "timestep",
            "temperature",
            "pressure",
            "friction",
            "ensemble",
            "trajectory_format",
            "hmr",
            "barostat_interval",
            "heating_fraction",
            "anneal",
            "minimize_max_iterations",
            "minimize_tolerance_kj_mol_nm",
        ]
        raise ProtocolError(f"[protocol] unknown key {key!r}; known: {', '.join(sorted(known))}")


ANNEAL_KEYS = ("temperature", "time", "cool")


def _anneal(table) -> dict:
    """anneal = { temperature = "400 K", time = "2 ns", cool = "200 ps" } -> fields."""
    if not isinstance(table, dict) or not {"temperature", "time"} <= set(table):
        raise ProtocolError(
            '[protocol] anneal must be a table like { temperature = "400 K", time = "2 ns" }'
        )
    unknown = set(table) - set(ANNEAL_KEYS)
    if unknown:
        raise ProtocolError(
            f"[protocol] anneal: unknown keys {sorted(unknown)}; known: {', '.join(ANNEAL_KEYS)}"
        )
    time = time_ps(table["time"])
    cool = time_ps(table["cool"]) if "cool" in table else max(10.0, 0.1 * time)
    return {
        "anneal_temperature_k": temperature_k(table["temperature"]),
        "anneal_ps": time,
        "anneal_cool_ps": cool,
    }


def _number(key: str, value, kind: type):
    """``value`` as ``kind`` (bool, int or float), refusing text such as "false" or "2x"."""
    if kind is bool:
        if isinstance(value, bool):
            return value
        raise ProtocolError(f"[protocol] {key} must be true or false, got {value!r}")
    try:
        number = kind(value)
    except (TypeError, ValueError):
        raise ProtocolError(f"[protocol] {key} must be a number, got {value!r}") from None
    if isinstance(value, bool) or not math.isfinite(float(number)):
        raise ProtocolError(f"[protocol] {key} must be a finite number, got {value!r}")
    if kind is int and number != float(value):
        raise ProtocolError(f"[protocol] {key} must be a whole number, got {value!r}")
    return number


def _whole(time_ps: float, unit_ps: float) -> bool:
    """Whether ``time_ps`` is a whole number of ``unit_ps`` (to 1 part in 10^6)."""
    n = round(time_ps / unit_ps)
    return n >= 1 and abs(n * unit_ps - time_ps) <= 1e-6 * max(time_ps, unit_ps)


def _check_intervals(p: Protocol) -> None:
    """Production is what run.json records and analyses read: a whole number of report
    intervals, each a whole number of timesteps; refused otherwise, never rounded."""
    if not _whole(p.report_every_ps, p.dt_ps):
        raise ProtocolError(
            f"report_every {p.report_every_ps:g} ps is not a whole number of timesteps "
            f"({p.timestep_fs:g} fs)"
        )
    if p.report_every_ps > p.production_ps * (1 + 1e-9):
        raise ProtocolError(
            f"report_every ({p.report_every_ps:g} ps) is longer than production "
            f"({p.production_ps:g} ps): no frame would be written; use a shorter "
            "report_every or a longer production"
        )
    if not _whole(p.production_ps, p.report_every_ps):
        n = math.floor(p.production_ps / p.report_every_ps)
        raise ProtocolError(
            f"production ({p.production_ps:g} ps) is not a whole number of report "
            f"intervals ({p.report_every_ps:g} ps): use {n * p.report_every_ps:g} or "
            f"{(n + 1) * p.report_every_ps:g} ps, or a report_every that divides it"
        )


def rounding_notes(p: Protocol) -> list[str]:
    """One line per stage whose length is rounded to whole report intervals by more than
    1% (equilibration stages: every stage reports at whole intervals).

    Parameters
    ----------
    p : Protocol
    """
    wanted = {
        "heating": p.equilibration_ps * p.heating_fraction,
        "npt": p.equilibration_ps * (1.0 - p.heating_fraction),
    }
    if p.anneal_temperature_k is not None:
        wanted.update(anneal=p.anneal_ps, cool=p.anneal_cool_ps)
    notes = []
    for stage, time in wanted.items():
        actual = p.steps(time) * p.dt_ps
        if abs(actual - time) > 0.01 * max(time, 1e-12):
            notes.append(
                f"{stage} runs {actual:g} ps, not {time:g} ps: stages run whole report "
                f"intervals of {p.report_every_ps:g} ps"
            )
    return notes


def check_protocol(p: Protocol) -> None:
    """Refuse settings out of range: timestep, stage lengths, intervals (production a
    whole number of report intervals), barostat, friction, heating, annealing.

    Parameters
    ----------
    p : Protocol

    Raises
    ------
    ProtocolError
        For a value out of range.
    """
    if not 0.5 <= p.timestep_fs <= 5.0:
        raise ProtocolError(f"timestep {p.timestep_fs} fs is outside 0.5-5 fs")
    if p.timestep_fs > 2.5 and not p.hmr:
        raise ProtocolError(
            f"timestep {p.timestep_fs} fs needs hmr = true (hydrogen mass "
            "repartitioning); use 2 fs without it"
        )
    if p.production_ps <= 0 or p.equilibration_ps < 0:
        raise ProtocolError("production must be positive and equilibration non-negative")
    if p.report_every_ps < p.dt_ps:
        raise ProtocolError(f"report_every ({p.report_every_ps} ps) is below one timestep")
    _check_intervals(p)
    if p.checkpoint_every_ps <= 0:
        raise ProtocolError(
            f"checkpoint_every must be positive (got {p.checkpoint_every_ps:g} ps); e.g. '100 ps'"
        )
    if p.minimize_tolerance_kj_mol_nm <= 0:
        raise ProtocolError("minimize_tolerance_kj_mol_nm must be positive")
    if p.barostat_interval < 1 or p.minimize_max_iterations < 0 or p.friction_per_ps <= 0:
        raise ProtocolError(
            "barostat_interval must be >= 1 step, minimize_max_iterations >= 0 and friction "
            "positive"
        )
    if not 0.0 <= p.heating_fraction <= 1.0:
        raise ProtocolError("heating_fraction must be within [0, 1]")
    if p.anneal_temperature_k is not None and (
        p.anneal_ps <= 0 or p.anneal_cool_ps <= 0 or p.anneal_temperature_k <= p.temperature_k
    ):
        raise ProtocolError(
            f"[protocol] anneal needs a positive time and cool and a temperature above the run "
            f"temperature ({p.temperature_k:g} K)"
        )
