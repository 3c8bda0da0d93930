"""Cell-list neighbour kernels for orthorhombic periodic boxes, compiled with numba.
Private to ``analysis.neighbors``: analyses reach them through its ``NeighborQuery`` and
functions, never directly (``tests/test_layout.py``).

Written here rather than taken from a library because it is measurably faster for the
per-frame H-bond and tetrahedral-order work on water (3,300 waters + 470 sulfate O in a
10.6k-atom box, 2 cores): periodic scipy cKDTree donor-acceptor pairs took 4.9 ms and the
4 nearest neighbours 8.5 ms per frame, freud's AABBQuery 3.8 and 5.1 ms, these kernels
0.7 and 1.1 ms (``benchmarks/bench_hbonds.py`` for the whole analysis). Compiled code is
cached on disk (``cache=True``): only the first call on a machine pays the compilation
(about 10 s for all kernels).

The radial-distribution kernel (``histogram``) counts pairs straight into per-thread
histograms without listing them, with cells of half the search radius (5 x 5 x 5 cells
searched instead of 3 x 3 x 3 twice as large: 1.7x fewer candidates). Its distances are
those of MDAnalysis' ``calc_bonds``/``distance_array``, bit for bit: the difference of the
single-precision coordinates in single precision, the minimum image as box * (s -
round(s)) with s = dx / box through a single-precision inverse, x^2 + y^2 + z^2 in that
order; bins follow numpy.histogram's edge rules. XTC coordinates sit on a 0.01 A grid,
so pairs land exactly on bin edges, and only identical arithmetic gives identical
counts: g(r) equals InterRDF's (which takes that path whenever rmax > 0.3 box) and what
this package computed before the kernel.

Positions are in A, ``lengths`` the three box edge lengths (A). Every search radius must
be below half the shortest edge (minimum-image rule); callers check with ``fits``.
"""

from __future__ import annotations

from functools import lru_cache

import numba
import numpy as np
from MDAnalysis.lib.distances import calc_bonds
from numba import njit, prange

from . import threads  # noqa: F401  (sets the fork-safe threading layer first)


def fits(box: np.ndarray, cutoff: float) -> bool:
    """True when these kernels apply: orthorhombic ``box`` (MDAnalysis dimensions) and
    ``cutoff`` (A) below half of every edge.

    Parameters
    ----------
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    cutoff : float
        Largest distance searched (A).
    """
    box = np.asarray(box, float)
    return bool(np.allclose(box[3:], 90.0) and cutoff < 0.5 * box[:3].min())


@njit(cache=True)
def _wrap(x, lengths):
    out = np.empty((x.shape[0], 3))
    for i in range(x.shape[0]):
        for k in range(3):
            v = x[i, k] - lengths[k] * np.floor(x[i, k] / lengths[k])
            out[i, k] = 0.0 if v >= lengths[k] else v  # rounding can land on L
    return out


@njit(cache=True, inline="always")
def _cell_of(q, lengths, n_cells):
    c = 0
    for k in range(3):
        c = c * n_cells[k] + min(int(q[k] / lengths[k] * n_cells[k]), n_cells[k] - 1)
    return c


@njit(cache=True)
def _cell_list(wrapped, lengths, n_cells):
    """Points sorted by cell (counting sort, z fastest) and each cell's start in that order."""
    total = n_cells[0] * n_cells[1] * n_cells[2]
    cell = np.empty(wrapped.shape[0], np.int64)
    start = np.zeros(total + 1, np.int64)
    for i in range(wrapped.shape[0]):
        cell[i] = _cell_of(wrapped[i], lengths, n_cells)
        start[cell[i] + 1] += 1
    for c in range(total):
        start[c + 1] += start[c]
    fill = start[:-1].copy()
    order = np.empty(wrapped.shape[0], np.int64)
    for i in range(wrapped.shape[0]):
        order[fill[cell[i]]] = i
        fill[cell[i]] += 1
    return order, start


def _window(n: int, reach: int = 1) -> list[int]:
    """Distinct neighbour offsets along one dimension of ``n`` cells, as absolute cells
    (all of them) when the +-``reach`` window would wrap onto itself."""
    return list(range(n)) if n < 2 * reach + 1 else list(range(-reach, reach + 1))


@lru_cache(maxsize=8)
def _neighbour_runs(n_cells: tuple[int, int, int], reach: int = 1) -> np.ndarray:
    """(n_cells_total, k, 2) table: for each cell, the distinct cells within ``reach`` cells
    as runs (first, last) of consecutive cell indices, -1 padded. Cells are numbered z
    fastest, so the z window of each (x, y) neighbour is one run (two where it wraps): 9-18
    loops per query instead of 27 short ones (reach 1), whose unpredictable exits dominated
    the search time. Depends only on the cell counts, so it is cached across frames."""
    nx, ny, nz = n_cells
    wide = 2 * reach + 1
    wx, wy = _window(nx, reach), _window(ny, reach)
    table = np.full((nx * ny * nz, len(wx) * len(wy) * 2, 2), -1, np.int64)
    for cx in range(nx):
        for cy in range(ny):
            for cz in range(nz):
                row = (cx * ny + cy) * nz + cz
                window = _window(nz, reach)
                zs = sorted({(cz + d) % nz for d in window} if nz >= wide else range(nz))
                runs = _runs(zs)
                m = 0
                for dx in wx:
                    for dy in wy:
                        x = (cx + dx) % nx if nx >= wide else dx
                        y = (cy + dy) % ny if ny >= wide else dy
                        base = (x * ny + y) * nz
                        for first, last in runs:
                            table[row, m] = base + first, base + last
                            m += 1
    return table


def _runs(values: list[int]) -> list[tuple[int, int]]:
    """Sorted integers as (first, last) runs of consecutive values."""
    out = [[values[0], values[0]]]
    for v in values[1:]:
        if v == out[-1][1] + 1:
            out[-1][1] = v
        else:
            out.append([v, v])
    return [tuple(r) for r in out]


@njit(cache=True, inline="always")
def _image(v, length):
    """Minimum image of a difference of two wrapped coordinates (|v| < length), without
    branches."""
    return v - length * (v > 0.5 * length) + length * (v < -0.5 * length)


@njit(cache=True, inline="always")
def _bound(cell, start, table):
    """How many points the runs of ``cell`` hold: an upper bound on its neighbours."""
    n = 0
    for r in range(table.shape[1]):
        if table[cell, r, 0] < 0:
            break
        n += start[table[cell, r, 1] + 1] - start[table[cell, r, 0]]
    return n


@njit(cache=True, inline="always")
def _visit(q, cell, pts, start, table, lengths, cut2, out_s, out_d2, m):
    """Write the sorted rows (``order[s]`` is the point) and squared distances of the
    neighbours of wrapped point ``q`` (in ``cell``) closer than sqrt(``cut2``) into
    out_s/out_d2 from position ``m`` (capacity: ``_bound``); returns the new ``m``."""
    for r in range(table.shape[1]):
        if table[cell, r, 0] < 0:
            break
        for s in range(start[table[cell, r, 0]], start[table[cell, r, 1] + 1]):
            vx = _image(pts[s, 0] - q[0], lengths[0])
            vy = _image(pts[s, 1] - q[1], lengths[1])
            vz = _image(pts[s, 2] - q[2], lengths[2])
            d2 = vx * vx + vy * vy + vz * vz
            out_s[m] = s  # written always, kept by advancing m: no branch to
            out_d2[m] = d2  # mispredict on hits (1 in 3-6 candidates)
            m += d2 < cut2
    return m


def grid(points: np.ndarray, lengths: np.ndarray, size: float, reach: int = 1) -> tuple:
    """Points wrapped and sorted into cells of edge >= ``size / reach`` (A), neighbours
    searched ``reach`` cells around: (sorted wrapped points, order, cell starts,
    neighbour-run table, lengths, cell counts), what the kernels take.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates (A).
    lengths : numpy.ndarray
        Orthorhombic box edges (A).
    size : float
        Search distance (A).
    reach : int
        Cells searched on each side.
    """
    lengths = np.asarray(lengths, np.float64)
    n_cells = np.maximum(1, (lengths // (size / reach)).astype(np.int64))
    wrapped = _wrap(np.ascontiguousarray(points, np.float64), lengths)
    order, start = _cell_list(wrapped, lengths, n_cells)
    table = _neighbour_runs(tuple(int(n) for n in n_cells), reach)
    return wrapped[order], order, start, table, lengths, n_cells


@njit(cache=True)
def _offsets(wq, start, table, lengths, n_cells):
    """Cell of each query and the start of its slice of the candidate buffers (the slice
    is as long as ``_bound``), plus the total length."""
    cells = np.empty(wq.shape[0], np.int64)
    offset = np.zeros(wq.shape[0] + 1, np.int64)
    for i in range(wq.shape[0]):
        cells[i] = _cell_of(wq[i], lengths, n_cells)
        offset[i + 1] = offset[i] + _bound(cells[i], start, table)
    return cells, offset


def _pairs_py(wq, pts, order, start, table, lengths, n_cells, cutoff):
    cells, offset = _offsets(wq, start, table, lengths, n_cells)
    rows, d2 = np.empty(offset[-1], np.int64), np.empty(offset[-1])
    found = np.zeros(wq.shape[0] + 1, np.int64)
    for i in prange(wq.shape[0]):
        end = _visit(wq[i], cells[i], pts, start, table, lengths, cutoff**2, rows, d2, offset[i])
        found[i + 1] = end - offset[i]
    at = np.cumsum(found)
    qi, pj, dist = np.empty(at[-1], np.int64), np.empty(at[-1], np.int64), np.empty(at[-1])
    for i in prange(wq.shape[0]):
        for t in range(found[i + 1]):
            qi[at[i] + t] = i
            pj[at[i] + t] = order[rows[offset[i] + t]]
            dist[at[i] + t] = np.sqrt(d2[offset[i] + t])
    return qi, pj, dist


_pairs = njit(cache=True, parallel=True)(_pairs_py)
# few queries (a cation's shells): threads cost more to wake than they save, and far
# more on a loaded machine (3 ms instead of 0.1 ms per call for 59 Zn2+ within 8 A)
_pairs_serial = njit(cache=True)(_pairs_py)
SERIAL_QUERIES = 2000


def pairs_within(
    queries: np.ndarray, points: np.ndarray, lengths: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every (query row, point row, distance) with distance < ``cutoff`` (A), minimum image,
    grouped by query row. A point identical to a query (distance 0) is included.

    Parameters
    ----------
    queries, points : numpy.ndarray
        (n, 3) and (m, 3) coordinates (A).
    lengths : numpy.ndarray
        Orthorhombic box edges (A).
    cutoff : float
        Distance (A).

    Returns
    -------
    tuple of numpy.ndarray
        Query rows, point rows and distances (A).
    """
    few = len(queries) < SERIAL_QUERIES
    # few queries against many points (a cation's shells): cells of half the cutoff, 2.3x
    # fewer candidates per query for a grid that costs the same to build
    cells = grid(points, lengths, cutoff, reach=2 if few else 1)
    wq = _wrap(np.ascontiguousarray(queries, np.float64), np.asarray(lengths, np.float64))
    return (_pairs_serial if few else _pairs)(wq, *cells, float(cutoff))


@njit(cache=True, inline="always")
def insert_nearest(best, idx, d, j):
    """Insert candidate ``j`` at squared distance ``d`` into the ascending k best
    (``best`` distances, ``idx`` their rows, -1 and inf while empty); equal distances
    rank by row, so the result does not depend on the order candidates are visited.

    Parameters
    ----------
    best : numpy.ndarray
        (k,) squared distances (A^2) kept so far, ascending.
    idx : numpy.ndarray
        (k,) their rows.
    d : float
        Squared distance of the candidate (A^2).
    j : int
        Row of the candidate.
    """
    k = len(best)
    if d > best[k - 1] or (d == best[k - 1] and j > idx[k - 1] >= 0):
        return
    m = k - 1
    while m > 0 and (best[m - 1] > d or (best[m - 1] == d and idx[m - 1] > j)):
        best[m] = best[m - 1]
        idx[m] = idx[m - 1]
        m -= 1
    best[m] = d
    idx[m] = j


@njit(cache=True, parallel=True)
def _nearest(rows, pts, order, start, table, lengths, n_cells, k, r_max, out):
    """Fill out[row] with the k nearest other points of point ``row`` within r_max.
    Candidates go straight into each row's sorted k best as they are visited (no
    candidate buffers, no serial sizing pass: 1.4x faster on one core than buffering
    them as ``_visit`` does, and it scales with threads)."""
    where = np.empty(pts.shape[0], np.int64)
    where[order] = np.arange(pts.shape[0])
    r2 = r_max * r_max
    best_all = np.full((len(rows), k), np.inf)  # allocated once: not per query in threads
    for t in prange(len(rows)):
        i = rows[t]
        s0 = where[i]
        q0, q1, q2 = pts[s0, 0], pts[s0, 1], pts[s0, 2]
        cell = _cell_of(pts[s0], lengths, n_cells)
        best, idx = best_all[t], out[i]
        idx[:] = -1
        for r in range(table.shape[1]):
            if table[cell, r, 0] < 0:
                break
            for s in range(start[table[cell, r, 0]], start[table[cell, r, 1] + 1]):
                vx = _image(pts[s, 0] - q0, lengths[0])
                vy = _image(pts[s, 1] - q1, lengths[1])
                vz = _image(pts[s, 2] - q2, lengths[2])
                d = vx * vx + vy * vy + vz * vz
                if d < r2 and s != s0:
                    insert_nearest(best, idx, d, order[s])


def nearest_neighbours(
    points: np.ndarray,
    lengths: np.ndarray,
    k: int,
    r_max: float,
    r_first: float = 4.0,
    known: np.ndarray | None = None,
) -> np.ndarray:
    """(n, k) rows of the ``k`` nearest other points of each point within ``r_max`` (A),
    nearest first (equal distances by row); -1 where fewer than ``k`` lie within
    ``r_max``. Searches ``r_first`` (A) first and widens only for the points that found
    too few there.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates (A).
    lengths : numpy.ndarray
        Orthorhombic box edges (A).
    k : int
        Neighbours per point.
    r_max : float
        Largest search radius (A).
    r_first : float
        First search radius (A).
    known : numpy.ndarray, optional
        (n, k) result of a search already made within some radius up to ``r_max`` (e.g.
        by the H-bond kernel): its complete rows are kept, the others searched as above.
        Filled in place and returned.
    """
    if known is None:
        out, rows = np.full((len(points), k), -1, np.int64), None
    else:
        out, rows = known, np.nonzero(known[:, -1] < 0)[0]
    for radius in sorted({min(r_first, r_max), r_max}):
        if rows is not None and len(rows) == 0:
            break
        cell_grid = grid(points, lengths, radius)
        # all points: in cell order, so that neighbouring queries share cached cells
        _nearest(cell_grid[1] if rows is None else rows, *cell_grid, int(k), float(radius), out)
        rows = np.nonzero(out[:, -1] < 0)[0]
    return out


@njit(cache=True, inline="always")
def _bin(d, edges, scale):
    """Bin of ``d`` inside [edges[0], edges[-1]] with numpy.histogram's edge rules."""
    nb = len(edges) - 1
    k = min(int((d - edges[0]) * scale), nb - 1)
    if d < edges[k]:
        k -= 1
    elif k < nb - 1 and d >= edges[k + 1]:
        k += 1
    return k


@njit(cache=True, inline="always")
def _c_round(x):
    """C's round(): halves away from zero."""
    return np.floor(x + 0.5) if x >= 0 else -np.floor(-x + 0.5)


@njit(cache=True, inline="always")
def _bond_d2(p, q, box, inverse):
    """Squared distance of single-precision points ``p``, ``q`` as MDAnalysis'
    calc_bonds computes it for an orthorhombic ``box`` (float32; ``inverse`` = 1/box in
    float32)."""
    rsq = 0.0
    for k in range(3):
        dx = np.float64(p[k] - q[k])  # float32 difference, as in C
        s = np.float64(inverse[k]) * dx
        x = np.float64(box[k]) * (s - _c_round(s))
        rsq += x * x
    return rsq


def _histogram_py(q32, q_cells, q_key, p32, start, table, p_key, box, edges, same, chunks):
    """Pair counts per bin of ``edges`` (A) between queries (float32 ``q32``, in cells
    ``q_cells``) and the grid's points (float32 ``p32`` in cell order), pairs whose keys
    differ only. ``same``: the queries are the grid's own points and each unordered pair
    is visited once (counted twice)."""
    nb = len(edges) - 1
    lo, hi = edges[0], edges[nb]
    scale = nb / (hi - lo)
    # squared distances beyond this cannot give sqrt() <= hi: most candidates of the
    # 5 x 5 x 5 cells (73% of their volume lies outside the sphere) skip sqrt and binning
    far2 = (hi * (1.0 + 1e-9)) ** 2
    inverse = np.empty(3, np.float32)
    for k in range(3):
        inverse[k] = np.float32(1.0 / np.float64(box[k]))
    nq = q32.shape[0]
    hist = np.zeros((chunks, nb), np.int64)
    for c in prange(chunks):
        for i in range(c * nq // chunks, (c + 1) * nq // chunks):
            cell = q_cells[i]
            for r in range(table.shape[1]):
                if table[cell, r, 0] < 0:
                    break
                first = start[table[cell, r, 0]]
                if same:
                    first = max(first, i + 1)
                for s in range(first, start[table[cell, r, 1] + 1]):
                    d2 = _bond_d2(p32[s], q32[i], box, inverse)
                    if d2 > far2:
                        continue
                    d = np.sqrt(d2)
                    if d > hi or d < lo or p_key[s] == q_key[i]:
                        continue
                    hist[c, _bin(d, edges, scale)] += 1
    out = hist.sum(axis=0)
    return 2 * out if same else out


_histogram = njit(cache=True, parallel=True)(_histogram_py)
_histogram_serial = njit(cache=True)(_histogram_py)  # few queries: see _pairs_serial


@njit(cache=True)
def _cells_of(wq, lengths, n_cells):
    out = np.empty(wq.shape[0], np.int64)
    for i in range(wq.shape[0]):
        out[i] = _cell_of(wq[i], lengths, n_cells)
    return out


def histogram_grid(points: np.ndarray, lengths: np.ndarray, rmax: float) -> tuple:
    """The cell grid ``histogram`` searches (cells of rmax/2, a hair wider); build it once
    per frame for every query set against these points.

    Parameters
    ----------
    points : numpy.ndarray
        (n, 3) coordinates (A).
    lengths : numpy.ndarray
        Orthorhombic box edges (A).
    rmax : float
        Last histogram edge (A).
    """
    return grid(points, lengths, float(rmax) * (1 + 1e-6), reach=2)


def histogram(
    cell_grid: tuple,
    points: np.ndarray,
    point_keys: np.ndarray,
    box: np.ndarray,
    edges: np.ndarray,
    queries: np.ndarray | None = None,
    query_keys: np.ndarray | None = None,
) -> np.ndarray:
    """Counts of ordered pairs (query, point) per bin of ``edges`` (A, uniform), minimum
    image, over pairs whose integer keys differ (molecule ids to leave out pairs within a
    molecule, atom indices to leave out only an atom with itself). ``cell_grid`` from
    ``histogram_grid(points, box[:3], edges[-1])``; ``queries`` None: the points against
    themselves (each unordered pair found once, counted in both orders). Positions (A)
    in single precision as MDAnalysis gives them, ``box`` its dimensions; distances as
    the module docstring says.

    Parameters
    ----------
    cell_grid : tuple
        From ``histogram_grid``.
    points : numpy.ndarray
        (n, 3) coordinates (A).
    point_keys : numpy.ndarray
        Integer key of each point.
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    edges : numpy.ndarray
        Uniform bin edges (A).
    queries : numpy.ndarray, optional
        (m, 3) query coordinates (A); None: the points against themselves.
    query_keys : numpy.ndarray, optional
        Integer key of each query.
    """
    edges = np.asarray(edges, np.float64)
    _, order, start, table, lengths, n_cells = cell_grid
    p32 = np.ascontiguousarray(np.asarray(points, np.float32)[order])
    p_key = np.ascontiguousarray(np.asarray(point_keys, np.int64)[order])
    if queries is None:
        q32, q_key = p32, p_key
        q_cells = _cells_of(cell_grid[0], lengths, n_cells)
    else:
        q32 = np.ascontiguousarray(queries, np.float32)
        q_key = np.ascontiguousarray(query_keys, np.int64)
        q_cells = _cells_of(_wrap(q32.astype(np.float64), lengths), lengths, n_cells)
    box32 = np.asarray(box[:3], np.float32)
    chunks = max(1, min(len(q32), 8 * numba.get_num_threads()))
    kernel = _histogram_serial if len(q32) < SERIAL_QUERIES else _histogram
    return kernel(
        q32, q_cells, q_key, p32, start, table, p_key, box32, edges, queries is None, chunks
    )


def bond_pairs(
    queries: np.ndarray, points: np.ndarray, box: np.ndarray, cutoff: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query row, point row, distance A) of the pairs with distance <= ``cutoff``, the
    distances computed as MDAnalysis' calc_bonds does (so that they equal those of the
    RDF kernel; see the module docstring). Orthorhombic ``box`` (MDAnalysis dimensions)
    with ``fits(box, cutoff)``.

    Parameters
    ----------
    queries, points : numpy.ndarray
        (n, 3) and (m, 3) coordinates (A).
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    cutoff : float
        Distance (A).
    """
    qi, pj, _ = pairs_within(queries, points, box[:3], cutoff * (1 + 1e-6) + 1e-6)
    d = calc_bonds(queries[qi], points[pj], box=box)
    inside = d <= cutoff
    return qi[inside], pj[inside], d[inside]
