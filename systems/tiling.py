"""Start positions for water cut from copies of a pre-packed periodic water box.

packmol placing 2,352 waters at random around 216 fixed pre-hydrated complexes and
anions (2 m ZnSO4, 3000 waters) spent minutes where a plain packing of the same box takes
seconds. Given a start in which almost every water already keeps the tolerance, it only
polishes. The start is cut from copies of ``data/water_tile.npz`` (1000 rigid waters
packed periodically by packmol at 1.5 g/cm3, every intermolecular distance at least 2 A;
``tools/make_water_tile.py``), turned by one of the 48 symmetries of the cube and shifted
at random (seeded): waters that come within the tolerance of an obstacle (the atoms
already placed) or leave the region are turned at random to get clear; then the region's
count is taken, clear waters first in random order, then the least clashing, never two
that clash more with each other than the current threshold. The tile is denser than
liquid water so that the space between the solutes holds enough clear waters; a box
that needs fewer takes a random subset, so the density is the design's.
"""

from __future__ import annotations

import itertools
import re
from functools import cache
from importlib import resources

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from .templates import water_template

TILE_FILE = "water_tile.npz"
ROTATION_TRIES = 30
# clashes (A inside the tolerance or outside the region) accepted, step by step
THRESHOLDS_ANGSTROM = (0.0, 0.1, 0.2, 0.3, 0.5, 0.7, 1.0, 1.5, 2.0, np.inf)
INSIDE_BOX = re.compile(r"^inside box" + r"\s+(\S+)" * 6 + r"\s*$")


@cache
def water_tile() -> tuple[np.ndarray, float, float]:
    """The shipped tile: (n, 3, 3) water coordinates (A) rebuilt on ``water_template``'s
    geometry, its periodic edge (A) and the tolerance it was packed to (A)."""
    with (resources.files("solvation.systems") / "data" / TILE_FILE).open("rb") as fh:
        data = np.load(fh)
        xyz = data["xyz_angstrom"].astype(float)
        edge, tolerance = float(data["edge_angstrom"]), float(data["tolerance_angstrom"])
    template = water_template().xyz_angstrom
    rotation = _frames(xyz) @ _frames(template[None])[0].T  # template -> each water
    return xyz[:, :1] + np.einsum("nij,aj->nai", rotation, template), edge, tolerance


def _frames(xyz: np.ndarray) -> np.ndarray:
    """(n, 3, 3) right-handed frames (columns: bisector, in-plane normal, plane normal)
    of waters given as (n, 3, 3) O, H, H coordinates."""
    h1, h2 = xyz[:, 1] - xyz[:, 0], xyz[:, 2] - xyz[:, 0]
    u = h1 + h2
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    w = np.cross(h1, h2)
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return np.stack([u, np.cross(w, u), w], axis=-1)


def region_of(constraints: tuple[str, ...], pbc: tuple[float, ...] | None):
    """The box (lo, hi in A) that the packmol ``constraints`` of an item allow, within
    the periodic cell; None when a constraint is not ``inside box`` or there is no cell.

    Parameters
    ----------
    constraints : tuple of str
        Packmol constraint lines.
    pbc : tuple of float or None
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A).
    """
    if pbc is None:
        return None
    lo, hi = np.array(pbc[:3], float), np.array(pbc[3:], float)
    for line in constraints:
        match = INSIDE_BOX.match(line.strip())
        if match is None:
            return None
        bounds = np.array([float(v) for v in match.groups()])
        lo, hi = np.maximum(lo, bounds[:3]), np.minimum(hi, bounds[3:])
    return (lo, hi) if np.all(hi > lo) else None


def start_positions(
    count: int,
    region: tuple[np.ndarray, np.ndarray],
    obstacles: np.ndarray,
    pbc: tuple[float, ...],
    tolerance: float,
    seed: int,
) -> np.ndarray | None:
    """``count`` waters (count, 3, 3 in A) in ``region`` cut from the tile around the
    ``obstacles``; None when the tiled region holds fewer than ``count`` waters.

    Parameters
    ----------
    count : int
        Waters to place.
    region : tuple of numpy.ndarray
        Lower and upper corners of the box every water atom must lie in (A).
    obstacles : numpy.ndarray
        (m, 3) atoms already placed (A).
    pbc : tuple of float
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A).
    tolerance : float
        Minimum distance between molecules (A).
    seed : int
        Random seed (tile symmetry and shift, rotations, order).
    """
    rng = np.random.default_rng(seed)
    cell = Cell(np.array(pbc[:3], float), np.array(pbc[3:], float))
    waters = _tiled(region, tolerance, rng)
    clash = _Obstacles(obstacles, cell, region, tolerance)
    waters, worst = _turn_clear(waters, clash, rng)
    if len(waters) < count:
        return None
    chosen = _choose(count, worst, _pair_clashes(waters, cell, tolerance), rng)
    return waters[chosen]


class Cell:
    """An orthorhombic periodic cell: wrapping and periodic KD-trees.

    Parameters
    ----------
    lo, hi : numpy.ndarray
        Corners of the cell (A).
    """

    def __init__(self, lo: np.ndarray, hi: np.ndarray):
        self.lo, self.lengths = lo, hi - lo

    def tree(self, xyz: np.ndarray) -> cKDTree:
        """A periodic KD-tree of ``xyz`` (A)."""
        return cKDTree(self.wrap(xyz), boxsize=self.lengths)

    def wrap(self, xyz: np.ndarray) -> np.ndarray:
        """``xyz`` (A) moved into the cell, relative to its lower corner."""
        return np.mod(np.asarray(xyz, float) - self.lo, self.lengths)


def _tiled(region, tolerance: float, rng: np.random.Generator) -> np.ndarray:
    """Copies of the tile, turned and shifted at random, with their O in ``region``;
    scaled up (O positions only) when ``tolerance`` exceeds the tile's."""
    xyz, edge, packed_at = water_tile()
    scale = max(1.0, tolerance / packed_at)
    axes, signs = rng.permutation(3), rng.choice([-1.0, 1.0], 3)
    xyz = xyz[:, :, axes] * signs  # a symmetry of the cube maps the periodic tile onto one
    oxygen = np.mod(xyz[:, 0] + rng.uniform(0, edge, 3), edge) * scale
    local = xyz - xyz[:, :1]
    lo, hi = region
    edge *= scale
    counts = np.ceil((hi - lo) / edge).astype(int)
    shifts = np.array(list(itertools.product(*(range(n) for n in counts)))) * edge
    centres = (lo + oxygen[None] + shifts[:, None]).reshape(-1, 3)
    inside = np.all(centres < hi, axis=1)
    return (centres[:, None] + np.tile(local, (len(shifts), 1, 1)))[inside]


class _Obstacles:
    """How far (A) each atom of a water is inside the tolerance of an obstacle or
    outside the region: the water's clash is the largest."""

    def __init__(self, obstacles, cell: Cell, region, tolerance: float):
        self.tree = cell.tree(obstacles) if len(obstacles) else None
        self.cell, self.region, self.tolerance = cell, region, tolerance

    def __call__(self, waters: np.ndarray) -> np.ndarray:
        atoms = waters.reshape(-1, 3)
        lo, hi = self.region
        outside = np.maximum(lo - atoms, atoms - hi).max(axis=1).clip(0.0)
        if self.tree is not None:
            near, _ = self.tree.query(self.cell.wrap(atoms), distance_upper_bound=self.tolerance)
            outside = np.maximum(outside, (self.tolerance - near).clip(0.0))
        return outside.reshape(len(waters), -1).max(axis=1)


def _turn_clear(waters: np.ndarray, clash: _Obstacles, rng: np.random.Generator):
    """Waters that clash turned about their O at random (ROTATION_TRIES draws, the best
    kept); returns the waters and each one's remaining clash (A)."""
    worst = clash(waters)
    todo = np.flatnonzero(worst > 0)
    for _ in range(ROTATION_TRIES):
        if not len(todo):
            break
        turn = Rotation.random(len(todo), random_state=rng).as_matrix()
        local = waters[todo] - waters[todo, :1]
        trial = waters[todo, :1] + np.einsum("nij,naj->nai", turn, local)
        depth = clash(trial)
        better = depth < worst[todo]
        waters[todo[better]] = trial[better]
        worst[todo[better]] = depth[better]
        todo = todo[worst[todo] > 0]
    return waters, worst


def _pair_clashes(waters: np.ndarray, cell: Cell, tolerance: float) -> list[dict]:
    """Per water, the other waters it clashes with and by how much (A), periodic."""
    atoms = waters.reshape(-1, 3)
    molecule = np.repeat(np.arange(len(waters)), waters.shape[1])
    tree = cell.tree(atoms)
    pairs = tree.sparse_distance_matrix(tree, tolerance, output_type="ndarray")
    pairs = pairs[molecule[pairs["i"]] < molecule[pairs["j"]]]
    clashes = [{} for _ in range(len(waters))]
    depths = tolerance - pairs["v"]
    for a, b, depth in zip(molecule[pairs["i"]], molecule[pairs["j"]], depths, strict=True):
        clashes[a][b] = clashes[b][a] = max(depth, clashes[a].get(b, 0.0))
    return clashes


def _choose(count: int, worst: np.ndarray, clashes: list[dict], rng) -> np.ndarray:
    """Indices of ``count`` waters: at each threshold of THRESHOLDS_ANGSTROM in turn,
    waters in order of their obstacle clash (ties in random order) whose clashes with
    the obstacles and with the waters taken so far are within the threshold."""
    order = rng.permutation(len(worst))
    order = order[np.argsort(worst[order], kind="stable")]
    taken = np.zeros(len(worst), bool)
    against = np.zeros(len(worst))  # deepest clash with a taken water
    n_taken = 0
    for threshold in THRESHOLDS_ANGSTROM:
        for i in order:
            if n_taken == count:
                return np.flatnonzero(taken)
            if taken[i] or worst[i] > threshold or against[i] > threshold:
                continue
            taken[i] = True
            n_taken += 1
            for j, depth in clashes[i].items():
                against[j] = max(against[j], depth)
    return np.flatnonzero(taken)
