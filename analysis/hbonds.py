"""Hydrogen-bond network of water and everything it talks to.

Criterion (default Luzar & Chandler, Nature 379 (1996) 55): donor-acceptor distance
below 3.5 A and the angle between D-H and D...A below 30 degrees (``angle_definition =
"HDA"``). ``"DHA"`` uses MDAnalysis' convention instead: the D-H...A angle at the
hydrogen above ``angle`` (e.g. 150). Donors are O/N atoms bonded to a hydrogen (bonds
from the topology, else the nearest O/N of the residue within 1.3 A in the first
frame); acceptors are O, N, F atoms and halide ions. Pairs within one molecule are not counted.

Per frame: H-bonds per water (as donor, as acceptor), classes of water by its counts
(e.g. DDAA = donates two, accepts two), H-bonds by partner type, the fraction of water
in a cation's first shell and "free" water (in none; the first-shell cutoff given, or
the first minimum of the cation-water O g(r) accumulated in the same pass, see
``analysis.cutoffs``), the tetrahedral order parameter q
of water oxygens (Errington & Debenedetti, Nature 409 (2001) 318; q = 1 for a perfect
tetrahedron, 0 on average for random points), and the largest cluster of water linked
by water-water H-bonds. Means are ``Estimate``s: standard errors from the statistical
inefficiency of their per-frame series, with the effective sample count and a
convergence flag (``solvation.analysis.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from MDAnalysis.lib.distances import minimize_vectors
from numba import njit, prange
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from . import neighbors
from .base import Analysis, concatenate, total
from .coordination import MIN_EXCHANGES_PER_ION
from .correlation import Correlation, presence_correlation, presence_matrix
from .cutoffs import CutoffHistogram
from .neighbors import NeighborQuery, cross_pairs, directed_pairs, fits, nearest_neighbours
from .rdf import check_rmax, pair_count
from .results import ResultMixin
from .stats import Estimate
from .universe import InputError, as_universe, atom_elements, molecule_ids, select

DONOR_ELEMENTS = ("O", "N")
ACCEPTOR_ELEMENTS = ("O", "N", "F", "CL", "BR", "I")  # halide anions accept too
Q_RMAX_ANGSTROM = 6.0  # neighbours of tetrahedral_q searched this far


def tetrahedral_q(
    positions: np.ndarray, box: np.ndarray, known: np.ndarray | None = None
) -> np.ndarray:
    """q of every point from its four nearest neighbours (periodic, A); NaN where a point
    has fewer than four neighbours within 6 A or there are fewer than five points.

    Parameters
    ----------
    positions : numpy.ndarray
        (n, 3) coordinates (A).
    box : numpy.ndarray
        MDAnalysis box dimensions (A, degrees).
    known : numpy.ndarray, optional
        (n, 4) nearest neighbours already found within some radius up to 6 A, -1 rows
        where incomplete (``neighbors.nearest_neighbours``); orthorhombic boxes only.

    Returns
    -------
    numpy.ndarray
        q of each point.
    """
    if len(positions) < 5:
        return np.full(len(positions), np.nan)
    if fits(box, Q_RMAX_ANGSTROM):
        lengths = np.asarray(box[:3], np.float64)
        neighbours = nearest_neighbours(
            positions, lengths, 4, Q_RMAX_ANGSTROM, r_first=3.8, known=known
        )
        return _q_kernel(positions.astype(np.float64), neighbours, lengths)
    else:
        pairs, dist = _pairs_and_distances(positions, positions, box, Q_RMAX_ANGSTROM)
        keep = pairs[:, 0] != pairs[:, 1]
        pairs, dist = pairs[keep], dist[keep]
        order = np.lexsort((dist, pairs[:, 0]))
        pairs = pairs[order]
        starts = np.searchsorted(pairs[:, 0], np.arange(len(positions)))
        valid = np.bincount(pairs[:, 0], minlength=len(positions)) >= 4
        take = np.minimum(starts[:, None] + np.arange(4)[None, :], len(pairs) - 1)
        neighbours = pairs[take, 1]
    vec = minimize_vectors(
        (positions[neighbours] - positions[:, None, :]).reshape(-1, 3), box
    ).reshape(-1, 4, 3)
    unit = vec / np.linalg.norm(vec, axis=2, keepdims=True)
    cos = np.einsum("nid,njd->nij", unit, unit)
    j, k = np.triu_indices(4, 1)
    q = 1.0 - 3.0 / 8.0 * np.square(cos[:, j, k] + 1.0 / 3.0).sum(axis=1)
    return np.where(valid, q, np.nan)


def _pairs_and_distances(a: np.ndarray, b: np.ndarray, box, cutoff: float):
    """(k, 2) rows and distances (A) of the pairs within ``cutoff`` (A), as MDAnalysis'
    ``capped_distance`` with its own method choice returns them."""
    i, j, d = cross_pairs(a, b, box, cutoff, method=None)
    return np.column_stack([i, j]), d


@njit(cache=True, parallel=True)
def _q_kernel(pos, neighbours, lengths):
    """tetrahedral_q from the four nearest neighbours (rows of ``pos``; -1: too few)."""
    q = np.full(len(pos), np.nan)
    unit = np.empty((len(pos), 4, 3))  # allocated once, not per point in the threads
    for i in prange(len(pos)):
        if neighbours[i, 3] < 0:
            continue
        for k in range(4):
            norm = 0.0
            for x in range(3):
                v = _raw_image(pos[neighbours[i, k], x] - pos[i, x], lengths[x])
                unit[i, k, x] = v
                norm += v * v
            for x in range(3):
                unit[i, k, x] /= np.sqrt(norm)
        total = 0.0
        for j in range(3):
            for k in range(j + 1, 4):
                cos = unit[i, j, 0] * unit[i, k, 0] + unit[i, j, 1] * unit[i, k, 1]
                total += (cos + unit[i, j, 2] * unit[i, k, 2] + 1.0 / 3.0) ** 2
        q[i] = 1.0 - 3.0 / 8.0 * total
    return q


@njit(cache=True, inline="always")
def _raw_image(v, length):
    return v - length * np.rint(v / length)


@njit(cache=True, parallel=True)
def _hbond_kernel(pos, donors, h_start, h_count, hydrogens, res, acceptors, grid, rule, near):
    """(hydrogen, donor, acceptor) atom indices of every H-bond: acceptors (in the cell
    ``grid`` of their positions) within ``rule[0]`` (A) of a donor, in another residue,
    passing the angle test on ``rule[1]`` = cos(limit): HDA (``rule[2]`` = 0) needs
    cos(H-D...A) >= it, DHA (1) cos(D-H...A) <= it. ``pos``: all atoms (A, float64).
    Passes: neighbours of each donor; then, sized by them, the angle test per hydrogen.

    ``near`` = (donor's water-O row or -1, acceptor's water-O row or -1, squared radius
    A^2, (n_water_O, 4) output): the four nearest water O of each water O within that
    radius (and the donor cutoff) are taken from the neighbours found here, for
    ``tetrahedral_q`` without a search of its own; rows with fewer stay -1."""
    pts, order, start, table, lengths, n_cells = grid
    cutoff, cos_limit, dha = rule[0], rule[1], rule[2] > 0.5
    near_row, acc_near, near_r2, near_out = near
    n = len(donors)
    wd = neighbors.wrap(pos[donors], lengths)
    cell, offset = neighbors.offsets(wd, start, table, lengths, n_cells)
    cand, d2 = np.empty(offset[-1], np.int64), np.empty(offset[-1])
    hits = np.zeros(n, np.int64)
    dh = np.empty((len(hydrogens), 3))  # D->H vectors, once per hydrogen
    best_all = np.full((n, near_out.shape[1]), np.inf)
    for i in prange(n):
        end = neighbors.visit(
            wd[i], cell[i], pts, start, table, lengths, cutoff**2, cand, d2, offset[i]
        )
        hits[i] = end - offset[i]
        own = near_row[i]
        if own >= 0:
            idx = near_out[own]
            for c in range(offset[i], offset[i] + hits[i]):
                j = acc_near[order[cand[c]]]
                if j >= 0 and j != own and d2[c] < near_r2:
                    neighbors.insert_nearest(best_all[i], idx, d2[c], j)
        d = donors[i]
        for t in range(h_start[i], h_start[i] + h_count[i]):
            for x in range(3):
                dh[t, x] = _raw_image(pos[hydrogens[t], x] - pos[d, x], lengths[x])
    out_at = np.zeros(n + 1, np.int64)
    for i in range(n):
        out_at[i + 1] = out_at[i] + hits[i] * h_count[i]
    out_h, out_a = np.empty(out_at[-1], np.int64), np.empty(out_at[-1], np.int64)
    found = np.zeros(n + 1, np.int64)
    for i in prange(n):
        d, m = donors[i], out_at[i]
        for c in range(offset[i], offset[i] + hits[i]):
            s = cand[c]
            a = acceptors[order[s]]
            if res[a] == res[d]:
                continue
            ax = neighbors.image(pts[s, 0] - wd[i, 0], lengths[0])
            ay = neighbors.image(pts[s, 1] - wd[i, 1], lengths[1])
            az = neighbors.image(pts[s, 2] - wd[i, 2], lengths[2])
            for t in range(h_start[i], h_start[i] + h_count[i]):
                hx, hy, hz = dh[t, 0], dh[t, 1], dh[t, 2]
                if dha:  # angle at H between H->D and H->A
                    ux, uy, uz, vx, vy, vz = -hx, -hy, -hz, ax - hx, ay - hy, az - hz
                else:  # angle at D between D->H and D->A
                    ux, uy, uz, vx, vy, vz = hx, hy, hz, ax, ay, az
                cos = (ux * vx + uy * vy + uz * vz) / np.sqrt(
                    (ux * ux + uy * uy + uz * uz) * (vx * vx + vy * vy + vz * vz)
                )
                if (cos <= cos_limit) if dha else (cos >= cos_limit):
                    out_h[m], out_a[m] = hydrogens[t], a
                    m += 1
        found[i + 1] = m - out_at[i]
    at = np.cumsum(found)
    h_out, d_out = np.empty(at[-1], np.int64), np.empty(at[-1], np.int64)
    a_out = np.empty(at[-1], np.int64)
    for i in prange(n):
        for t in range(found[i + 1]):
            h_out[at[i] + t] = out_h[out_at[i] + t]
            d_out[at[i] + t] = donors[i]
            a_out[at[i] + t] = out_a[out_at[i] + t]
    return h_out, d_out, a_out


@dataclass(frozen=True)
class HBondResult(ResultMixin):
    """Network statistics (``Estimate``: mean, standard error, n_eff, convergence), class
    fractions and per-frame series.

    Attributes
    ----------
    criterion : dict
        The H-bond criterion (distance in A, angle in degrees, angle definition).
    n_water, n_frames : int
        Waters and frames analysed.
    hbonds_per_water, donor_per_water, acceptor_per_water : Estimate
        H-bonds per water in total, as donor and as acceptor.
    class_fractions : dict of str to float
        Fraction of waters in each donor/acceptor class (e.g. 'DDAA').
    partners_per_frame : dict of str to float
        Mean H-bonds per frame by partner type.
    shell_water_fraction, free_water_fraction : Estimate
        Fraction of waters in a cation's first shell, and in none (not converged while
        the cations' first shells exchanged fewer than ``MIN_EXCHANGES_PER_ION`` waters
        per cation: then they are the starting structure's).
    tetrahedral_q : Estimate
        Tetrahedral order parameter q of water oxygens.
    largest_cluster_fraction : Estimate
        Fraction of waters in the largest water-water H-bond cluster.
    time_ps : numpy.ndarray
        Time of each analysed frame (ps).
    per_frame : dict of str to numpy.ndarray
        Per-frame series of the quantities above.
    lifetimes : Correlation or None
        H-bond presence correlation (lifetime), when computed.
    water_hbonds_per_water : Estimate or None
        Water-water H-bonds per water (2 N_ww / N_w); ``hbonds_per_water`` counts every
        partner of the analysis (water, anions, additives).
    shell_exchanges_per_cation : float or None
        Waters entering or leaving the cations' first shells per cation over the run.
    """

    criterion: dict
    n_water: int
    n_frames: int
    hbonds_per_water: Estimate
    donor_per_water: Estimate
    acceptor_per_water: Estimate
    class_fractions: dict[str, float]
    partners_per_frame: dict[str, float]
    shell_water_fraction: Estimate
    free_water_fraction: Estimate
    tetrahedral_q: Estimate
    largest_cluster_fraction: Estimate
    time_ps: np.ndarray
    per_frame: dict[str, np.ndarray]
    lifetimes: Correlation | None = None
    water_hbonds_per_water: Estimate | None = None
    shell_exchanges_per_cation: float | None = None

    def to_frame(self) -> pd.DataFrame:
        """Per-frame series as a table, with a ``time_ps`` column (ps)."""
        return pd.DataFrame({"time_ps": self.time_ps, **self.per_frame})


class HydrogenBonds(Analysis):
    """H-bond network statistics of water (see module docstring).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    water : str
        Selection of water molecules (default "resname HOH").
    groups : dict of str to str, optional
        Name -> selection of other H-bonding species (anions, additives ...).
    distance : float
        Donor-acceptor cutoff (A), default 3.5.
    angle : float
        Angle (degrees); HDA: below it (default 30); DHA: above it (e.g. 150).
    angle_definition : str
        "HDA" (Luzar-Chandler) or "DHA" (MDAnalysis HydrogenBondAnalysis).
    cations : str, optional
        Selection of cations for shell/free water (None: skip).
    cation_cutoff : float, optional
        First-shell cutoff (A) of cation-water oxygen; None: the first minimum of the
        cation-water O g(r) (0-8 A, 320 bins) of this same pass.
    lifetimes : bool
        Also compute H-bond lifetime correlations (memory grows with frames).
    fallback : float, optional
        Cation cutoff (A) where that g(r) has no clear minimum; None raises NoMinimumError.
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "hbonds"
    _accumulators = {
        "_series": concatenate,
        "_classes": total,
        "_partners": total,
        "_keys": concatenate,
        "_times": concatenate,
        "_cation_hist": total,
        "_cation_kept": concatenate,
        "_shell_rows": concatenate,
    }
    CATION_RMAX_ANGSTROM, CATION_BINS = 8.0, 320  # the g(r) of solvation_shells' defaults

    def __init__(
        self,
        universe,
        water: str = "resname HOH",
        groups: dict[str, str] | None = None,
        distance: float = 3.5,
        angle: float = 30.0,
        angle_definition: str = "HDA",
        cations: str | None = None,
        cation_cutoff: float | None = None,
        lifetimes: bool = False,
        fallback: float | None = None,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if angle_definition not in ("HDA", "DHA"):
            raise InputError("angle_definition must be 'HDA' or 'DHA'")
        if cations is not None and cation_cutoff is not None and cation_cutoff <= 0:
            raise InputError(f"cation_cutoff must be positive (A), got {cation_cutoff}")
        if cations is not None and cation_cutoff is None:
            check_rmax(universe, self.CATION_RMAX_ANGSTROM, "the cation-water g(r)")
        self.fallback = fallback
        self.universe = universe
        self.water = select(universe, water, "water selection")
        self.groups = {"water": self.water}
        for name, sel in (groups or {}).items():
            self.groups[name] = select(universe, sel, f"group {name!r}")
        self.cations = select(universe, cations, "cation selection") if cations else None
        self.distance, self.angle, self.definition = distance, angle, angle_definition
        self.cation_cutoff, self.lifetimes = cation_cutoff, lifetimes

    def _prepare(self):
        u = self.universe
        n = u.atoms.n_atoms
        self._label = np.full(n, -1)
        for k, g in enumerate(self.groups.values()):
            self._label[g.indices] = k
        involved = np.nonzero(self._label >= 0)[0]
        elements = np.full(n, "", dtype=object)
        elements[involved] = atom_elements(u.atoms[involved])
        self._res = np.asarray(u.atoms.resindices)
        hydrogens = involved[elements[involved] == "H"]
        donor_of_h = self._donors_of(hydrogens, elements)
        keep = donor_of_h >= 0
        hydrogens, donor_of_h = hydrogens[keep], donor_of_h[keep]
        order = np.argsort(donor_of_h, kind="stable")
        self._h, h_donor = hydrogens[order], donor_of_h[order]
        self._donors, self._h_start, self._h_count = np.unique(
            h_donor, return_index=True, return_counts=True
        )
        self._acceptors = involved[np.isin(elements[involved], ACCEPTOR_ELEMENTS)]
        if len(self._donors) == 0 or len(self._acceptors) == 0:
            raise InputError(
                "no donors or acceptors found; check the water/group selections "
                "and that hydrogens are present"
            )
        water_res = np.unique(self._res[self.water.indices])
        self._water_local = np.full(self._res.max() + 1, -1)
        self._water_local[water_res] = np.arange(len(water_res))
        self._n_water = len(water_res)
        self._water_o = self.water.indices[elements[self.water.indices] == "O"]
        o_row = np.full(n, -1)
        o_row[self._water_o] = np.arange(len(self._water_o))
        self._near_rows = (o_row[self._donors], o_row[self._acceptors])
        self._series = {
            k: []
            for k in (
                "hbonds_per_water",
                "water_hbonds_per_water",
                "donor_per_water",
                "acceptor_per_water",
                "shell_water_fraction",
                "free_water_fraction",
                "tetrahedral_q",
                "largest_cluster_fraction",
            )
        }
        # H-bond classes as codes donor * 8 + acceptor (7 meaning 7 or more); partner
        # pairs as donor group * n_groups + acceptor group
        self._classes = np.zeros(64)
        self._partners = np.zeros(len(self.groups) ** 2)
        self._keys, self._times = [], []
        self._cation_hist, self._cation_kept, self._shell_rows = None, [], []
        if self.cations is not None and self.cation_cutoff is None:
            edges = np.linspace(0.0, self.CATION_RMAX_ANGSTROM, self.CATION_BINS + 1)
            mol = molecule_ids(u)
            n_pairs = pair_count(self.cations.indices, self._water_o, mol, True)
            self._cation_hist = CutoffHistogram(edges, n_pairs, False, self.fallback)

    def _donors_of(self, hydrogens: np.ndarray, elements: np.ndarray) -> np.ndarray:
        """Donor atom index per hydrogen (-1 if it is not bonded to O/N): its bonded O/N
        from the topology, else (no bonds on it) the nearest O/N of its residue within
        1.3 A in the current frame."""
        u = self.universe
        out = np.full(len(hydrogens), -1)
        row = np.full(len(elements), -1)
        row[hydrogens] = np.arange(len(hydrogens))
        is_donor = np.isin(elements, DONOR_ELEMENTS)
        bonded = np.zeros(len(elements), bool)
        if hasattr(u.atoms, "bonds") and len(u.bonds) > 0:
            b = np.asarray(u.bonds.indices)
            bonded[b.ravel()] = True
            b = np.concatenate([b, b[:, ::-1]])
            b = b[(row[b[:, 0]] >= 0) & is_donor[b[:, 1]]]
            out[row[b[:, 0]]] = b[:, 1]
        loose = hydrogens[~bonded[hydrogens]]
        heavy = np.nonzero(is_donor)[0]
        if len(loose) and len(heavy):
            pairs, dist = _pairs_and_distances(
                u.atoms.positions[loose], u.atoms.positions[heavy], u.dimensions, 1.3
            )
            same = self._res[loose[pairs[:, 0]]] == self._res[heavy[pairs[:, 1]]]
            pairs, dist = pairs[same], dist[same]
            nearest = np.lexsort((-dist, pairs[:, 0]))  # the nearest is written last
            out[row[loose[pairs[nearest, 0]]]] = heavy[pairs[nearest, 1]]
        return out

    def _bonds(self, query: NeighborQuery):
        """(hydrogen, donor, acceptor) atom indices of every H-bond in this frame (its
        ``query``), and the water O's four nearest water O as far as the donor search
        found them (None on the triclinic path; see ``_hbond_kernel``)."""
        dha = self.definition == "DHA"
        cos_limit = np.cos(np.radians(self.angle))
        pos, box = query.positions, query.box
        if fits(box, self.distance):
            grid = query.grid(self._acceptors, self.distance)
            rule = np.array([self.distance, cos_limit, float(dha)])
            known = np.full((len(self._water_o), 4), -1, np.int64)
            near_r2 = min(self.distance, Q_RMAX_ANGSTROM) ** 2
            h, d, a = _hbond_kernel(
                pos.astype(np.float64),
                self._donors,
                self._h_start,
                self._h_count,
                self._h,
                self._res,
                self._acceptors,
                grid,
                rule,
                (*self._near_rows, near_r2, known),
            )
            return h, d, a, known
        return (*self._bonds_triclinic(pos, box, dha, cos_limit), None)

    def _bonds_triclinic(self, pos, box, dha: bool, cos_limit: float):
        """``_bonds`` for boxes the cell kernels do not take: MDAnalysis nsgrid pairs, then
        the same angle test in numpy."""
        d_atom, a_atom = directed_pairs(self._donors, self._acceptors, pos, box, self.distance)
        keep = self._res[d_atom] != self._res[a_atom]
        d_atom, a_atom = d_atom[keep], a_atom[keep]
        di = np.searchsorted(self._donors, d_atom)
        reps = self._h_count[di]
        pair_of = np.repeat(np.arange(len(di)), reps)
        within = np.arange(reps.sum()) - np.repeat(np.cumsum(reps) - reps, reps)
        h_atom = self._h[self._h_start[di][pair_of] + within]
        d_atom, a_atom = d_atom[pair_of], a_atom[pair_of]
        v_dh = minimize_vectors(pos[h_atom] - pos[d_atom], box)
        v_da = minimize_vectors(pos[a_atom] - pos[d_atom], box)
        u, v = (-v_dh, v_da - v_dh) if dha else (v_dh, v_da)
        cos = (u * v).sum(1) / np.linalg.norm(u, axis=1) / np.linalg.norm(v, axis=1)
        ok = cos <= cos_limit if dha else cos >= cos_limit
        return h_atom[ok], d_atom[ok], a_atom[ok]

    def _neighbour_requests(self) -> list[tuple]:
        """Cation-water O pairs within the cation cutoff (or the g(r) range, A)."""
        if self.cations is None:
            return []
        radius = self.cation_cutoff or self.CATION_RMAX_ANGSTROM
        return [(self.cations.indices, self._water_o, radius)]

    def _single_frame(self):
        query = self.neighbours()
        pos, box = query.positions, query.box
        h, d, a, known = self._bonds(query)
        nw = self._n_water
        wd, wa = self._water_local[self._res[d]], self._water_local[self._res[a]]
        donor = np.bincount(wd[wd >= 0], minlength=nw)
        acceptor = np.bincount(wa[wa >= 0], minlength=nw)
        self._classes += np.bincount(
            np.minimum(donor, 7) * 8 + np.minimum(acceptor, 7), minlength=64
        )
        ng = len(self.groups)
        self._partners += np.bincount(self._label[d] * ng + self._label[a], minlength=ng * ng)
        s = self._series
        s["donor_per_water"].append(donor.mean())
        s["acceptor_per_water"].append(acceptor.mean())
        s["hbonds_per_water"].append(donor.mean() + acceptor.mean())
        if self._cation_hist is None:
            shell = self._shell_fraction(query)
            s["shell_water_fraction"].append(shell)
            s["free_water_fraction"].append(1.0 - shell)
        else:  # the cutoff comes at the end: keep this frame's cation-water pairs
            self._keep_cation_pairs(query)
        q = tetrahedral_q(pos[self._water_o], box, known)
        s["tetrahedral_q"].append(np.nanmean(q) if np.isfinite(q).any() else np.nan)
        ww = (wd >= 0) & (wa >= 0)
        s["water_hbonds_per_water"].append(2.0 * np.count_nonzero(ww) / nw)
        graph = coo_matrix((np.ones(ww.sum()), (wd[ww], wa[ww])), shape=(nw, nw))
        _, comp = connected_components(graph, directed=False)
        s["largest_cluster_fraction"].append(np.bincount(comp).max() / nw)
        if self.lifetimes:
            self._keys.append(np.unique(h.astype(np.int64) * self.universe.atoms.n_atoms + a))
        self._times.append(self._ts.time)

    def _cation_pairs(self, query: NeighborQuery, radius: float) -> tuple[np.ndarray, np.ndarray]:
        """(water-O row, distance A) of the cation-water O pairs within ``radius``
        (inclusive) in another molecule, from the frame's ``query``."""
        cations = self.cations.indices
        ci, rows, d = query.pairs(cations, self._water_o, radius)
        other = self._res[cations[ci]] != self._res[self._water_o[rows]]
        return rows[other], d[other]

    def _shell_fraction(self, query: NeighborQuery) -> float:
        """Fraction of water molecules with their O within the cation cutoff (the shell
        waters are recorded for the exchange count)."""
        if self.cations is None:
            return float("nan")
        rows, _ = self._cation_pairs(query, self.cation_cutoff)
        self._shell_rows.append(np.unique(rows))
        return len(self._shell_rows[-1]) / self._n_water

    def _keep_cation_pairs(self, query: NeighborQuery) -> None:
        """Count this frame into the cation-water g(r); keep the pairs the cutoff may need."""
        rows, d = self._cation_pairs(query, self.CATION_RMAX_ANGSTROM)
        if self._cation_hist.add(d, self._ts.volume):
            keep = self._cation_hist.keep
            self._cation_kept = [(r[x <= keep], x[x <= keep]) for r, x in self._cation_kept]
        inside = d <= self._cation_hist.keep
        self._cation_kept.append((rows[inside].astype(np.int32), d[inside]))

    def _resolve_cation_cutoff(self) -> None:
        """With the cutoff from this pass's g(r): the shell and free-water fractions of
        every frame (a second pass over the frames if it lies beyond the kept pairs)."""
        if self._cation_hist is None:
            return
        self.cation_cutoff = cutoff = self._cation_hist.cutoffs()[0]
        if cutoff <= self._cation_hist.keep:
            self._shell_rows = [np.unique(r[x <= cutoff]) for r, x in self._cation_kept]
            shell = [len(rows) / self._n_water for rows in self._shell_rows]
        else:
            self._extra = self.n_frames
            shell = [
                self._shell_fraction(NeighborQuery.of_frame(ts))
                for ts in self._trajectory[self.frames]
            ]
        self._series["shell_water_fraction"] = shell
        self._series["free_water_fraction"] = [1.0 - f for f in shell]

    def extra_frames_read(self) -> int:
        """Frames read beyond the analysed ones (0: one pass)."""
        return getattr(self, "_extra", 0)

    def _shell_exchanges(self) -> float | None:
        """Waters entering or leaving the cations' first shells, per cation (None
        without cations)."""
        if self.cations is None or not self._shell_rows:
            return None
        rows = self._shell_rows
        pairs = zip(rows[:-1], rows[1:], strict=True)
        events = sum(len(np.setxor1d(a, b, assume_unique=True)) for a, b in pairs)
        return events / self.cations.n_atoms

    def _flag_shell_waters(self, est: dict, per_cation: float | None) -> None:
        """Shell and free water fractions are the starting structure's while the shells
        barely exchanged: flag them (as ``coordination`` flags its shells)."""
        if per_cation is None or per_cation >= MIN_EXCHANGES_PER_ION:
            return
        reason = (
            f"{per_cation:.2g} water exchange events per cation (fewer than "
            f"{MIN_EXCHANGES_PER_ION:g}): the first shells still hold their starting waters"
        )
        for k in ("shell_water_fraction", "free_water_fraction"):
            est[k] = est[k].flagged(reason)

    def _conclude(self):
        self._resolve_cation_cutoff()
        est = {k: self._estimate(v) for k, v in self._series.items()}
        exchanges = self._shell_exchanges()
        self._flag_shell_waters(est, exchanges)
        total = self._classes.sum()
        classes = {
            ("D" * (c // 8) + "A" * (c % 8)) or "none": self._classes[c] / total
            for c in np.argsort(-self._classes, kind="stable")
            if self._classes[c]
        }
        names, ng = list(self.groups), len(self.groups)
        partners = {
            f"{names[p // ng]}-{names[p % ng]}": self._partners[p] / self.n_frames
            for p in np.argsort(-self._partners, kind="stable")
            if self._partners[p]
        }
        lifetimes = None
        if self.lifetimes and self.n_frames > 2:
            dt = float(np.median(np.diff(self._times)))
            lifetimes = presence_correlation(presence_matrix(self._keys), dt) if dt > 0 else None
        criterion = {
            "distance_angstrom": self.distance,
            "angle_deg": self.angle,
            "angle_definition": self.definition,
            "cation_cutoff_angstrom": self.cation_cutoff,
        }
        self.results.hbonds = HBondResult(
            criterion,
            self._n_water,
            self.n_frames,
            est["hbonds_per_water"],
            est["donor_per_water"],
            est["acceptor_per_water"],
            classes,
            partners,
            est["shell_water_fraction"],
            est["free_water_fraction"],
            est["tetrahedral_q"],
            est["largest_cluster_fraction"],
            np.asarray(self._times),
            {k: np.asarray(v) for k, v in self._series.items()},
            lifetimes,
            est["water_hbonds_per_water"],
            exchanges,
        )


def hydrogen_bonds(
    universe,
    water: str = "resname HOH",
    groups: dict[str, str] | None = None,
    cations: str | None = "resname ZN",
    cation_cutoff: float | None = None,
    fallback: float | None = None,
    start=None,
    stop=None,
    step=None,
    verbose=False,
    **kwargs,
) -> HBondResult:
    """HydrogenBonds with the cation-water cutoff found from g(r) when not given, in the
    same pass (``fallback`` A where g(r) has no clear minimum; None raises
    NoMinimumError). ``cations`` that select nothing are skipped (no shell/free-water
    fractions).

    Parameters
    ----------
    universe : MDAnalysis.Universe or mdtraj.Trajectory
    water : str
        Selection of the water molecules.
    groups : dict of str to str, optional
        Further donor/acceptor groups by name.
    cations : str or None
        Selection of the cations whose first shells define shell and free water.
    cation_cutoff : float, optional
        Cation-water O first-shell cutoff (A); found from g(r) when None.
    fallback : float, optional
        Cutoff (A) used when g(r) has no clear minimum; None raises NoMinimumError.
    start, stop, step : int, optional
        Frame range.
    verbose : bool
        Show a progress bar.
    **kwargs
        Further ``HydrogenBonds`` options (distance A, angle degrees, angle_definition,
        lifetimes, backend).
    """
    universe = as_universe(universe)  # an mdtraj Trajectory converted once
    if cations is not None and len(universe.select_atoms(cations)) == 0:
        cations = None
    analysis = HydrogenBonds(
        universe,
        water,
        groups,
        cations=cations,
        cation_cutoff=cation_cutoff,
        fallback=fallback,
        verbose=verbose,
        **kwargs,
    )
    return analysis.run(start, stop, step).results.hbonds
