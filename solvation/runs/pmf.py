"""Free-energy profiles of a PMF directory (``solvation pmf``): the ion's PMF and water
count along its height above a slab, or a pair PMF W(r) with its CIP/SSIP states and
association constants (``--pair``); one pass over each umbrella window, then MBAR."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from solvation.analysis.pair_pmf import (
    DEFAULT_BOOTSTRAP,
    PairModel,
    PairPMFResult,
    PairSeries,
    pair_pmf_result,
)
from solvation.analysis.pmf import PMFResult, WindowSeries, pmf_result
from solvation.analysis.universe import InputError, load_universe
from solvation.forcefields import METAL_RESNAME, UnknownName, water_dielectric
from solvation.rundir import (
    UmbrellaInfo,
    read_build,
    read_umbrella,
    read_window,
    run_complete,
)

from .selections import run_selections


def pmf_of_directory(
    path: str | Path,
    shell_cutoff_angstrom: float | None = None,
    bin_width_nm: float | None = None,
    verbose: bool = False,
) -> PMFResult | PairPMFResult:
    """PMF of the ion along its height above the slab from a PMF directory (its
    ``umbrella.json`` and window run directories): one pass over each window's
    trajectory, then MBAR. Defaults: the directory's shell cutoff; bins of a quarter of
    the window spacing. A pair PMF directory gives ``pair_pmf_of_directory``.

    Parameters
    ----------
    path : str or Path
        A PMF directory.
    shell_cutoff_angstrom : float, optional
        First-shell cutoff of the water count (A).
    bin_width_nm : float, optional
        Histogram bin width (nm).
    verbose : bool
        Show a progress bar.
    """
    path = Path(path)
    setup = read_umbrella(path)
    if setup.coordinate == "distance":
        return pair_pmf_of_directory(path, shell_cutoff_angstrom, bin_width_nm, verbose=verbose)
    cutoff = shell_cutoff_angstrom or setup.shell_cutoff_angstrom
    series, force_constants = [], []
    for name in setup.windows:
        window = path / name
        info = read_window(window)
        universe = load_universe(window)
        water = run_selections(read_build(window)).shells["water"]
        analysis = WindowSeries(
            universe,
            info.ion_index,
            f"resname {METAL_RESNAME}",
            water,
            cutoff,
            info.restraint_z_nm,
            verbose=verbose,
        )
        series.append(analysis.run().results.series)
        force_constants.append(info.force_constant_kj_mol_nm2)
    return pmf_result(
        series,
        force_constants,
        setup.temperature_k,
        bin_width_nm or setup.spacing_nm / 4.0,
        setup.ion_species,
        cutoff,
    )


def pair_model(setup, path: Path | None = None) -> PairModel:
    """The model facts a pair PMF's analysis needs, from its ``umbrella.json``.

    Parameters
    ----------
    setup : UmbrellaInfo
        A pair PMF's record.
    path : Path, optional
        The PMF directory: the quoted uncertainty of eps_r is looked up for its water.
    """
    err = 0.0
    if path is not None:
        try:
            err = water_dielectric(read_build(path / setup.windows[0]).water_model).err_eps
        except UnknownName:  # a water model without a published eps_r
            err = 0.0
    return PairModel(
        cation=setup.ion_species,
        partner=setup.partner_species,
        charges_e=tuple(setup.charges_e),
        dielectric=setup.dielectric,
        boundary_nm=setup.boundary_nm,
        temperature_k=setup.temperature_k,
        dielectric_source=setup.dielectric_source or "",
        boundary_source=setup.boundary_source or "",
        partner_atom=setup.partner_atom or "",
        dielectric_err=err,
    )


def pair_pmf_of_directory(
    path: str | Path,
    shell_cutoff_angstrom: float | None = None,
    bin_width_nm: float | None = None,
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    verbose: bool = False,
    finished_only: bool = False,
    also: tuple[str | Path, ...] = (),
) -> PairPMFResult:
    """Pair PMF W(r), states and association constants of a pair PMF directory
    (``solvation pmf --pair``): one pass over each window's trajectory, then MBAR with the
    Jacobian removed and the tail matched to the Coulomb law in the model's eps_r.

    Parameters
    ----------
    path : str or Path
        A pair PMF directory.
    shell_cutoff_angstrom : float, optional
        First-shell cutoff of the cation (A); default the directory's.
    bin_width_nm : float, optional
        Histogram bin width (nm); default half the smallest window spacing (windows of
        few uncorrelated samples leave finer bins empty).
    n_bootstrap : int
        Bootstrap resamples for the errors.
    verbose : bool
        Show a progress bar.
    finished_only : bool
        Use only the windows whose production has finished (a PMF still running); the
        result then says how many windows it holds and is not converged.
    also : tuple of str or Path
        Further pair PMF directories of the same pair from the same parent run (windows
        added where the first set was pushed off its centres, e.g. stiffer inner
        windows): their windows join the same MBAR; the model (charges, eps_r, K_A
        boundary) is ``path``'s.

    Raises
    ------
    InputError
        When a directory of ``also`` is not a pair PMF of the same pair and parent run,
        or is given twice.
    """
    path = Path(path)
    setup = read_umbrella(path)
    sets = [(path, setup), *((Path(p), read_umbrella(p)) for p in also)]
    _check_same_pair(sets)
    cutoff = shell_cutoff_angstrom or setup.shell_cutoff_angstrom
    windows = [directory / name for directory, s in sets for name in s.windows]
    if finished_only:
        windows = [w for w in windows if run_complete(w)]
        if len(windows) < 2:
            raise InputError(f"{path}: fewer than two windows have finished")
    series, centres, force_constants = [], [], []
    for window in windows:
        info = read_window(window)
        water = run_selections(read_build(window)).shells["water"]
        analysis = PairSeries(
            load_universe(window),
            info.ion_index,
            info.partner_index,
            water,
            cutoff,
            setup.partner_acceptors,
            verbose=verbose,
        )
        series.append(analysis.run().result)
        centres.append(info.centre_nm)
        force_constants.append(info.force_constant_kj_mol_nm2)
    width = bin_width_nm or min(s.spacing_nm for _, s in sets) / 2.0
    result = pair_pmf_result(
        series, centres, force_constants, pair_model(setup, path), width, cutoff, n_bootstrap
    )
    total = sum(len(s.windows) for _, s in sets)
    if len(windows) < total:
        note = f"only {len(windows)} of {total} windows have finished"
        result = replace(result, warnings=[note, *result.warnings], converged=False)
    return result


def _check_same_pair(sets: list[tuple[Path, UmbrellaInfo]]) -> None:
    """Refuse PMF directories that cannot share one MBAR: not a pair PMF, given twice,
    or another pair, parent run or temperature than the first's."""
    first_path, first = sets[0]
    seen = {first_path.resolve()}
    for directory, s in sets[1:]:
        if s.coordinate != "distance":
            raise InputError(f"{directory} is not a pair PMF (solvation pmf --pair)")
        if directory.resolve() in seen:
            raise InputError(f"{directory} is given twice: give each PMF directory once")
        seen.add(directory.resolve())
        ours = (Path(s.parent).resolve(), s.ion_index, s.partner_index, s.temperature_k)
        theirs = (Path(first.parent).resolve(), first.ion_index, first.partner_index,
                  first.temperature_k)  # fmt: skip
        if ours != theirs:
            raise InputError(
                f"{directory} is a PMF of atoms {s.ion_index}-{s.partner_index} from "
                f"{s.parent} at {s.temperature_k} K, {first_path} of atoms "
                f"{first.ion_index}-{first.partner_index} from {first.parent} at "
                f"{first.temperature_k} K: only windows of the same pair from the same "
                "parent run share one MBAR; make the added windows with `solvation pmf "
                "PARENT --pair ... -o NEW` on the parent run"
            )
