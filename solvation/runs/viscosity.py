"""The viscosity of a run: eta of its periodic-perturbation run (``solvation run DIR
--viscosity``, analysed by ``solvation.analysis.viscosity``), and the viscosity the
Yeh-Hummer correction of its diffusion uses (``yeh_hummer_viscosity``): a value the user
gives, else the run's own measured viscosity (converged), else, for a box of pure water
only, the published viscosity of its water model (``solvation.forcefields.water_viscosity``),
else none: D is then reported uncorrected and says so. A pure-water viscosity is never
used for a solution: at 2 m the correction it gives can exceed the D it corrects."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from solvation.analysis.universe import InputError
from solvation.analysis.viscosity import ViscosityResult, viscosity_from_amplitudes
from solvation.forcefields import water_viscosity
from solvation.rundir import (
    VISCOSITY_CSV,
    VISCOSITY_DIR,
    RunDir,
    has_viscosity,
    read_build,
    read_viscosity,
)


def viscosity_of_run(directory: str | Path) -> ViscosityResult:
    """eta of a run directory's periodic-perturbation run (``viscosity/``).

    Parameters
    ----------
    directory : str or Path
        A run directory with a finished ``viscosity/`` run.

    Raises
    ------
    RunDirError
        When the viscosity run is missing.
    """
    info = read_viscosity(directory)
    table = pd.read_csv(Path(directory) / VISCOSITY_DIR / VISCOSITY_CSV)
    if len(table) < 2:
        raise InputError(
            f"{directory}/{VISCOSITY_DIR} holds {len(table)} flow samples; run "
            "`solvation run DIR --viscosity` to the end first"
        )
    return viscosity_from_amplitudes(
        table["V_nm_per_ps"].to_numpy(),
        info.acceleration_nm_per_ps2,
        info.density_kg_per_m3,
        info.box_nm[2],
        info.report_steps * info.timestep_fs / 1000.0,
    )


def yeh_hummer_viscosity(
    given_pa_s: float | None, run_directory: str | Path | None
) -> tuple[float | None, str]:
    """(viscosity in Pa s or None, what it is) for the Yeh-Hummer correction: the given
    value, else the run's measured viscosity when converged, else the published one of the
    run's water model when the box is pure water, else None (module docstring).

    Parameters
    ----------
    given_pa_s : float or None
        Viscosity given by the user (Pa s).
    run_directory : str or Path or None
        The run directory.
    """
    if given_pa_s is not None:
        return given_pa_s, f"given: {given_pa_s * 1e3:.4g} mPa s"
    if run_directory is None or not RunDir(run_directory).build_json.exists():
        return None, "none (no run directory to take it from): no Yeh-Hummer correction"
    note = ""
    if has_viscosity(run_directory) and read_viscosity(run_directory).complete:
        measured = viscosity_of_run(run_directory)
        text = f"{measured.eta_mPa_s:.4g} +- {measured.eta_err_mPa_s:.2g} mPa s"
        if measured.converged:
            return measured.eta_mPa_s * 1e-3, (
                f"measured in this run (periodic perturbation): {text} (n_eff {measured.n_eff:.0f})"
            )
        note = f"; the measured {text} did not converge ({measured.reason})"
    build = read_build(run_directory)
    solutes = sorted(k for k in build.resnames if k != "water")
    if solutes:
        return None, (
            f"none: D is NOT corrected for the finite box (no viscosity measured for this "
            f"solution of {', '.join(solutes)}{note}; run `solvation run DIR --viscosity` or "
            "give --viscosity-mpa-s)"
        )
    published = water_viscosity(build.water_model)
    return published.eta_mPa_s * 1e-3, (
        f"published for pure {published.model} water: {published.label}{note}"
    )
