"""Shells, H-bonds and transport of a run in one pass over its trajectory
(``solvation.analysis.one_pass``), with the frames read: what a campaign job computes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solvation.analysis.base import frames_read, one_pass
from solvation.analysis.hbonds import HBondResult
from solvation.rundir import BuildInfo

from .structure import (
    ShellsOfRun,
    hbonds_analysis_of_run,
    shells_analysis_of_run,
    shells_of_analysis,
)
from .transport import TransportOfRun, transport_analysis_of_run, transport_of_analysis


@dataclass(frozen=True)
class AnalysesOfRun:
    """What ``analyses_of_run`` computed (None: not asked for) and the frames it read.

    Attributes
    ----------
    shells : ShellsOfRun or None
    hbonds : HBondResult or None
    transport : TransportOfRun or None
    frames_read : int
        Frames read, including any second pass.
    """

    shells: ShellsOfRun | None
    hbonds: HBondResult | None
    transport: TransportOfRun | None
    frames_read: int


def analyses_of_run(
    universe,
    build: BuildInfo,
    which: tuple[str, ...] = ("structure", "hbonds", "transport"),
    temperature_k: float = 298.15,
    charges: np.ndarray | None = None,
    verbose: bool = False,
    directory: str | Path | None = None,
) -> AnalysesOfRun:
    """``shells_of_run`` ("structure"), ``hbonds_of_run`` ("hbonds") and
    ``transport_of_run`` ("transport") of every frame, in one pass over the trajectory;
    the results equal those of separate runs (``directory``: the run, for the viscosity
    of the Yeh-Hummer correction).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    which : tuple of str
        Among "structure", "hbonds", "transport".
    temperature_k : float
        Temperature (K) for the transport.
    charges : numpy.ndarray, optional
        Per-atom charges (e) for the conductivity.
    verbose : bool
        Show a progress bar.
    directory : str or Path, optional
        The run directory.
    """
    shells = shells_analysis_of_run(universe, build, True) if "structure" in which else None
    hbonds = hbonds_analysis_of_run(universe, build) if "hbonds" in which else None
    transport = None
    if "transport" in which:
        transport = transport_analysis_of_run(universe, build, temperature_k, charges, directory)
    todo = [a for a in (shells, hbonds, transport) if a is not None]
    one_pass(todo, verbose=verbose)
    return AnalysesOfRun(
        shells_of_analysis(shells, build) if "structure" in which else None,
        hbonds.results.hbonds if hbonds is not None else None,
        transport_of_analysis(transport) if transport is not None else None,
        frames_read(todo) if todo else 0,
    )
