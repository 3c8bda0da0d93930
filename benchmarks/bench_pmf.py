"""ns/day of one umbrella window of a ~4k-atom substrate slab, engine vs plain OpenMM, and
what a 20-window PMF then costs.

    python benchmarks/bench_pmf.py [--out DIR] [--material Cu5Zn8] [--steps 500]
                                   [--platform auto]

The design is a slab of ``--material`` (Cu5Zn8 (110) by default, lateral cell sized to
the box) under 900 waters of 2 m ZnSO4, about 4k atoms. It is built and equilibrated
briefly (the parent run), ``solvation pmf``'s setup pulls one Zn2+ to two windows (0.8
and 0.4 nm above the surface) and ``solvation bench md`` times the production
loop of each window: our engine (reporters, restraint force in system.xml) and a plain
OpenMM loop on the same System, same process. The 20-window estimate assumes windows of
1 ns production + 100 ps equilibration run one after another on one device (concurrent
windows share it).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

DESIGN = {
    "name": "bench-pmf",
    "box": {"n_water": 900},
    "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
    "slab": {"layers": 2},
    "protocol": {"equilibration": "2 ps", "production": "0.1 ps", "report_every": "0.1 ps"},
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=Path("bench-pmf"))
    parser.add_argument("--material", default="Cu5Zn8")
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--platform", default="auto")
    args = parser.parse_args()

    from solvation.campaigns.pmf import setup_pmf
    from solvation.design import parse_design
    from solvation.engine import bench_md, run
    from solvation.systems import build

    design = parse_design({**DESIGN, "slab": {**DESIGN["slab"], "material": args.material}})
    t0 = time.perf_counter()
    parent = build(design, args.out / "system").path
    run(parent, platform=args.platform)
    t1 = time.perf_counter()
    window = {"from": "0.8 nm", "to": "0.4 nm", "spacing": "0.4 nm", "pull_time": "2 ps"}
    out, setup = setup_pmf(parent, args.out / "pmf", args.platform, **window)
    t2 = time.perf_counter()
    rows = []
    for name, centre in zip(setup.windows, setup.centres_nm, strict=True):
        r = bench_md(out / name, steps=args.steps, platform=args.platform, repeats=1)
        r["centre_nm"] = centre
        rows.append(r)
        print(
            f"window {centre:.2f} nm: {r['n_atoms']} atoms on {r['platform']}: solvation "
            f"{r['solvation_ns_per_day']:.2f} ns/day, plain OpenMM "
            f"{r['plain_openmm_ns_per_day']:.2f} ns/day, ratio {r['ratio']:.3f}"
        )
    rate = sum(r["solvation_ns_per_day"] for r in rows) / len(rows)
    hours = 20 * 1.1 / rate * 24
    print(f"build + parent run {t1 - t0:.0f} s; pull to {len(rows)} windows {t2 - t1:.0f} s")
    print(f"20 windows x (1 ns + 100 ps) at {rate:.2f} ns/day: {hours:.1f} h one after another")
    (args.out / "bench_pmf.json").write_text(
        json.dumps({"windows": rows, "twenty_window_hours": hours}, indent=2, default=str)
    )


if __name__ == "__main__":
    main()
