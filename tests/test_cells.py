"""Cell-list kernels against scipy's periodic cKDTree on the same points."""

import numpy as np
import pytest
from MDAnalysis.lib.distances import distance_array
from scipy.spatial import cKDTree

from solvation.analysis._cells import (
    fits,
    histogram,
    histogram_grid,
    nearest_neighbours,
    pairs_within,
)


@pytest.mark.parametrize("lengths", [(31.0, 27.0, 40.0), (7.0, 7.5, 30.0)])
def test_pairs_within_equal_to_periodic_kdtree(lengths):
    """Same pairs and distances as cKDTree, including boxes with fewer than three cells a
    side (the neighbour window wraps onto itself) and points outside the box."""
    rng = np.random.default_rng(3)
    lengths = np.asarray(lengths)
    queries = rng.uniform(-20, 60, (400, 3))
    points = rng.uniform(0, 1, (500, 3)) * lengths
    cutoff = 3.4
    qi, pj, dist = pairs_within(queries, points, lengths, cutoff)
    tree = cKDTree(points, boxsize=lengths)
    found = tree.query_ball_point(np.mod(queries, lengths), cutoff)
    expected = {(i, j) for i, row in enumerate(found) for j in row}
    assert set(zip(qi.tolist(), pj.tolist(), strict=True)) == expected
    assert len(qi) == len(expected)
    ref = np.linalg.norm((points[pj] - queries[qi] + lengths / 2) % lengths - lengths / 2, axis=1)
    np.testing.assert_allclose(dist, ref, atol=1e-9)


def test_nearest_neighbours_equal_to_kdtree_and_flag_missing():
    rng = np.random.default_rng(4)
    lengths = np.array([30.0, 30.0, 30.0])
    points = rng.uniform(0, 30, (600, 3))
    points[0] = points[1] + 0.1  # a close pair
    out = nearest_neighbours(points, lengths, 4, 6.0, r_first=2.0)
    dist, idx = cKDTree(points, boxsize=lengths).query(points, k=5)
    within = dist[:, 4] < 6.0
    np.testing.assert_array_equal(out[within], idx[within, 1:])
    assert (out[~within, -1] == -1).all()


def test_nearest_neighbours_rank_ties_by_row_whatever_the_visit_order():
    """On a cubic lattice every point has six neighbours at exactly one spacing: the four
    kept are the lowest rows among them, as a stable sort by (distance, row) of all
    pairs gives, however the cell grid orders the candidates."""
    side, a = 8, 3.0  # integer coordinates: exactly equal distances
    lengths = np.full(3, side * a)
    grid_points = np.stack(np.meshgrid(*[np.arange(side) * a] * 3, indexing="ij"), -1)
    points = grid_points.reshape(-1, 3)[np.random.default_rng(2).permutation(side**3)]
    out = nearest_neighbours(points, lengths, 4, 6.0, r_first=3.2)
    diff = points[:, None, :] - points[None, :, :]
    d = np.square(diff - lengths * np.round(diff / lengths)).sum(-1)  # exact: integers
    np.fill_diagonal(d, np.inf)
    expected = np.array([np.lexsort((np.arange(len(row)), row))[:4] for row in d])
    np.testing.assert_array_equal(out, expected)


def test_nearest_neighbours_complete_a_known_partial_search():
    """Rows found by another search (e.g. the H-bond kernel's 3.5 A donor search) are kept
    and only the incomplete ones searched: the result equals a search from scratch."""
    rng = np.random.default_rng(6)
    lengths = np.array([25.0, 25.0, 25.0])
    points = rng.uniform(0, 25, (500, 3))
    full = nearest_neighbours(points, lengths, 4, 6.0, r_first=3.0)
    known = full.copy()
    known[::3] = -1  # as if these rows had too few neighbours within the first radius
    out = nearest_neighbours(points, lengths, 4, 6.0, r_first=3.0, known=known)
    assert out is known
    np.testing.assert_array_equal(out, full)


def test_fits_refuses_triclinic_and_large_cutoffs():
    assert fits(np.array([30, 30, 30, 90, 90, 90.0]), 6.0)
    assert not fits(np.array([30, 30, 30, 90, 90, 60.0]), 6.0)
    assert not fits(np.array([30, 30, 11, 90, 90, 90.0]), 6.0)


@pytest.mark.parametrize("lengths", [(31.0, 27.0, 40.0), (9.0, 9.5, 30.0)])
def test_histogram_equals_numpy_on_all_pairs(lengths):
    """Pair histograms of the kernel equal numpy.histogram of MDAnalysis' distance_array
    (float32 positions on the 0.01 A grid of XTC files, so that pairs land exactly on bin
    edges; some outside the box), for two sets and for a set against itself, pairs with
    equal keys (one molecule) left out."""
    rng = np.random.default_rng(5)
    lengths = np.asarray(lengths)
    rmax = np.floor(4.8 * lengths.min()) / 10  # bins of 0.05 A: exact ties on edges
    edges = np.linspace(0.0, rmax, int(round(rmax / 0.05)) + 1)
    a = np.round(rng.uniform(-10, 50, (150, 3)), 2).astype(np.float32)
    b = np.round(rng.uniform(0, 1, (400, 3)) * lengths, 1).astype(np.float32)
    key_a, key_b = rng.integers(0, 60, 150), rng.integers(0, 60, 400)

    def reference(p, q, kp, kq, same):
        d = distance_array(p, q, box=np.array([*lengths, 90, 90, 90]))
        keep = kp[:, None] != kq[None, :]
        if same:
            keep &= ~np.eye(len(p), dtype=bool)
        return np.histogram(d[keep], edges)[0]

    grid = histogram_grid(b, lengths, edges[-1])
    box = np.array([*lengths, 90, 90, 90], np.float32)
    cross = histogram(grid, b, key_b, box, edges, a, key_a)
    np.testing.assert_array_equal(cross, reference(a, b, key_a, key_b, False))
    self_pairs = histogram(grid, b, key_b, box, edges)
    np.testing.assert_array_equal(self_pairs, reference(b, b, key_b, key_b, True))
