"""``solvation validate``: run reference systems and compare with experiment.

Reference data are YAML entries (value, uncertainty, unit, conditions, citation); the
shipped file is ``solvation/data/reference_data.yaml`` and users add their own with
``--reference``. Each simulated quantity is compared in the reference's unit; the
deviation is given in units of the combined uncertainty,
(x_sim - x_ref) / sqrt(u_sim^2 + u_ref^2), and a quantity passes within 2 of them.

Systems: ``water`` (pure water: density, self-diffusion, H-bonds per molecule) and
``zn_water`` (one Zn2+ with two Cl- in water: Zn-O first peak, first- and second-shell
coordination numbers, Zn2+ self-diffusion) and ``solutions`` (ZnSO4 and Zn(OTf)2 at 1
and 2 m: density and contact-ion-pair fraction; no reference ships for these, so they
are reported as simulated values until a ``--reference`` file supplies one, keyed by
system ``znso4_1m``, ``znotf2_2m`` ...). The osmotic coefficient joins once the
osmotic-pressure route exists. ``--quick`` runs TIP3P with the 12-6-4 set on
small boxes for tens of picoseconds (wide uncertainties, labelled as such); the full
suite runs every water model and Zn set for nanoseconds and is meant for a GPU.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import yaml

from solvation.errors import SolvationError

UNITS = {
    "angstrom": ("length", 1e-10),
    "nm": ("length", 1e-9),
    "m2/s": ("diffusion", 1.0),
    "1e-9 m2/s": ("diffusion", 1e-9),
    "cm2/s": ("diffusion", 1e-4),
    "g/cm3": ("density", 1.0),
    "kg/m3": ("density", 1e-3),
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
}
REQUIRED = ("quantity", "system", "value", "uncertainty", "unit", "conditions", "citation")
PASS_SIGMA = 2.0


class ReferenceError_(SolvationError):
    """A reference entry that cannot be used."""


@dataclass(frozen=True)
class Reference:
    quantity: str
    system: str
    value: float
    uncertainty: float
    unit: str
    conditions: str
    citation: str

    @property
    def si(self) -> tuple[float, float]:
        factor = UNITS[self.unit][1]
        return self.value * factor, self.uncertainty * factor


def _check_entry(entry: dict, source: str, index: int) -> Reference:
    where = f"{source} entry {index + 1}"
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
    """The shipped reference data plus ``paths``; every entry is checked."""
    sources = [
        (
            "shipped reference_data.yaml",
            (resources.files("solvation") / "data" / "reference_data.yaml").read_text(),
        )
    ]
    sources += [(str(p), Path(p).read_text()) for p in paths or []]
    out = []
    for name, text in sources:
        data = yaml.safe_load(text)
        if not isinstance(data, list):
            raise ReferenceError_(f"{name}: expected a list of entries")
        out += [_check_entry(e, name, k) for k, e in enumerate(data)]
    return out


@dataclass(frozen=True)
class Comparison:
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


def compare(
    quantity: str, model: str, value_si: float, err_si: float, ref: Reference
) -> Comparison:
    """Simulated value (SI) against a reference, in the reference's unit."""
    factor = UNITS[ref.unit][1]
    sim, sim_err = value_si / factor, (err_si / factor if np.isfinite(err_si) else math.inf)
    combined = math.hypot(sim_err, ref.uncertainty)
    dev = (sim - ref.value) / combined if combined > 0 else math.inf
    return Comparison(
        quantity,
        model,
        sim,
        sim_err,
        ref.value,
        ref.uncertainty,
        ref.unit,
        dev,
        abs(dev) <= PASS_SIGMA,
        ref.citation,
        ref.conditions,
    )


QUICK = {
    "water_models": ["tip3p"],
    "zn_sets": ["12-6-4"],
    "n_water": 500,
    "protocol": {
        "equilibration": "20 ps",
        "production": "20 ps",
        "report_every": "0.2 ps",
        "checkpoint_every": "10 ps",
        "minimize_max_iterations": 1000,
    },
}
FULL = {
    "water_models": ["tip3p", "spce", "opc", "opc3", "tip4pew", "tip4p2005"],
    "zn_sets": ["12-6-4", "cm", "hfe", "iod"],
    "n_water": 2000,
    "protocol": {
        "equilibration": "500 ps",
        "production": "5 ns",
        "report_every": "1 ps",
        "checkpoint_every": "100 ps",
    },
}
SYSTEMS = ("water", "zn_water", "solutions")
SOLUTIONS = (("ZnSO4", "znso4", "SO4"), ("Zn(OTf)2", "znotf2", "OTf"))
SOLUTION_MOLALITIES = ("1 m", "2 m")


def _solution_cases(settings: dict) -> list[tuple[str, str, dict]]:
    """ZnSO4 and Zn(OTf)2 solutions (density, contact-ion pairs) for each water model."""
    cases = []
    for water in settings["water_models"]:
        for formula, key, _ in SOLUTIONS:
            for molal in SOLUTION_MOLALITIES:
                system = f"{key}_{molal.replace(' ', '')}"
                cases.append(
                    (
                        system,
                        f"{water}/12-6-4",
                        {
                            "name": f"{system}-{water}",
                            "water": {"model": water},
                            "salts": [{"formula": formula, "concentration": molal}],
                            "box": {"n_water": settings["n_water"]},
                        },
                    )
                )
    return cases


def _cases(settings: dict, systems: tuple[str, ...]) -> list[tuple[str, str, dict]]:
    """(system, model label, design dict) for every case of the suite."""
    cases, n = [], settings["n_water"]
    if "solutions" in systems:
        cases += _solution_cases(settings)
    for water in settings["water_models"]:
        if "water" in systems:
            cases.append(
                (
                    "water",
                    water,
                    {"name": f"water-{water}", "water": {"model": water}, "box": {"n_water": n}},
                )
            )
        if "zn_water" in systems:
            molal = 1.0 / (n * 0.01801528)  # exactly one Zn2+ (and two Cl-)
            for zn in settings["zn_sets"]:
                cases.append(
                    (
                        "zn_water",
                        f"{water}/{zn}",
                        {
                            "name": f"zn-{water}-{zn.replace('-', '')}",
                            "water": {"model": water},
                            "salts": [{"formula": "ZnCl2", "concentration": f"{molal:.6f} m"}],
                            "box": {"n_water": n},
                            "forcefield": {"zn": zn},
                        },
                    )
                )
    return cases


def _water_quantities(directory: Path, info: dict) -> dict[str, tuple[float, float]]:
    from solvation.analysis.hbonds import HydrogenBonds
    from solvation.analysis.transport import Transport
    from solvation.analysis.universe import load_universe

    u = load_universe(directory)
    d = Transport(u, {"water": "resname HOH"}, temperature=info["protocol"]["temperature_k"])
    d = d.run().results.transport.species["water"]
    hb = HydrogenBonds(u).run().results.hbonds
    return {
        "water_density": (info["density_g_per_cm3"], info.get("density_err_g_per_cm3") or 0.0),
        "water_self_diffusion": (d.D_corrected_m2_per_s, d.D_err_m2_per_s),
        "hbonds_per_water": (hb.hbonds_per_water, hb.hbonds_per_water_err),
    }


def _zn_quantities(directory: Path, info: dict) -> dict[str, tuple[float, float]]:
    from solvation.analysis.rdf import RDF
    from solvation.analysis.shells import NoMinimumError, shell_minima
    from solvation.analysis.transport import Transport
    from solvation.analysis.universe import load_universe

    u = load_universe(directory)
    rdf = RDF(u, {"zn-o": ("resname ZN", "resname HOH and name O")}, rmax=8.0, nbins=320)
    rdf = rdf.run().results.rdf
    pair = rdf.pairs["zn-o"]
    width = float(rdf.r_angstrom[1] - rdf.r_angstrom[0])
    out = {"zn_o_first_peak": (float(rdf.r_angstrom[pair.g_r.argmax()]) * 1e-10, width * 1e-10)}
    try:
        r1, r2 = shell_minima(rdf.r_angstrom, pair.g_r, 2)
        n1 = float(np.interp(r1, rdf.edges_angstrom[1:], pair.n_r))
        n2 = float(np.interp(r2, rdf.edges_angstrom[1:], pair.n_r))
        out["zn_first_shell_cn"] = (n1, 0.1)  # bin and cutoff placement, one ion: rough
        out["zn_second_shell_cn"] = (n2 - n1, 1.0)
    except NoMinimumError:
        pass
    d = Transport(u, {"zn": "resname ZN"}, temperature=info["protocol"]["temperature_k"])
    d = d.run().results.transport.species["zn"]
    out["zn_self_diffusion"] = (d.D_corrected_m2_per_s, d.D_err_m2_per_s)
    return out


def _solution_quantities(directory: Path, info: dict) -> dict[str, tuple[float, float]]:
    from solvation.analysis.coordination import solvation_shells
    from solvation.analysis.shells import NoMinimumError
    from solvation.analysis.universe import load_universe

    anion = next(a for _, key, a in SOLUTIONS if directory.name.startswith(key))
    resname = {"SO4": "SO4", "OTf": "OTF"}[anion]
    u = load_universe(directory)
    shells = {"water": "resname HOH and name O", anion: f"resname {resname} and element O"}
    try:
        first, _ = solvation_shells(u, "resname ZN", shells, residence=False)
        cutoffs = first.cutoffs_angstrom
    except NoMinimumError:
        cutoffs = {"water": 3.0, anion: 3.0}
    result, _ = solvation_shells(
        u, "resname ZN", shells, cutoffs, residence=False, pairing={anion: cutoffs[anion] + 2.0}
    )
    pairs = result.pairing[anion]
    return {
        "solution_density": (info["density_g_per_cm3"], info.get("density_err_g_per_cm3") or 0.0),
        "cip_fraction": (pairs["CIP"] + pairs["AGG"], float("nan")),
    }


def run_case(root: Path, system: str, design: dict, protocol: dict, platform: str) -> dict:
    """Build and run one case (resumable) and measure its quantities (SI)."""
    from solvation.design import parse_design
    from solvation.run import run
    from solvation.systems import build

    directory = root / design["name"]
    build(parse_design({**design, "protocol": protocol}), directory)
    info = run(directory, platform=platform)
    measure = {"water": _water_quantities, "zn_water": _zn_quantities}.get(
        system, _solution_quantities
    )
    return {
        "quantities": measure(directory, info),
        "ns_per_day": info["ns_per_day"],
        "platform": info["platform"],
    }


def validate(
    out: str | Path = "validation",
    references: list | None = None,
    quick: bool = False,
    systems: tuple[str, ...] = SYSTEMS,
    platform: str = "auto",
) -> dict:
    """Run the suite and write report.md, report.html, report.json and plots into ``out``."""
    refs = load_references(references)
    settings = QUICK if quick else FULL
    unknown = set(systems) - set(SYSTEMS)
    if unknown:
        raise ReferenceError_(f"unknown systems {sorted(unknown)}; choose from {SYSTEMS}")
    out = Path(out)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    comparisons, measurements = [], []
    for system, model, design in _cases(settings, tuple(systems)):
        measured = run_case(runs, system, design, settings["protocol"], platform)["quantities"]
        measurements += [
            {"system": system, "model": model, "quantity": q, "value_si": v, "err_si": e}
            for q, (v, e) in measured.items()
        ]
        for ref in refs:
            if ref.system == system and ref.quantity in measured:
                value, err = measured[ref.quantity]
                comparisons.append(compare(ref.quantity, model, value, err, ref))
    report = {
        "quick": quick,
        "protocol": settings["protocol"],
        "pass_sigma": PASS_SIGMA,
        "comparisons": [asdict(c) for c in comparisons],
        "measurements": measurements,
    }
    (out / "report.json").write_text(json.dumps(report, indent=2, default=float) + "\n")
    from solvation.validation_report import write_report

    write_report(out, comparisons, quick, settings["protocol"], measurements, refs)
    return report
