"""Osmotic coefficient of 1 mol/kg NaCl in TIP3P (Joung-Cheatham ions) by the osmotic-
pressure route, against experiment (phi = 0.936, a_w = 0.9669; Robinson & Stokes,
Electrolyte Solutions, 2nd ed., 1959, appendix 8.10).

    python benchmarks/bench_osmotic.py [--out DIR] [--n-water 600] [--production-ps 1000]
                                       [--platform auto]

Builds the two-compartment box (``[osmotic]``: solution between flat-bottom walls, as
much pure water outside), runs it with our engine (resumable: run it again with the same
--out to continue an interrupted run; a longer run needs a new --out), then
the osmotic route of ``solvation analyze water-activity`` (``osmotic_from_run``) analyses it.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

EXPERIMENT_PHI, EXPERIMENT_AW = 0.936, 0.9669


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-osmotic"))
    parser.add_argument("--n-water", type=int, default=600)
    parser.add_argument("--production-ps", type=float, default=1000.0)
    parser.add_argument("--equilibration-ps", type=float, default=50.0)
    parser.add_argument("--platform", default="auto")
    args = parser.parse_args()

    from solvation.design import parse_design
    from solvation.engine import run
    from solvation.runs.water_activity import osmotic_from_run
    from solvation.systems import build

    design = parse_design(
        {
            "name": "nacl-1m-osmotic",
            "water": {"model": "tip3p"},
            "box": {"n_water": args.n_water},
            "salts": [{"formula": "NaCl", "concentration": "1 m"}],
            "forcefield": {"family": "full", "ions": {"Na+": "jc", "Cl-": "jc"}},
            "osmotic": {"reservoir": 1.0},
        }
    )
    built = build(design, args.out)
    print(f"box: {built.info.n_atoms} atoms, walls {built.info.osmotic.walls_nm} nm")
    t0 = time.perf_counter()
    info = run(
        built.path,
        platform=args.platform,
        production=f"{args.production_ps:g} ps",
        equilibration=f"{args.equilibration_ps:g} ps",
        report_every="1 ps",
        checkpoint_every="50 ps",
    )
    print(
        f"run: {time.perf_counter() - t0:.0f} s on {info.platform}, "
        f"{info.ns_per_day.get('production')} ns/day"
    )
    r = osmotic_from_run(built.path, start=10)  # first 10 ps: walls settle
    d = r.details
    print(
        f"m inside = {r.molality_mol_per_kg:.3f} mol/kg, Pi = {d['osmotic_pressure_bar']:.1f} "
        f"+- {d['osmotic_pressure_bar_err']:.1f} bar, V_w = "
        f"{d['water_molar_volume_cm3_per_mol']:.2f} cm3/mol, {d['n_frames']} frames"
    )
    print(
        f"phi = {r.osmotic_coefficient:.3f} +- {r.osmotic_coefficient_err:.3f} "
        f"(experiment {EXPERIMENT_PHI}); a_w = {r.a_w:.4f} +- {r.a_w_err:.4f} "
        f"(experiment {EXPERIMENT_AW}); standard errors, n_eff {r.n_eff:.0f}"
        f"{'' if r.converged else ', NOT CONVERGED: ' + str(r.reason)}"
    )


if __name__ == "__main__":
    main()
