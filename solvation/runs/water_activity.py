"""Water activity of runs by the route their directories allow: osmotic pressure of a
run built with ``[osmotic]``, the Kirkwood-Buff series over several bulk runs of one salt,
or the free-water proxy (``solvation.analysis.water_activity``)."""

from __future__ import annotations

from pathlib import Path

from solvation.analysis import water_activity as wa
from solvation.analysis.hbonds import hydrogen_bonds
from solvation.analysis.universe import InputError, load_universe, species_charges
from solvation.rundir import read_build, temperature_of

from .selections import run_directory_charges

WATER_ACTIVITY_METHODS = ("auto", "osmotic", "kb", "free-water")


def osmotic_from_run(path, **frames) -> wa.WaterActivity:
    """The osmotic route on a run directory built with ``[osmotic]``.

    Parameters
    ----------
    path : str or Path
        A run directory built with ``[osmotic]``.
    **frames
        start, stop, step (frame indices).

    Raises
    ------
    InputError
        When the run has no osmotic walls.
    """
    walls = read_build(path).osmotic
    if walls is None:
        raise InputError(
            f"{path} was not built with an [osmotic] table (two compartments and walls); "
            "add one to the design, or use --method kb over a concentration series"
        )
    analysis = wa.OsmoticPressure(
        load_universe(path),
        tuple(walls.walls_nm),
        walls.force_constant_kj_mol_nm2,
        "resname " + " ".join(walls.confined_resnames),
        temperature_k=temperature_of(path),
    )
    return analysis.run(**frames).results.water_activity


def kb_from_run(path, **frames) -> wa.KBPoint:
    """Kirkwood-Buff point of a bulk run directory: every charged species of build.json is
    an ion (centre: its heaviest atom), water centres are its oxygens.

    Parameters
    ----------
    path : str or Path
        A bulk run directory.
    **frames
        start, stop, step (frame indices).

    Raises
    ------
    InputError
        When the run is not a homogeneous bulk box.
    """
    info = read_build(path)
    if info.slab is not None or info.osmotic is not None:
        raise InputError(f"{path} is not a homogeneous bulk box; KB integrals need one")
    universe = load_universe(path)
    resnames = {k: v for k, v in info.resnames.items() if k != "water"}
    water = info.resnames.get("water", "HOH")
    selections = {k: f"resname {v}" for k, v in resnames.items()}
    charges = species_charges(universe, selections, run_directory_charges(path))
    ions = {k: wa.centre_atoms(universe, resnames[k]) for k, z in charges.items() if z != 0}
    neutral = sorted(k for k, z in charges.items() if z == 0)
    if not ions or neutral:
        raise InputError(
            f"{path}: the KB route treats salt + water only (found ions {sorted(ions)}, "
            f"neutral solutes {neutral}); use --method osmotic for other mixtures"
        )
    return wa.kirkwood_buff(universe, ions, f"resname {water} and name O*", **frames)


def water_activity_method(paths: list[Path], method: str = "auto") -> str:
    """The route for ``paths``: osmotic for an [osmotic] run, kb for several runs.

    Parameters
    ----------
    paths : list of Path
        Run directories.
    method : str
        "auto", or one of ``WATER_ACTIVITY_METHODS`` to check.
    """
    if method not in WATER_ACTIVITY_METHODS:
        raise InputError(f"method must be one of {', '.join(WATER_ACTIVITY_METHODS)}")
    if method == "auto":
        osmotic = paths[0].is_dir() and read_build(paths[0]).osmotic is not None
        method = "osmotic" if osmotic else "kb" if len(paths) > 1 else ""
        if not method:
            raise InputError(
                "one run without [osmotic]: give --method free-water for the proxy, or "
                "several runs of one salt at different molalities for --method kb"
            )
    if method in ("osmotic", "free-water") and len(paths) > 1 and paths[1].is_dir():
        raise InputError(f"--method {method} takes one run directory")
    return method


def water_activity_of_runs(
    paths: list[Path], method: str = "auto", **frames
) -> list[wa.WaterActivity]:
    """Water activity by the route ``water_activity_method`` picks: one result for the
    osmotic route and the free-water proxy, one per molality for a KB series.

    Parameters
    ----------
    paths : list of Path
        Run directories.
    method : str
        "auto" or a route of ``WATER_ACTIVITY_METHODS``.
    **frames
        start, stop, step (frame indices).
    """
    method = water_activity_method(paths, method)
    if method == "osmotic":
        return [osmotic_from_run(paths[0], **frames)]
    if method == "kb":
        return wa.gibbs_duhem([kb_from_run(p, **frames) for p in paths])
    universe = load_universe(paths[0], *paths[1:])
    hb = hydrogen_bonds(universe, **frames)
    return [wa.free_water_proxy(hb.free_water_fraction)]
