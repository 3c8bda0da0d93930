"""Radial distribution functions and running coordination numbers, many pairs in one pass.

g_ab(r) for each named pair of selections. Orthorhombic boxes: the cell-list kernel
``neighbors.histogram`` counts each pair type straight into its histogram (one cell grid
per distinct B selection and frame, from the frame's shared ``NeighborQuery``; a pair of
identical selections visits each pair once).
Other boxes: one neighbour search per frame over the union of all atoms
(``neighbors.union_pairs``). Normalisation uses each frame's own volume, so NPT
trajectories are handled: g(r) = < n_f(r) V_f > / (N_pairs 4/3 pi (r2^3 - r1^3)),
where n_f(r) counts ordered pairs (a in A, b in B, a != b, optionally not in the same
molecule) in the shell and N_pairs is the number of such ordered pairs. For a constant
volume this is MDAnalysis InterRDF's normalisation (tested to 1e-6). The running
coordination n(r) is the mean number of B atoms within r of an A atom.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .base import Analysis, total
from .neighbors import fits, histogram, histogram_index, union_pairs
from .results import ResultMixin
from .shells import first_peak
from .universe import InputError, molecule_ids, select


@dataclass(frozen=True)
class PairRDF(ResultMixin):
    """One pair: g(r), running coordination n(r) and raw counts.

    Attributes
    ----------
    selection_a, selection_b : str
        Selection strings of the two groups.
    n_a, n_b : int
        Atoms in each group.
    n_pairs : int
        Ordered (a, b) pairs that count (``pair_count``).
    g_r : numpy.ndarray
        g(r) per bin (dimensionless).
    n_r : numpy.ndarray
        Running coordination number: mean number of B atoms within r of an A atom.
    counts : numpy.ndarray
        Raw pair counts per bin, summed over frames.
    """

    selection_a: str
    selection_b: str
    n_a: int
    n_b: int
    n_pairs: int
    g_r: np.ndarray
    n_r: np.ndarray
    counts: np.ndarray


@dataclass(frozen=True)
class RDFResult(ResultMixin):
    """Bin edges and centres (A), frames used and one PairRDF per name.

    Attributes
    ----------
    edges_angstrom : numpy.ndarray
        Bin edges (A).
    r_angstrom : numpy.ndarray
        Bin centres (A).
    n_frames : int
        Frames analysed.
    exclude_same_molecule : bool
        Whether pairs within one molecule were left out.
    pairs : dict of str to PairRDF
        One PairRDF per pair name.
    mean_volume_angstrom3 : float
        Mean box volume over the frames (A^3); NaN when not recorded.
    """

    edges_angstrom: np.ndarray
    r_angstrom: np.ndarray
    n_frames: int
    exclude_same_molecule: bool
    pairs: dict[str, PairRDF]
    mean_volume_angstrom3: float = float("nan")

    def first_peak(self, name: str) -> tuple[float, float] | None:
        """(r in A, g) of the first significant local maximum of pair ``name``'s g(r)
        (``shells.first_peak``: a contact peak before a taller solvent-shared one is the
        first), or None when it has none.

        Parameters
        ----------
        name : str
            Pair name.
        """
        return first_peak(self.r_angstrom, self.pairs[name].g_r)

    def to_dict(self) -> dict:
        """JSON-able dict: r (A), and g(r), n(r), selections, sizes and the first peak
        (A and g; null without one) of each pair."""
        out = {}
        for name, p in self.pairs.items():
            peak = self.first_peak(name)
            out[name] = {
                "r_angstrom": self.r_angstrom.tolist(),
                "g_r": p.g_r.tolist(),
                "n_r": p.n_r.tolist(),
                "selection_a": p.selection_a,
                "selection_b": p.selection_b,
                "n_a": p.n_a,
                "n_b": p.n_b,
                "first_peak_angstrom": peak[0] if peak else None,
                "first_peak_g": peak[1] if peak else None,
            }
        return {
            "r_angstrom": self.r_angstrom.tolist(),
            "n_frames": self.n_frames,
            "exclude_same_molecule": self.exclude_same_molecule,
            "pairs": out,
        }

    def to_frame(self) -> pd.DataFrame:
        """Long table: pair, r_angstrom, g_r, n_r."""
        return pd.concat(
            [
                pd.DataFrame(
                    {"pair": name, "r_angstrom": self.r_angstrom, "g_r": p.g_r, "n_r": p.n_r}
                )
                for name, p in self.pairs.items()
            ],
            ignore_index=True,
        )


def check_rmax(universe, rmax: float, what: str = "") -> None:
    """InputError when ``rmax`` (A) exceeds half the smallest box length of the current
    frame (the minimum image would be ambiguous).

    Parameters
    ----------
    universe : MDAnalysis.Universe
        Its current frame's box is checked.
    rmax : float
        Largest distance (A).
    what : str
        What needs ``rmax``, for the message.

    Raises
    ------
    InputError
        When ``rmax`` exceeds half the smallest box length.
    """
    half = 0.5 * float(np.min(universe.trajectory.ts.dimensions[:3]))
    if rmax > half:
        hint = f" needed for {what}; give the cutoff instead" if what else "; use a smaller --rmax"
        raise InputError(f"rmax {rmax} A exceeds half the smallest box length ({half:.2f} A){hint}")


def pair_count(a_index: np.ndarray, b_index: np.ndarray, mol: np.ndarray, exclude: bool) -> int:
    """Ordered pairs (a, b), a in ``a_index``, b in ``b_index`` (atom indices), a != b, and
    not in one molecule (``mol``: molecule id per atom) when ``exclude``.

    Parameters
    ----------
    a_index, b_index : numpy.ndarray
        Atom indices of the two groups.
    mol : numpy.ndarray
        Molecule id of every atom of the universe.
    exclude : bool
        Leave out pairs within one molecule.
    """
    if exclude:
        mol_a = np.bincount(mol[a_index], minlength=mol.max() + 1)
        mol_b = np.bincount(mol[b_index], minlength=mol.max() + 1)
        return int(len(a_index) * len(b_index) - np.dot(mol_a, mol_b))
    return int(len(a_index) * len(b_index) - np.intersect1d(a_index, b_index).size)


def normalised_g(weighted: np.ndarray, frames: int, n_pairs: int, edges: np.ndarray) -> np.ndarray:
    """g(r) from volume-weighted pair counts summed over ``frames`` (see module docstring).

    Parameters
    ----------
    weighted : numpy.ndarray
        Pair counts per bin, each weighted by the frame's box volume (A^3), summed over frames.
    frames : int
        Frames summed.
    n_pairs : int
        Ordered pairs that count.
    edges : numpy.ndarray
        Bin edges (A).

    Returns
    -------
    numpy.ndarray
        g(r) per bin.
    """
    shell = 4.0 / 3.0 * np.pi * np.diff(edges**3)
    return weighted / (max(frames, 1) * max(n_pairs, 1) * shell)


def pair_rdf(selections, groups, n_pairs, weighted, raw, frames, edges) -> PairRDF:
    """PairRDF of selection strings ``selections`` (A, B) and AtomGroups ``groups`` from
    volume-weighted and raw pair counts summed over ``frames``.

    Parameters
    ----------
    selections : tuple of str
        Selection strings (A, B).
    groups : tuple of AtomGroup
        The selected atoms (A, B).
    n_pairs : int
        Ordered pairs that count.
    weighted : numpy.ndarray
        Volume-weighted pair counts per bin (A^3), summed over frames.
    raw : numpy.ndarray
        Raw pair counts per bin, summed over frames.
    frames : int
        Frames summed.
    edges : numpy.ndarray
        Bin edges (A).
    """
    (sel_a, sel_b), (a, b) = selections, groups
    frames = max(frames, 1)
    g = normalised_g(weighted, frames, n_pairs, edges)
    n_r = np.cumsum(raw) / (frames * a.n_atoms)
    return PairRDF(sel_a, sel_b, a.n_atoms, b.n_atoms, n_pairs, g, n_r, raw / frames)


class RDF(Analysis):
    """g(r) and n(r) for several selection pairs in one pass over the trajectory.

    Parameters
    ----------
    universe : MDAnalysis Universe
    pairs : dict name -> (selection A, selection B), MDAnalysis selection strings
    rmax : float, A (default 10)
    nbins : int (default 200)
    rmin : float, A (default 0)
    exclude_same_molecule : bool, drop pairs within one molecule (default True)
    """

    result_name = "rdf"
    _accumulators = {"_weighted": total, "_raw": total, "_volume_sum": total}

    def __init__(
        self,
        universe,
        pairs: dict[str, tuple[str, str]],
        rmax: float = 10.0,
        nbins: int = 200,
        rmin: float = 0.0,
        exclude_same_molecule: bool = True,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if not pairs:
            raise InputError("give at least one pair of selections")
        if not 0 <= rmin < rmax or nbins < 1:
            raise InputError(f"need 0 <= rmin < rmax and nbins >= 1 (got {rmin}, {rmax}, {nbins})")
        self.universe = universe
        self._selections = dict(pairs)
        self._groups = {
            name: (
                select(universe, a, f"selection A of {name}"),
                select(universe, b, f"selection B of {name}"),
            )
            for name, (a, b) in pairs.items()
        }
        self.edges = np.linspace(rmin, rmax, nbins + 1)
        self.exclude = exclude_same_molecule
        check_rmax(universe, rmax)

    def _prepare(self):
        n = self.universe.atoms.n_atoms
        self._union = np.unique(
            np.concatenate(
                [np.concatenate([a.indices, b.indices]) for a, b in self._groups.values()]
            )
        )
        self._mol = molecule_ids(self.universe)
        self._member = {}
        for name, (a, b) in self._groups.items():
            ma, mb = np.zeros(n, bool), np.zeros(n, bool)
            ma[a.indices], mb[b.indices] = True, True
            self._member[name] = (ma, mb)
        nb = len(self.edges) - 1
        for name, (a, b) in self._groups.items():
            if self._n_pairs(a, b) == 0:
                raise InputError(
                    f"pair {name}: every pair lies within one molecule; does the "
                    "topology define molecules (residues)? Otherwise include "
                    "same-molecule pairs"
                )
        self._weighted = {name: np.zeros(nb) for name in self._groups}
        self._raw = {name: np.zeros(nb) for name in self._groups}
        self._volume_sum = 0.0
        self._cell_plan = self._plan()

    def _plan(self) -> list[tuple[np.ndarray, list]]:
        """Pairs grouped by their B selection (one cell grid each): (B indices, [(name, A
        indices or None where A is B)])."""
        groups: dict[bytes, tuple[np.ndarray, list]] = {}
        for name, (a, b) in self._groups.items():
            entry = groups.setdefault(b.indices.tobytes(), (b.indices, []))
            same = np.array_equal(a.indices, b.indices)
            entry[1].append((name, None if same else a.indices))
        return list(groups.values())

    def _single_frame(self):
        ts = self._ts
        if fits(ts.dimensions, self.edges[-1]):
            counts = self._cell_counts(ts)
        else:
            counts = self._union_counts(ts)
        for name, c in counts.items():
            self._raw[name] += c
            self._weighted[name] += c * ts.volume
        self._volume_sum += ts.volume

    def _cell_counts(self, ts) -> dict[str, np.ndarray]:
        """Histograms of every pair from the cell-list kernel (orthorhombic boxes)."""
        key = self._mol if self.exclude else np.arange(len(self._mol))
        pos, query = ts.positions, self.neighbours()
        out = {}
        for b_index, users in self._cell_plan:
            points = pos[b_index]
            grid = query.histogram_grid(b_index, self.edges[-1])
            for name, a_index in users:
                queries = None if a_index is None else pos[a_index]
                q_key = None if a_index is None else key[a_index]
                counts = histogram(
                    grid, points, key[b_index], ts.dimensions, self.edges, queries, q_key
                )
                out[name] = counts.astype(np.float64)
        return out

    def _union_counts(self, ts) -> dict[str, np.ndarray]:
        """Histograms of every pair from one search over the union of atoms (any box)."""
        pos = ts.positions[self._union]
        pairs = union_pairs(self._union, pos, ts.dimensions, self.edges[-1])
        keep = np.ones(len(pairs.d), bool)
        if self.exclude:
            keep = self._mol[pairs.i] != self._mol[pairs.j]
        idx = histogram_index(pairs.d, self.edges)
        keep &= idx >= 0
        i, j, idx = pairs.i[keep], pairs.j[keep], idx[keep]
        nb = len(self.edges) - 1
        out = {}
        for name, (ma, mb) in self._member.items():
            weight = (ma[i] & mb[j]).astype(np.float64) + (ma[j] & mb[i])
            out[name] = np.bincount(idx, weights=weight, minlength=nb)
        return out

    def _n_pairs(self, a, b) -> int:
        """Ordered pairs (a, b), a != b, not in one molecule if excluded."""
        return pair_count(a.indices, b.indices, self._mol, self.exclude)

    def _conclude(self):
        frames = max(self.n_frames, 1)
        out = {}
        for name, (a, b) in self._groups.items():
            out[name] = pair_rdf(
                self._selections[name],
                (a, b),
                self._n_pairs(a, b),
                self._weighted[name],
                self._raw[name],
                frames,
                self.edges,
            )
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        self.results.rdf = RDFResult(
            self.edges, centres, self.n_frames, self.exclude, out, self._volume_sum / frames
        )
