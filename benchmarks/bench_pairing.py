"""Contact-ion pairing of 2 m ZnSO4 against time from two starting structures, with and
without an annealing stage: does the reported pairing depend on the start?

Four runs of one design (TIP3P + Li-Merz 12-6-4 Zn2+ + GAFF2 sulfate unless --design is
given): {pre-hydrated, plain packmol} start x {no annealing, annealing at --anneal-k for
--anneal}. Each run's production trajectory gives, per frame, the fraction of Zn2+ with
a sulfate oxygen within --cutoff (contact pair or aggregate) and the first-shell
exchange events; the script prints the mean over the last half of production with its
autocorrelation-aware standard error, writes pairing.csv (fraction per frame), and
plots docs/figures/pairing_vs_time.png.

    python benchmarks/bench_pairing.py --n-water 300 --anneal "1 ns" --production "1 ns"
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from solvation.analysis.coordination import PAIRING_OFFSET_ANGSTROM, solvation_shells
from solvation.analysis.stats import estimate as _estimate
from solvation.analysis.universe import load_universe
from solvation.design import parse_design
from solvation.engine import run
from solvation.style import METADATA, STYLE
from solvation.systems import build


def contact_series(directory: Path, cutoff: float) -> tuple[np.ndarray, np.ndarray, float]:
    """(time ps, fraction of Zn2+ with a sulfate O within ``cutoff`` A per frame, first-shell
    water exchange events per Zn2+ per ns) over the production trajectory, from the
    library's shell analysis with the cutoffs given."""
    shells = {"water": "resname HOH and name O", "SO4": "resname SO4 and element O"}
    result, _ = solvation_shells(
        load_universe(directory),
        "resname ZN",
        shells,
        cutoffs={"water": cutoff, "SO4": cutoff},
        pairing={"SO4": cutoff + PAIRING_OFFSET_ANGSTROM},
        residence=False,
    )
    water = result.exchanges["water"]
    per_zn_per_ns = water.per_ns / result.n_centers
    return result.time_ps, result.contact_pairs_per_frame["SO4"], per_zn_per_ns


def design(args, prehydrate: bool, anneal: bool) -> dict:
    body = json.loads(args.design) if args.design else {}
    protocol = {
        "equilibration": args.equilibration,
        "production": args.production,
        "report_every": args.report_every,
        "checkpoint_every": args.production,
        "hmr": True,
    }
    if anneal:
        protocol["anneal"] = {"temperature": f"{args.anneal_k} K", "time": args.anneal}
    return {
        "name": f"znso4-2m-{'hyd' if prehydrate else 'plain'}-{'anneal' if anneal else 'direct'}",
        "salts": [{"formula": "ZnSO4", "concentration": "2 m"}],
        "box": {"n_water": args.n_water, "prehydrate": prehydrate},
        "water": {"model": "tip3p"},  # the measurements of docs/validation.md section 1
        "forcefield": {"family": "full", "seed": args.seed},
        "protocol": protocol,
        **body,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n-water", type=int, default=300)
    parser.add_argument("--equilibration", default="100 ps")
    parser.add_argument("--anneal", default="1 ns")
    parser.add_argument("--anneal-k", type=float, default=400.0)
    parser.add_argument("--production", default="1 ns")
    parser.add_argument("--report-every", default="5 ps")
    parser.add_argument("--cutoff", type=float, default=3.0, help="Zn-O(sulfate) contact (A)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--design", default="", help="extra design keys as JSON")
    parser.add_argument(
        "--protocols", default="direct,anneal", help="comma list of direct and anneal"
    )
    parser.add_argument("--starts", default="hyd,plain", help="comma list of hyd and plain")
    parser.add_argument("--platform", default="auto")
    parser.add_argument("--out", type=Path, default=Path("bench-pairing"))
    parser.add_argument("--figure", type=Path, default=Path("docs/figures/pairing_vs_time.png"))
    args = parser.parse_args()
    rows, summary = [], []
    protocols = args.protocols.split(",")
    for anneal in [p == "anneal" for p in protocols]:
        for prehydrate in [s == "hyd" for s in args.starts.split(",")]:
            spec = design(args, prehydrate, anneal)
            directory = args.out / spec["name"]
            built = build(parse_design(spec), directory)
            t0 = time.perf_counter()
            info = run(directory, platform=args.platform)
            t, frac, exch = contact_series(directory, args.cutoff)
            half = frac[len(frac) // 2 :]
            est = _estimate(half)
            summary.append(
                {
                    "run": spec["name"],
                    "contacts_at_t0": built.info.initial_structure["cations_in_contact"],
                    "fraction_first_frame": float(frac[0]),
                    "fraction_last_half": est.mean,
                    "err": est.err,
                    "n_eff": getattr(est, "n_eff", None),
                    "water_exchanges_per_zn_per_ns": exch,
                    "ns_per_day": info.ns_per_day.get("production"),
                    "seconds": time.perf_counter() - t0,
                }
            )
            print(summary[-1], flush=True)
            rows += [
                {"run": spec["name"], "time_ps": a, "cip_agg_fraction": b}
                for a, b in zip(t, frac, strict=True)
            ]
    pd.DataFrame(rows).to_csv(args.out / "pairing.csv", index=False)
    pd.DataFrame(summary).to_csv(args.out / "pairing_summary.csv", index=False)
    plot(pd.DataFrame(rows), args.figure)
    print(pd.DataFrame(summary).to_string(index=False))


def plot(data: pd.DataFrame, path: Path) -> None:
    with plt.style.context(STYLE):
        fig, ax = plt.subplots(figsize=(6.0, 3.6))
        for name, g in data.groupby("run", sort=False):
            ax.plot(g.time_ps / 1000.0, g.cip_agg_fraction, label=name, lw=1)
        ax.set(xlabel="production time (ns)", ylabel="Zn²⁺ in contact with SO₄²⁻")
        ax.set_ylim(-0.03, 1.03)  # a series at 0 stays visible
        ax.legend(fontsize=7)
        path.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(path, metadata=METADATA["png"])
        plt.close(fig)


if __name__ == "__main__":
    main()
