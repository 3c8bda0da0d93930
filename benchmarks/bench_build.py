"""Build-time benchmark: the 2 m ZnSO4 example (3000 waters) and the Zn(002) slab example.

    python benchmarks/bench_build.py

Parameters are cached first (one untimed build), so the figures are the cost of a
build with cached parameters, as a user sees it the second time. Prints seconds and
peak memory of each build.
"""

from __future__ import annotations

import resource
import tempfile
import time
from pathlib import Path

from solvation.systems import build

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def timed(design: Path, root: Path, tag: str) -> float:
    start = time.perf_counter()
    build(design, root / tag)
    return time.perf_counter() - start


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("znso4_2m", "zn002_znso4_2m"):
            design = EXAMPLES / f"{name}.toml"
            timed(design, root, f"{name}-warm")  # fills the parameter cache
            seconds = timed(design, root, name)
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
            print(f"{name:>18}: {seconds:6.2f} s (cached parameters), peak RSS {peak:.0f} MiB")


if __name__ == "__main__":
    main()
