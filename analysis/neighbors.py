"""Neighbour search shared by every analysis.

One half-pair search over the union of all atoms an analysis needs gives every pair
once; pair types are then sorted out with boolean membership masks. Orthorhombic boxes
use scipy's periodic cKDTree (``query_pairs``), triclinic ones MDAnalysis' nsgrid
(``self_capped_distance``). Measured on 3,700 atoms within 10 A (random, 47 A box):
cKDTree 0.019 s per frame, nsgrid self search 0.063 s, and ``capped_distance(x, x)``,
which InterRDF calls, 0.36-0.49 s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from MDAnalysis.lib.distances import calc_bonds, capped_distance, self_capped_distance
from scipy.spatial import cKDTree

SKIN = 1e-3  # A: nsgrid works in single precision; search slightly wider, then filter


@dataclass(frozen=True)
class FramePairs:
    """Unordered pairs (i < j, universe atom indices) within ``cutoff`` and their distances (A).

    Attributes
    ----------
    i, j : numpy.ndarray
        Universe atom indices, i < j.
    d : numpy.ndarray
        Distances (A).
    """

    i: np.ndarray
    j: np.ndarray
    d: np.ndarray


def union_pairs(
    atom_indices: np.ndarray, positions: np.ndarray, box: np.ndarray, cutoff: float
) -> FramePairs:
    """All pairs among ``atom_indices`` (sorted universe indices) closer than ``cutoff``.

    ``positions`` are those of ``atom_indices`` (A); ``box`` MDAnalysis dimensions.
    Distances are recomputed in double precision with ``calc_bonds`` (the values
    MDAnalysis' own distance functions give), so bin assignment matches InterRDF exactly.

    Parameters
    ----------
    atom_indices : numpy.ndarray
        Sorted universe atom indices.
    positions : numpy.ndarray
        (n, 3) coordinates of those atoms (A).
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    cutoff : float
        Distance (A).
    """
    pairs = _candidate_pairs(positions, box, cutoff + SKIN)
    if len(pairs) == 0:
        empty = np.zeros(0, dtype=np.int64)
        return FramePairs(empty, empty, np.zeros(0))
    dist = calc_bonds(positions[pairs[:, 0]], positions[pairs[:, 1]], box=box)
    keep = dist <= cutoff
    return FramePairs(atom_indices[pairs[keep, 0]], atom_indices[pairs[keep, 1]], dist[keep])


def _candidate_pairs(positions: np.ndarray, box: np.ndarray, cutoff: float) -> np.ndarray:
    """(k, 2) row pairs within ``cutoff``: periodic cKDTree for orthorhombic boxes,
    nsgrid otherwise."""
    lengths, angles = np.asarray(box[:3], float), np.asarray(box[3:], float)
    if np.allclose(angles, 90.0) and cutoff < 0.5 * lengths.min():
        wrapped = np.mod(positions.astype(np.float64), lengths)
        wrapped[wrapped >= lengths] = 0.0  # float rounding can land exactly on L
        return cKDTree(wrapped, boxsize=lengths).query_pairs(cutoff, output_type="ndarray")
    pairs, _ = self_capped_distance(positions, cutoff, box=box, method="nsgrid")
    return pairs


def directed_pairs(
    a_index: np.ndarray, b_index: np.ndarray, positions: np.ndarray, box: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs (a, b) of universe atom indices, a in ``a_index`` and b in ``b_index`` (sets that
    may overlap, a != b), within ``cutoff``; ``positions`` are all atoms' (A). One half-pair
    search over the union serves both directions.

    Parameters
    ----------
    a_index, b_index : numpy.ndarray
        Universe atom indices of the two groups.
    positions : numpy.ndarray
        (n_atoms, 3) coordinates of all atoms (A).
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    cutoff : float
        Distance (A).
    """
    union = np.union1d(a_index, b_index)
    pairs = union_pairs(union, positions[union], box, cutoff)
    in_a = np.zeros(len(positions), bool)
    in_b = np.zeros(len(positions), bool)
    in_a[a_index], in_b[b_index] = True, True
    fwd = in_a[pairs.i] & in_b[pairs.j]
    rev = in_a[pairs.j] & in_b[pairs.i]
    return (
        np.concatenate([pairs.i[fwd], pairs.j[rev]]),
        np.concatenate([pairs.j[fwd], pairs.i[rev]]),
    )


def cross_pairs(
    a_positions: np.ndarray, b_positions: np.ndarray, box: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pairs (row in a, row in b, distance) closer than ``cutoff``.

    Parameters
    ----------
    a_positions, b_positions : numpy.ndarray
        (n, 3) and (m, 3) coordinates (A).
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    cutoff : float
        Distance (A).

    Returns
    -------
    tuple of numpy.ndarray
        Rows in a, rows in b and distances (A).
    """
    pairs, dist = capped_distance(a_positions, b_positions, cutoff, box=box, method="nsgrid")
    return pairs[:, 0], pairs[:, 1], dist


def histogram_index(d: np.ndarray, edges: np.ndarray) -> np.ndarray:
    """Bin of each distance for uniform ``edges``, with numpy.histogram's edge rules (left
    edges inclusive, the last right edge too); -1 outside. Faster than np.histogram per
    pair type because one index array serves every pair type (np.bincount after it).

    Parameters
    ----------
    d : numpy.ndarray
        Distances (A).
    edges : numpy.ndarray
        Uniform bin edges (A).
    """
    n = len(edges) - 1
    lo, hi = edges[0], edges[-1]
    idx = ((d - lo) * (n / (hi - lo))).astype(np.int64)
    idx = np.clip(idx, 0, n - 1)
    idx -= d < edges[idx]
    idx += (d >= edges[np.minimum(idx + 1, n)]) & (idx != n - 1)
    idx[(d < lo) | (d > hi)] = -1
    return idx
