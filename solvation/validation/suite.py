"""``solvation validate``: run reference systems and compare with experiment.

Reference data are YAML entries (value, uncertainty, unit, conditions, citation); the
shipped file is ``solvation/validation/data/reference_data.yaml`` and users add their own with
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
from dataclasses import asdict
from pathlib import Path

import numpy as np

from solvation.analysis.hbonds import HydrogenBonds
from solvation.analysis.rdf import RDF
from solvation.analysis.recipes import shells_of_run
from solvation.analysis.shells import NoMinimumError, shell_minima
from solvation.analysis.transport import Transport
from solvation.analysis.universe import load_universe
from solvation.analysis.viscosity import yeh_hummer_viscosity
from solvation.constants import WATER_MOLAR_MASS_KG_PER_MOL
from solvation.design import parse_design
from solvation.engine import run
from solvation.rundir import RunInfo, read_build
from solvation.systems import build

from .references import PASS_SIGMA, ReferenceError_, compare, load_references
from .report import write_report

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
SOLUTIONS = (("ZnSO4", "znso4"), ("Zn(OTf)2", "znotf2"))
SOLUTION_MOLALITIES = ("1 m", "2 m")


def _solution_cases(settings: dict) -> list[tuple[str, str, dict]]:
    """ZnSO4 and Zn(OTf)2 solutions (density, contact-ion pairs) for each water model."""
    cases = []
    for water in settings["water_models"]:
        for formula, key in SOLUTIONS:
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
            molal = 1.0 / (n * WATER_MOLAR_MASS_KG_PER_MOL)  # exactly one Zn2+ (and two Cl-)
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


def _density(info: RunInfo) -> tuple[float, float]:
    return info.density_g_per_cm3, info.density_err_g_per_cm3 or 0.0


def _diffusion(u, selection: str, directory: Path, info: RunInfo):
    """Self-diffusion with the Yeh-Hummer correction for the run's own viscosity (measured
    there, else its water model's published one)."""
    eta, source = yeh_hummer_viscosity(None, directory)
    d = Transport(
        u, {"x": selection}, temperature=info.temperature_k, viscosity=eta, viscosity_source=source
    )
    return d.run().results.transport.species["x"]


def _water_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    u = load_universe(directory)
    d = _diffusion(u, "resname HOH", directory, info)
    hb = HydrogenBonds(u).run().results.hbonds
    return {
        "water_density": _density(info),
        "water_self_diffusion": (d.D_corrected_m2_per_s, d.D_err_m2_per_s),
        "hbonds_per_water": (hb.hbonds_per_water.mean, hb.hbonds_per_water.err),
    }


def _zn_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
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
    d = _diffusion(u, "resname ZN", directory, info)
    out["zn_self_diffusion"] = (d.D_corrected_m2_per_s, d.D_err_m2_per_s)
    return out


def _solution_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    shells = shells_of_run(load_universe(directory), read_build(directory), residence=False)
    contact = shells.result.contact_pairs[shells.selections.anion]
    return {
        "solution_density": _density(info),
        "cip_fraction": (contact.mean, contact.err),  # NaN error: shells never exchanged
    }


def run_case(root: Path, system: str, design: dict, protocol: dict, platform: str) -> dict:
    """Build and run one case (resumable) and measure its quantities (SI)."""
    directory = root / design["name"]
    build(parse_design({**design, "protocol": protocol}), directory)
    info = run(directory, platform=platform)
    measure = {"water": _water_quantities, "zn_water": _zn_quantities}.get(
        system, _solution_quantities
    )
    return {
        "quantities": measure(directory, info),
        "ns_per_day": info.ns_per_day,
        "platform": info.platform,
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
    write_report(out, comparisons, quick, settings["protocol"], measurements, refs)
    return report
