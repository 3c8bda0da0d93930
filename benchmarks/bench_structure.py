"""Structure analysis speed and memory against MDAnalysis and solvation_analysis, in one run.

    python benchmarks/bench_structure.py [--frames 500] [--n-water 3300] [--run-dir DIR]
        [--no-load]

Uses real MD of a 2 m ZnSO4 box (>10k atoms) made by our engine (2 ps equilibration, then
N frames 20 fs apart; about 5-10 min on 2 CPU cores), or ``--run-dir``. Each tool runs in
a fresh process, timed after the Universe is loaded (imports before the clock; ours loads
its compiled kernels from numba's cache, warmed once before timing):

- rdf: ours ``RDF`` of Zn-Ow, Zn-S(SO4), Ow-Ow (rmax 10 A, 200 bins), the library call of
  ``solvation analyze rdf``; MDAnalysis ``InterRDF`` x3 (Ow-Ow with exclusion_block);
- coordination: ours ``solvation_shells`` with its defaults, the path of
  ``solvation analyze coordination``: automatic cutoffs from g(r) found in the same pass,
  Zn2+ shells of water O and sulfate O (CN, speciation, residence); solvation_analysis
  ``Solute`` given the cutoffs ours found (``skip_rdf=True``, its fastest), and with its
  defaults (an InterRDF per solvent to find radii; ``--sa-defaults``);
- all: RDF + shells (the issue's "three RDFs + shells").

Each comparison runs alone and with a second CPU-bound process running (unless
``--no-load``). Prints seconds, ratios, peak RSS (ours also at a fifth of the frames), and
the full CLI wall time of ``solvation analyze rdf`` and ``coordination`` (start-up
included) for reference.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import CpuLoad, md_run_dir, timed_child

PAIRS = {
    "zn-ow": ("resname ZN", "resname HOH and name O"),
    "zn-s": ("resname ZN", "resname SO4 and name S*"),
    "ow-ow": ("resname HOH and name O", "resname HOH and name O"),
}
SHELLS = {"water": "resname HOH and name O", "SO4": "resname SO4 and name O*"}

CHILD = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
import MDAnalysis as mda
top, traj, tool, stop = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
pairs, shells, cutoffs = (json.loads(a) for a in sys.argv[5:8])
u = mda.Universe(top, traj)
if tool.startswith("ours"):
    from solvation.analysis import RDF, solvation_shells
elif tool.startswith("sa"):
    from solvation_analysis.solute import Solute
else:
    from MDAnalysis.analysis.rdf import InterRDF
T0 = time.perf_counter()
out = {}
if tool in ("ours-rdf", "ours-all"):
    RDF(u, {k: tuple(v) for k, v in pairs.items()}, rmax=10.0, nbins=200).run(stop=stop)
if tool in ("ours-shells", "ours-all"):
    res, _ = solvation_shells(u, "resname ZN", shells, stop=stop)
    out = {"cutoffs": res.cutoffs_angstrom, "cn": res.coordination_numbers}
if tool == "interrdf":
    for a, b in pairs.values():
        block = {"exclusion_block": (1, 1)} if a == b else {}
        InterRDF(u.select_atoms(a), u.select_atoms(b), nbins=200, range=(0.0, 10.0),
                 **block).run(stop=stop)
if tool.startswith("sa"):
    kw = {"radii": cutoffs, "skip_rdf": True} if tool == "sa-given" else {}
    solute = Solute.from_atoms(u.select_atoms("resname ZN"),
                               {k: u.select_atoms(v) for k, v in shells.items()}, **kw)
    solute.run(stop=stop)
    out = {"cn": {k: float(v) for k, v in solute.coordination.coordination_numbers.items()}}
print(json.dumps(out))
"""


def child(run_dir: Path, tool: str, stop: int, cutoffs: dict | None = None) -> dict:
    out = timed_child(
        CHILD,
        run_dir / "topology.pdb",
        run_dir / "trajectory.xtc",
        tool,
        stop,
        json.dumps(PAIRS),
        json.dumps(SHELLS),
        json.dumps(cutoffs or {}),
    )
    return out


def cli_seconds(args: list[str]) -> float:
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "solvation.cli", "analyze", *args], check=True, capture_output=True
    )
    return time.perf_counter() - t0


def has_solvation_analysis() -> bool:
    try:
        import solvation_analysis  # noqa: F401
    except ImportError:
        print("solvation_analysis not installed (pip install -e '.[bench]'): skipped")
        return False
    return True


def compare(run_dir: Path, frames: int, label: str, sa: bool, sa_defaults: bool) -> dict:
    """One round of every comparison; returns seconds per tool."""
    ours = {k: child(run_dir, f"ours-{k}", frames) for k in ("rdf", "shells", "all")}
    shells = ours["shells"]["out"]
    t = {f"ours-{k}": v["seconds"] for k, v in ours.items()}
    t["interrdf"] = child(run_dir, "interrdf", frames)["seconds"]
    print(
        f"[{label}] rdf x3: ours {t['ours-rdf']:.2f} s, InterRDF x3 {t['interrdf']:.2f} s, "
        f"{t['interrdf'] / t['ours-rdf']:.1f}x",
        flush=True,
    )
    print(
        f"[{label}] 3 RDFs + shells: ours {t['ours-all']:.2f} s vs InterRDF x3: "
        f"{t['interrdf'] / t['ours-all']:.1f}x; peak RSS {ours['all']['peak_rss_mib']:.0f} MiB",
        flush=True,
    )
    if sa:
        given = child(run_dir, "sa-given", frames, shells.get("cutoffs"))
        t["sa-given"] = given["seconds"]
        print(
            f"[{label}] coordination, automatic cutoffs: ours {t['ours-shells']:.2f} s "
            f"(cutoffs {shells.get('cutoffs')}, CN {shells.get('cn')}); solvation_analysis "
            f"given those cutoffs {t['sa-given']:.2f} s (CN {given['out'].get('cn')}): "
            f"{t['sa-given'] / t['ours-shells']:.1f}x",
            flush=True,
        )
        if sa_defaults:
            t["sa-defaults"] = child(run_dir, "sa-defaults", frames)["seconds"]
            print(
                f"[{label}] solvation_analysis with its defaults (RDF radii): "
                f"{t['sa-defaults']:.2f} s, {t['sa-defaults'] / t['ours-shells']:.1f}x",
                flush=True,
            )
    return t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=500)
    parser.add_argument("--n-water", type=int, default=3300)
    parser.add_argument("--run-dir", type=Path, help="reuse this run directory's trajectory")
    parser.add_argument("--every-steps", type=int, default=10, help="2 fs steps per frame")
    parser.add_argument("--no-load", action="store_true", help="skip the loaded round")
    parser.add_argument(
        "--sa-defaults",
        action="store_true",
        help="also time solvation_analysis with its default RDF radii",
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        run_dir = md_run_dir(args.run_dir, Path(tmp), args.n_water, args.frames, args.every_steps)
        sa = has_solvation_analysis()
        child(run_dir, "ours-all", 2)  # compiles the kernels into numba's cache
        compare(run_dir, args.frames, "alone", sa, args.sa_defaults)
        short = child(run_dir, "ours-all", args.frames // 5)
        print(
            f"ours 3 RDFs + shells on {args.frames // 5} frames: peak RSS "
            f"{short['peak_rss_mib']:.0f} MiB",
            flush=True,
        )
        if not args.no_load:
            with CpuLoad():
                compare(run_dir, args.frames, "loaded", sa, False)
        pairs = [a for name, (x, y) in PAIRS.items() for a in ("--pair", f"{name}={x}|{y}")]
        rdf_cli = cli_seconds(["rdf", str(run_dir), *pairs, "--rmax", "10", "--bins", "200"])
        shell_args = [a for k, v in SHELLS.items() for a in ("--shell", f"{k}={v}")]
        coord_cli = cli_seconds(
            ["coordination", str(run_dir), "--center", "resname ZN", *shell_args]
        )
        print(
            f"CLI wall time with start-up: analyze rdf {rdf_cli:.1f} s, analyze "
            f"coordination {coord_cli:.1f} s"
        )


if __name__ == "__main__":
    main()
