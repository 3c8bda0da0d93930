"""Water start positions cut from copies of a pre-packed periodic water box, around the
molecules already placed.

packmol placing 2,352 waters at random around 216 fixed pre-hydrated complexes and
anions (2 m ZnSO4, 3000 waters) took 60-180 s where a plain packing of the same box
takes a few seconds: the fixed obstacles, not the constraints, make it slow
(benchmarks/README.md). Given a start in which almost every water already keeps the
tolerance, packmol only polishes (``packing.pack``). The start comes from copies of
``data/water_tile.npz`` (1000 rigid waters packed periodically by packmol at
1.5 g/cm3, every intermolecular distance at least 2 A; ``tools/make_water_tile.py``),
turned by one of the 48 symmetries of the cube and shifted at random (seeded). A water
is clear when all its atoms lie in the region (and the periodic cell), keep the
tolerance from every atom already placed and stay out of every exclusion sphere (the
``outside sphere`` constraints of the packing); waters that are not clear are turned
at random about their oxygen to get clear, and those that stay not clear are left out.
The tile is denser than liquid water, so the region's count is a subset of the clear
waters: the water with the most clashes with the others is dropped until the count is
left. Clashes remain only where the tile's copies meet across the periodic boundary,
whose length is not a multiple of the tile's edge; those waters come last.
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
ROTATION_TRIES = 20  # random turns tried for a water that is not clear
INSIDE_BOX = re.compile(r"^inside box" + r"\s+(\S+)" * 6 + r"\s*$")
PLANE = re.compile(r"^(over|below) plane" + r"\s+(\S+)" * 4 + r"\s*$")


@cache
def _tile_file() -> tuple[np.ndarray, float]:
    """The shipped tile as stored: (n, 3, 3) O, H, H coordinates and edge (A)."""
    with (resources.files("solvation.systems") / "data" / TILE_FILE).open("rb") as fh:
        data = np.load(fh)
        return data["xyz_angstrom"].astype(float), float(data["edge_angstrom"])


def water_tile(template: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    """The shipped tile: (n, 3, 3) O, H, H coordinates (A) rebuilt on ``template``'s
    geometry about each oxygen, and its periodic edge (A).

    Parameters
    ----------
    template : numpy.ndarray, optional
        (3, 3) O, H, H coordinates of the water to place (A); default
        ``water_template``.
    """
    xyz, edge = _tile_file()
    if template is None:
        template = water_template().xyz_angstrom
    template = np.asarray(template, float) - template[0]
    rotation = _frames(xyz) @ _frames(template[None])[0].T  # template -> each water
    return xyz[:, :1] + np.einsum("nij,aj->nai", rotation, template), edge


def _frames(xyz: np.ndarray) -> np.ndarray:
    """(n, 3, 3) right-handed frames (columns: bisector, in-plane normal, plane normal)
    of waters given as (n, 3, 3) O, H, H coordinates."""
    h1, h2 = xyz[:, 1] - xyz[:, 0], xyz[:, 2] - xyz[:, 0]
    u = h1 + h2
    u /= np.linalg.norm(u, axis=1, keepdims=True)
    w = np.cross(h1, h2)
    w /= np.linalg.norm(w, axis=1, keepdims=True)
    return np.stack([u, np.cross(w, u), w], axis=-1)


def _box_and_planes(constraints: tuple[str, ...], pbc: tuple[float, ...] | None):
    """The box (lo, hi in A) that the ``inside box`` constraints allow within the
    periodic cell (if any), and the ``over``/``below plane`` constraints as
    (normal, d, sign) with sign * (normal . x - d) >= 0 inside; None for an empty box or
    another kind of constraint."""
    lo, hi = np.full(3, -np.inf), np.full(3, np.inf)
    if pbc is not None:
        lo, hi = np.array(pbc[:3], float), np.array(pbc[3:], float)
    planes = []
    for line in constraints:
        if match := INSIDE_BOX.match(line.strip()):
            bounds = np.array([float(v) for v in match.groups()])
            lo, hi = np.maximum(lo, bounds[:3]), np.minimum(hi, bounds[3:])
        elif match := PLANE.match(line.strip()):
            side, *values = match.groups()
            sign = 1 if side == "over" else -1
            planes.append((np.array(values[:3], float), float(values[3]), sign))
        else:
            return None
    return (lo, hi, planes) if np.all(hi > lo) else None


def region_of(constraints: tuple[str, ...], pbc: tuple[float, ...] | None):
    """The box (lo, hi in A) that the packmol ``constraints`` of an item allow within
    the periodic cell; None without a cell or when a constraint is not ``inside box``.

    Parameters
    ----------
    constraints : tuple of str
        Packmol constraint lines.
    pbc : tuple of float or None
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A).
    """
    bounds = None if pbc is None else _box_and_planes(constraints, pbc)
    if bounds is None or bounds[2]:
        return None
    return bounds[0], bounds[1]


def random_start(
    template: np.ndarray,
    count: int,
    constraints: tuple[str, ...],
    pbc: tuple[float, ...] | None,
    seed: int,
) -> np.ndarray | None:
    """``count`` copies of a molecule, centres drawn uniformly in the region its
    constraints allow within the periodic cell, each turned at random: (count, atoms, 3)
    coordinates (A); None for an unbounded region or constraints other than boxes and
    planes.

    packmol's own first guess is not uniform when the packing holds fixed atoms (a
    slab): it projects far-away points onto the region's boundary, and a run of few
    molecules that do not overlap ends there at once. Every ion of a slab build started
    on the face next to the surface, at one x, before the packing started from this.

    Parameters
    ----------
    template : numpy.ndarray
        (atoms, 3) coordinates of the molecule (A).
    count : int
        Copies.
    constraints : tuple of str
        Packmol constraint lines of the item.
    pbc : tuple of float or None
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A), if any.
    seed : int
        Random seed.
    """
    bounds = _box_and_planes(constraints, pbc)
    if bounds is None or not np.all(np.isfinite(bounds[:2])):
        return None
    lo, hi, planes = bounds
    rng = np.random.default_rng(seed)
    centres = np.empty((0, 3))
    for _ in range(100):  # rejection from the box: the planes cut a parallelogram
        trial = rng.uniform(lo, hi, (max(4 * count, 64), 3))
        inside = np.ones(len(trial), bool)
        for normal, d, sign in planes:
            inside &= sign * (trial @ normal - d) >= 0
        centres = np.vstack([centres, trial[inside]])
        if len(centres) >= count:
            break
    else:
        return None
    local = np.asarray(template, float) - np.mean(template, axis=0)
    turns = Rotation.random(count, random_state=rng).as_matrix().reshape(count, 3, 3)
    return centres[:count, None] + np.einsum("nij,aj->nai", turns, local)


class Cell:
    """An orthorhombic periodic cell: wrapping and periodic KD-trees.

    Parameters
    ----------
    pbc : tuple of float
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A).
    """

    def __init__(self, pbc: tuple[float, ...]):
        self.lo = np.array(pbc[:3], float)
        self.hi = np.array(pbc[3:], float)
        self.lengths = self.hi - self.lo

    def tree(self, xyz: np.ndarray) -> cKDTree:
        """A periodic KD-tree of ``xyz`` (A)."""
        return cKDTree(self.wrap(xyz), boxsize=self.lengths)

    def wrap(self, xyz: np.ndarray) -> np.ndarray:
        """``xyz`` (A) moved into the cell, relative to its lower corner."""
        return np.mod(np.asarray(xyz, float) - self.lo, self.lengths)


class Clearance:
    """How far (A) each water is from being clear: the deepest of its atoms into the
    tolerance of a placed atom, into an exclusion sphere, or out of the region.

    Parameters
    ----------
    placed : numpy.ndarray
        (m, 3) atoms already placed (A).
    spheres : list of (numpy.ndarray, float)
        Exclusion centres ((k, 3), A) with their radius (A).
    cell : Cell
    region : tuple of numpy.ndarray
        Lower and upper corners of the region (A).
    tolerance : float
        Minimum distance between molecules (A).
    """

    def __init__(self, placed, spheres, cell: Cell, region, tolerance: float):
        self.cell, self.tolerance = cell, tolerance
        self.lo, self.hi = region
        self.trees = [(cell.tree(placed), tolerance)] if len(placed) else []
        self.trees += [(cell.tree(c), r) for c, r in spheres if len(c)]

    def __call__(self, waters: np.ndarray) -> np.ndarray:
        atoms = waters.reshape(-1, 3)
        # packmol keeps every atom in the periodic cell too (its "inside box" for pbc)
        depth = np.maximum(self.lo - atoms, atoms - self.hi).max(axis=1).clip(0.0)
        wrapped = self.cell.wrap(atoms)
        for tree, radius in self.trees:
            near, _ = tree.query(wrapped, distance_upper_bound=radius)
            depth = np.maximum(depth, (radius - near).clip(0.0))
        return depth.reshape(len(waters), -1).max(axis=1)


def place_water(
    template: np.ndarray,
    count: int,
    region: tuple[np.ndarray, np.ndarray],
    placed: np.ndarray,
    spheres: list[tuple[np.ndarray, float]],
    pbc: tuple[float, ...],
    tolerance: float,
    seed: int,
) -> tuple[np.ndarray, int]:
    """Up to ``count`` waters ((k, 3, 3) as ``template``, in A) in ``region``, clear of
    the atoms ``placed`` and of the exclusion ``spheres``, and how many of them, first in
    the array, keep ``tolerance`` from all other waters; the rest (where the tile's copies
    meet across the periodic boundary) clash with some and need polishing. Fewer than
    ``count`` when the tile holds too few clear waters.

    Parameters
    ----------
    template : numpy.ndarray
        (3, 3) O, H, H coordinates of the water (A).
    count : int
        Waters to place.
    region : tuple of numpy.ndarray
        Lower and upper corners of the box the waters fill (A).
    placed : numpy.ndarray
        (m, 3) atoms already placed (A).
    spheres : list of (numpy.ndarray, float)
        Exclusion centres ((k, 3), A) no water atom may come closer to than the radius (A).
    pbc : tuple of float
        Periodic cell (xmin, ymin, zmin, xmax, ymax, zmax in A).
    tolerance : float
        Minimum distance between atoms of different molecules (A).
    seed : int
        Random seed (tile symmetry and shift, turns, order).
    """
    rng = np.random.default_rng(seed)
    cell = Cell(pbc)
    clearance = Clearance(placed, spheres, cell, region, tolerance)
    waters = _turn_clear(_tiled(template, region, rng), clearance, rng)
    waters = waters[rng.permutation(len(waters))]
    pairs = _clashing_pairs(waters, cell, tolerance)
    kept = _fewest_clashes(len(waters), pairs, count)
    clashing = np.zeros(len(waters), bool)
    both = pairs[kept[pairs[:, 0]] & kept[pairs[:, 1]]]
    clashing[both.ravel()] = True
    order = np.concatenate([np.flatnonzero(kept & ~clashing), np.flatnonzero(kept & clashing)])
    return waters[order], int(np.sum(kept & ~clashing))


def _tiled(template: np.ndarray, region, rng: np.random.Generator) -> np.ndarray:
    """Copies of the tile, turned by a random symmetry of the cube and shifted at
    random, with their oxygen in ``region``: (n, 3, 3) coordinates (A)."""
    xyz, edge = water_tile(template)
    axes, signs = rng.permutation(3), rng.choice([-1.0, 1.0], 3)
    xyz = xyz[:, :, axes] * signs  # maps the periodic tile onto a periodic tile
    oxygen = np.mod(xyz[:, 0] + rng.uniform(0, edge, 3), edge)
    local = xyz - xyz[:, :1]
    lo, hi = region
    counts = np.ceil((hi - lo) / edge).astype(int)
    shifts = np.array(list(itertools.product(*(range(n) for n in counts)))) * edge
    centres = (lo + oxygen[None] + shifts[:, None]).reshape(-1, 3)
    inside = np.all(centres < hi, axis=1)
    return (centres[:, None] + np.tile(local, (len(shifts), 1, 1)))[inside]


def _turn_clear(waters: np.ndarray, clearance: Clearance, rng) -> np.ndarray:
    """The clear ones among ``waters``, after up to ROTATION_TRIES random turns about
    the oxygen of each that is not."""
    depth = clearance(waters)
    todo = np.flatnonzero(depth > 0)
    for _ in range(ROTATION_TRIES):
        if not len(todo):
            break
        turn = Rotation.random(len(todo), random_state=rng).as_matrix()
        local = waters[todo] - waters[todo, :1]
        trial = waters[todo, :1] + np.einsum("nij,naj->nai", turn, local)
        clear = clearance(trial) == 0
        waters[todo[clear]] = trial[clear]
        depth[todo[clear]] = 0.0
        todo = todo[~clear]
    return waters[depth == 0]


def _clashing_pairs(waters: np.ndarray, cell: Cell, tolerance: float) -> np.ndarray:
    """(k, 2) indices of the pairs of ``waters`` with atoms closer than ``tolerance``
    (periodic), each pair once."""
    molecule = np.repeat(np.arange(len(waters)), waters.shape[1])
    pairs = cell.tree(waters.reshape(-1, 3)).query_pairs(tolerance, output_type="ndarray")
    pairs = np.sort(molecule[pairs], axis=1)
    return np.unique(pairs[pairs[:, 0] != pairs[:, 1]], axis=0).reshape(-1, 2)


def _fewest_clashes(n: int, pairs: np.ndarray, count: int) -> np.ndarray:
    """Which ``count`` of ``n`` waters to keep (boolean mask): the one with the most
    clashes (``pairs``) among those kept is dropped until ``count`` are left or none
    clashes, then the last in order (the order is random)."""
    degree = np.bincount(pairs.ravel(), minlength=n)
    neighbours = [[] for _ in range(n)]
    for a, b in pairs:
        neighbours[a].append(b)
        neighbours[b].append(a)
    kept = np.ones(n, bool)
    for _ in range(max(n - count, 0)):
        worst = int(np.argmax(degree))
        if degree[worst] == 0:
            break
        kept[worst], degree[worst] = False, -1
        for j in neighbours[worst]:
            degree[j] -= kept[j]
    kept[np.flatnonzero(kept)[count:]] = False
    return kept
