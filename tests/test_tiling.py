"""Water starts cut from the pre-packed tile (systems/tiling.py) and packmol's restart
from them (systems/packing.py): counts, clearances, the restart file's angles."""

from __future__ import annotations

import subprocess

import numpy as np
from MDAnalysis.lib.distances import distance_array
from scipy.spatial import cKDTree
from scipy.stats import kstest

from solvation.systems import tiling
from solvation.systems.packing import (
    PackItem,
    _water_starts,
    pack,
    packmol_executable,
    restart_text,
)
from solvation.systems.templates import ResidueTemplate, water_template

TOLERANCE = 2.0


def _intermolecular_min(waters: np.ndarray, edge: float) -> float:
    """Smallest periodic distance (A) between atoms of different waters."""
    atoms = np.mod(waters.reshape(-1, 3), edge)
    molecule = np.repeat(np.arange(len(waters)), waters.shape[1])
    pairs = cKDTree(atoms, boxsize=edge).query_pairs(4.0, output_type="ndarray")
    pairs = pairs[molecule[pairs[:, 0]] != molecule[pairs[:, 1]]]
    d = atoms[pairs[:, 0]] - atoms[pairs[:, 1]]
    d -= edge * np.round(d / edge)
    return float(np.sqrt((d * d).sum(axis=1)).min())


def test_tile_start_keeps_count_region_obstacles_exclusions_and_geometry():
    """150 waters in a 20 A periodic cell around 3 obstacle atoms and 2 exclusion
    spheres: the right count, rigid template geometry, every atom in the cell, clear of
    the obstacles by the tolerance and out of the spheres; the first ``n_clear`` keep
    the tolerance from every other water (the others clash only across the seam)."""
    edge = 20.0
    pbc = (0.0, 0.0, 0.0, edge, edge, edge)
    obstacles = np.array([[5.0, 5.0, 5.0], [15.0, 10.0, 3.0], [19.5, 0.5, 10.0]])
    spheres = [(np.array([[10.0, 10.0, 10.0], [0.5, 19.5, 19.5]]), 3.3)]
    template = water_template().xyz_angstrom
    region = tiling.region_of((), pbc)
    xyz, n_clear = tiling.place_water(template, 150, region, obstacles, spheres, pbc, TOLERANCE, 1)
    assert xyz.shape == (150, 3, 3)
    assert 0 < n_clear <= 150
    ref = distance_array(template, template)
    assert np.allclose([distance_array(w, w) for w in xyz], ref, atol=1e-9)
    atoms = xyz.reshape(-1, 3)
    assert np.all(atoms >= 0.0) and np.all(atoms <= edge)
    box = [edge] * 3 + [90.0] * 3
    assert distance_array(obstacles, atoms, box=box).min() >= TOLERANCE
    assert distance_array(spheres[0][0], atoms, box=box).min() >= 3.3
    assert _intermolecular_min(xyz[:n_clear], edge) >= TOLERANCE
    # the same seed gives the same start; another gives another
    again, _ = tiling.place_water(template, 150, region, obstacles, spheres, pbc, TOLERANCE, 1)
    other, _ = tiling.place_water(template, 150, region, obstacles, spheres, pbc, TOLERANCE, 2)
    assert np.array_equal(xyz, again) and not np.allclose(xyz, other)


def test_region_of_reads_boxes_and_refuses_other_constraints():
    pbc = (0.0, 0.0, 0.0, 30.0, 30.0, 40.0)
    lo, hi = tiling.region_of(("inside box -1e4 -1e4 5 1e4 1e4 12.5",), pbc)
    assert np.allclose(lo, [0, 0, 5]) and np.allclose(hi, [30, 30, 12.5])
    assert tiling.region_of(("inside sphere 0 0 0 5",), pbc) is None
    assert tiling.region_of((), None) is None


def test_restart_file_puts_packmol_back_on_the_given_coordinates(tmp_path):
    """packmol restarted (another seed) from ``restart_text`` of a packed box returns
    that box: the centres and Euler angles follow packmol's own convention."""
    water = water_template()
    placed = pack([PackItem(water, 30, ("inside box 0. 0. 0. 14. 14. 14.",))], seed=1)
    xyz = np.array([c for _, c in placed])
    (tmp_path / "w.xyz").write_text(
        "3\nw\n"
        + "".join(
            f"{e} {x} {y} {z}\n"
            for e, (x, y, z) in zip(water.elements, water.xyz_angstrom, strict=True)
        )
    )
    (tmp_path / "w.rst").write_text(restart_text(water, xyz))
    (tmp_path / "p.inp").write_text(
        "tolerance 2.0\nseed 7\nfiletype xyz\noutput out.xyz\nstructure w.xyz\n"
        "  number 30\n  inside box 0. 0. 0. 14. 14. 14.\n  restart_from w.rst\nend structure\n"
    )
    with (tmp_path / "p.inp").open() as stdin:
        subprocess.run(
            [str(packmol_executable())], stdin=stdin, cwd=tmp_path, check=True, capture_output=True
        )
    again = np.loadtxt(tmp_path / "out.xyz", skiprows=2, usecols=(1, 2, 3)).reshape(-1, 3, 3)
    assert np.abs(again - xyz).max() < 1e-4


def test_water_items_in_a_cell_of_the_tile_edge_start_clear_of_each_other():
    """Two water items in the two halves of a cell whose edge is the tile's (no seam):
    every water keeps the tolerance from every other, the second item from the first
    too, and from an excluding ion, so ``pack`` would take the start without packmol."""
    _, edge = tiling.water_tile()
    pbc = (0.0, 0.0, 0.0, edge, edge, edge)
    half = edge / 2
    water = water_template()
    items = [
        PackItem(water, 120, (f"inside box 0 0 0 {edge} {edge} {half}",)),
        PackItem(water, 120, (f"inside box 0 0 {half} {edge} {edge} {edge}",)),
    ]
    ion = np.array([[half, half, half]])
    starts, clear = _water_starts(items, (ion, [(ion, 3.3)]), pbc, TOLERANCE, seed=4)
    assert clear and [i.count for i in starts] == [120, 120]
    xyz = np.concatenate([i.start_xyz for i in starts])
    assert _intermolecular_min(xyz, edge) >= TOLERANCE
    assert np.all(starts[0].start_xyz[..., 2] <= half) and np.all(
        starts[1].start_xyz[..., 2] >= half
    )
    box = [edge] * 3 + [90.0] * 3
    assert distance_array(ion, xyz.reshape(-1, 3), box=box).min() >= 3.3


def test_random_start_is_uniform_in_a_parallelogram_and_keeps_the_geometry():
    """Centres drawn in a hexagonal cell cut by packmol planes (60 degrees, as a Zn(002)
    cell) and a z band: every centre inside, fractional coordinates and z uniform
    (Kolmogorov-Smirnov), each copy a rigid turn of the template."""
    a, b = np.array([12.0, 0.0]), np.array([-6.0, 6.0 * np.sqrt(3.0)])
    constraints = (
        "inside box -6 0 5 12 10.392 20",
        "over plane 0 1 0 0",
        "below plane 0 1 0 10.3923",
        f"over plane {b[1]:.5f} {-b[0]:.5f} 0 0",
        f"below plane {b[1]:.5f} {-b[0]:.5f} 0 {a[0] * b[1]:.4f}",
    )
    template = water_template().xyz_angstrom
    xyz = tiling.random_start(template, 3000, constraints, None, seed=3)
    assert xyz.shape == (3000, 3, 3)
    ref = distance_array(template, template)
    assert np.allclose([distance_array(w, w) for w in xyz[:50]], ref, atol=1e-9)
    centres = xyz.mean(axis=1)
    frac = np.linalg.solve(np.array([a, b]).T, centres[:, :2].T).T
    assert np.all((frac >= -1e-6) & (frac <= 1 + 1e-6))
    assert kstest(frac[:, 0], "uniform").pvalue > 1e-3
    assert kstest(frac[:, 1], "uniform").pvalue > 1e-3
    assert kstest(centres[:, 2], "uniform", args=(5.0, 15.0)).pvalue > 1e-3
    assert tiling.random_start(template, 3, ("outside sphere 0 0 0 3",), None, 1) is None
    assert tiling.random_start(template, 3, (), None, 1) is None  # unbounded


def test_ions_packed_against_a_fixed_slab_spread_through_their_region():
    """packmol's own first guess puts molecules of a packing that holds fixed atoms on
    their region's boundary, and a few ions that do not overlap stay there: the two Cl-
    of a slab build both started at one height next to the surface. Packed from a
    random start, the heights of 3 ions in 8 packings (seeds) are distinct and uniform
    over the region."""
    edge, lo, hi = 16.0, 5.0, 25.0
    grid = np.stack(np.meshgrid(np.arange(0, edge, 2.7), np.arange(0, edge, 2.7)), -1)
    layer = np.column_stack([grid.reshape(-1, 2), np.full(grid.size // 2, 2.5)])
    names = tuple(f"Z{k}" for k in range(len(layer)))
    slab = ResidueTemplate("SLB", names, ("Zn",) * len(layer), (), layer, 0)
    ion = ResidueTemplate("CL", ("CL",), ("Cl",), (), np.zeros((1, 3)), -1)
    items = [
        PackItem(slab, 1, (), layer),
        PackItem(ion, 3, (f"inside box 0 0 {lo} {edge} {edge} {hi}",)),
    ]
    z = []
    for seed in range(1, 9):
        placed = pack(items, seed=seed, pbc=(0.0, 0.0, 0.0, edge, edge, 30.0))
        z.append([c[0, 2] for _, c in placed[1:]])
    z = np.array(z)
    assert all(len(np.unique(np.round(row, 3))) == 3 for row in z)
    assert kstest(z.ravel(), "uniform", args=(lo, hi - lo)).pvalue > 1e-3
