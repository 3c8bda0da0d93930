"""Solvation shells of a centre species: coordination numbers, which atoms coordinate,
shell compositions (speciation), ion pairing classes and residence times, in one pass.

One first shell (``analysis.cutoffs``): a coordinating atom is in a centre's first shell
when it lies within the centre's first-shell radius for its *site* (its species and
element): the solvent's own g(r) minimum for the solvent's sites; for any other species
the minimum after its contact peak, or the solvent's radius for the same element where
its g(r) has no contact peak. A minimum after a solvent-shared peak is the second
shell, never the first. A shell molecule (or atom, with ``count="atoms"``) belongs to a
centre's shell when any of its selected atoms lies within its site's radius. Radii are
given (A, per shell or per site) or found from the centre-site g(r) that the counting
pass accumulates itself (``ShellsWithCutoffs``): one pass over the trajectory, one
neighbour search per centre-shell pair type and frame serving g(r), coordination,
speciation, pairing and residence, asked of the frame's shared ``NeighborQuery``
(``analysis.neighbors``: cell-list kernels for orthorhombic boxes, else nsgrid).

The total first-shell coordination (all shells together) is reported per centre and
frame; a centre-frame holding more ligands than the centre's chemistry allows
(``MAX_FIRST_SHELL``, Zn2+: 7) is an error of the analysis (cutoffs that put second-shell
members in the first shell, or wrong selections): the result carries it in ``problems``
and ``valid`` is False, and callers must not rank it.

Pairing classes, per centre and frame, for each paired shell (every shell but the
solvent when the cutoffs are found; those named in ``pairing`` otherwise), with its
second-shell cutoffs:

- CIP: at least one member of that shell in the first shell, none shared;
- AGG: a first-shell member is also in the first shell of another centre;
- SSIP: none in the first shell, at least one within the second-shell cutoff;
- free: none within the second-shell cutoff.

First-shell exchanges (``SolvationResult.exchanges``, one ``ExchangeCount`` per shell):
an event is one molecule (atom, with ``count="atoms"``) entering or leaving one
centre's first shell between consecutive analysed frames; a water that leaves while
another enters is two events. Events between frames that were not analysed (``step``),
or that undo each other between two analysed frames, are not seen.

Estimates (``SolvationResult.coordination``, ``contact_pairs``, ``total_coordination``):
per-frame means over every selected frame (``discard`` drops a transient only when
asked), reduced with ``solvation.analysis.stats.estimate`` (statistical inefficiency,
n_eff, drift). A shell quantity is not converged when its shells exchanged fewer than
``MIN_EXCHANGES_PER_ION`` events per centre over the run (then every centre on average
kept its starting shell: the value is the starting structure's), besides the
estimator's own criteria. ``coordination_spread`` is the spread of the coordination
number over centres and frames, not an error.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd

from .base import Analysis, concatenate, total
from .correlation import Correlation, presence_correlation, presence_matrix
from .cutoffs import (
    FALLBACK_CUTOFF_ANGSTROM,
    PAIRING_OFFSET_ANGSTROM,
    CutoffHistogram,
    SiteCutoff,
    auto_cutoffs,
    ligand_site,
    reference_radius,
    solvent_site,
)
from .rdf import RDFResult, check_rmax, pair_count, pair_rdf
from .results import ResultMixin
from .stats import Estimate
from .universe import InputError, as_universe, atom_elements, molecule_ids, select

__all__ = [
    "FALLBACK_CUTOFF_ANGSTROM",
    "MAX_FIRST_SHELL",
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

PAIRING_CLASSES = ("free", "SSIP", "CIP", "AGG")
MIN_EXCHANGES_PER_ION = 2.0  # events per centre (one molecule out, one in) to trust a shell
DEFAULT_SOLVENT = "water"
# Most ligands a first shell of the cation (by element of the centre atom) can hold:
# the largest coordination numbers of the aqua ions and their complexes (Marcus, Chem.
# Rev. 88 (1988) 1475; Ohtaki & Radnai, Chem. Rev. 93 (1993) 1157: Zn2+ 6, up to 7 in
# transient exchange; Mg2+ 6; Li+ 4-6; Na+ 5-8; K+ 6-10; Ca2+ 6-9; Al3+ 6; La3+, Ce3+ 8-12).
MAX_FIRST_SHELL = {
    "ZN": 7,
    "MG": 7,
    "MN": 7,
    "NI": 7,
    "CO": 7,
    "FE": 7,
    "CU": 7,
    "CD": 8,
    "AL": 7,
    "LI": 6,
    "NA": 8,
    "K": 10,
    "CA": 9,
    "LA": 12,
    "CE": 12,
}


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
        With no event at all the rate is unknown: inf, plain MD of this length cannot
        say how long it would take (use a free-energy route)."""
        if self.per_ion_mean >= MIN_EXCHANGES_PER_ION:
            return None
        if self.total == 0:
            return math.inf
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
        First-shell radius of each shell (A; the largest of its sites').
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
        Where each shell's radii came from (per site where a shell has several).
    coordination : dict of str to Estimate
        Mean coordination number with standard error and convergence flag.
    contact_pairs : dict of str to Estimate
        Fraction of centres in contact pairs (CIP + AGG), per paired shell.
    contact_pairs_per_frame : dict of str to numpy.ndarray
        That fraction per frame.
    exchanges : dict of str to ExchangeCount
        First-shell exchange events per shell.
    site_cutoffs_angstrom : dict of str to dict of str to float
        First-shell radius (A) of each shell's sites, by element.
    second_shell_angstrom : dict of str to dict of str to float
        Second-shell radius (A) of each paired shell's sites, by element.
    solvent : str or None
        The shell whose radii are the reference of the others (None: none).
    total_coordination : Estimate or None
        Mean number of first-shell ligands of all shells together.
    total_distribution : dict of int to float
        Fraction of centre-frames with each total number of first-shell ligands.
    max_first_shell : int or None
        Most ligands the centre's chemistry allows (None: not known).
    problems : list of str
        Errors of the analysis (a first shell beyond ``max_first_shell``): the numbers
        must not be used or ranked.
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
    site_cutoffs_angstrom: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    second_shell_angstrom: dict[str, dict[str, float]] = dataclasses.field(default_factory=dict)
    solvent: str | None = None
    total_coordination: Estimate | None = None
    total_distribution: dict[int, float] = dataclasses.field(default_factory=dict)
    max_first_shell: int | None = None
    problems: list[str] = dataclasses.field(default_factory=list)

    @property
    def valid(self) -> bool:
        """False when the analysis found an error (``problems``): never rank it."""
        return not self.problems

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
        groups = (("cn", self.coordination), ("contact_pairs", self.contact_pairs))
        rows = [
            {"quantity": f"{prefix}_{name}", **e.to_dict()}
            for prefix, group in groups
            for name, e in group.items()
        ]
        if self.total_coordination is not None:
            rows.append({"quantity": "cn_total", **self.total_coordination.to_dict()})
        return pd.DataFrame(rows)

    def speciation_frame(self) -> pd.DataFrame:
        """Speciation as a table: columns ``shell`` and ``fraction``."""
        return pd.DataFrame(
            {"shell": list(self.speciation), "fraction": list(self.speciation.values())}
        )


@dataclass
class ShellFrame:
    """What the shell statistics need of one frame: per shell the centre-shell pairs
    (centre row, shell atom row, distance A) kept, and per paired shell each centre's
    nearest atom of each site (A; inf: none within the search).

    Attributes
    ----------
    pairs : dict of str to tuple of numpy.ndarray
        Per shell: centre rows, shell atom rows and distances (A) of the pairs kept.
    nearest : dict of str to numpy.ndarray
        Per paired shell: (centres, sites) nearest distances (A; inf: none).
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


def _per_site(value, sites: list[str], what: str) -> dict[str, float]:
    """A radius given per shell (one number) or per site ({element: A}) as {element: A}."""
    if isinstance(value, dict):
        missing = [e for e in sites if e not in value]
        if missing:
            raise InputError(f"{what}: no radius for the elements {missing} (have {sites})")
        return {e: float(value[e]) for e in sites}
    return {e: float(value) for e in sites}


def _max_first_shell(center, given) -> int | None:
    """The chemistry limit: ``given`` (int or None), or "auto": ``MAX_FIRST_SHELL`` of the
    centre atoms' element (None when unknown or mixed)."""
    if given != "auto":
        return None if given is None else int(given)
    elements = set(atom_elements(center).tolist())
    return MAX_FIRST_SHELL.get(elements.pop()) if len(elements) == 1 else None


class SolvationShells(Analysis):
    """Coordination, speciation, pairing and residence of ``center`` in one pass, with
    every radius given.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center : str
        Selection of the centre atoms (e.g. "resname ZN").
    shells : dict of str to str
        Name -> selection of coordinating atoms (e.g. {"water": "resname HOH and name O"});
        molecules are bonded fragments (residues without bonds).
    cutoffs : dict of str to float or dict
        Name -> first-shell radius (A) of every site of the shell, or {element: A}.
    count : str
        "molecules" (default, distinct molecules) or "atoms".
    pairing : dict of str to float or dict, optional
        Shell name -> second-shell radius (A, or {element: A}) for ion-pairing classes.
    residence : bool
        Compute residence-time correlations (default True).
    max_first_shell : int, None or "auto"
        Most first-shell ligands the centre's chemistry allows; "auto" (default) takes
        ``MAX_FIRST_SHELL`` of the centre's element; None: no check.
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``; ``discard``).
    """

    result_name = "solvation"
    _accumulators = {
        "_compositions": total,
        "_cn_hist": total,
        "_total_hist": total,
        "_dent": total,
        "_atoms": total,
        "_pair_counts": total,
        "_series": concatenate,
        "_total_series": concatenate,
        "_members": concatenate,
        "_times": concatenate,
        "_contact_series": concatenate,
    }

    def __init__(
        self,
        universe,
        center: str,
        shells: dict[str, str],
        cutoffs: dict,
        count: str = "molecules",
        pairing: dict | None = None,
        residence: bool = True,
        max_first_shell="auto",
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if count not in ("molecules", "atoms"):
            raise InputError(f"count must be 'molecules' or 'atoms', got {count!r}")
        self.universe, self.count, self.residence = universe, count, residence
        self.center_sel, self._selections = center, dict(shells)
        self.center = select(universe, center, "centre selection")
        self.shells = {k: select(universe, s, f"shell {k!r}") for k, s in shells.items()}
        self._element = {k: atom_elements(g) for k, g in self.shells.items()}
        self.sites = {k: sorted(set(e.tolist())) for k, e in self._element.items()}
        self._site_of = {
            k: np.searchsorted(self.sites[k], e).astype(np.int64) for k, e in self._element.items()
        }
        self.max_first_shell = _max_first_shell(self.center, max_first_shell)
        self.solvent: str | None = None
        self.source: dict[str, str] = {}
        if cutoffs is not None:
            self._set_radii(cutoffs, pairing or {})

    def _set_radii(self, cutoffs: dict, pairing: dict) -> None:
        """Per-site first- and second-shell radii (A), and the per-atom arrays counting
        uses; refuses missing or inconsistent ones."""
        missing = set(self.shells) - set(cutoffs)
        if missing:
            raise InputError(f"no cutoff for shells {sorted(missing)}")
        self.cutoffs = {
            k: _per_site(cutoffs[k], self.sites[k], f"cutoff of {k!r}") for k in self.shells
        }
        self.pairing = {}
        for name, rc2 in pairing.items():
            if name not in self.shells:
                raise InputError(f"pairing {name!r}: no shell of that name")
            second = _per_site(rc2, self.sites[name], f"pairing {name!r}")
            if any(second[e] <= self.cutoffs[name][e] for e in second):
                raise InputError(
                    f"pairing {name!r}: the second-shell cutoff {second} A must lie beyond "
                    f"the first ({self.cutoffs[name]} A)"
                )
            self.pairing[name] = second
        self._first_of = {
            k: np.array([self.cutoffs[k][e] for e in self.sites[k]])[self._site_of[k]]
            for k in self.shells
        }
        self._second_of = {
            k: np.array([v[e] for e in self.sites[k]]) for k, v in self.pairing.items()
        }

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
        self._total_hist: Counter = Counter()
        self._dent = {k: Counter() for k in self.shells}
        self._atoms = {k: Counter() for k in self.shells}
        self._pair_counts = {k: Counter() for k in self._paired()}
        self._series = {k: [] for k in self.shells}
        self._total_series = []
        self._members = {k: [] for k in self.shells}
        self._times = []
        self._contact_series = {k: [] for k in self._paired()}

    def _paired(self) -> list[str]:
        """Shells classified for ion pairing."""
        return list(self.pairing)

    def _search_radii(self) -> dict[str, float]:
        """Search radius (A) per shell: its largest first- or second-shell radius."""
        out = {}
        for k in self.shells:
            second = max(self.pairing[k].values()) if k in self.pairing else 0.0
            out[k] = max(max(self.cutoffs[k].values()), second)
        return out

    def _neighbour_requests(self) -> list[tuple]:
        """Centre-shell pairs within each shell's search radius (A), per frame."""
        radii = self._search_radii()
        return [(self.center.indices, g.indices, radii[k]) for k, g in self.shells.items()]

    def _frame_pairs(self, radii: dict[str, float]) -> dict:
        """Per shell: (centre row, shell atom row, distance A) of the pairs within its
        radius (inclusive), a centre's own molecule left out."""
        query = self.neighbours()
        out = {}
        for name, group in self.shells.items():
            ci, sj, d = query.pairs(self.center.indices, group.indices, radii[name])
            other = self._centre_mol[ci] != self._shell_mol[name][sj]
            out[name] = (ci[other], sj[other], d[other])
        return out

    def _frame(self, pairs: dict, keep: dict[str, float]) -> ShellFrame:
        """The ShellFrame of this frame from its pairs: those within ``keep`` (A) per shell,
        and each centre's nearest atom of each site for the paired shells."""
        n_c = self.center.n_atoms
        nearest = {}
        for name in self._paired():
            ci, sj, d = pairs[name]
            n_s = len(self.sites[name])
            flat = np.full(n_c * n_s, np.inf)
            np.minimum.at(flat, ci * n_s + self._site_of[name][sj], d)
            nearest[name] = flat.reshape(n_c, n_s)
        kept = {}
        for name, (ci, sj, d) in pairs.items():
            inside = d <= keep[name]
            kept[name] = (ci[inside].astype(np.int32), sj[inside].astype(np.int32), d[inside])
        return ShellFrame(kept, nearest, float(self._ts.time))

    def _single_frame(self):
        radii = self._search_radii()
        keep = {k: max(v.values()) for k, v in self.cutoffs.items()}
        self._tally(self._frame(self._frame_pairs(radii), keep))

    def _tally(self, frame: ShellFrame) -> None:
        """Add one frame to the shell statistics, with the current radii."""
        n_c = self.center.n_atoms
        counts = np.zeros((n_c, len(self.shells)), dtype=np.int64)
        first = {}
        for col, name in enumerate(self.shells):
            ci, sj, d = frame.pairs[name]
            inside = d <= self._first_of[name][sj]
            ci, sj = ci[inside].astype(np.int64), sj[inside]
            keys = np.unique(ci * self._n_units + self._unit[name][sj], return_counts=True)
            first[name] = keys[0]
            counts[:, col] = np.bincount(keys[0] // self._n_units, minlength=n_c)
            self._cn_hist[name].update(counts[:, col].tolist())
            self._dent[name].update(keys[1].tolist())
            self._atoms[name].update(self._names[name][sj].tolist())
            self._series[name].append(counts[:, col].mean())
            self._members[name].append(keys[0])  # exchanges, and residence if asked
        totals = counts.sum(axis=1)
        self._total_hist.update(totals.tolist())
        self._total_series.append(totals.mean())
        self._compositions.update(map(tuple, counts.tolist()))
        for name, rc2 in self._second_of.items():
            second = (frame.nearest[name] <= rc2[None, :]).any(axis=1)
            self._classify_pairs(name, second, first[name])
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
        n_cf = self.n_frames * self.center.n_atoms
        dist = {k: _distribution(h, n_cf) for k, h in self._cn_hist.items()}
        mean = {k: sum(n * f for n, f in d.items()) for k, d in dist.items()}
        spread = {
            k: float(np.sqrt(sum((n - mean[k]) ** 2 * f for n, f in d.items())))
            for k, d in dist.items()
        }
        speciation = {
            composition_label(c, names): n / n_cf for c, n in self._compositions.most_common()
        }
        exchanges = self._exchanges()
        coordination = self._flagged(self._series, exchanges)
        contact = self._flagged(self._contact_series, exchanges)
        total_dist = _distribution(self._total_hist, n_cf)
        self.results.solvation = SolvationResult(
            center=self.center_sel,
            n_centers=self.center.n_atoms,
            n_frames=self.n_frames,
            count=self.count,
            cutoffs_angstrom={k: max(v.values()) for k, v in self.cutoffs.items()},
            coordination_numbers={k: e.mean for k, e in coordination.items()},
            coordination_spread=spread,
            coordination_distribution=dist,
            denticity={k: _fractions(v) for k, v in self._dent.items()},
            coordinating_atoms={k: _fractions(v) for k, v in self._atoms.items()},
            speciation=speciation,
            pairing={
                k: {c: v.get(c, 0) / n_cf for c in PAIRING_CLASSES}
                for k, v in self._pair_counts.items()
            },
            residence=self._residence(),
            time_ps=np.asarray(self._times),
            per_frame={k: np.asarray(v) for k, v in self._series.items()},
            cutoff_source=self._sources(),
            coordination=coordination,
            contact_pairs=contact,
            contact_pairs_per_frame={k: np.asarray(v) for k, v in self._contact_series.items()},
            exchanges=exchanges,
            site_cutoffs_angstrom={k: dict(v) for k, v in self.cutoffs.items()},
            second_shell_angstrom={k: dict(v) for k, v in self.pairing.items()},
            solvent=self.solvent,
            total_coordination=self._total_estimate(exchanges),
            total_distribution=total_dist,
            max_first_shell=self.max_first_shell,
            problems=self._problems(total_dist),
        )

    def _sources(self) -> dict[str, str]:
        """Where each shell's radii came from ('given' unless found)."""
        return {k: self.source.get(k, "given") for k in self.shells}

    def _total_estimate(self, exchanges: dict) -> Estimate:
        """The total first-shell ligand count, flagged by every shell that barely
        exchanged (each of them holds members the total counts)."""
        e = self._estimate(self._total_series)
        for name in self.shells:
            reason = exchanges[name].unconverged_reason(name, self.n_frames)
            if reason:
                e = e.flagged(reason)
        return e

    def _problems(self, total_dist: dict[int, float]) -> list[str]:
        """The chemistry check: centre-frames with more first-shell ligands than allowed."""
        limit = self.max_first_shell
        if limit is None or not total_dist:
            return []
        over = sum(f for n, f in total_dist.items() if n > limit)
        if over == 0:
            return []
        return [
            f"first shell holds up to {max(total_dist)} ligands in {over:.1%} of centre-frames, "
            f"more than the {limit} the centre's chemistry allows: the radii put second-shell "
            "members in the first shell (or the selections are wrong); these numbers are not "
            "a result"
        ]

    def _flagged(self, series: dict, exchanges: dict) -> dict[str, Estimate]:
        """Estimates of per-frame series, flagged where their shell barely exchanged."""
        out = {}
        for name, values in series.items():
            e = self._estimate(values)
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
            count = int(per_ion.sum())
            out[name] = ExchangeCount(
                entering=int(entering.sum()),
                leaving=int(leaving.sum()),
                total=count,
                per_ion=per_ion,
                per_ion_mean=count / max(n_c, 1),
                per_ns=count / span_ns if span_ns > 0 else float("nan"),
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


def _distribution(counter: Counter, n: int) -> dict[int, float]:
    """{value: fraction} of a Counter of integer values over ``n`` samples."""
    return {int(k): c / n for k, c in sorted(counter.items())} if n else {}


def _fractions(counter: Counter) -> dict:
    n = sum(counter.values())
    return {k: v / n for k, v in sorted(counter.items())} if n else {}


class ShellsWithCutoffs(SolvationShells):
    """``SolvationShells`` whose missing radii come from the centre-site g(r) of the same
    pass by the one first-shell definition (module docstring, ``analysis.cutoffs``);
    ``results.rdf`` holds those g(r), one pair per site.

    Parameters
    ----------
    universe, center, shells
        As for ``SolvationShells``.
    cutoffs : dict of str to float or dict
        Name -> first-shell radius (A, or {element: A}); shells without one are found.
    pairing : "auto", dict or None
        "auto" (default): every shell but the solvent whose radius is found gets
        second-shell radii from its g(r); or shell name -> second-shell radius (A), or
        None to find it; None or {}: no pairing classes.
    solvent : str, optional
        The shell whose radii are the reference of the others; default "water" when
        there is one, else the shell with the most molecules.
    rmax : float
        Range of the g(r) (A).
    nbins : int
        Bins of the g(r).
    fallback : float, optional
        Solvent radius (A) where its g(r) has no clear minimum; None raises
        NoMinimumError.
    **kwargs
        ``count``, ``residence``, ``max_first_shell`` and ``Analysis`` options, passed to
        ``SolvationShells``.
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
        cutoffs: dict,
        pairing="auto",
        solvent: str | None = None,
        rmax: float = 8.0,
        nbins: int = 320,
        fallback: float | None = None,
        **kwargs,
    ):
        super().__init__(universe, center, shells, None, **kwargs)
        check_rmax(universe, rmax, "the centre-shell g(r)")
        self.edges = np.linspace(0.0, rmax, nbins + 1)
        self.fallback = fallback
        self.solvent = _solvent_of(universe, self.shells, solvent)
        self._given = dict(cutoffs)
        self._want_second = _pairing_wanted(pairing, self.shells, self._given, self.solvent)
        self._given_second = {
            k: v for k, v in (pairing if isinstance(pairing, dict) else {}).items() if v is not None
        }
        self.need = [k for k in self.shells if k not in self._given or k in self._want_second]
        # provisional radii: every pair of the search is kept until the end
        provisional = {k: self._given.get(k, 0.0) for k in self.shells}
        self._set_radii(provisional, {})
        self.pairing = {k: dict.fromkeys(self.sites[k], rmax) for k in self._paired()}
        self._extra = 0

    def _paired(self) -> list[str]:
        return [*self._want_second, *self._given_second]

    def _search_radii(self) -> dict[str, float]:
        out = {}
        for k in self.shells:
            if k in self.need:
                out[k] = float(self.edges[-1])
                continue
            radii = [*_per_site(self._given[k], self.sites[k], k).values()]
            if k in self._given_second:
                radii += _per_site(self._given_second[k], self.sites[k], k).values()
            out[k] = max(radii)
        return out

    def _prepare(self):
        super()._prepare()
        mol = molecule_ids(self.universe)
        self._histograms = {}
        for k in self.need:
            group = self.shells[k]
            for i, el in enumerate(self.sites[k]):
                atoms = group.indices[self._site_of[k] == i]
                n_pairs = pair_count(self.center.indices, atoms, mol, True)
                want = k != self.solvent  # only the solvent's radius is cut early
                self._histograms[(k, el)] = CutoffHistogram(self.edges, n_pairs, want, None)
        self._kept = []

    def _keep(self) -> dict[str, float]:
        """How far out (A) each shell's pairs are kept: its given radius, the solvent's
        provisional radius + margin after the warm-up, everything searched otherwise."""
        out = self._search_radii()
        if self.solvent in self.need and self.solvent not in self._want_second:
            keeps = [self._histograms[(self.solvent, e)].keep for e in self.sites[self.solvent]]
            out[self.solvent] = min(out[self.solvent], max(keeps))
        return out

    def _single_frame(self):
        pairs = self._frame_pairs(self._search_radii())
        shrunk = False
        for k in self.need:
            ci, sj, d = pairs[k]
            site = self._site_of[k][sj]
            for i, el in enumerate(self.sites[k]):
                shrunk |= self._histograms[(k, el)].add(d[site == i], self._ts.volume)
        if shrunk:  # the warm-up gave a provisional radius: drop what lies beyond
            keep = self._keep()
            for frame in self._kept:
                frame.pairs = {
                    k: tuple(x[d <= keep[k]] for x in (ci, sj, d))
                    for k, (ci, sj, d) in frame.pairs.items()
                }
        self._kept.append(self._frame(pairs, self._keep()))

    def _site_radii(self) -> dict[tuple[str, str], SiteCutoff]:
        """Every found site's radii: the solvent's first, then the others against them."""
        r = 0.5 * (self.edges[1:] + self.edges[:-1])
        found = {}
        if self.solvent in self._given:
            solvent = _per_site(self._given[self.solvent], self.sites[self.solvent], "solvent")
        elif self.solvent is not None:
            for el in self.sites[self.solvent]:
                g = self._histograms[(self.solvent, el)].g_r
                found[(self.solvent, el)] = solvent_site(r, g, self.fallback)
            solvent = {
                el: found[(self.solvent, el)].first_angstrom for el in self.sites[self.solvent]
            }
        for (k, el), hist in self._histograms.items():
            if k == self.solvent:
                continue
            if self.solvent is None:  # no reference: each shell is its own solvent
                first, second, text = auto_cutoffs(r, hist.g_r, True, self.fallback)
                found[(k, el)] = SiteCutoff(first, second, text)
                continue
            ref, text = reference_radius(el, solvent)
            found[(k, el)] = ligand_site(r, hist.g_r, ref, text, k in self._want_second)
        return found

    def _final_radii(self) -> tuple[dict, dict]:
        """First- and second-shell radii (A, per shell and site) of the whole pass."""
        found = self._site_radii()
        cutoffs, pairing = {}, {}
        for k in self.shells:
            if k in self._given:
                cutoffs[k] = _per_site(self._given[k], self.sites[k], k)
                self.source[k] = "given"
            else:
                cutoffs[k] = {el: found[(k, el)].first_angstrom for el in self.sites[k]}
                self.source[k] = _source_text({el: found[(k, el)].source for el in self.sites[k]})
            if k in self._given_second:
                pairing[k] = _per_site(self._given_second[k], self.sites[k], f"pairing {k!r}")
            elif k in self._want_second:
                pairing[k] = {
                    el: max(_second(found, k, el, cutoffs[k][el]), cutoffs[k][el] + 0.1)
                    for el in self.sites[k]
                }
        return cutoffs, pairing

    def _conclude(self):
        keep = self._keep()
        cutoffs, pairing = self._final_radii()
        self._set_radii(cutoffs, pairing)
        kept = all(max(cutoffs[k].values()) <= keep[k] for k in self.shells)
        if kept:
            for frame in self._kept:
                self._tally(frame)
        else:
            self._second_pass()
        super()._conclude()
        self.results.rdf = self._rdf()

    def _second_pass(self) -> None:
        """Count again with the final radii: g(r) moved past what the pass kept."""
        logger.info("shell cutoffs moved past the kept pairs; counting in a second pass")
        again = SolvationShells(
            self.universe,
            self.center_sel,
            self._selections,
            self.cutoffs,
            count=self.count,
            pairing=self.pairing,
            residence=self.residence,
            max_first_shell=self.max_first_shell,
        ).run(frames=self.frames)
        for name in SolvationShells._accumulators:
            setattr(self, name, getattr(again, name))
        self._extra = again.n_frames

    def extra_frames_read(self) -> int:
        """Frames read beyond the analysed ones (0: one pass)."""
        return self._extra

    def _rdf(self) -> RDFResult:
        """The centre-site g(r) the radii were found from (pair name: the shell, or
        'shell:element' for shells with several sites)."""
        pairs = {}
        for (k, el), h in self._histograms.items():
            label = k if len(self.sites[k]) == 1 else f"{k}:{el}"
            atoms = self.shells[k][self._site_of[k] == self.sites[k].index(el)]
            selection = self._selections[k] if label == k else f"{self._selections[k]} [{el}]"
            pairs[label] = pair_rdf(
                (self.center_sel, selection),
                (self.center, atoms),
                h.n_pairs,
                h.weighted,
                h.raw,
                self.n_frames,
                self.edges,
            )
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        volume = next(iter(self._histograms.values())).volume / max(self.n_frames, 1)
        return RDFResult(self.edges, centres, self.n_frames, True, pairs, volume)


def _second(found: dict, k: str, el: str, first: float) -> float:
    """The found second-shell radius of a site (A), else the first + the offset."""
    site = found.get((k, el))
    if site is None or site.second_angstrom is None:
        return first + PAIRING_OFFSET_ANGSTROM
    return site.second_angstrom


def _solvent_of(universe, shells: dict, solvent: str | None) -> str | None:
    """The solvent shell: ``solvent`` when given, "water" when there is one, else the
    shell with the most molecules."""
    if solvent is not None:
        if solvent not in shells:
            raise InputError(f"solvent {solvent!r} is not one of the shells {sorted(shells)}")
        return solvent
    if DEFAULT_SOLVENT in shells:
        return DEFAULT_SOLVENT
    mol = molecule_ids(universe)
    sizes = {k: len(np.unique(mol[g.indices])) for k, g in shells.items()}
    return max(sizes, key=sizes.get) if sizes else None


def _pairing_wanted(pairing, shells: dict, given: dict, solvent: str | None) -> list[str]:
    """Shells whose second-shell radii are found: "auto" every shell but the solvent
    whose first radius is found; a dict its entries whose value is None."""
    if pairing == "auto":
        return [k for k in shells if k != solvent and k not in given]
    pairing = dict(pairing or {})
    unknown = set(pairing) - set(shells)
    if unknown:
        raise InputError(f"pairing names shells that do not exist: {sorted(unknown)}")
    return [k for k, v in pairing.items() if v is None]


def _source_text(per_site: dict[str, str]) -> str:
    """One shell's radius sources: the text, or 'O: ...; N: ...' for several sites."""
    if len(per_site) == 1:
        return next(iter(per_site.values()))
    return "; ".join(f"{el}: {text}" for el, text in per_site.items())


def solvation_shells(
    universe,
    center: str,
    shells: dict[str, str],
    cutoffs: dict | None = None,
    pairing="auto",
    rmax: float = 8.0,
    nbins: int = 320,
    count: str = "molecules",
    residence: bool = True,
    fallback: float | None = None,
    solvent: str | None = None,
    max_first_shell="auto",
    discard=0,
    start=None,
    stop=None,
    step=None,
    verbose=False,
):
    """Shell analysis with the one first-shell definition where radii are not given.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center, shells, count, residence, max_first_shell
        As for ``SolvationShells``.
    cutoffs : dict of str to float or dict, optional
        Name -> first-shell radius (A, or {element: A}); the missing ones are found from
        the centre-site g(r) (``rmax`` A, ``nbins`` bins) accumulated in the same pass
        that counts the shells (``ShellsWithCutoffs``).
    pairing : "auto", dict or None
        Second-shell radii for ion-pairing classes: "auto" (default) for every shell but
        the solvent whose radius is found; a dict of shell -> A (None: found); None: none.
    rmax : float
        Range of the g(r) (A).
    nbins : int
        Bins of the g(r).
    fallback : float, optional
        Solvent radius (A) where its g(r) has no clear minimum; None raises
        NoMinimumError instead.
    solvent : str, optional
        The reference shell (default "water", else the most abundant).
    discard : int or "auto"
        Leading frames left out of the means (0: none; "auto": the transient detected
        per quantity).
    start, stop, step : int, optional
        Frame range.
    verbose : bool
        Show a progress bar.

    Returns
    -------
    tuple of (SolvationResult, RDFResult or None)
        ``SolvationResult.cutoff_source`` says where each radius came from.
    """
    universe = as_universe(universe)  # an mdtraj Trajectory converted once
    options = {
        "count": count,
        "residence": residence,
        "fallback": fallback,
        "solvent": solvent,
        "max_first_shell": max_first_shell,
        "discard": discard,
    }
    analysis = shells_analysis(
        universe, center, shells, cutoffs, pairing, rmax=rmax, nbins=nbins, **options
    )
    return shells_result(analysis.run(start, stop, step, verbose=verbose))


def shells_result(analysis: SolvationShells) -> tuple[SolvationResult, RDFResult | None]:
    """(SolvationResult, RDFResult or None) of a finished ``shells_analysis``.

    Parameters
    ----------
    analysis : SolvationShells
        A finished ``shells_analysis``.
    """
    return analysis.results.solvation, analysis.results.get("rdf")


def shells_analysis(
    universe,
    center: str,
    shells: dict[str, str],
    cutoffs: dict | None = None,
    pairing="auto",
    **options,
) -> SolvationShells:
    """The analysis ``solvation_shells`` runs (not yet run): ``SolvationShells`` when
    every radius is given, else ``ShellsWithCutoffs``; for ``analysis.one_pass``.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    center : str
        Selection of the centres.
    shells : dict of str to str
        Selection of each shell species, by name.
    cutoffs : dict, optional
        First-shell radii (A) by shell name; the missing ones are found from g(r).
    pairing : "auto", dict or None
        As for ``solvation_shells``.
    **options
        rmax (A), nbins, count, residence, fallback (A), solvent, max_first_shell,
        discard.
    """
    cutoffs = dict(cutoffs or {})
    fixed = isinstance(pairing, dict) and all(v is not None for v in pairing.values())
    if all(k in cutoffs for k in shells) and (pairing in (None, "auto") or fixed):
        kept = ("count", "residence", "max_first_shell", "discard")
        given_pairing = pairing if fixed else None
        return SolvationShells(
            universe,
            center,
            shells,
            cutoffs,
            pairing=given_pairing,
            **{k: v for k, v in options.items() if k in kept},
        )
    return ShellsWithCutoffs(universe, center, shells, cutoffs, pairing=pairing, **options)
