"""Equilibrium contact pairs of 2 m ZnSO4 from two starts by well-tempered metadynamics.

    python benchmarks/bench_contact_pairs.py [--n-water 250] [--time "2 ns"]
        [--family full] [--cv exchange] [--platform CPU] [--out runs/contact-pairs]

Two boxes of the same design, one pre-hydrated (no contact pairs at t = 0) and one plain
packmol (`prehydrate = false`: about half the Zn2+ in contact), each run to NPT and then
through `solvation metad` (bias on the smooth Zn-O(sulfate) contact number, or with
`--cv exchange` on that number minus the Zn2+ first-shell water count), one after the
other. Each stage is resumable: the same command continues, a longer --time extends.
Prints and writes (OUT/contact_pairs.json, OUT/contact_pairs.png) the reweighted fraction
of Zn2+ in contact (CIP + AGG) of each start with its error, their running estimates
against time, and whether the two agree within two combined standard errors: only then
is the fraction a result.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path


def design(n_water: int, family: str, prehydrate: bool, cv: str = "contacts") -> dict:
    """2 m ZnSO4 of ``family`` in ``n_water`` waters, one start, metadynamics on ``cv``."""
    forcefield = {"family": "scaled"} if family == "scaled" else {"zn": "12-6-4"}
    return {
        "name": f"znso4_2m_{family}_{'prehydrated' if prehydrate else 'packmol'}",
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "box": {"n_water": n_water, "prehydrate": prehydrate},
        "forcefield": {**forcefield, "seed": 1 if prehydrate else 2},
        "metad": {"cation": "Zn2+", "anion": "SO4", "cv": cv},
        "protocol": {
            "equilibration": "50 ps",
            "production": "2 ps",
            "report_every": "1 ps",
            "checkpoint_every": "2 ps",
            "hmr": True,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n-water", type=int, default=250)
    parser.add_argument("--time", default="2 ns")
    parser.add_argument("--family", default="full", choices=("full", "scaled"))
    parser.add_argument("--bias-factor", type=float, default=10.0)
    parser.add_argument("--cv", default="contacts", choices=("contacts", "exchange"))
    parser.add_argument("--platform", default="auto")
    parser.add_argument("--out", type=Path, default=Path("runs/contact-pairs"))
    args = parser.parse_args()

    from solvation.analysis.plots import plot_contact_pairs
    from solvation.design import parse_design
    from solvation.engine import run
    from solvation.engine.metadynamics import metad_settings, run_metadynamics
    from solvation.rundir import read_build
    from solvation.runs.metad import metad_of_directory
    from solvation.systems import build

    results, summary = {}, {}
    for prehydrate in (True, False):
        d = parse_design(design(args.n_water, args.family, prehydrate, args.cv))
        path = build(d, args.out / d.name).path
        run(path, platform=args.platform)
        t0 = time.perf_counter()
        settings = metad_settings(d.metad, time=args.time, bias_factor=args.bias_factor)
        record = run_metadynamics(path, settings, args.platform)
        r = metad_of_directory(path)
        start = read_build(path).initial_structure or {}
        label = "pre-hydrated" if prehydrate else "plain packmol"
        results[label] = r
        summary[label] = {
            "directory": str(path),
            "cations_in_contact_at_build": start.get("cations_in_contact"),
            "n_cations": r.n_cations,
            "cip_fraction": r.cip_fraction,
            "cip_fraction_err": r.cip_fraction_err,
            "n_eff": r.cip_fraction_n_eff,
            "changes": r.changes,
            "converged": r.converged,
            "warnings": r.warnings,
            "metad_ps": record["time_ps"],
            "metad_wall_seconds": record["wall_seconds"],
            "ns_per_day": record["ns_per_day"],
            "this_call_seconds": time.perf_counter() - t0,
            "running": r.to_dict()["running"],
            "pairs": r.to_dict()["pairs"],
        }
        print(
            f"{label}: {start.get('cations_in_contact')} / {r.n_cations} Zn2+ in contact at "
            f"build; metadynamics {record['time_ps']:.0f} ps ({record['ns_per_day'] or 0:.1f} "
            f"ns/day, {record['wall_seconds'] / 3600:.2f} h): fraction in contact "
            f"{r.cip_fraction:.3f} +- {r.cip_fraction_err:.3f} (n_eff {r.cip_fraction_n_eff:.1f}, "
            f"{r.changes} changes, {'converged' if r.converged else 'NOT converged'})"
        )
        for row in r.running.itertuples():
            print(
                f"    {row.time_ps:8.0f} ps  {row.cip_fraction:.3f} +- {row.cip_fraction_err:.3f}"
            )
    a, b = summary["pre-hydrated"], summary["plain packmol"]
    diff = abs(a["cip_fraction"] - b["cip_fraction"])
    combined = math.hypot(a["cip_fraction_err"], b["cip_fraction_err"])
    agree = bool(diff <= 2.0 * combined) if math.isfinite(combined) else False
    result = agree and a["converged"] and b["converged"]
    summary["agreement"] = {
        "difference": diff,
        "combined_err": combined,
        "agree_within_2_sigma": agree,
        "a_result": result,
    }
    print(
        f"starts differ by {diff:.3f} +- {combined:.3f}: "
        f"{'agree' if agree else 'do NOT agree'}; {'a result' if result else 'not a result'}"
    )
    (args.out / "contact_pairs.json").write_text(json.dumps(summary, indent=2, default=str))
    plot_contact_pairs(results, args.out / "contact_pairs.png")


if __name__ == "__main__":
    main()
