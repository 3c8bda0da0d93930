"""Solvation shells of a centre species: coordination numbers, which atoms coordinate,
shell compositions (speciation), ion pairing classes and residence times, in one pass.

Shell membership: a shell molecule (or atom, with ``count="atoms"``) belongs to a
centre's shell when any of its selected atoms lies within the shell's cutoff of the
centre. Cutoffs are given (A) or found as the first minimum of the centre-shell g(r)
(``solvation_shells``), which the counting pass accumulates itself (``cutoffs``): one
pass over the trajectory, one neighbour search per centre-shell pair type and frame
serving g(r), coordination, speciation, pairing and residence. Orthorhombic boxes use the
cell-list kernels (``cells.pairs_within``), others MDAnalysis' capped_distance.

Pairing classes, per centre and frame, for each shell named in
``pairing`` (its second-shell cutoff, A):

- CIP: at least one member of that shell in the first shell, none shared;
- AGG: a first-shell member is also in the first shell of another centre;
- SSIP: none in the first shell, at least one within the second-shell cutoff;
- free: none within the second-shell cutoff.

First-shell exchanges (``SolvationResult.exchanges``, one ``ExchangeCount`` per shell):
an event is one molecule (atom, with ``count="atoms"``) entering or leaving one
centre's first shell between consecutive analysed frames; a water that leaves while
another enters is two events. Events between frames that were not analysed (``step``),
or that undo each other between two analysed frames, are not seen.

Estimates (``SolvationResult.coordination``, ``contact_pairs``): the per-frame mean
coordination number and the per-frame fraction of centres in contact pairs (CIP + AGG)
are reduced with ``solvation.analysis.stats.estimate`` (transient dropped, statistical
inefficiency, n_eff). A shell quantity is not converged when its shells exchanged fewer
than ``MIN_EXCHANGES_PER_ION`` events per centre over the run (then every centre on
average kept its starting shell: the value is the starting structure's), besides the
estimator's own criteria. ``coordination_spread`` is the spread of the coordination
number over centres and frames, not an error.
"""

from __future__ import annotations

import dataclasses
import logging
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import cells
from .base import Analysis, concatenate, total
from .correlation import Correlation, presence_correlation, presence_matrix
from .cutoffs import (
    FALLBACK_CUTOFF_ANGSTROM,
    PAIRING_OFFSET_ANGSTROM,
    CutoffHistogram,
    auto_cutoffs,
)
from .neighbors import cross_pairs
from .rdf import RDFResult, check_rmax, pair_count, pair_rdf
from .results import ResultMixin
from .stats import Estimate, estimate
from .universe import InputError, as_universe, molecule_ids, select

__all__ = [
    "FALLBACK_CUTOFF_ANGSTROM",
    "MIN_EXCHANGES_PER_ION",
    "ExchangeCount",
    "PAIRING_OFFSET_ANGSTROM",
    "ShellFrame",
    "ShellsWithCutoffs",
    "SolvationResult",
    "SolvationShells",
    "auto_cutoffs",
    "shells_analysis",
    "shells_result",
    "solvation_shells",
]
logger = logging.getLogger(__name__)

SOLVENT_SHARED_MARGIN_ANGSTROM = 1.0  # an anion minimum this far past the solvent's: SSIP
PAIRING_CLASSES = ("free", "SSIP", "CIP", "AGG")
MIN_EXCHANGES_PER_ION = 2.0  # events per centre (one molecule out, one in) to trust a shell


@dataclass(frozen=True)
class ExchangeCount(ResultMixin):
    """First-shell exchange events of one shell (module docstring).

    Attributes
    ----------
    entering, leaving : int
        Events over all centres.
    total : int
        entering + leaving.
    per_ion : numpy.ndarray
        Events of each centre (entering + leaving), in centre order.
    per_ion_mean : float
        total / number of centres.
    per_ns : float
        Total events per ns of analysed time (all centres; NaN without frame times).
    time_ns : float
        Analysed time from the first to the last frame (ns).
    """

    entering: int
    leaving: int
    total: int
    per_ion: np.ndarray
    per_ion_mean: float
    per_ns: float
    time_ns: float

    def time_factor(self, n_centers: int) -> float | None:
        """How many times longer the run must be for the shells to reach
        ``MIN_EXCHANGES_PER_ION`` events per centre at the rate seen (None: they have).
        With no event at all the rate is below about one event per run among the
        ``n_centers`` centres, so the factor is at least MIN_EXCHANGES_PER_ION x n_centers."""
        if self.per_ion_mean >= MIN_EXCHANGES_PER_ION:
            return None
        if self.total == 0:
            return MIN_EXCHANGES_PER_ION * max(n_centers, 1)
        return MIN_EXCHANGES_PER_ION / self.per_ion_mean

    def unconverged_reason(self, name: str, n_frames: int) -> str | None:
        """Why a quantity of this shell is not converged, or None."""
        if self.total == 0:
            return (
                f"no {name} entered or left a first shell in {n_frames} frames: the value "
                "is the starting structure's"
            )
        if self.per_ion_mean < MIN_EXCHANGES_PER_ION:
            return (
                f"{self.per_ion_mean:.2g} {name} exchange events per centre (fewer than "
                f"{MIN_EXCHANGES_PER_ION:g}): the shells still hold their starting members"
            )
        return None


@dataclass(frozen=True)
class SolvationResult(ResultMixin):
    """Shell statistics of one centre selection (see module docstring).

    Attributes
    ----------
    center : str
        Centre selection.
    n_centers, n_frames : int
        Centres and frames analysed.
    count : str
        'molecules' or 'atoms': what a shell member is.
    cutoffs_angstrom : dict of str to float
        First-shell cutoff of each shell (A).
    coordination_numbers : dict of str to float
        Mean coordination number of each shell.
    coordination_spread : dict of str to float
        Spread of the coordination number over centres and frames (not an error).
    coordination_distribution : dict of str to dict of int to float
        Fraction of centre-frames with each coordination number.
    denticity : dict of str to dict of int to float
        Fraction of shell members binding through 1, 2, ... atoms.
    coordinating_atoms : dict of str to dict of str to float
        Fraction of coordinating atoms by atom name.
    speciation : dict of str to float
        Fraction of centre-frames with each shell composition ('(water)5(SO4)1').
    pairing : dict of str to dict of str to float
        Fractions of the pairing classes (CIP, AGG, SSIP, free) per paired shell.
    residence : dict of str to Correlation
        Shell presence correlation (residence time) per shell.
    time_ps : numpy.ndarray
        Time of each analysed frame (ps).
    per_frame : dict of str to numpy.ndarray
        Mean coordination number per frame, per shell.
    cutoff_source : dict of str to str
        Where each cutoff came from ('given', 'first minimum of g(r)', fallback).
    coordination : dict of str to Estimate
        Mean coordination number with standard error and convergence flag.
    contact_pairs : dict of str to Estimate
        Fraction of centres in contact pairs (CIP + AGG), per paired shell.
    contact_pairs_per_frame : dict of str to numpy.ndarray
        That fraction per frame.
    exchanges : dict of str to ExchangeCount
        First-shell exchange events per shell.
    """

    center: str
    n_centers: int
    n_frames: int
    count: str
    cutoffs_angstrom: dict[str, float]
    coordination_numbers: dict[str, float]
    coordination_spread: dict[str, float]
    coordination_distribution: dict[str, dict[int, float]]
    denticity: dict[str, dict[int, float]]
    coordinating_atoms: dict[str, dict[str, float]]
    speciation: dict[str, float]
    pairing: dict[str, dict[str, float]]
    residence: dict[str, Correlation]
    time_ps: np.ndarray
    per_frame: dict[str, np.ndarray]
    cutoff_source: dict[str, str] = dataclasses.field(default_factory=dict)
    coordination: dict[str, Estimate] = dataclasses.field(default_factory=dict)
    contact_pairs: dict[str, Estimate] = dataclasses.field(default_factory=dict)
    contact_pairs_per_frame: dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
    exchanges: dict[str, ExchangeCount] = dataclasses.field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        """Per-frame mean coordination number of each shell and, for paired shells, the
        fraction of centres in contact pairs (CIP + AGG)."""
        return pd.DataFrame(
            {
                "time_ps": self.time_ps,
                **{f"cn_{k}": v for k, v in self.per_frame.items()},
                **{f"contact_pairs_{k}": v for k, v in self.contact_pairs_per_frame.items()},
            }
        )

    def estimates_frame(self) -> pd.DataFrame:
        """One row per estimate: quantity, mean, standard error, n_eff, convergence."""
        rows = [
            {"quantity": f"{prefix}_{name}", **e.to_dict()}
            for prefix, group in (("cn", self.coordination), ("contact_pairs", self.contact_pairs))
            for name, e in group.items()
        ]
        return pd.DataFrame(rows)

    def speciation_frame(self) -> pd.DataFrame:
        """Speciation as a table: columns ``shell`` and ``fraction``."""
        return pd.DataFrame(
            {"shell": list(self.speciation), "fraction": list(self.speciation.values())}
        )


@dataclass
class ShellFrame:
    """What the shell statistics need of one frame: per shell the centre-shell pairs
    (centre row, shell atom row, distance A) kept, and per pairing shell each centre's
    nearest shell atom (A; inf: none within the search).

    Attributes
    ----------
    pairs : dict of str to tuple of numpy.ndarray
        Per shell: centre rows, shell atom rows and distances (A) of the pairs kept.
    nearest : dict of str to numpy.ndarray
        Per pairing shell: each centre's nearest shell atom distance (A; inf: none).
    time : float
        Frame time (ps).
    """

    pairs: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]
    nearest: dict[str, np.ndarray]
    time: float


def composition_label(counts: tuple[int, ...], names: list[str]) -> str:
    """'(water)5(SO4)1' style label of one shell composition (empty shells: 'bare').

    Parameters
    ----------
    counts : tuple of int
        Members of each shell type.
    names : list of str
        Shell names, in the order of ``counts``.
    """
    parts = [f"({n}){c}" for n, c in zip(names, counts, strict=True) if c]
    return "".join(parts) or "bare"


class SolvationShells(Analysis):
    """Coordination, speciation, pairing and residence of ``center`` in one pass.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center : str
        Selection of the centre atoms (e.g. "resname ZN").
    shells : dict of str to str
        Name -> selection of coordinating atoms (e.g. {"water": "resname HOH and name O"});
        molecules are residues.
    cutoffs : dict of str to float
        Name -> cutoff (A), one per shell.
    count : str
        "molecules" (default, distinct molecules) or "atoms".
    pairing : dict of str to float, optional
        Shell name -> second-shell cutoff (A) for ion-pairing classes.
    residence : bool
        Compute residence-time correlations (default True).
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "solvation"
    _accumulators = {
        "_compositions": total,
        "_cn_hist": total,
        "_dent": total,
        "_atoms": total,
        "_pair_counts": total,
        "_series": concatenate,
        "_members": concatenate,
        "_times": concatenate,
        "_contact_series": concatenate,
    }

    def __init__(
        self,
        universe,
        center: str,
        shells: dict[str, str],
        cutoffs: dict[str, float],
        count: str = "molecules",
        pairing: dict[str, float] | None = None,
        residence: bool = True,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if count not in ("molecules", "atoms"):
            raise InputError(f"count must be 'molecules' or 'atoms', got {count!r}")
        missing = set(shells) - set(cutoffs)
        if missing:
            raise InputError(f"no cutoff for shells {sorted(missing)}")
        self.universe, self.count, self.residence = universe, count, residence
        self.center_sel, self._selections = center, dict(shells)
        self.center = select(universe, center, "centre selection")
        self.shells = {k: select(universe, s, f"shell {k!r}") for k, s in shells.items()}
        self.cutoffs = {k: float(cutoffs[k]) for k in shells}
        self.pairing = dict(pairing or {})
        for name, rc2 in self.pairing.items():
            if name not in shells or rc2 <= self.cutoffs[name]:
                raise InputError(
                    f"pairing {name!r}: needs a shell of that name and a second-"
                    f"shell cutoff above its first ({self.cutoffs.get(name)} A)"
                )

    def _prepare(self):
        mol = molecule_ids(self.universe)
        self._centre_mol = mol[self.center.indices]
        self._shell_mol = {k: mol[g.indices] for k, g in self.shells.items()}
        self._unit = {
            k: (mol[g.indices] if self.count == "molecules" else g.indices)
            for k, g in self.shells.items()
        }
        self._names = {k: g.names for k, g in self.shells.items()}
        self._n_units = int(max(mol.max(), self.universe.atoms.n_atoms) + 1)
        self._compositions: Counter = Counter()
        self._cn_hist = {k: Counter() for k in self.shells}
        self._dent = {k: Counter() for k in self.shells}
        self._atoms = {k: Counter() for k in self.shells}
        self._pair_counts = {k: Counter() for k in self.pairing}
        self._series = {k: [] for k in self.shells}
        self._members = {k: [] for k in self.shells}
        self._times = []
        self._contact_series = {k: [] for k in self.pairing}

    def _search_radii(self) -> dict[str, float]:
        """Search radius (A) per shell: its cutoff, or the pairing second-shell cutoff."""
        return {k: max(c, self.pairing.get(k) or 0.0) for k, c in self.cutoffs.items()}

    def _frame_pairs(self, radii: dict[str, float]) -> dict:
        """Per shell: (centre row, shell atom row, distance A) of the pairs within its
        radius (inclusive), a centre's own molecule left out."""
        ts = self._ts
        out = {}
        for name, group in self.shells.items():
            radius = radii[name]
            if cells.fits(ts.dimensions, radius * 1.001):
                ci, sj, d = cells.bond_pairs(
                    self.center.positions, group.positions, ts.dimensions, radius
                )
            else:
                pos = self.center.positions
                ci, sj, d = cross_pairs(pos, group.positions, ts.dimensions, radius)
            other = self._centre_mol[ci] != self._shell_mol[name][sj]
            out[name] = (ci[other], sj[other], d[other])
        return out

    def _frame(self, pairs: dict, keep: dict[str, float]) -> ShellFrame:
        """The ShellFrame of this frame from its pairs: those within ``keep`` (A) per shell,
        and the nearest shell atom of each centre for the pairing shells."""
        n_c = self.center.n_atoms
        nearest = {}
        for name in self.pairing:
            ci, _, d = pairs[name]
            nearest[name] = np.full(n_c, np.inf)
            np.minimum.at(nearest[name], ci, d)
        kept = {}
        for name, (ci, sj, d) in pairs.items():
            inside = d <= keep[name]
            kept[name] = (ci[inside].astype(np.int32), sj[inside].astype(np.int32), d[inside])
        return ShellFrame(kept, nearest, float(self._ts.time))

    def _single_frame(self):
        frame = self._frame(self._frame_pairs(self._search_radii()), self.cutoffs)
        self._tally(frame, self.cutoffs, self.pairing)

    def _tally(self, frame: ShellFrame, cutoffs: dict[str, float], pairing: dict) -> None:
        """Add one frame to the shell statistics, with these cutoffs (A)."""
        n_c = self.center.n_atoms
        counts = np.zeros((n_c, len(self.shells)), dtype=np.int64)
        first = {}
        for col, name in enumerate(self.shells):
            ci, sj, d = frame.pairs[name]
            inside = d <= cutoffs[name]
            ci, sj = ci[inside].astype(np.int64), sj[inside]
            keys = np.unique(ci * self._n_units + self._unit[name][sj], return_counts=True)
            first[name] = keys[0]
            centres = keys[0] // self._n_units
            counts[:, col] = np.bincount(centres, minlength=n_c)
            self._cn_hist[name].update(counts[:, col].tolist())
            self._dent[name].update(keys[1].tolist())
            self._atoms[name].update(self._names[name][sj].tolist())
            self._series[name].append(counts[:, col].mean())
            self._members[name].append(keys[0])  # exchanges, and residence if asked
        self._compositions.update(map(tuple, counts.tolist()))
        for name, rc2 in pairing.items():
            self._classify_pairs(name, frame.nearest[name] <= rc2, first[name])
        self._times.append(frame.time)

    def _classify_pairs(self, name: str, second: np.ndarray, first_keys: np.ndarray) -> None:
        """Pairing classes of every centre: ``second`` says which have a member of shell
        ``name`` within its second-shell cutoff."""
        n_c = self.center.n_atoms
        centres, units = first_keys // self._n_units, first_keys % self._n_units
        shared_units = np.unique(units, return_counts=True)
        shared = set(shared_units[0][shared_units[1] > 1].tolist())
        has_first = np.bincount(centres, minlength=n_c) > 0
        agg = np.zeros(n_c, bool)
        for c, u_ in zip(centres.tolist(), units.tolist(), strict=True):
            if u_ in shared:
                agg[c] = True
        classes = np.where(agg, "AGG", np.where(has_first, "CIP", np.where(second, "SSIP", "free")))
        self._pair_counts[name].update(classes.tolist())
        self._contact_series[name].append(float(np.mean(agg | has_first)))

    def _conclude(self):
        names = list(self.shells)
        total = self.n_frames * self.center.n_atoms
        dist = {
            k: {int(n): c / total for n, c in sorted(h.items())} for k, h in self._cn_hist.items()
        }
        mean = {k: sum(n * f for n, f in d.items()) for k, d in dist.items()}
        spread = {
            k: float(np.sqrt(sum((n - mean[k]) ** 2 * f for n, f in d.items())))
            for k, d in dist.items()
        }
        speciation = {
            composition_label(c, names): n / total for c, n in self._compositions.most_common()
        }
        exchanges = self._exchanges()
        coordination = self._flagged(self._series, exchanges)
        contact = self._flagged(self._contact_series, exchanges)
        self.results.solvation = SolvationResult(
            center=self.center_sel,
            n_centers=self.center.n_atoms,
            n_frames=self.n_frames,
            count=self.count,
            cutoffs_angstrom=self.cutoffs,
            coordination_numbers={k: e.mean for k, e in coordination.items()},
            coordination_spread=spread,
            coordination_distribution=dist,
            denticity={k: _fractions(v) for k, v in self._dent.items()},
            coordinating_atoms={k: _fractions(v) for k, v in self._atoms.items()},
            speciation=speciation,
            pairing={
                k: {c: v.get(c, 0) / total for c in PAIRING_CLASSES}
                for k, v in self._pair_counts.items()
            },
            residence=self._residence(),
            time_ps=np.asarray(self._times),
            per_frame={k: np.asarray(v) for k, v in self._series.items()},
            coordination=coordination,
            contact_pairs=contact,
            contact_pairs_per_frame={k: np.asarray(v) for k, v in self._contact_series.items()},
            exchanges=exchanges,
        )

    def _flagged(self, series: dict, exchanges: dict) -> dict[str, Estimate]:
        """Estimates of per-frame series, flagged where their shell barely exchanged."""
        out = {}
        for name, values in series.items():
            e = estimate(values)
            reason = exchanges[name].unconverged_reason(name, self.n_frames)
            out[name] = e.flagged(reason) if reason else e
        return out

    def _exchanges(self) -> dict[str, ExchangeCount]:
        """Exchange counts from the first-shell members of consecutive frames (recorded
        per frame, so the count is exact under the parallel backends too)."""
        n_c = self.center.n_atoms
        span_ns = (self._times[-1] - self._times[0]) / 1000.0 if len(self._times) > 1 else 0.0
        out = {}
        for name in self.shells:
            entering, leaving = np.zeros(n_c, np.int64), np.zeros(n_c, np.int64)
            frames = self._members[name]
            for previous, keys in zip(frames[:-1], frames[1:], strict=True):
                left = np.setdiff1d(previous, keys, assume_unique=True) // self._n_units
                entered = np.setdiff1d(keys, previous, assume_unique=True) // self._n_units
                leaving += np.bincount(left, minlength=n_c)
                entering += np.bincount(entered, minlength=n_c)
            per_ion = entering + leaving
            total = int(per_ion.sum())
            out[name] = ExchangeCount(
                entering=int(entering.sum()),
                leaving=int(leaving.sum()),
                total=total,
                per_ion=per_ion,
                per_ion_mean=total / max(self.center.n_atoms, 1),
                per_ns=total / span_ns if span_ns > 0 else float("nan"),
                time_ns=float(span_ns),
            )
        return out

    def _residence(self) -> dict[str, Correlation]:
        if not self.residence or self.n_frames < 3:
            return {}
        dt = float(np.median(np.diff(self._times))) if len(self._times) > 1 else 0.0
        if dt <= 0:  # the trajectory carries no times: lag times would be meaningless
            return {}
        out = {}
        for name, frames in self._members.items():
            out[name] = presence_correlation(presence_matrix(frames), dt)
        return out


def _fractions(counter: Counter) -> dict:
    n = sum(counter.values())
    return {k: v / n for k, v in sorted(counter.items())} if n else {}


class ShellsWithCutoffs(SolvationShells):
    """``SolvationShells`` whose missing cutoffs come from the centre-shell g(r) of the
    same pass (see ``analysis.cutoffs``); ``results.rdf`` holds those g(r).

    Parameters
    ----------
    universe, center, shells, count, residence
        As for ``SolvationShells``.
    cutoffs : dict of str to float
        Name -> first-shell cutoff (A); shells without one are found.
    pairing : dict of str to float or None, optional
        Shell name -> second-shell cutoff (A), or None for the second minimum of its g(r)
        (else the first cutoff + 2 A).
    rmax : float
        Range of the g(r) (A).
    nbins : int
        Bins of the g(r).
    fallback : float, optional
        First-shell cutoff (A) where g(r) has no clear minimum; None raises NoMinimumError.
    **kwargs
        ``count``, ``residence`` and ``Analysis`` options, passed to ``SolvationShells``.
    """

    _accumulators = {
        **SolvationShells._accumulators,
        "_kept": concatenate,
        "_histograms": total,
    }

    def __init__(
        self,
        universe,
        center: str,
        shells: dict[str, str],
        cutoffs: dict[str, float],
        pairing: dict | None = None,
        rmax: float = 8.0,
        nbins: int = 320,
        fallback: float | None = None,
        **kwargs,
    ):
        pairing = dict(pairing or {})
        self.need = [k for k in shells if k not in cutoffs or (k in pairing and pairing[k] is None)]
        self.edges = np.linspace(0.0, rmax, nbins + 1)
        self.fallback, self.source = fallback, {k: "given" for k in cutoffs}
        self._given = (dict(cutoffs), dict(pairing))
        provisional = {k: cutoffs.get(k, 0.0) for k in shells}  # checked again at the end
        second = {k: provisional.get(k, 0.0) + 1.0 if v is None else v for k, v in pairing.items()}
        super().__init__(universe, center, shells, provisional, pairing=second, **kwargs)
        check_rmax(universe, rmax, "the centre-shell g(r)")
        self.pairing = pairing
        self._extra = 0

    def _search_radii(self) -> dict[str, float]:
        given, pairing = self._given
        return {
            k: self.edges[-1] if k in self.need else max(given[k], pairing.get(k) or 0.0)
            for k in self.shells
        }

    def _prepare(self):
        super()._prepare()
        mol = molecule_ids(self.universe)
        self._histograms = {
            k: CutoffHistogram(
                self.edges,
                pair_count(self.center.indices, self.shells[k].indices, mol, True),
                self._given[1].get(k, 0) is None,
                self.fallback,
            )
            for k in self.need
        }
        self._kept = []

    def _keep(self) -> dict[str, float]:
        """How far out (A) each shell's pairs are kept: its cutoff where given, else the
        provisional cutoff + margin (everything searched until there is one)."""
        given = self._given[0]
        return {k: given[k] if k in given else self._histograms[k].keep for k in self.shells}

    def _single_frame(self):
        pairs = self._frame_pairs(self._search_radii())
        shrunk = [self._histograms[k].add(pairs[k][2], self._ts.volume) for k in self.need]
        if any(shrunk):  # the warm-up gave a provisional cutoff: drop what lies beyond
            keep = self._keep()
            for frame in self._kept:
                frame.pairs = {
                    k: tuple(x[d <= keep[k]] for x in (ci, sj, d))
                    for k, (ci, sj, d) in frame.pairs.items()
                }
        self._kept.append(self._frame(pairs, self._keep()))

    def _final_cutoffs(self) -> tuple[dict, dict]:
        """Cutoffs and pairing cutoffs (A) from the g(r) of the whole pass."""
        cutoffs, pairing = dict(self._given[0]), dict(self._given[1])
        for k in self.need:
            want_second = pairing.get(k, 0) is None
            first, second, text = self._histograms[k].cutoffs()
            if k not in cutoffs:
                cutoffs[k], self.source[k] = first, text
            if want_second:
                pairing[k] = max(second, cutoffs[k] + 0.1)
        self._solvent_shared(cutoffs, pairing)
        for k, rc2 in pairing.items():
            if rc2 <= cutoffs[k]:
                raise InputError(
                    f"pairing {k!r}: the second-shell cutoff {rc2} A must lie beyond the "
                    f"first ({cutoffs[k]:.2f} A from g(r))"
                )
        return {k: float(cutoffs[k]) for k in self.shells}, pairing

    def _solvent_shared(self, cutoffs: dict, pairing: dict) -> None:
        """A paired shell (an anion) whose g(r) first minimum lies more than
        SOLVENT_SHARED_MARGIN_ANGSTROM beyond the solvent's first-shell cutoff has no
        contact peak: its first peak is the solvent-shared one. Then its contact cutoff is
        the solvent's (the first shell is the first shell) and that minimum becomes its
        second-shell cutoff, so CIP counts contacts, not solvent-shared pairs."""
        solvent = [cutoffs[j] for j in self.shells if j not in pairing]
        if not solvent:
            return
        first_shell = max(solvent)
        for k in self.need:
            found = cutoffs[k]
            if k in pairing and found > first_shell + SOLVENT_SHARED_MARGIN_ANGSTROM:
                cutoffs[k] = first_shell
                pairing[k] = found
                self.source[k] = (
                    f"no contact peak: the solvent's first-shell cutoff; the g(r) minimum at "
                    f"{found:.2f} A (after the solvent-shared peak) is the second shell"
                )

    def _conclude(self):
        cutoffs, pairing = self._final_cutoffs()
        keep = self._keep()
        kept = all(cutoffs[k] <= keep[k] for k in self.shells) and all(
            rc2 <= self._search_radii()[k] for k, rc2 in pairing.items()
        )
        self.cutoffs, self.pairing = cutoffs, pairing
        if kept:
            for frame in self._kept:
                self._tally(frame, cutoffs, pairing)
        else:
            self._second_pass()
        super()._conclude()
        self.results.solvation = dataclasses.replace(
            self.results.solvation, cutoff_source=dict(self.source)
        )
        self.results.rdf = self._rdf()

    def _second_pass(self) -> None:
        """Count again with the final cutoffs: g(r) moved past what the pass kept."""
        logger.info("shell cutoffs moved past the kept pairs; counting in a second pass")
        again = SolvationShells(
            self.universe,
            self.center_sel,
            self._selections,
            self.cutoffs,
            count=self.count,
            pairing=self.pairing,
            residence=self.residence,
        ).run(frames=self.frames)
        for name in SolvationShells._accumulators:
            setattr(self, name, getattr(again, name))
        self._extra = again.n_frames

    def extra_frames_read(self) -> int:
        """Frames read beyond the analysed ones (0: one pass)."""
        return self._extra

    def _rdf(self) -> RDFResult:
        """The centre-shell g(r) of the shells whose cutoffs were found."""
        pairs = {
            k: pair_rdf(
                (self.center_sel, self._selections[k]),
                (self.center, self.shells[k]),
                h.n_pairs,
                h.weighted,
                h.raw,
                self.n_frames,
                self.edges,
            )
            for k, h in self._histograms.items()
        }
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        volume = next(iter(self._histograms.values())).volume / max(self.n_frames, 1)
        return RDFResult(self.edges, centres, self.n_frames, True, pairs, volume)


def solvation_shells(
    universe,
    center: str,
    shells: dict[str, str],
    cutoffs: dict[str, float] | None = None,
    pairing: dict | None = None,
    rmax: float = 8.0,
    nbins: int = 320,
    count: str = "molecules",
    residence: bool = True,
    fallback: float | None = None,
    start=None,
    stop=None,
    step=None,
    verbose=False,
):
    """Shell analysis with automatic cutoffs where none is given.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center, shells, count, residence
        As for ``SolvationShells``.
    cutoffs : dict of str to float, optional
        Name -> first-shell cutoff (A); missing ones are the first minimum of the
        centre-shell g(r) (``rmax`` A, ``nbins`` bins), accumulated in the same pass that
        counts the shells (``ShellsWithCutoffs``).
    pairing : dict of str to float or None, optional
        Shell name -> second-shell cutoff (A) for ion-pairing classes; None takes the second
        minimum of g(r), else the first cutoff + 2 A.
    rmax : float
        Range of the g(r) (A).
    nbins : int
        Bins of the g(r).
    fallback : float, optional
        First-shell cutoff (A) where g(r) has no clear minimum; None raises NoMinimumError
        instead.
    start, stop, step : int, optional
        Frame range.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    tuple of (SolvationResult, RDFResult or None)
        ``SolvationResult.cutoff_source`` says where each cutoff came from.
    """
    universe = as_universe(universe)  # an mdtraj Trajectory converted once
    options = {"count": count, "residence": residence, "fallback": fallback}
    analysis = shells_analysis(
        universe, center, shells, cutoffs, pairing, rmax=rmax, nbins=nbins, **options
    )
    return shells_result(analysis.run(start, stop, step, verbose=verbose))


def shells_result(analysis: SolvationShells) -> tuple[SolvationResult, RDFResult | None]:
    """(SolvationResult with ``cutoff_source``, RDFResult or None) of a finished
    ``shells_analysis``.

    Parameters
    ----------
    analysis : SolvationShells
        A finished ``shells_analysis``.
    """
    result = analysis.results.solvation
    if not result.cutoff_source:
        given = {k: "given" for k in result.cutoffs_angstrom}
        result = dataclasses.replace(result, cutoff_source=given)
    return result, analysis.results.get("rdf")


def shells_analysis(
    universe,
    center: str,
    shells: dict[str, str],
    cutoffs: dict[str, float] | None = None,
    pairing: dict | None = None,
    **options,
) -> SolvationShells:
    """The analysis ``solvation_shells`` runs (not yet run), with its parameters
    (``options``: rmax, nbins, count, residence, fallback): ``SolvationShells`` when every
    cutoff is given, else ``ShellsWithCutoffs``; for ``analysis.one_pass``.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center : str
        Selection of the centres.
    shells : dict of str to str
        Selection of each shell species, by name.
    cutoffs : dict of str to float, optional
        First-shell cutoffs (A) by shell name; the missing ones are found from g(r).
    pairing : dict of str to float or None, optional
        Second-shell cutoff (A) of each paired shell; None finds it from g(r).
    **options
        rmax (A), nbins, count, residence, fallback (A).
    """
    cutoffs, pairing = dict(cutoffs or {}), dict(pairing or {})
    if all(k in cutoffs for k in shells) and all(v is not None for v in pairing.values()):
        kept = {k: v for k, v in options.items() if k in ("count", "residence")}
        return SolvationShells(universe, center, shells, cutoffs, pairing=pairing, **kept)
    return ShellsWithCutoffs(universe, center, shells, cutoffs, pairing=pairing, **options)
