"""Fit the Zn2+-O(water) pair term of the scaled-charge family.

One Zn2+ (charge +1.7, Madrid-2019 Mg2+ self terms) at the centre of a TIP4P/2005 box,
built and parametrised by solvation itself (packmol, ``create_system(family="scaled")``),
net charge neutralised by PME's uniform background. For each sigma of the Zn2+-O(water)
term (epsilon fixed at the file's value) the box runs NPT (298.15 K, 1 bar, 2 fs,
LangevinMiddle, CPU), and the Zn-O(water) g(r) of the sampled frames gives the first-peak
distance and the first-shell coordination number.

Target (data fitted to): Zn-O first peak 2.09 +- 0.03 A with 6 waters in the first shell
(Marcus, Chem. Rev. 88 (1988) 1475; Ohtaki & Radnai, Chem. Rev. 93 (1993) 1157; values
as quoted in REFERENCE_DATA.md [R]).

    python tools/fit_scaled_zn.py --sigma 0.201 0.206 0.211 --out tools/data/fit_scaled_zn.csv

Writes one CSV row per sigma. tests/test_scaled_family.py runs ``measure`` for the
shipped value on a smaller box.
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from dataclasses import asdict, dataclass, fields
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.app as app
import openmm.unit as u
from MDAnalysis.coordinates.memory import MemoryReader

from solvation.analysis.rdf import RDF
from solvation.analysis.shells import shell_minima, smooth
from solvation.constants import AVOGADRO_PER_MOL, WATER_DENSITY_298K_G_PER_CM3
from solvation.forcefields import ForceFieldChoices, add_virtual_sites, create_system
from solvation.forcefields.family import scaled_family
from solvation.forcefields.nbfix import parameter_name
from solvation.quantities import time_ps
from solvation.systems.packing import PackItem, pack
from solvation.systems.templates import assemble, ion_template, water_template

TARGET_PEAK_ANGSTROM = 2.09
TARGET_TOLERANCE_ANGSTROM = 0.03
TARGET_CN = 6
TEMPERATURE_K = 298.15
PAIR = ("Zn2+", "water:O")
PEAK_SMOOTH_ANGSTROM = 0.02  # g(r) on 0.01 A bins, smoothed for the peak position only
ZN_O_SELECTIONS = ("resname ZN", "resname HOH and name O")


@dataclass(frozen=True)
class Point:
    """One scan point: the pair term, what it gives, and how it was sampled."""

    sigma_nm: float
    epsilon_kj_per_mol: float
    peak_angstrom: float
    peak_raw_angstrom: float
    mean_shell_angstrom: float
    first_min_angstrom: float
    cn: float
    n_water: int
    production_ps: float
    n_frames: int
    box_nm: float
    seconds: float


def zn_in_water(n_water: int, seed: int = 1):
    """One Zn2+ at the centre of a cubic box of ``n_water`` waters (density 0.997 g/cm3):
    topology with TIP4P/2005 virtual sites, positions (nm), the scaled-family choices."""
    water = water_template()
    edge = (n_water * water.mass_dalton / AVOGADRO_PER_MOL / WATER_DENSITY_298K_G_PER_CM3) ** (
        1 / 3
    ) * 1e8  # A
    centre = np.full((1, 3), edge / 2)
    items = [
        PackItem(ion_template("Zn2+"), 1, (), centre),
        PackItem(water, n_water, (f"inside box 0 0 0 {edge:.3f} {edge:.3f} {edge:.3f}",)),
    ]
    placed = pack(items, seed=seed, tolerance=2.0, pbc=(0.0, 0.0, 0.0, edge, edge, edge))
    topology, positions = assemble(placed, np.eye(3) * edge / 10.0)
    choices = ForceFieldChoices(family="scaled")
    topology, positions = add_virtual_sites(topology, positions * u.nanometer, choices)
    return topology, positions, choices


def pair_parameter(label: str = " / ".join(PAIR)) -> str:
    """Global-parameter prefix of the Zn2+-O(water) NBFix force."""
    return parameter_name(label)


def zn_system(topology, choices, sigma_nm: float | None) -> openmm.System:
    """The scaled-family System with the Zn2+-O(water) sigma set to ``sigma_nm``."""
    system, _ = create_system(topology, choices)
    if sigma_nm is not None:
        name = f"{pair_parameter()}_sigma"
        force = next(f for f in system.getForces() if f.getName() == f"NBFix {' / '.join(PAIR)}")
        index = [force.getGlobalParameterName(k) for k in range(force.getNumGlobalParameters())]
        force.setGlobalParameterDefaultValue(index.index(name), sigma_nm)
    system.addForce(openmm.MonteCarloBarostat(1.0 * u.bar, TEMPERATURE_K * u.kelvin, 25))
    return system


def sample(topology, positions, system, equilibration_ps, production_ps, every_ps, seed, threads):
    """Minimise, equilibrate and sample; returns frames (A) and box lengths (A) per frame."""
    integrator = openmm.LangevinMiddleIntegrator(
        TEMPERATURE_K * u.kelvin, 1.0 / u.picosecond, 0.002 * u.picosecond
    )
    integrator.setRandomNumberSeed(seed)
    platform = openmm.Platform.getPlatformByName("CPU")
    sim = app.Simulation(topology, system, integrator, platform, {"Threads": str(threads)})
    sim.context.setPositions(positions)
    sim.minimizeEnergy(maxIterations=500)
    sim.context.setVelocitiesToTemperature(TEMPERATURE_K * u.kelvin, seed)
    sim.step(int(round(equilibration_ps / 0.002)))
    stride = int(round(every_ps / 0.002))
    frames, boxes = [], []
    for _ in range(int(round(production_ps / every_ps))):
        sim.step(stride)
        state = sim.context.getState(getPositions=True)
        frames.append(state.getPositions(asNumpy=True).value_in_unit(u.angstrom))
        boxes.append(np.diag(state.getPeriodicBoxVectors(asNumpy=True).value_in_unit(u.angstrom)))
    return np.array(frames, dtype=np.float32), np.array(boxes)


def first_shell(topology, frames, boxes) -> dict[str, float]:
    """Zn-O(water) first shell from solvation's RDF (0.01 A bins to 6 A) and shell-cutoff
    rule: peak of g(r) smoothed by 0.02 A and of the raw histogram, mean Zn-O distance
    within the first minimum, the minimum itself (A) and the coordination number."""
    universe = mda.Universe(topology)
    dims = np.hstack([boxes, np.full((len(boxes), 3), 90.0)]).astype(np.float32)
    universe.load_new(frames, format=MemoryReader, dimensions=dims)
    rdf = RDF(universe, {"zn-o": ZN_O_SELECTIONS}, rmax=6.0, nbins=600)
    result = rdf.run().results.rdf
    r, pair = result.r_angstrom, result.pairs["zn-o"]
    (cutoff,) = shell_minima(r, pair.g_r, 1)
    shell = r < cutoff
    return {
        "peak_angstrom": float(r[np.argmax(smooth(r, pair.g_r, PEAK_SMOOTH_ANGSTROM))]),
        "peak_raw_angstrom": float(r[np.argmax(pair.g_r)]),
        "mean_shell_angstrom": float(np.average(r[shell], weights=pair.counts[shell])),
        "first_min_angstrom": cutoff,
        "cn": float(np.interp(cutoff, result.edges_angstrom[1:], pair.n_r)),
    }


def measure(
    sigma_nm: float | None = None,
    n_water: int = 400,
    equilibration_ps: float = 10.0,
    production_ps: float = 30.0,
    every_ps: float = 0.1,
    seed: int = 1,
    threads: int = 2,
) -> Point:
    """Run one scan point; ``sigma_nm`` None keeps the family's value."""
    start = time.perf_counter()
    topology, positions, choices = zn_in_water(n_water, seed)
    system = zn_system(topology, choices, sigma_nm)
    frames, boxes = sample(
        topology, positions, system, equilibration_ps, production_ps, every_ps, seed, threads
    )
    shell = first_shell(topology, frames, boxes)
    pair = next(p for p in scaled_family().pairs if (p.a, p.b) == PAIR)
    return Point(
        sigma_nm=sigma_nm if sigma_nm is not None else pair.sigma_nm,
        epsilon_kj_per_mol=pair.epsilon_kj_per_mol,
        **shell,
        n_water=n_water,
        production_ps=production_ps,
        n_frames=len(frames),
        box_nm=float(boxes[:, 0].mean()) / 10.0,
        seconds=time.perf_counter() - start,
    )


# --- ZnSO4 solutions: density, Zn-O peak, CN and contact pairs for given pair terms ------

SOLUTION_FIELDS = (
    "label",
    "salt",
    "molality",
    "zn_water_sigma_nm",
    "zn_water_epsilon_kj_per_mol",
    "zn_water_c4_kj_per_mol_nm4",
    "zn_sulfate_sigma_nm",
    "zn_sulfate_epsilon_kj_per_mol",
    "density_g_per_cm3",
    "density_err_g_per_cm3",
    "density_n_eff",
    "density_converged",
    "density_experiment_g_per_cm3",
    "density_deviation_percent",
    "peak_angstrom",
    "cn",
    "cip_fraction",
    "n_water",
    "production_ps",
    "ns_per_day",
    "seconds",
)
SULFATE_PAIR = ("Zn2+", "SO4:O")
SOLUTIONS_CSV = Path("tools/data/fit_scaled_zn_solutions.csv")


def _pair(a_b: tuple[str, str]):
    return next(p for p in scaled_family().pairs if (p.a, p.b) == a_b)


def solution_design(
    name: str,
    molality: float,
    n_water: int,
    times: tuple[str, str],
    seed: int,
    salt: str = "ZnSO4",
) -> dict:
    """The validation suite's cpu-profile ZnSO4 case (scaled family, pre-hydrated start,
    HMR, NPT production) at ``molality`` with ``times`` = (equilibration, production)."""
    from solvation.validation.suite import PROFILES

    protocol = PROFILES["cpu"].solution_protocol | {
        "equilibration": times[0],
        "production": times[1],
        "checkpoint_every": times[1],
    }
    return {
        "name": name,
        "salts": [{"formula": salt, "concentration": f"{molality:g} m"}],
        "box": {"n_water": n_water},
        "forcefield": {"family": "scaled", "seed": seed},
        "protocol": protocol,
    }


def set_pair_terms(system: openmm.System, terms: dict[tuple[str, str], tuple[float, ...]]):
    """Set (sigma nm, epsilon kJ/mol[, C4 kJ mol^-1 nm^4]) of the NBFix forces of
    ``terms`` in ``system``."""
    for pair, values in terms.items():
        label = " / ".join(pair)
        force = next(f for f in system.getForces() if f.getName() == f"NBFix {label}")
        names = [force.getGlobalParameterName(k) for k in range(force.getNumGlobalParameters())]
        prefix = parameter_name(label)
        for key, value in zip(("sigma", "epsilon", "c4"), values, strict=False):
            if f"{prefix}_{key}" not in names and value == 0.0:  # built before the C4 term
                continue
            force.setGlobalParameterDefaultValue(names.index(f"{prefix}_{key}"), value)


def _patched_build(directory: Path, design: dict, terms) -> None:
    """Build ``design`` into ``directory`` (a no-op when built) and write the pair terms
    into its system.xml (idempotent)."""
    from solvation.design import parse_design
    from solvation.systems import build

    build(parse_design(design), directory)
    path = directory / "system.xml"
    system = openmm.XmlSerializer.deserialize(path.read_text())
    set_pair_terms(system, terms)
    path.write_text(openmm.XmlSerializer.serialize(system))


def _experimental_density(salt: str, molality: float) -> float:
    """Laliberte's density (g/cm3) of the aqueous salt at 298.15 K (the validation suite's
    reference for ZnSO4)."""
    from solvation.validation import laliberte

    return laliberte.density_g_per_cm3(salt, molality)


def measure_solution(
    label: str,
    molality: float,
    terms: dict[tuple[str, str], tuple[float, ...]],
    root: Path,
    n_water: int = 560,
    times: tuple[str, str] = ("100 ps", "100 ps"),
    seed: int = 1,
    salt: str = "ZnSO4",
) -> dict:
    """Build, run (resumable) and measure one box of ``salt`` with the given pair terms
    (ZnSO4; MgSO4 checks the published Madrid-2019 model in this implementation)."""
    from solvation.engine import run

    start = time.perf_counter()
    name = f"{label}-{molality:g}m"
    directory = root / name
    design = solution_design(name, molality, n_water, times, seed, salt)
    _patched_build(directory, design, terms if salt == "ZnSO4" else {})
    info = run(directory, platform="CPU")
    exp = _experimental_density(salt, molality)
    zw, zs = terms[PAIR], terms[SULFATE_PAIR]
    return {
        "label": label,
        "salt": salt,
        "molality": molality,
        "zn_water_sigma_nm": zw[0],
        "zn_water_epsilon_kj_per_mol": zw[1],
        "zn_water_c4_kj_per_mol_nm4": zw[2],
        "zn_sulfate_sigma_nm": zs[0],
        "zn_sulfate_epsilon_kj_per_mol": zs[1],
        "density_g_per_cm3": info.density_g_per_cm3,
        "density_err_g_per_cm3": info.density_err_g_per_cm3,
        "density_n_eff": info.density_n_eff,
        "density_converged": info.density_converged,
        "density_experiment_g_per_cm3": exp,
        "density_deviation_percent": 100.0 * (info.density_g_per_cm3 / exp - 1.0),
        **_zn_shells(directory),
        "n_water": n_water,
        "production_ps": time_ps(times[1]),
        "ns_per_day": info.ns_per_day.get("production"),
        "seconds": time.perf_counter() - start,
    }


def _zn_shells(directory: Path) -> dict:
    """Zn-O(water) first peak (A; g(r) on 0.01 A bins smoothed by 0.02 A, as the one-ion
    scan), water CN and contact-pair fraction of a run (NaN without Zn2+)."""
    from solvation.analysis.universe import load_universe
    from solvation.rundir import read_build
    from solvation.runs.structure import shells_of_run

    universe = load_universe(directory)
    shells = shells_of_run(universe, read_build(directory), residence=False)
    if shells.result is None:
        return {"peak_angstrom": float("nan"), "cn": float("nan"), "cip_fraction": float("nan")}
    rdf = RDF(universe, {"zn-o": ZN_O_SELECTIONS}, rmax=6.0, nbins=600).run().results.rdf
    g = smooth(rdf.r_angstrom, rdf.pairs["zn-o"].g_r, PEAK_SMOOTH_ANGSTROM)
    return {
        "peak_angstrom": float(rdf.r_angstrom[np.argmax(g)]),
        "cn": shells.result.coordination["water"].mean,
        "cip_fraction": shells.result.contact_pairs[shells.selections.anion].mean,
    }


def _append_row(path: Path, row: dict, header: tuple[str, ...], comment: str) -> None:
    new = not path.exists()
    with path.open("a", newline="") as fh:
        if new:
            fh.write(comment)
        writer = csv.DictWriter(fh, fieldnames=list(header))
        if new:
            writer.writeheader()
        writer.writerow(row)


def _terms(args) -> dict[tuple[str, str], tuple[float, ...]]:
    zw, zs = _pair(PAIR), _pair(SULFATE_PAIR)
    water = tuple(args.zn_water or (zw.sigma_nm, zw.epsilon_kj_per_mol))
    c4 = args.zn_water_c4 if args.zn_water_c4 is not None else zw.c4_kj_per_mol_nm4 or 0.0
    return {
        PAIR: (*water, c4),
        SULFATE_PAIR: tuple(args.zn_sulfate or (zs.sigma_nm, zs.epsilon_kj_per_mol)),
    }


def main_solution(args, command: str) -> int:
    """One row per molality of ``args.molality`` for the pair terms of ``args``."""
    terms = _terms(args)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    comment = (
        "# ZnSO4(aq) (MgSO4: Madrid-2019 alone, a check) with the scaled family and the "
        "listed Zn2+ pair terms; experiment: Laliberte's densities "
        "(solvation.validation.laliberte)\n"
    )
    for molality in args.molality:
        row = measure_solution(
            args.label,
            molality,
            terms,
            args.runs,
            args.n_water,
            (args.equilibration, args.production),
            args.seed,
            args.salt,
        )
        _append_row(args.out, row, SOLUTION_FIELDS, comment + f"# command: {command}\n")
        print(
            f"{args.label} {args.salt} {molality:g} m: density {row['density_g_per_cm3']:.4f} +- "
            f"{row['density_err_g_per_cm3'] or float('nan'):.4f} "
            f"({row['density_deviation_percent']:+.2f}%), peak {row['peak_angstrom']:.3f} A, "
            f"CN {row['cn']:.2f}, CIP {row['cip_fraction']:.2f}, {row['seconds']:.0f} s",
            flush=True,
        )
    return 0


def main_peak(args, command: str) -> int:
    """One row per sigma of ``args.sigma``: one Zn2+ in water."""
    args.out.parent.mkdir(parents=True, exist_ok=True)
    with args.out.open("w", newline="") as fh:  # one row per point as it finishes
        fh.write(
            f"# target: Zn-O first peak {TARGET_PEAK_ANGSTROM} +- {TARGET_TOLERANCE_ANGSTROM} A,"
            f" CN {TARGET_CN} (Marcus 1988; Ohtaki & Radnai 1993) [R]\n"
            f"# command: {command}\n"
        )
        writer = csv.DictWriter(fh, fieldnames=[f.name for f in fields(Point)])
        writer.writeheader()
        for sigma in args.sigma:
            point = measure(
                sigma,
                args.n_water,
                args.equilibration_ps,
                args.production_ps,
                seed=args.seed,
                threads=args.threads,
            )
            writer.writerow(asdict(point))
            fh.flush()
            print(
                f"sigma {sigma:.4f} nm: peak {point.peak_angstrom:.3f} A "
                f"(raw {point.peak_raw_angstrom:.3f}, shell mean {point.mean_shell_angstrom:.3f}), "
                f"CN {point.cn:.2f} (cutoff {point.first_min_angstrom:.2f} A), "
                f"{point.seconds:.0f} s",
                flush=True,
            )
    return 0


def markdown_table(path: Path) -> str:
    """The solution scan of ``path`` as a Markdown table (docs/validation.md, section 4)."""
    with path.open() as fh:
        rows = list(csv.DictReader(line for line in fh if not line.startswith("#")))
    head = (
        "| point | salt, m | waters, ps | Zn-O(w) sigma nm / eps kJ/mol / C4 kJ/mol nm^4 "
        "| Zn-O(SO4) sigma / eps | density g/cm3 | vs experiment | Zn-O peak A | CN | CIP |"
    )
    lines = [head, "|" + "---|" * 10]
    for r in rows:
        err = float(r["density_err_g_per_cm3"] or "nan")
        lines.append(
            f"| {r['label']} | {r['salt']} {float(r['molality']):g} | {r['n_water']}, "
            f"{float(r['production_ps']):g} | {float(r['zn_water_sigma_nm']):g} / "
            f"{float(r['zn_water_epsilon_kj_per_mol']):g} / "
            f"{float(r['zn_water_c4_kj_per_mol_nm4'] or 0):g} | "
            f"{float(r['zn_sulfate_sigma_nm']):g} / {float(r['zn_sulfate_epsilon_kj_per_mol']):g} "
            f"| {float(r['density_g_per_cm3']):.4f} +- {err:.4f} | "
            f"{float(r['density_deviation_percent']):+.2f}% | {float(r['peak_angstrom']):.3f} | "
            f"{float(r['cn']):.2f} | {float(r['cip_fraction']):.2f} |"
        )
    return "\n".join(lines)


def parser() -> argparse.ArgumentParser:
    """Command line: ``peak`` (one Zn2+ in water) and ``solution`` (ZnSO4 boxes)."""
    top = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = top.add_subparsers(dest="mode", required=True)
    peak = sub.add_parser("peak", help="one Zn2+ in TIP4P/2005: Zn-O peak per sigma")
    peak.add_argument("--sigma", type=float, nargs="+", required=True, help="sigma values, nm")
    peak.add_argument("--n-water", type=int, default=400)
    peak.add_argument("--equilibration-ps", type=float, default=10.0)
    peak.add_argument("--production-ps", type=float, default=30.0)
    peak.add_argument("--seed", type=int, default=1)
    peak.add_argument("--threads", type=int, default=2)
    peak.add_argument("--out", type=Path, default=Path("tools/data/fit_scaled_zn.csv"))
    sol = sub.add_parser("solution", help="ZnSO4(aq): density, peak, CN, contact pairs")
    sol.add_argument("--label", required=True, help="name of this parameter point")
    sol.add_argument("--salt", default="ZnSO4", choices=("ZnSO4", "MgSO4"))
    sol.add_argument("--molality", type=float, nargs="+", default=[2.0])
    sol.add_argument("--zn-water", type=float, nargs=2, metavar=("SIGMA", "EPSILON"))
    sol.add_argument("--zn-water-c4", type=float, help="C4 of Zn-O(water), kJ mol^-1 nm^4")
    sol.add_argument("--zn-sulfate", type=float, nargs=2, metavar=("SIGMA", "EPSILON"))
    sol.add_argument("--n-water", type=int, default=560)
    sol.add_argument("--equilibration", default="100 ps")
    sol.add_argument("--production", default="100 ps")
    sol.add_argument("--seed", type=int, default=1)
    sol.add_argument("--runs", type=Path, default=Path("runs/fit-zn"))
    sol.add_argument("--out", type=Path, default=SOLUTIONS_CSV)
    table = sub.add_parser("table", help="print the solution scan as a Markdown table")
    table.add_argument("csv", type=Path, nargs="?", default=SOLUTIONS_CSV)
    return top


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = "python tools/fit_scaled_zn.py " + " ".join(sys.argv[1:] if argv is None else argv)
    if args.mode == "peak":
        return main_peak(args, command)
    if args.mode == "table":
        print(markdown_table(args.csv))
        return 0
    return main_solution(args, command)


if __name__ == "__main__":
    raise SystemExit(main())
