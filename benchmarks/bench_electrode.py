"""ns/day of a Zn(002) | 2 m ZnSO4 slab (about 20k atoms) with and without the
constant-potential electrode force, and interfacial profiles from a short electrode run.

    python benchmarks/bench_electrode.py [--out DIR] [--steps 500] [--platform auto]
                                         [--production-ps 30]

Both timed systems come from the same design (the electrode one adds ``[electrode]
potential_difference = "1 V"``) and are timed by ``solvation bench md`` (our production
loop and a plain OpenMM loop, same process). Then the smaller example
``examples/zn002_znso4_2m_1V.toml`` (4,530 atoms) is run with our engine (10 ps
equilibration, then production) and ``solvation analyze interface`` writes the profiles
figure, the contact layer and the capacitance into DIR (about 30 min on 2 CPU cores).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

DESIGN = {
    "name": "zn002-2m-znso4",
    "box": {"n_water": 5300},
    "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
    "slab": {"facet": "002", "layers": 4, "repeats": [24, 28]},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-electrode"))
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--platform", default="auto")
    parser.add_argument("--production-ps", type=float, default=30.0)
    args = parser.parse_args()

    from solvation.design import parse_design
    from solvation.engine import bench_md, run
    from solvation.systems import build

    plain = build(parse_design(DESIGN), args.out / "plain")
    electrode = build(
        parse_design({**DESIGN, "electrode": {"potential_difference": "1 V"}}),
        args.out / "electrode",
    )
    rows = {}
    for name, built in (("without electrode", plain), ("with electrode", electrode)):
        rows[name] = bench_md(built.path, steps=args.steps, platform=args.platform, repeats=1)
        r = rows[name]
        print(
            f"{name}: {r['n_atoms']} atoms on {r['platform']}: solvation "
            f"{r['solvation_ns_per_day']:.2f} ns/day, plain OpenMM "
            f"{r['plain_openmm_ns_per_day']:.2f} ns/day"
        )
    ratio = (
        rows["with electrode"]["solvation_ns_per_day"]
        / rows["without electrode"]["solvation_ns_per_day"]
    )
    print(f"electrode force costs: speed ratio {ratio:.2f} (with / without)")
    (args.out / "bench.json").write_text(json.dumps(rows, indent=1))
    if args.production_ps <= 0:
        return
    example = Path(__file__).resolve().parents[1] / "examples" / "zn002_znso4_2m_1V.toml"
    profiled = build(example, args.out / "profiles")
    run(
        profiled.path,
        platform=args.platform,
        production=f"{args.production_ps:g} ps",
        equilibration="10 ps",
        report_every="0.2 ps",
    )
    cmd = [
        sys.executable, "-m", "solvation.cli", "analyze", "interface", str(profiled.path),
        "--species", "water=resname HOH and name O",
        "--species", "Zn2+=resname ZN",
        "--species", "SO4=resname SO4 and name S1",
        "--center", "resname ZN",
        "--shell", "water=resname HOH and name O", "--cutoff", "water=2.9",
        "--json", str(args.out / "interface.json"), "--plot", str(args.out / "profiles.png"),
    ]  # fmt: skip
    subprocess.run(cmd, check=True)


if __name__ == "__main__":
    main()
