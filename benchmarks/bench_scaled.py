"""Cost of the scaled-charge family: ns/day of the same 2 m ZnSO4 box (1000 waters) with
its pair-term (NBFix) forces and with them removed, and of the full-charge family
(TIP3P, 12-6-4) box of the same composition, in one process.

    python benchmarks/bench_scaled.py [--steps 100] [--rounds 7] [--platform CPU]

The NBFix ratio is the price of the pair-specific terms (each a CustomNonbondedForce
restricted to two atom sets); the family ratio also contains TIP4P/2005's extra site.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

import openmm
import openmm.app as app

from solvation.design import parse_design
from solvation.systems import build


def simulation(directory: Path, platform: str, drop_nbfix: bool) -> app.Simulation:
    """Plain OpenMM loop (2 fs, LangevinMiddle) over the built System, minimised."""
    system = openmm.XmlSerializer.deserialize((directory / "system.xml").read_text())
    if drop_nbfix:
        for k in reversed(range(system.getNumForces())):
            if system.getForce(k).getName().startswith("NBFix"):
                system.removeForce(k)
    pdb = app.PDBFile(str(directory / "topology.pdb"))
    integrator = openmm.LangevinMiddleIntegrator(298.15, 1.0, 0.002)
    sim = app.Simulation(
        pdb.topology, system, integrator, openmm.Platform.getPlatformByName(platform)
    )
    sim.context.setPositions(pdb.positions)
    sim.minimizeEnergy(maxIterations=200)
    sim.step(50)
    return sim


def interleaved(sims: dict[str, app.Simulation], steps: int, rounds: int) -> dict[str, float]:
    """ns/day of each simulation: median over ``rounds`` chunks of ``steps`` steps, the
    simulations taking turns so that a shared machine's load hits them alike."""
    rates: dict[str, list[float]] = {k: [] for k in sims}
    for _ in range(rounds):
        for key, sim in sims.items():
            start = time.perf_counter()
            sim.step(steps)
            rates[key].append(steps * 0.002e-3 / (time.perf_counter() - start) * 86400)
    return {k: statistics.median(v) for k, v in rates.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--steps", type=int, default=100, help="steps per chunk")
    parser.add_argument("--rounds", type=int, default=7, help="chunks per system")
    parser.add_argument("--platform", default="CPU")
    args = parser.parse_args()
    salt = [{"formula": "ZnSO4", "concentration": "2 m"}]
    designs = {
        "scaled": {"forcefield": {"family": "scaled"}},
        "full": {"water": {"model": "tip3p"}, "forcefield": {"family": "full"}},
    }
    with tempfile.TemporaryDirectory() as tmp:
        built = {
            key: build(
                parse_design({"name": key, "salts": salt, "box": {"n_water": 1000}, **extra}),
                Path(tmp) / key,
            )
            for key, extra in designs.items()
        }
        sims = {
            "scaled": simulation(built["scaled"].path, args.platform, False),
            "bare": simulation(built["scaled"].path, args.platform, True),
            "full": simulation(built["full"].path, args.platform, False),
        }
        rate = interleaved(sims, args.steps, args.rounds)
    scaled, bare, full = rate["scaled"], rate["bare"], rate["full"]
    n = {k: b.info.n_atoms for k, b in built.items()}
    print(f"scaled family ({n['scaled']} particles): {scaled:.2f} ns/day")
    print(f"  without its NBFix forces: {bare:.2f} ns/day (ratio {scaled / bare:.3f})")
    print(f"full family, TIP3P 12-6-4 ({n['full']} atoms): {full:.2f} ns/day")
    print(f"scaled / full: {scaled / full:.3f}")


if __name__ == "__main__":
    main()
