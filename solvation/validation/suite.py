"""``solvation validate``: run reference systems and compare with experiment.

Reference data are YAML entries (value, uncertainty, unit, conditions, citation); the
shipped file is ``solvation/validation/data/reference_data.yaml`` and users add their own
with ``--reference``. Each simulated quantity is compared in the reference's unit; the
deviation is given in units of the combined uncertainty,
(x_sim - x_ref) / sqrt(u_sim^2 + u_ref^2), and a quantity passes within 2 of them.

Systems:

- ``water``: pure water of each water model, or (``cpu``) of each model family (density,
  self-diffusion with the Yeh-Hummer correction for the run's own viscosity, H-bonds per
  water, shear viscosity by periodic perturbation);
- ``zn_water``: one Zn2+ (two Cl-) per water model and Zn set (Zn-O first peak, first- and
  second-shell CN, Zn2+ self-diffusion);
- ``solutions``: ZnSO4 at 0.5, 1 and 2 m and Zn(OTf)2 at 1 and 2 m for each model family
  (density from NPT production, Zn-O first peak, Zn-water CN, contact-pair fraction; at
  2 m over several replicas; at 1 m in the ``cpu`` profile also the shear viscosity, the
  viscosity relative to the same family's water, and water and Zn2+ self-diffusion with
  the Yeh-Hummer correction for that viscosity);
- ``osmotic``: the osmotic coefficient and water activity of 1 m ZnSO4 for each model
  family, by the osmotic-pressure route (two compartments and flat-bottom walls);
- ``pairing``: log10 K_A of ZnSO4 at infinite dilution (one Zn2+ and one SO4^2- in
  water) for each model family, from a pair PMF (``solvation pmf --pair``: umbrella
  windows along the Zn-S distance to the Bjerrum distance, and stiffer windows over the
  contact region, which the first set cannot hold; one MBAR, Coulomb-tail match).

Model families (``FAMILIES``): ``full`` (TIP3P + Li-Merz 12-6-4 Zn2+ + GAFF2 sulfate /
CL&P triflate) and ``scaled`` (charges x 0.85: TIP4P/2005, Madrid-2019 sulfate, Zn2+ tuned
to the Zn-O distance). Profiles (``PROFILES``) size the suite: ``quick`` (minutes on 2
CPU cores, TIP3P only), ``cpu`` (water and the ZnSO4 rows of both families, with
viscosities and diffusion: what decides the default family, ``docs/validation.md``),
``gpu`` (every row, several small systems at once on one GPU, under 10 minutes on an
H100/H200) and ``full`` (every water model and Zn set, ns runs).
"""

from __future__ import annotations

from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from fnmatch import fnmatch
from pathlib import Path

import numpy as np
import pandas as pd

from solvation.analysis.hbonds import HydrogenBonds
from solvation.analysis.rdf import RDF
from solvation.analysis.results import jsonable
from solvation.analysis.shells import NoMinimumError, shell_minima
from solvation.analysis.stats import estimate
from solvation.analysis.universe import load_universe
from solvation.campaigns.pmf_runner import run_pmf
from solvation.constants import WATER_MOLAR_MASS_KG_PER_MOL
from solvation.design import parse_design
from solvation.engine import run
from solvation.engine.viscosity import run_viscosity
from solvation.forcefields import water_viscosity
from solvation.quantities import time_ps
from solvation.rundir import (
    UMBRELLA_JSON,
    RunDir,
    RunInfo,
    has_viscosity,
    read_build,
    read_design_table,
    read_run,
    read_umbrella,
    read_viscosity,
    run_complete,
    write_json_atomic,
)
from solvation.runs.pmf import pair_pmf_of_directory
from solvation.runs.structure import shells_of_run
from solvation.runs.transport import transport_analysis
from solvation.runs.viscosity import viscosity_of_run
from solvation.runs.water_activity import osmotic_from_run
from solvation.systems import build

from . import laliberte
from .references import PASS_SIGMA, ReferenceError_, compare, load_references
from .report import write_report

SYSTEMS = ("water", "zn_water", "solutions", "osmotic", "pairing")
FAMILIES = {
    "full": {"water": {"model": "tip3p"}, "forcefield": {"family": "full", "zn": "12-6-4"}},
    "scaled": {"forcefield": {"family": "scaled"}},
}
VISCOSITY_MOLALITY = "1 m"  # ZnSO4 viscosity and diffusion rows at this molality
SOLUTIONS = {
    "ZnSO4": ("znso4", ("0.5 m", "1 m", "2 m")),
    "Zn(OTf)2": ("znotf2", ("1 m", "2 m")),
}
PAIRING_MOLALITY = "2 m"  # contact-pair fraction over replicas at this molality


@dataclass(frozen=True)
class Profile:
    """Sizes and lengths of one suite profile (times with units, as in [protocol]).

    Attributes
    ----------
    name : str
    water_models, zn_sets, families : tuple of str
        Models run.
    n_water : int
        Waters of the water and zn_water boxes.
    solution_n_water, osmotic_n_water : int
        Waters of the solution and osmotic boxes.
    replicas : int
        Replicas of the contact-pair row.
    slots : int
        Cases run at once.
    protocol, solution_protocol, osmotic_protocol : dict
        [protocol] tables (times with units) of each kind of case.
    salts : tuple of str
    family_water : bool
        Run the ``water`` system once per model family (instead of per water model).
    viscosity : dict or None
        Periodic-perturbation settings ({"time": "200 ps", "shear_rate_per_ps": 0.05}) of
        the viscosity rows (family water and ZnSO4 at ``VISCOSITY_MOLALITY``); None: no
        viscosity rows.
    pair_n_water : dict of str to int
        Waters of the ZnSO4 pair box (one Zn2+, one SO4^2-) per family, enough for the
        Bjerrum distance + 0.1 nm within half the box edge; empty: no pairing rows.
    pair_protocol, pair_pmf : dict
        [protocol] of the pair box's parent run and its [pmf] table (windows).
    pair_inner_pmf : dict
        Settings over the [pmf] table for the stiffer windows at contact (``pmf-inner``,
        analysed in one MBAR with the first set); empty: none.
    """

    name: str
    water_models: tuple[str, ...]
    zn_sets: tuple[str, ...]
    families: tuple[str, ...]
    n_water: int  # water and zn_water boxes
    solution_n_water: int
    osmotic_n_water: int
    replicas: int  # of the contact-pair row
    slots: int  # cases run at once
    protocol: dict = field(default_factory=dict)  # water, zn_water
    solution_protocol: dict = field(default_factory=dict)  # NPT production
    osmotic_protocol: dict = field(default_factory=dict)
    salts: tuple[str, ...] = ("ZnSO4", "Zn(OTf)2")
    family_water: bool = False
    viscosity: dict | None = None
    pair_n_water: dict = field(default_factory=dict)  # per family; empty: no pairing rows
    pair_protocol: dict = field(default_factory=dict)
    pair_pmf: dict = field(default_factory=dict)
    pair_inner_pmf: dict = field(default_factory=dict)


# the far end (Bjerrum distance + 0.1 nm: 1.26 nm full, eps_r 97; 1.50 nm scaled, eps_r 58
# with charges x 0.85) within half the edge of the NPT box
PAIR_N_WATER = {"full": 600, "scaled": 900}


def _pair_pmf(equilibration: str, window: str) -> dict:
    """The [pmf] table of the ZnSO4 pair rows: Zn-S windows 0.05 nm apart from contact to
    the Bjerrum distance + 0.1 nm, k = 4 kT / spacing^2, a pull of 5 ps per spacing."""
    return {
        "pair": ["Zn2+", "SO4"],
        "spacing": "0.05 nm",
        "equilibration": equilibration,
        "window_time": window,
        "pull_time": "5 ps",
    }


def _inner_pmf(equilibration: str, window: str) -> dict:
    """Settings over ``_pair_pmf`` for the stiffer windows at contact: Zn-S 0.43 -> 0.28 nm,
    0.025 nm apart, k = 40000 kJ/mol/nm^2 (10 x the first set's 4 kT / spacing^2, which
    cannot hold the sulfate at contact: in both families the first set's windows below
    0.43 nm sat up to 0.15 nm outside their centres, docs/validation.md section 3.1)."""
    return {
        "from": "0.43 nm",
        "to": "0.28 nm",
        "spacing": "0.025 nm",
        "force_constant": "40000 kJ/mol/nm^2",
        "equilibration": equilibration,
        "window_time": window,
    }


def _protocol(equilibration: str, production: str, every: str, **extra) -> dict:
    return {
        "equilibration": equilibration,
        "production": production,
        "report_every": every,
        "checkpoint_every": production,
        **extra,
    }


PROFILES = {
    "quick": Profile(
        "quick",
        ("tip3p",),
        ("12-6-4",),
        ("full",),
        500,
        500,
        400,
        1,
        1,
        _protocol("20 ps", "20 ps", "0.2 ps", minimize_max_iterations=1000),
        _protocol("20 ps", "20 ps", "0.2 ps", ensemble="NPT", minimize_max_iterations=1000),
        _protocol("10 ps", "20 ps", "0.2 ps"),
    ),
    "cpu": Profile(
        "cpu",
        ("tip3p",),
        ("12-6-4",),
        ("full", "scaled"),
        500,
        560,
        400,
        3,
        1,
        _protocol("50 ps", "100 ps", "0.5 ps", hmr=True),
        _protocol("100 ps", "200 ps", "1 ps", ensemble="NPT", hmr=True),
        _protocol("100 ps", "400 ps", "1 ps", hmr=True),
        ("ZnSO4",),
        family_water=True,
        viscosity={"time": "200 ps", "shear_rate_per_ps": 0.05},
        pair_n_water=PAIR_N_WATER,
        pair_protocol=_protocol("50 ps", "2 ps", "0.5 ps", hmr=True),
        pair_pmf=_pair_pmf("10 ps", "60 ps"),
        pair_inner_pmf=_inner_pmf("10 ps", "60 ps"),
    ),
    "gpu": Profile(
        "gpu",
        ("tip3p", "opc", "tip4p2005"),
        ("12-6-4", "cm"),
        ("full", "scaled"),
        1000,
        1100,
        1000,
        3,
        8,
        _protocol("100 ps", "1 ns", "1 ps", hmr=True),
        _protocol("200 ps", "1 ns", "1 ps", ensemble="NPT", hmr=True),
        _protocol("200 ps", "2 ns", "1 ps", hmr=True),
        pair_n_water=PAIR_N_WATER,
        pair_protocol=_protocol("100 ps", "2 ps", "0.5 ps", hmr=True),
        pair_pmf=_pair_pmf("100 ps", "1 ns"),
        pair_inner_pmf=_inner_pmf("100 ps", "1 ns"),
    ),
    "full": Profile(
        "full",
        ("tip3p", "spce", "opc", "opc3", "tip4pew", "tip4p2005"),
        ("12-6-4", "cm", "hfe", "iod"),
        ("full", "scaled"),
        2000,
        2000,
        2000,
        3,
        1,
        _protocol("500 ps", "5 ns", "1 ps"),
        _protocol("500 ps", "5 ns", "1 ps", ensemble="NPT"),
        _protocol("500 ps", "10 ns", "1 ps"),
        pair_n_water={"full": 2000, "scaled": 2000},
        pair_protocol=_protocol("500 ps", "2 ps", "0.5 ps"),
        pair_pmf=_pair_pmf("200 ps", "5 ns"),
        pair_inner_pmf=_inner_pmf("200 ps", "5 ns"),
    ),
}


@dataclass(frozen=True)
class Case:
    """One build-and-run of the suite and the reference system it measures.

    Attributes
    ----------
    system : str
        Reference key, e.g. 'water', 'znso4_1m'.
    model : str
        Label in the report, e.g. 'full', 'tip3p/12-6-4'.
    design : dict
        The design tables.
    measure : str
        water, zn_water, solution or osmotic.
    replica : int
    viscosity : dict or None
        Periodic-perturbation settings after the run (``Profile.viscosity`` plus
        ``relative_to_water``, the expected eta / eta_water that sizes the acceleration).
    pmf_inner : dict or None
        A pair case's stiffer windows at contact (``Profile.pair_inner_pmf``).
    """

    system: str  # reference key, e.g. "water", "znso4_1m"
    model: str  # label in the report, e.g. "full", "tip3p/12-6-4"
    design: dict
    measure: str  # water | zn_water | solution | osmotic
    replica: int = 0
    viscosity: dict | None = None
    pmf_inner: dict | None = None


def _molal_key(molal: str) -> str:
    return molal.replace(" ", "")


def _solution_cases(profile: Profile) -> list[Case]:
    cases = []
    for family in profile.families:
        for formula in profile.salts:
            key, molalities = SOLUTIONS[formula]
            for molal in molalities:
                system = f"{key}_{_molal_key(molal)}"
                replicas = profile.replicas if molal == PAIRING_MOLALITY else 1
                for r in range(replicas):
                    design = {
                        **FAMILIES[family],
                        "name": f"{system}-{family}-r{r}",
                        "salts": [{"formula": formula, "concentration": molal}],
                        "box": {"n_water": profile.solution_n_water},
                        "protocol": profile.solution_protocol,
                    }
                    design["forcefield"] = {**design.get("forcefield", {}), "seed": 1 + r}
                    eta = _viscosity_settings(profile, formula, molal) if r == 0 else None
                    cases.append(Case(system, family, design, "solution", r, eta))
    return cases


def _viscosity_settings(profile: Profile, formula: str | None, molal: str | None):
    """The viscosity settings of a case: the profile's, for pure water and for ZnSO4 at
    ``VISCOSITY_MOLALITY`` (sized by Laliberte's relative viscosity), else None."""
    if profile.viscosity is None:
        return None
    if formula is None:
        return {**profile.viscosity, "relative_to_water": 1.0}
    if formula == "ZnSO4" and molal == VISCOSITY_MOLALITY:
        rel = laliberte.relative_viscosity(laliberte.ZNSO4, float(molal.split()[0]))
        return {**profile.viscosity, "relative_to_water": rel}
    return None


def _family_water_cases(profile: Profile) -> list[Case]:
    """Pure water of each model family (its water model and nothing else)."""
    return [
        Case(
            "water",
            family,
            {
                **FAMILIES[family],
                "name": f"water-{family}",
                "box": {"n_water": profile.n_water},
                "protocol": profile.protocol,
            },
            "water",
            viscosity=_viscosity_settings(profile, None, None),
        )
        for family in profile.families
    ]


def _osmotic_cases(profile: Profile) -> list[Case]:
    return [
        Case(
            "znso4_1m",
            family,
            {
                **FAMILIES[family],
                "name": f"znso4_1m-osmotic-{family}",
                "salts": [{"formula": "ZnSO4", "concentration": "1 m"}],
                "box": {"n_water": profile.osmotic_n_water},
                "osmotic": {},
                "protocol": profile.osmotic_protocol,
            },
            "osmotic",
        )
        for family in profile.families
    ]


def _pair_cases(profile: Profile) -> list[Case]:
    """One ZnSO4 pair (one Zn2+, one SO4^2-) in ``pair_n_water`` waters per family."""
    out = []
    for family in profile.families:
        if family not in profile.pair_n_water:
            continue
        n_water = profile.pair_n_water[family]
        molal = 1.0 / (n_water * WATER_MOLAR_MASS_KG_PER_MOL)
        design = {
            **FAMILIES[family],
            "name": f"znso4_pair-{family}",
            "salts": [{"formula": "ZnSO4", "concentration": f"{molal:.6f} m"}],
            "box": {"n_water": n_water},
            "pmf": profile.pair_pmf,
            "protocol": profile.pair_protocol,
        }
        inner = profile.pair_inner_pmf or None
        out.append(Case("znso4_dilute", family, design, "pair", pmf_inner=inner))
    return out


def _water_cases(profile: Profile, systems: tuple[str, ...]) -> list[Case]:
    cases, n = [], profile.n_water
    for water in profile.water_models:
        if "water" in systems:
            design = {
                "name": f"water-{water}",
                "water": {"model": water},
                "box": {"n_water": n},
                "forcefield": {"family": "full"},  # a water model of the full family's sets
            }
            cases.append(Case("water", water, {**design, "protocol": profile.protocol}, "water"))
        if "zn_water" not in systems:
            continue
        molal = 1.0 / (n * WATER_MOLAR_MASS_KG_PER_MOL)  # exactly one Zn2+ (and two Cl-)
        for zn in profile.zn_sets:
            design = {
                "name": f"zn-{water}-{zn.replace('-', '')}",
                "water": {"model": water},
                "salts": [{"formula": "ZnCl2", "concentration": f"{molal:.6f} m"}],
                "box": {"n_water": n},
                "forcefield": {"family": "full", "zn": zn},
                "protocol": profile.protocol,
            }
            cases.append(Case("zn_water", f"{water}/{zn}", design, "zn_water"))
    return cases


def cases(profile: Profile, systems: tuple[str, ...]) -> list[Case]:
    """Every case of ``profile`` for ``systems``.

    Parameters
    ----------
    profile : Profile
    systems : tuple of str
        Reference systems (groups) to run.
    """
    if profile.family_water:
        out = _family_water_cases(profile) if "water" in systems else []
    else:
        out = _water_cases(profile, systems)
    if "solutions" in systems:
        out += _solution_cases(profile)
    if "osmotic" in systems:
        out += _osmotic_cases(profile)
    if "pairing" in systems:
        out += _pair_cases(profile)
    return out


# --- measurements (SI values and standard errors) --------------------------------------


def _density(info: RunInfo) -> tuple[float, float]:
    """NPT density of the run (g/cm3) with its standard error, unknown unless converged."""
    known = info.density_converged and info.density_err_g_per_cm3 is not None
    return info.density_g_per_cm3, info.density_err_g_per_cm3 if known else float("nan")


def _trusted(est) -> tuple[float, float]:
    """(mean, err) of an estimate, the error NaN (unknown) unless it converged: e.g. a shell
    quantity whose shells did not exchange reports its start (``converged`` False)."""
    return est.mean, est.err if est.converged else float("nan")


def _production_density(directory: Path) -> tuple[float, float]:
    """Mean density (g/cm3) of NPT production from state.csv, with its standard error
    (initial transient dropped, autocorrelation-aware; unknown unless converged)."""
    table = pd.read_csv(RunDir(directory).state_csv)
    column = next(c for c in table.columns if c.startswith("Density"))
    return _trusted(estimate(table[column].to_numpy()))


def _diffusion(u, selection: str, directory: Path, info: RunInfo):
    """Self-diffusion with the Yeh-Hummer correction for the run's own viscosity (measured
    there, else its water model's published one)."""
    d = transport_analysis(u, {"x": selection}, info.temperature_k, directory)
    return d.run().results.transport.species["x"]


def _viscosity(directory: Path) -> dict[str, tuple[float, float]]:
    """Shear viscosity (Pa s) of the run's periodic-perturbation run, if it has one (the
    error unknown unless converged)."""
    if not has_viscosity(directory):
        return {}
    eta = viscosity_of_run(directory)
    err = eta.eta_err_mPa_s if eta.converged else float("nan")
    return {"shear_viscosity": (eta.eta_mPa_s * 1e-3, err * 1e-3)}


def _water_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    u = load_universe(directory)
    d = _diffusion(u, "resname HOH", directory, info)
    hb = HydrogenBonds(u).run().results.hbonds
    return {
        "water_density": _density(info),
        "water_self_diffusion": (d.D_corrected_m2_per_s, d.D_err_m2_per_s),
        "hbonds_per_water": (hb.hbonds_per_water.mean, hb.hbonds_per_water.err),
        **_viscosity(directory),
    }


def _solution_transport(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    """Viscosity and water and Zn2+ self-diffusion (Yeh-Hummer with that viscosity) of a
    solution run that has a periodic-perturbation run; nothing otherwise."""
    eta = _viscosity(directory)
    if not eta:
        return {}
    u = load_universe(directory)
    water = _diffusion(u, "resname HOH", directory, info)
    zn = _diffusion(u, "resname ZN", directory, info)
    return {
        **eta,
        "water_self_diffusion": (water.D_corrected_m2_per_s, water.D_err_m2_per_s),
        "zn_self_diffusion": (zn.D_corrected_m2_per_s, zn.D_err_m2_per_s),
    }


def _zn_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    u = load_universe(directory)
    rdf = RDF(u, {"zn-o": ("resname ZN", "resname HOH and name O")}, rmax=8.0, nbins=320)
    rdf = rdf.run().results.rdf
    pair = rdf.pairs["zn-o"]
    width = float(rdf.r_angstrom[1] - rdf.r_angstrom[0])
    out = {"zn_o_first_peak": (_first_peak(rdf, "zn-o") * 1e-10, width * 1e-10)}
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
    """Density, Zn-O first peak, Zn-water CN and contact-pair fraction of a solution run."""
    shells = shells_of_run(load_universe(directory), read_build(directory), residence=False)
    result, rdf = shells.result, shells.rdf
    contact = result.contact_pairs[shells.selections.anion]
    cn = result.coordination["water"]
    out = {
        "solution_density": _production_density(directory),
        "zn_first_shell_cn": _trusted(cn),
        "cip_fraction": _trusted(contact),
    }
    if rdf is not None and "water" in rdf.pairs:
        width = float(rdf.r_angstrom[1] - rdf.r_angstrom[0])
        out["zn_o_first_peak"] = (_first_peak(rdf, "water") * 1e-10, width * 1e-10)
    return out | _solution_transport(directory, info)


def _first_peak(rdf, name: str) -> float:
    """r (A) of the first peak of pair ``name`` (NaN without one)."""
    peak = rdf.first_peak(name)
    return peak[0] if peak else float("nan")


def _osmotic_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    result = osmotic_from_run(directory)
    return {
        "osmotic_coefficient": (result.osmotic_coefficient, result.osmotic_coefficient_err),
        "water_activity": (result.a_w, result.a_w_err),
    }


def _pair_quantities(directory: Path, info: RunInfo) -> dict[str, tuple[float, float]]:
    """log10 K_A of the pair PMF in ``directory/pmf``, with the stiffer windows of
    ``directory/pmf-inner`` where the case has them (its windows already run); the
    error unknown (NaN) unless the PMF converged."""
    inner = directory / PAIR_INNER_DIR
    also = (inner,) if (inner / UMBRELLA_JSON).exists() else ()
    result = pair_pmf_of_directory(directory / PAIR_PMF_DIR, also=also)
    err = result.log10_k_a_err if result.converged else float("nan")
    return {"log10_ka": (result.log10_k_a, err)}


MEASURES = {
    "water": _water_quantities,
    "zn_water": _zn_quantities,
    "solution": _solution_quantities,
    "osmotic": _osmotic_quantities,
    "pair": _pair_quantities,
}
PAIR_PMF_DIR, PAIR_INNER_DIR = "pmf", "pmf-inner"


def run_case(root: Path, case: Case, platform: str) -> dict:
    """Build and run one case (resumable) and measure its quantities (SI).

    Parameters
    ----------
    root : Path
        The suite's output folder.
    case : Case
    platform : str
        OpenMM platform name, or "auto".
    """
    directory = root / case.design["name"]
    build(parse_design(case.design), directory)
    info = run(directory, platform=platform)
    if case.measure == "pair":  # windows one at a time, resumable
        run_pmf(directory, directory / PAIR_PMF_DIR, platform=platform)
        if case.pmf_inner:
            run_pmf(directory, directory / PAIR_INNER_DIR, platform=platform, **case.pmf_inner)
    if case.viscosity is not None:
        settings = case.viscosity
        acceleration = shear_acceleration(directory, settings)
        run_viscosity(directory, acceleration, time_ps(settings["time"]), platform)
    return {
        "case": asdict(case),
        "quantities": MEASURES[case.measure](directory, info),
        "ns_per_day": info.ns_per_day,
        "platform": info.platform,
    }


def shear_acceleration(directory: Path, settings: dict) -> float:
    """Cosine acceleration A (nm/ps^2) that gives the shear rate ``settings`` asks for,
    V k = gamma with V = rho A / (eta k^2): A = gamma eta k / rho, for the run's NPT box and
    density and an expected eta (the water model's published viscosity times
    ``relative_to_water``). Rounded to 2 significant digits, so a resumed run asks for the
    same A.

    Parameters
    ----------
    directory : Path
        An equilibrated run directory.
    settings : dict
        ``shear_rate_per_ps`` (1/ps) and ``relative_to_water``.
    """
    info = read_run(directory)
    eta_pa_s = water_viscosity(read_build(directory).water_model).eta_mPa_s * 1e-3
    eta_pa_s *= settings["relative_to_water"]
    k = 2.0 * np.pi / info.npt_volume_nm3 ** (1.0 / 3.0)  # 1/nm, cubic box
    rho = info.density_g_per_cm3 * 1000.0  # kg/m^3
    return float(f"{settings['shear_rate_per_ps'] * eta_pa_s * k / (1e-6 * rho):.2g}")


def _finished(directory: Path, case: Case) -> bool:
    """Whether ``directory`` holds a complete run (``run.json`` says so), with a viscosity
    row its complete periodic-perturbation run, and for a pair case every window of its
    PMF."""
    if not run_complete(directory):
        return False
    if case.viscosity is not None and not (
        has_viscosity(directory) and read_viscosity(directory).complete
    ):
        return False
    if "pmf" not in read_design_table(directory):
        return True
    pmfs = [directory / PAIR_PMF_DIR] + ([directory / PAIR_INNER_DIR] if case.pmf_inner else [])
    return all(_windows_finished(pmf) for pmf in pmfs)


def _windows_finished(pmf: Path) -> bool:
    """Whether every window of the PMF directory ``pmf`` has finished."""
    if not (pmf / UMBRELLA_JSON).exists():
        return False
    return all(run_complete(pmf / w) for w in read_umbrella(pmf).windows)


def _run_all(root: Path, todo: list[Case], platform: str, slots: int) -> list[dict]:
    if slots <= 1 or len(todo) <= 1:
        return [run_case(root, c, platform) for c in todo]
    with ProcessPoolExecutor(max_workers=slots) as pool:
        return list(pool.map(run_case, [root] * len(todo), todo, [platform] * len(todo)))


def combine_replicas(values: list[float], errors: list[float]) -> tuple[float, float]:
    """Mean over replicas and its standard error: the larger of the replica spread's
    standard error and the within-run errors combined. One unknown (NaN) error makes the
    combined error unknown: a replica that did not converge is not a sample of the
    ensemble, and the spread of such replicas measures their starts.

    Parameters
    ----------
    values : list of float
        One value per replica.
    errors : list of float
        Their standard errors.
    """
    values = np.asarray(values, float)
    errors = np.asarray(errors, float)
    mean = float(values.mean())
    if not np.isfinite(errors).all():
        return mean, float("nan")
    within = float(np.sqrt(np.sum(errors**2)) / len(values))
    between = float(values.std(ddof=1) / np.sqrt(len(values))) if len(values) > 1 else 0.0
    return mean, max(within, between)


def relative_viscosities(rows: list[dict]) -> list[dict]:
    """eta(solution) / eta(water) per model, from the shear-viscosity rows of the same
    model's water and solutions; relative errors add in quadrature (unknown if either
    is).

    Parameters
    ----------
    rows : list of dict
        ``measurements_of`` rows.
    """
    eta = {(r["system"], r["model"]): r for r in rows if r["quantity"] == "shear_viscosity"}
    out = []
    for (system, model), row in eta.items():
        water = eta.get(("water", model))
        if system == "water" or water is None:
            continue
        ratio = row["value_si"] / water["value_si"]
        rel = np.hypot(row["err_si"] / row["value_si"], water["err_si"] / water["value_si"])
        out.append(
            {
                "system": system,
                "model": model,
                "quantity": "relative_viscosity",
                "value_si": ratio,
                "err_si": float(ratio * rel),
                "replicas": row["replicas"],
            }
        )
    return out


def measurements_of(results: list[dict]) -> list[dict]:
    """One row per (system, model, quantity), replicas combined.

    Parameters
    ----------
    results : list of dict
        ``run_case`` results.
    """
    groups: dict[tuple, list] = {}
    for r in results:
        case = r["case"]
        for q, (v, e) in r["quantities"].items():
            groups.setdefault((case["system"], case["model"], q), []).append((v, e))
    rows = []
    for (system, model, quantity), pairs in groups.items():
        value, err = combine_replicas([p[0] for p in pairs], [p[1] for p in pairs])
        rows.append(
            {
                "system": system,
                "model": model,
                "quantity": quantity,
                "value_si": value,
                "err_si": err,
                "replicas": len(pairs),
            }
        )
    return rows


def validate(
    out: str | Path = "validation",
    references: list | None = None,
    profile: str = "quick",
    systems: tuple[str, ...] = SYSTEMS,
    platform: str = "auto",
    families: tuple[str, ...] | None = None,
    finished_only: bool = False,
    only: tuple[str, ...] = (),
) -> dict:
    """Run the suite of ``profile`` and write report.md, report.html, report.json and
    plots into ``out``. Finished cases are not run again (each case is a resumable run).

    Parameters
    ----------
    out : str or Path
        Report directory; the cases run in ``out/runs/<case name>``.
    references : list, optional
        Extra reference YAML files.
    profile : str
        quick, cpu, gpu or full (``PROFILES``).
    systems : tuple of str
        Reference systems to run (``SYSTEMS``).
    platform : str
        OpenMM platform name, or "auto".
    families : tuple of str, optional
        Model families (default: the profile's).
    finished_only : bool
        Run nothing: report the cases whose runs are complete and list the others as
        not run.
    only : tuple of str
        Shell-style patterns of case names (e.g. ``znso4_2m-*-r0``); the other cases are
        neither run nor reported.

    Raises
    ------
    ReferenceError_
        For an unknown profile, system or family, or patterns that match no case.
    """
    refs = load_references(references)
    if profile not in PROFILES:
        raise ReferenceError_(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    unknown = (set(systems) - set(SYSTEMS)) | (set(families or ()) - set(FAMILIES))
    if unknown:
        raise ReferenceError_(
            f"unknown systems or families {sorted(unknown)}; systems: {', '.join(SYSTEMS)}; "
            f"families: {', '.join(FAMILIES)}"
        )
    settings = PROFILES[profile]
    if families:
        settings = replace(settings, families=tuple(families))
    todo = cases(settings, tuple(systems))
    if only:
        todo = [c for c in todo if any(fnmatch(c.design["name"], p) for p in only)]
        if not todo:
            raise ReferenceError_(f"no case of profile {profile} matches {', '.join(only)}")
    for case in todo:
        parse_design(case.design)  # every design is valid before anything runs
    out = Path(out)
    runs = out / "runs"
    runs.mkdir(parents=True, exist_ok=True)
    missing = []
    if finished_only:
        missing = [c.design["name"] for c in todo if not _finished(runs / c.design["name"], c)]
        todo = [c for c in todo if c.design["name"] not in missing]
    results = _run_all(runs, todo, platform, settings.slots)
    measurements = measurements_of(results)
    measurements += relative_viscosities(measurements)
    comparisons = [
        compare(ref.quantity, m["model"], m["value_si"], m["err_si"], ref, m["system"])
        for m in measurements
        for ref in refs
        if ref.system == m["system"] and ref.quantity == m["quantity"]
    ]
    report = {
        "profile": profile,
        "protocols": {
            "water": settings.protocol,
            "solutions": settings.solution_protocol,
            "osmotic": settings.osmotic_protocol,
        },
        "pass_sigma": PASS_SIGMA,
        "comparisons": [asdict(c) for c in comparisons],
        "measurements": measurements,
        "not_run": missing,
        "speed_ns_per_day": [
            {"case": r["case"]["design"]["name"], **r["ns_per_day"], "platform": r["platform"]}
            for r in results
        ],
    }
    write_json_atomic(out / "report.json", jsonable(report))  # strict JSON: inf -> null
    write_report(out, comparisons, profile, report["protocols"], measurements, refs, missing)
    return report
