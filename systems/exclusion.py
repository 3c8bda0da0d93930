"""Exclusion spheres as fixed atoms: points that, with a molecule's own atoms, keep every
atom of another molecule out of a ball around the molecule's first atom.

packmol keeps atoms of different molecules at least the tolerance apart. Around a
pre-hydrated cation, water must also stay ``exclusion_angstrom`` from the ion; an
``outside sphere`` constraint per ion does that, but packmol then checks every water
atom against every sphere at every step (108 spheres and 7,000 water atoms for 2 m ZnSO4
in 3000 waters: most of the packing time). Instead, the ion's complex gets a few extra
fixed atoms ("cover points") placed where the ball is not already within the tolerance
of one of its own atoms; an atom of another molecule that keeps the tolerance from the
complex and its cover points is then outside the ball, and packmol's cell lists handle
them at the cost of a few more atoms.

The points are chosen greedily on a grid within the complex's own extent (they exclude
no more than its atoms do, where the ball allows), and the grid error is accounted for:
every grid point within ``radius + delta`` is covered to ``tolerance - delta`` (delta:
half the grid diagonal), so every point of the ball is covered to the tolerance.
"""

from __future__ import annotations

from functools import cache

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

GRID_ANGSTROM = 0.25


def cover_points(xyz: np.ndarray, radius: float, tolerance: float) -> np.ndarray:
    """Points (A, frame of ``xyz``) that, with the atoms ``xyz``, leave no point within
    ``radius`` of ``xyz[0]`` farther than ``tolerance`` from all of them.

    Parameters
    ----------
    xyz : numpy.ndarray
        (n, 3) atom coordinates of one molecule (A); the ball is centred on the first.
    radius : float
        Radius of the ball to cover (A).
    tolerance : float
        packmol's distance tolerance (A).

    Returns
    -------
    numpy.ndarray
        (m, 3) cover points (A); empty when the atoms cover the ball already.
    """
    key = (np.asarray(xyz, float) - xyz[0]).round(6)
    return _cover(key.tobytes(), len(key), round(radius, 6), round(tolerance, 6)) + xyz[0]


@cache
def _cover(packed: bytes, n: int, radius: float, tolerance: float) -> np.ndarray:
    atoms = np.frombuffer(packed, dtype=float).reshape(n, 3)
    delta = GRID_ANGSTROM * np.sqrt(3.0) / 2.0
    reach = tolerance - delta  # a grid point covered to this covers its grid cell
    grid = _ball_grid(radius + delta)
    near, _ = cKDTree(atoms).query(grid)
    open_ = grid[near >= reach]
    if not len(open_):
        return np.zeros((0, 3))
    # points no farther out than the molecule's own atoms, or than half a tolerance
    # inside the ball for a molecule too small to cover it (a bare ion)
    extent = max(float(np.linalg.norm(atoms, axis=1).max()), radius - tolerance / 2)
    candidates = _ball_grid(extent)
    reachable = (
        cKDTree(candidates)
        .sparse_distance_matrix(cKDTree(open_), reach, output_type="coo_matrix")
        .tocsr()
    )
    reachable.data[:] = 1.0
    left = np.ones(len(open_))
    if np.any(reachable.T @ np.ones(len(candidates)) == 0):
        raise ValueError(f"cannot cover a {radius} A ball with points within {extent:.2f} A")
    points = []
    while left.any():
        best = int(np.argmax(reachable @ left))
        points.append(candidates[best])
        left[reachable[best].indices] = 0.0
    return np.array(points)


def _ball_grid(radius: float) -> np.ndarray:
    """Points of a cubic grid of spacing GRID_ANGSTROM within ``radius`` of the origin."""
    steps = np.arange(-radius, radius + GRID_ANGSTROM / 2, GRID_ANGSTROM)
    grid = np.stack(np.meshgrid(steps, steps, steps, indexing="ij"), axis=-1).reshape(-1, 3)
    return grid[np.linalg.norm(grid, axis=1) <= radius]


def placed_points(template_xyz: np.ndarray, placed_xyz: np.ndarray, points: np.ndarray):
    """``points`` given in the frame of ``template_xyz``, moved as the rigid body that
    takes the template onto ``placed_xyz`` (A).

    Parameters
    ----------
    template_xyz, placed_xyz : numpy.ndarray
        (n, 3) coordinates of one molecule, as in its template and as placed (A).
    points : numpy.ndarray
        (m, 3) points in the template's frame (A).
    """
    if len(template_xyz) == 1:
        return points - template_xyz[0] + placed_xyz[0]
    rotation, _ = Rotation.align_vectors(
        placed_xyz - placed_xyz.mean(axis=0), template_xyz - template_xyz.mean(axis=0)
    )
    return rotation.apply(points - template_xyz.mean(axis=0)) + placed_xyz.mean(axis=0)
