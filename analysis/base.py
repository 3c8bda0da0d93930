"""The analysis lifecycle shared by every analysis: MDAnalysis' ``AnalysisBase``
(``_prepare`` / ``_single_frame`` / ``_conclude``, ``run(start, stop, step)``) with one
result convention: ``_conclude`` stores a frozen result dataclass (``to_dict()``,
``to_frame()`` where tabular) at ``results.<result_name>``, and ``.result`` returns it
for every analysis alike.

Shared guards: every analysis accepts an MDAnalysis Universe or an mdtraj Trajectory as
its first argument (``universe.as_universe``); a frame range that selects no frame is an
InputError before any work; progress bars are drawn only on a terminal
(``solvation.console.show_progress``), never into log files.
"""

from __future__ import annotations

import functools

from MDAnalysis import Universe
from MDAnalysis.analysis.base import AnalysisBase

from solvation.console import show_progress

from .universe import InputError, as_universe


def _converted(obj):
    """A Universe or an mdtraj Trajectory through ``as_universe``; anything else (an
    analysis whose first argument is not a trajectory) unchanged."""
    if isinstance(obj, Universe) or type(obj).__module__.startswith("mdtraj"):
        return as_universe(obj)
    return obj


class Analysis(AnalysisBase):
    """``AnalysisBase`` whose ``result`` property returns ``results.<result_name>``."""

    result_name: str = ""

    def __init_subclass__(cls, **kwargs):
        """Every subclass's ``__init__`` receives its first argument as a Universe."""
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return

        @functools.wraps(init)
        def __init__(self, universe, *args, **kw):
            init(self, _converted(universe), *args, **kw)

        cls.__init__ = __init__

    @property
    def result(self):
        """The result dataclass of the last ``run()``."""
        if self.result_name not in self.results:
            raise AttributeError(f"{type(self).__name__} has no result yet; call .run() first")
        return self.results[self.result_name]

    def run(self, start=None, stop=None, step=None, frames=None, verbose=None, **kwargs):
        """``AnalysisBase.run``; the progress bar only on a terminal."""
        verbose = bool(self._verbose if verbose is None else verbose) and show_progress()
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
