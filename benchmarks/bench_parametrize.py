"""Cold and cached GAFF2/AM1-BCC parametrisation time of triflate (and sulfate).

    python benchmarks/bench_parametrize.py

Uses a fresh temporary cache, so the first call runs antechamber/sqm/parmchk2.
"""

from __future__ import annotations

import os
import tempfile
import time


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["SOLVATION_CACHE"] = tmp
        from solvation.forcefields import parametrize

        for name, smiles in (
            ("triflate", "C(F)(F)(F)S(=O)(=O)[O-]"),
            ("sulfate", "[O-]S(=O)(=O)[O-]"),
        ):
            t0 = time.perf_counter()
            cold = parametrize(smiles, "gaff2-am1bcc")
            t1 = time.perf_counter()
            warm = parametrize(smiles, "gaff2-am1bcc")
            t2 = time.perf_counter()
            assert not cold.cached and warm.cached
            print(f"{name:>9}: cold {t1 - t0:6.2f} s, cached {1000 * (t2 - t1):6.1f} ms")


if __name__ == "__main__":
    main()
