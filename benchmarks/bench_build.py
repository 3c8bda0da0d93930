"""Build-time benchmark: example designs built as a user builds them (pre-hydrated).

    python benchmarks/bench_build.py                      # 2 m ZnSO4 (3000 waters), Zn(002)
    python benchmarks/bench_build.py --examples all --max-waters 1000

Parameters are cached first (one untimed build of each design), so the figures are the
cost of a build with cached parameters, as a user sees it the second time; packmol is
almost all of it. Prints seconds and peak memory of each build. ``--max-waters`` caps
each design's water count (the size the examples test builds in CI).
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

from solvation.design import load_design
from solvation.systems import build

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def design_of(name: str, max_waters: int | None):
    design = load_design(EXAMPLES / f"{name}.toml")
    if max_waters is None or design.box.n_water <= max_waters:
        return design
    box = design.box.model_copy(update={"n_water": max_waters})
    return design.model_copy(update={"box": box})


def timed(design, root: Path, tag: str) -> float:
    start = time.perf_counter()
    build(design, root / tag)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", default="znso4_2m,zn002_znso4_2m", help="names or 'all'")
    parser.add_argument("--max-waters", type=int, default=None)
    args = parser.parse_args()
    names = args.examples.split(",")
    if args.examples == "all":
        names = sorted(p.stem for p in EXAMPLES.glob("*.toml"))
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in names:
            design = design_of(name, args.max_waters)
            timed(design, root, f"{name}-warm")  # fills the parameter cache
            seconds = timed(design, root, name)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(
                f"{name:>22} ({design.box.n_water} waters): {seconds:6.2f} s "
                f"(cached parameters), peak RSS {peak:.0f} MiB",
                flush=True,
            )


if __name__ == "__main__":
    main()
