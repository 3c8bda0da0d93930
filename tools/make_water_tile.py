"""Regenerate ``systems/data/water_tile.npz``: a periodic box of rigid waters packed by
packmol at the packing tolerance, denser than liquid water.

Run with the project's environment: ``python tools/make_water_tile.py``.

``systems/tiling.py`` cuts the start positions of a build's water from copies of this
box: waters that clash with the solutes already placed are turned or dropped, and the
build's water count is taken from the rest, least clashing first. The box is packed
denser than liquid water (``DENSITY_G_PER_CM3``) so that enough waters are left in the
narrow space between pre-hydrated cations and anions; a build takes only as many as it
needs. Every intermolecular distance, across the periodic boundary too, is at least
``TOLERANCE_ANGSTROM`` (checked here before writing). The file is committed so that a
build neither runs packmol for it nor depends on a cache.
"""

from __future__ import annotations

import importlib.metadata
from pathlib import Path

import numpy as np

from solvation.constants import AVOGADRO_PER_MOL
from solvation.systems.packing import PackItem, min_intermolecular_distance, pack
from solvation.systems.templates import water_template

OUT = Path(__file__).resolve().parents[1] / "systems" / "data" / "water_tile.npz"
N_WATER = 1000
DENSITY_G_PER_CM3 = 1.5  # liquid water is 0.997; the pre-hydrated 2 m ZnSO4 needs ~1.3
TOLERANCE_ANGSTROM = 2.0  # packmol's default and the build's
SEED = 1


def main() -> None:
    water = water_template()
    volume_a3 = N_WATER * water.mass_dalton / AVOGADRO_PER_MOL / DENSITY_G_PER_CM3 * 1e24
    edge = volume_a3 ** (1 / 3)
    placed = pack(
        [PackItem(water, N_WATER)],
        seed=SEED,
        tolerance=TOLERANCE_ANGSTROM,
        pbc=(0.0, 0.0, 0.0, edge, edge, edge),
    )
    closest = min_intermolecular_distance(placed, np.full(3, edge))
    assert closest > TOLERANCE_ANGSTROM - 0.02, closest  # packmol's precision
    xyz = np.array([c for _, c in placed])
    OUT.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        OUT,
        xyz_angstrom=xyz.astype(np.float32),
        edge_angstrom=np.float64(edge),
        tolerance_angstrom=np.float64(TOLERANCE_ANGSTROM),
        density_g_per_cm3=np.float64(DENSITY_G_PER_CM3),
        packmol=np.str_(importlib.metadata.version("packmol")),
        seed=np.int64(SEED),
    )
    print(f"{OUT}: {N_WATER} waters, edge {edge:.3f} A, closest {closest:.3f} A")


if __name__ == "__main__":
    main()
