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
from solvation.systems.packing import PackItem, pack
from solvation.systems.templates import assemble, ion_template, water_template

TARGET_PEAK_ANGSTROM = 2.09
TARGET_TOLERANCE_ANGSTROM = 0.03
TARGET_CN = 6
TEMPERATURE_K = 298.15
PAIR = ("Zn2+", "water:O")
PEAK_SMOOTH_ANGSTROM = 0.02  # g(r) on 0.01 A bins, smoothed for the peak position only


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
    rdf = RDF(universe, {"zn-o": ("resname ZN", "resname HOH and name O")}, rmax=6.0, nbins=600)
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sigma", type=float, nargs="+", required=True, help="sigma values, nm")
    parser.add_argument("--n-water", type=int, default=400)
    parser.add_argument("--equilibration-ps", type=float, default=10.0)
    parser.add_argument("--production-ps", type=float, default=30.0)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path, default=Path("tools/data/fit_scaled_zn.csv"))
    args = parser.parse_args(argv)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    with args.out.open("w", newline="") as fh:  # one row per point as it finishes
        fh.write(
            f"# target: Zn-O first peak {TARGET_PEAK_ANGSTROM} +- {TARGET_TOLERANCE_ANGSTROM} A,"
            f" CN {TARGET_CN} (Marcus 1988; Ohtaki & Radnai 1993) [R]\n"
            f"# command: python tools/fit_scaled_zn.py {command}\n"
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


if __name__ == "__main__":
    raise SystemExit(main())
