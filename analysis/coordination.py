"""Solvation shells of a centre species: coordination numbers, which atoms coordinate,
shell compositions (speciation), ion pairing classes and residence times, in one pass.

Shell membership: a shell molecule (or atom, with ``count="atoms"``) belongs to a
centre's shell when any of its selected atoms lies within the shell's cutoff of the
centre. Cutoffs are given (A) or found as the first minimum of the centre-shell g(r)
(``solvation_shells``). Pairing classes, per centre and frame, for each shell named in
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
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .base import Analysis
from .correlation import Correlation, presence_correlation, presence_matrix
from .neighbors import cross_pairs
from .rdf import RDF
from .results import ResultMixin
from .shells import NoMinimumError, shell_minima
from .stats import Estimate, estimate
from .universe import InputError, as_universe, molecule_ids, select

PAIRING_CLASSES = ("free", "SSIP", "CIP", "AGG")
MIN_EXCHANGES_PER_ION = 2.0  # events per centre (one molecule out, one in) to trust a shell


@dataclass(frozen=True)
class ExchangeCount(ResultMixin):
    """First-shell exchange events of one shell (module docstring).

    entering, leaving : events over all centres; total = entering + leaving
    per_ion : events of each centre (entering + leaving), in centre order
    per_ion_mean : total / number of centres
    per_ns : total events per ns of analysed time (all centres; NaN without frame times)
    time_ns : analysed time from the first to the last frame (ns)
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
    """Shell statistics of one centre selection (see module docstring)."""

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
        return pd.DataFrame(
            {"shell": list(self.speciation), "fraction": list(self.speciation.values())}
        )


def composition_label(counts: tuple[int, ...], names: list[str]) -> str:
    """'(water)5(SO4)1' style label of one shell composition (empty shells: 'bare')."""
    parts = [f"({n}){c}" for n, c in zip(names, counts, strict=True) if c]
    return "".join(parts) or "bare"


class SolvationShells(Analysis):
    """Coordination, speciation, pairing and residence of ``center`` in one pass.

    Parameters
    ----------
    universe : MDAnalysis Universe
    center : selection of the centre atoms (e.g. "resname ZN")
    shells : dict name -> selection of coordinating atoms (e.g. {"water": "resname HOH and
        name O"}); molecules are residues
    cutoffs : dict name -> cutoff (A), one per shell
    count : "molecules" (default, distinct molecules) or "atoms"
    pairing : dict shell name -> second-shell cutoff (A) for ion-pairing classes
    residence : compute residence-time correlations (default True)
    """

    result_name = "solvation"

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
        self.center_sel = center
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
        self._previous = {k: None for k in self.shells}
        n_c = self.center.n_atoms
        self._entering = {k: np.zeros(n_c, np.int64) for k in self.shells}
        self._leaving = {k: np.zeros(n_c, np.int64) for k in self.shells}

    def _shell(self, name: str, cutoff: float):
        """(centre row, unit id, shell atom row) of pairs within ``cutoff``; a centre's own
        molecule is never part of its shell."""
        ts = self._ts
        ci, sj, _ = cross_pairs(
            self.center.positions, self.shells[name].positions, ts.dimensions, cutoff
        )
        other = self._centre_mol[ci] != self._shell_mol[name][sj]
        ci, sj = ci[other], sj[other]
        return ci, self._unit[name][sj], sj

    def _single_frame(self):
        n_c = self.center.n_atoms
        counts = np.zeros((n_c, len(self.shells)), dtype=np.int64)
        first = {}
        for col, name in enumerate(self.shells):
            ci, unit, sj = self._shell(name, self.cutoffs[name])
            keys = np.unique(ci * self._n_units + unit, return_counts=True)
            first[name] = keys[0]
            centres = keys[0] // self._n_units
            counts[:, col] = np.bincount(centres, minlength=n_c)
            self._cn_hist[name].update(counts[:, col].tolist())
            self._dent[name].update(keys[1].tolist())
            self._atoms[name].update(self._names[name][sj].tolist())
            self._series[name].append(counts[:, col].mean())
            if self.residence:
                self._members[name].append(keys[0])
            self._count_exchanges(name, keys[0])
        self._compositions.update(map(tuple, counts.tolist()))
        for name, rc2 in self.pairing.items():
            self._classify_pairs(name, rc2, first[name])
        self._times.append(self._ts.time)

    def _classify_pairs(self, name: str, rc2: float, first_keys: np.ndarray) -> None:
        n_c = self.center.n_atoms
        ci, unit, _ = self._shell(name, rc2)
        second = np.bincount(ci, minlength=n_c) > 0
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

    def _count_exchanges(self, name: str, keys: np.ndarray) -> None:
        """Add the members that entered or left each centre's shell since the previous
        analysed frame (``keys``: sorted centre * n_units + unit of this frame)."""
        previous, self._previous[name] = self._previous[name], keys
        if previous is None:
            return
        n_c = self.center.n_atoms
        left = np.setdiff1d(previous, keys, assume_unique=True) // self._n_units
        entered = np.setdiff1d(keys, previous, assume_unique=True) // self._n_units
        self._leaving[name] += np.bincount(left, minlength=n_c)
        self._entering[name] += np.bincount(entered, minlength=n_c)

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
        span_ns = (self._times[-1] - self._times[0]) / 1000.0 if len(self._times) > 1 else 0.0
        out = {}
        for name in self.shells:
            per_ion = self._entering[name] + self._leaving[name]
            total = int(per_ion.sum())
            out[name] = ExchangeCount(
                entering=int(self._entering[name].sum()),
                leaving=int(self._leaving[name].sum()),
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
    total = sum(counter.values())
    return {k: v / total for k, v in sorted(counter.items())} if total else {}


FALLBACK_CUTOFF_ANGSTROM = 3.0  # when g(r) has no clear first minimum (very short runs)
PAIRING_OFFSET_ANGSTROM = 2.0  # second-shell cutoff past the first when g(r) has no second


def _auto_cutoffs(r, g, want_second: bool, fallback: float | None):
    """(first cutoff, second cutoff or None, source text) from one g(r). Without a clear
    minimum: ``fallback`` (A) for the first cutoff, or NoMinimumError when it is None; a
    missing second minimum puts the second cutoff PAIRING_OFFSET_ANGSTROM past the first."""
    try:
        first = shell_minima(r, g, 1)[0]
        source = "first minimum of g(r)"
    except NoMinimumError:
        if fallback is None:
            raise
        first, source = float(fallback), f"fallback {fallback:g} A (g(r) has no clear minimum)"
    if not want_second:
        return first, None, source
    try:
        second = shell_minima(r, g, 2)[1]
        source += "; second shell: second minimum of g(r)"
    except NoMinimumError:
        second = first + PAIRING_OFFSET_ANGSTROM
        source += f"; second shell: first cutoff + {PAIRING_OFFSET_ANGSTROM:g} A"
    return first, second, source


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
    universe : MDAnalysis Universe
    center, shells, count, residence : as for ``SolvationShells``
    cutoffs : dict name -> first-shell cutoff (A); missing ones are the first minimum of
        the centre-shell g(r), found in one RDF pass (``rmax`` A, ``nbins`` bins)
    pairing : dict shell name -> second-shell cutoff (A) for ion-pairing classes; None
        takes the second minimum of g(r), else the first cutoff + 2 A
    fallback : first-shell cutoff (A) where g(r) has no clear minimum; None raises
        NoMinimumError instead
    start, stop, step : frame range

    Returns
    -------
    (SolvationResult, RDFResult or None); ``SolvationResult.cutoff_source`` says where
    each cutoff came from.
    """
    universe = as_universe(universe)  # an mdtraj Trajectory converted once
    cutoffs = dict(cutoffs or {})
    pairing = dict(pairing or {})
    source = {k: "given" for k in cutoffs}
    need = [k for k in shells if k not in cutoffs or (k in pairing and pairing[k] is None)]
    rdf = None
    if need:
        rdf = (
            RDF(
                universe,
                {k: (center, shells[k]) for k in need},
                rmax=rmax,
                nbins=nbins,
                verbose=verbose,
            )
            .run(start, stop, step)
            .results.rdf
        )
        for k in need:
            want_second = k in pairing and pairing[k] is None
            first, second, text = _auto_cutoffs(
                rdf.r_angstrom, rdf.pairs[k].g_r, want_second, fallback
            )
            if k not in cutoffs:
                cutoffs[k], source[k] = first, text
            if want_second:
                pairing[k] = max(second, cutoffs[k] + 0.1)
    result = SolvationShells(
        universe,
        center,
        shells,
        cutoffs,
        count=count,
        pairing=pairing,
        residence=residence,
        verbose=verbose,
    ).run(start, stop, step)
    return dataclasses.replace(result.results.solvation, cutoff_source=source), rdf
