"""The analysis lifecycle shared by every analysis: MDAnalysis' ``AnalysisBase``
(``_prepare`` / ``_single_frame`` / ``_conclude``, ``run(start, stop, step)``) with one
result convention: ``_conclude`` stores a frozen result dataclass (``to_dict()``,
``to_frame()`` where tabular) at ``results.<result_name>``, as MDAnalysis does. The
``.result`` property returns the same object but is deprecated (one way to reach a
result: ``.results``).

Shared guards: every analysis accepts an MDAnalysis Universe or an mdtraj Trajectory as
its first argument (``universe.as_universe``); a frame range that selects no frame is an
InputError before any work; progress bars are drawn only on a terminal
(``solvation.console.show_progress``), never into log files.

Parallel backends (MDAnalysis 2.8+ ``run(backend="multiprocessing" | "dask",
n_workers=N)``): an analysis whose per-frame state combines exactly names it in
``_accumulators`` (attribute -> merge function over the workers' values, in frame
order). Each worker runs ``_prepare`` and ``_single_frame`` on its share of the frames
and ships those attributes back in its results; the merge puts the combined values on
the analysis in this process, and ``_conclude`` runs once on them as after a serial run.
Analyses without accumulators stay serial-only.

Means: every analysis reduces its per-frame series with ``stats.estimate`` through
``_estimate``, over every analysed frame unless it was made with ``discard`` (a number
of leading frames, or "auto" for the transient detected per quantity).
``one_pass`` runs several analyses of one trajectory in a single loop over its frames
(MDAnalysis 2.11 has no ``AnalysisCollection``; this is its equivalent for our analyses),
and builds one ``neighbors.NeighborQuery`` per frame that every analysis of the pass asks
for its pairs (``Analysis.neighbours``), searched once for the largest cutoff requested
(each analysis' ``_neighbour_requests``); an analysis run on its own builds its own.
"""

from __future__ import annotations

import functools
import operator
import warnings
from collections.abc import Callable

from MDAnalysis import Universe
from MDAnalysis.analysis.base import AnalysisBase
from MDAnalysis.analysis.results import ResultsGroup
from MDAnalysis.lib.log import ProgressBar

from solvation.console import show_progress

from .neighbors import NeighborQuery, plan
from .stats import Estimate, estimate
from .universe import InputError, as_universe

SHIPPED = "_accumulated_"  # prefix of the keys that carry accumulators out of a worker


def total(values: list):
    """Merge by addition: numbers, arrays, Counters, and dicts of those (key by key);
    None stays None.

    Parameters
    ----------
    values : list
        One partial result per chunk of frames.
    """
    if values[0] is None:
        return None
    if isinstance(values[0], dict) and not hasattr(values[0], "most_common"):
        return {k: total([v[k] for v in values]) for k in values[0]}
    return functools.reduce(operator.add, values)


def concatenate(values: list):
    """Merge per-frame lists in frame order (dicts of lists key by key).

    Parameters
    ----------
    values : list
        One partial list (or dict of lists) per chunk of frames, in frame order.
    """
    if isinstance(values[0], dict):
        return {k: concatenate([v[k] for v in values]) for k in values[0]}
    return [item for part in values for item in part]


def smallest(values: list):
    """Merge by the minimum (dicts key by key).

    Parameters
    ----------
    values : list
        One partial result per chunk of frames.
    """
    if isinstance(values[0], dict):
        return {k: smallest([v[k] for v in values]) for k in values[0]}
    return min(values)


class _Restore(ResultsGroup):
    """Merges the workers' accumulators and puts them back on the analysis."""

    def __init__(self, owner: Analysis):
        lookup = {SHIPPED + name: merge for name, merge in owner._accumulators.items()}
        super().__init__(lookup)
        self.owner = owner

    def merge(self, objects, require_all_aggregators: bool = False):
        if len(objects) == 1 and objects[0] is self.owner.results:  # serial: in place
            for name in self.owner._accumulators:
                objects[0].pop(SHIPPED + name, None)
            return objects[0]
        merged = super().merge(objects, require_all_aggregators=False)
        self.owner._prepare()  # what _conclude needs besides the accumulators
        for name in self.owner._accumulators:
            setattr(self.owner, name, merged.pop(SHIPPED + name))
        return merged


def _converted(obj):
    """A Universe or an mdtraj Trajectory through ``as_universe``; anything else (an
    analysis whose first argument is not a trajectory) unchanged."""
    if isinstance(obj, Universe) or type(obj).__module__.startswith("mdtraj"):
        return as_universe(obj)
    return obj


class Analysis(AnalysisBase):
    """``AnalysisBase`` whose ``result`` property returns ``results.<result_name>``."""

    result_name: str = ""
    _accumulators: dict[str, Callable[[list], object]] = {}

    def __init_subclass__(cls, **kwargs):
        """Every subclass's ``__init__`` receives its first argument as a Universe, and
        takes ``discard`` (leading frames left out of the means, or "auto")."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def __init__(self, universe, *args, discard=0, **kw):
            if discard or "discard" not in self.__dict__:  # a subclass's super() call
                self.discard = _checked_discard(discard)  # keeps the outer value
            init(self, _converted(universe), *args, **kw)

        cls.__init__ = __init__

    discard: int | str = 0
    _query: tuple[int, NeighborQuery] | None = None  # (frame index, query) of this frame

    def neighbours(self) -> NeighborQuery:
        """The neighbour query of the current frame: the one ``one_pass`` shares, else one
        built for this analysis (once per frame, planned from ``_neighbour_requests``)."""
        if self._query is None or self._query[0] != self._frame_index:
            planned = plan(self._neighbour_requests())
            self._query = (self._frame_index, NeighborQuery.of_frame(self._ts, planned))
        return self._query[1]

    def _neighbour_requests(self) -> list[tuple]:
        """(a universe indices, b universe indices, cutoff A) of the pairs this analysis
        asks ``neighbours().pairs`` for per frame, after ``_prepare`` (none by default)."""
        return []

    def _estimate(self, series) -> Estimate:
        """``stats.estimate`` of a per-frame series with this analysis' ``discard``."""
        return estimate(series, equilibration=self.discard == "auto" or int(self.discard))

    @property
    def result(self):
        """Deprecated: the result dataclass of the last ``run()``; use
        ``results.<result_name>`` (MDAnalysis' convention)."""
        warnings.warn(
            f"{type(self).__name__}.result is deprecated and will be removed; use "
            f".results.{self.result_name} (the MDAnalysis convention)",
            DeprecationWarning,
            stacklevel=2,
        )
        if self.result_name not in self.results:
            raise AttributeError(f"{type(self).__name__} has no result yet; call .run() first")
        return self.results[self.result_name]

    def run(self, start=None, stop=None, step=None, frames=None, verbose=None, **kwargs):
        """``AnalysisBase.run``; the progress bar only on a terminal."""
        verbose = bool(self._verbose if verbose is None else verbose) and show_progress()
        self._query = None
        return super().run(start, stop, step, frames=frames, verbose=verbose, **kwargs)

    def _setup_frames(self, trajectory, start=None, stop=None, step=None, frames=None):
        super()._setup_frames(trajectory, start, stop, step, frames)
        if self.n_frames == 0:
            given = f"start={start}, stop={stop}, step={step}" if frames is None else "frames"
            raise InputError(
                f"the frame range ({given}) selects none of the {trajectory.n_frames} frames "
                f"of {getattr(trajectory, 'filename', 'the trajectory')}; frames are numbered "
                f"0-{trajectory.n_frames - 1}"
            )

    @classmethod
    def get_supported_backends(cls):
        """Backends ``run`` accepts: serial only unless the analysis declares accumulators."""
        return ("serial", "multiprocessing", "dask") if cls._accumulators else ("serial",)

    @property
    def _analysis_algorithm_is_parallelizable(self) -> bool:
        return bool(self._accumulators)

    def _compute(self, indexed_frames, verbose=None, *, progressbar_kwargs=None):
        super()._compute(indexed_frames, verbose, progressbar_kwargs=progressbar_kwargs)
        for name in self._accumulators:
            self.results[SHIPPED + name] = getattr(self, name)
        return self

    def _get_aggregator(self) -> ResultsGroup:
        return _Restore(self)

    def extra_frames_read(self) -> int:
        """Frames this analysis read beyond its own pass (a second pass it needed)."""
        return 0


def _checked_discard(discard) -> int | str:
    """``discard`` as given (0, a positive number of frames, or "auto"), else InputError."""
    if discard == "auto":
        return discard
    try:
        n = int(discard)
    except (TypeError, ValueError):
        n = -1
    if n < 0 or (isinstance(discard, float) and not float(discard).is_integer()):
        raise InputError(f"discard must be 'auto' or a number of frames >= 0, got {discard!r}")
    return n


def one_pass(analyses: list[Analysis], verbose: bool = False, **frames) -> list[Analysis]:
    """Run ``analyses`` (all on one trajectory) in one loop over its frames; ``frames``:
    start, stop, step. Each ends as after its own ``run()``; returns them.

    Parameters
    ----------
    analyses : list of Analysis
        Analyses of one trajectory, not yet run.
    verbose : bool
        Show a progress bar.
    **frames
        start, stop, step (frame indices).
    """
    if not analyses:
        return analyses
    lead = analyses[0]
    for a in analyses:
        if a._trajectory is not lead._trajectory:
            raise ValueError("one_pass needs analyses of one trajectory")
        a._setup_frames(a._trajectory, **frames)
        a._prepare()
    planned = plan([r for a in analyses for r in a._neighbour_requests()])
    bar = ProgressBar(lead._sliced_trajectory, verbose=verbose and show_progress())
    for idx, ts in enumerate(bar):
        query = (idx, NeighborQuery.of_frame(ts, planned))  # one per frame, for all
        for a in analyses:
            a._frame_index, a._ts, a._query = idx, ts, query
            a.frames[idx], a.times[idx] = ts.frame, ts.time
            a._single_frame()
    for a in analyses:
        a._query = None
        a._conclude()
    return analyses


def frames_read(analyses: list[Analysis]) -> int:
    """Frames read by a ``one_pass`` over ``analyses`` and any second pass they needed.

    Parameters
    ----------
    analyses : list of Analysis
        Analyses finished by ``one_pass``.
    """
    return int(analyses[0].n_frames + sum(a.extra_frames_read() for a in analyses))


__all__ = ["Analysis", "concatenate", "frames_read", "one_pass", "smallest", "total"]
