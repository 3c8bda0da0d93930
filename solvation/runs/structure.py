"""Structure of a run: the Zn2+ shells of every shell species (cutoffs from g(r), a 3 A
fallback where g(r) has no minimum, said in ``cutoff_source``; ion pairing against the
second shell) and the water H-bond network, with the selections of ``build.json``."""

from __future__ import annotations

from dataclasses import dataclass

from solvation.analysis.coordination import (
    FALLBACK_CUTOFF_ANGSTROM,
    SolvationResult,
    SolvationShells,
    shells_analysis,
    shells_result,
)
from solvation.analysis.hbonds import HBondResult, HydrogenBonds
from solvation.analysis.rdf import RDFResult
from solvation.rundir import BuildInfo

from .selections import RunSelections, run_selections


@dataclass(frozen=True)
class ShellsOfRun:
    """Shell statistics of a run's Zn2+ and the g(r) their cutoffs came from.

    Attributes
    ----------
    selections : RunSelections
    result : SolvationResult or None
        None when the box holds no Zn2+.
    rdf : RDFResult or None
        The g(r) the cutoffs were found from.
    """

    selections: RunSelections
    result: SolvationResult | None
    rdf: RDFResult | None


def shells_analysis_of_run(
    universe, build: BuildInfo, residence: bool, **options
) -> SolvationShells | None:
    """The shell analysis ``shells_of_run`` runs, not yet run (None without Zn2+).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    residence : bool
        Compute residence-time correlations.
    **options
        cutoffs, pairing, count, discard (as ``shells_of_run``).
    """
    sel = run_selections(build)
    if sel.centre is None:
        return None
    return shells_analysis(
        universe,
        sel.centre,
        sel.shells,
        options.pop("cutoffs", None),
        options.pop("pairing", "auto"),
        residence=residence,
        fallback=FALLBACK_CUTOFF_ANGSTROM,
        solvent="water",
        **options,
    )


def shells_of_analysis(analysis: SolvationShells | None, build: BuildInfo) -> ShellsOfRun:
    """The ``ShellsOfRun`` of a finished ``shells_analysis_of_run`` (None: no Zn2+).

    Parameters
    ----------
    analysis : SolvationShells or None
        The analysis, after its pass over the frames.
    build : BuildInfo
        The run's ``build.json`` record.
    """
    if analysis is None:
        return ShellsOfRun(run_selections(build), None, None)
    return ShellsOfRun(run_selections(build), *shells_result(analysis))


def shells_of_run(
    universe,
    build: BuildInfo,
    residence: bool = True,
    verbose: bool = False,
    cutoffs: dict | None = None,
    pairing="auto",
    count: str = "molecules",
    discard=0,
    **frames,
) -> ShellsOfRun:
    """Zn2+ shells of every shell species of ``build`` by the one first-shell definition
    (``analysis.coordination``): the water radius from its g(r) (3 A fallback), every
    other species' radius from its contact peak or the water's, pairing classes of every
    species but water against its second shell; the total first shell checked against
    Zn2+'s chemistry. The command line, campaigns, validation and figures all call this.
    ``result`` is None when the box holds no Zn2+.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    residence : bool
        Compute residence-time correlations.
    verbose : bool
        Show a progress bar.
    cutoffs : dict, optional
        First-shell radii (A) given by the user, by shell name.
    pairing : "auto" or dict
        Second-shell radii: "auto" (found for every non-water species) or shell -> A.
    count : str
        "molecules" or "atoms".
    discard : int or "auto"
        Leading frames left out of the means.
    **frames
        start, stop, step (frame indices).
    """
    analysis = shells_analysis_of_run(
        universe, build, residence, cutoffs=cutoffs, pairing=pairing, count=count, discard=discard
    )
    if analysis is not None:
        analysis.run(verbose=verbose, **frames)
    return shells_of_analysis(analysis, build)


def hbonds_analysis_of_run(universe, build: BuildInfo, **options) -> HydrogenBonds:
    """The H-bond analysis ``hbonds_of_run`` runs, not yet run.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    **options
        ``HydrogenBonds``'s criterion, cation_cutoff, lifetimes, discard.
    """
    sel = run_selections(build)
    groups = {k: v for k, v in sel.molecules.items() if k in sel.shells and k != "water"}
    water = sel.molecules.get("water", "resname HOH")
    return HydrogenBonds(
        universe, water, groups, cations=sel.centre, fallback=FALLBACK_CUTOFF_ANGSTROM, **options
    )


def hbonds_of_run(
    universe, build: BuildInfo, verbose: bool = False, options: dict | None = None, **frames
) -> HBondResult:
    """Water H-bond network of a run, with every shell species as an H-bonding group and
    the Zn2+-water cutoff from g(r) (3 A fallback): ``hbonds_per_water`` counts every
    partner, ``water_hbonds_per_water`` water-water bonds only. The command line and the
    campaigns both call this.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    verbose : bool
        Show a progress bar.
    options : dict, optional
        ``HydrogenBonds`` options: distance (A), angle (degrees), angle_definition,
        cation_cutoff (A), lifetimes, discard.
    **frames
        start, stop, step (frame indices).
    """
    analysis = hbonds_analysis_of_run(universe, build, **(options or {}))
    return analysis.run(verbose=verbose, **frames).results.hbonds
