"""Interface of a slab run: density, charge and coordination profiles from the slab's
top face, the contact layer of each face, and for constant-potential electrode runs the
surface charge, the capacitance and the Poisson potential across the cell."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from solvation.analysis.contact import ContactLayer, ContactResult, contact_thickness
from solvation.analysis.interface import InterfaceProfiles, InterfaceResult
from solvation.analysis.stats import estimate
from solvation.analysis.universe import InputError
from solvation.constants import ELEMENTARY_CHARGE_C, FARADAY_KJ_PER_MOL_V
from solvation.forcefields import METAL_RESNAME
from solvation.rundir import BUILD_JSON, RunDir, read_build

from .selections import run_directory_charges, run_selections


def slab_planes(path: str | Path, universe) -> dict[str, float]:
    """z (A) of the slab's top and bottom atomic planes in the trajectory's first frame
    (the barostat moves a frozen slab rigidly during NPT, so build.json's planes are only
    where it started); build.json's planes when the topology has no metal atoms.

    Parameters
    ----------
    path : str or Path
        The run directory.
    universe : MDAnalysis.Universe
        Its trajectory.

    Raises
    ------
    InputError
        When the run holds no slab.
    """
    slab = read_build(path).slab
    if slab is None:
        raise InputError(f"{path} holds no slab (its design has no [slab])")
    atoms = universe.select_atoms(f"resname {METAL_RESNAME}")
    if atoms.n_atoms == 0:
        return {"top": slab.z_faces_nm[1] * 10.0, "bottom": slab.z_faces_nm[0] * 10.0}
    universe.trajectory[0]
    z = atoms.positions[:, 2]
    return {"top": float(z.max()), "bottom": float(z.min())}


def electrode_summary(path: str | Path) -> dict | None:
    """Surface charge and integral capacitance of a constant-potential electrode run from
    its ``electrode.csv`` (None for other runs). sigma is the charge of the slab's top
    half per lateral area; C = sigma / dV is the capacitance of the cell (the two
    interfaces in series).

    Parameters
    ----------
    path : str or Path
        A run directory.

    Returns
    -------
    dict or None
        delta_v_V, sigma_top_e_per_nm2 (with error, n_eff, convergence), sigma_top_uC_per_cm2,
        sigma_bottom_e_per_nm2, field_V_per_nm, capacitance_uF_per_cm2 (with error) ...
    """
    path = Path(path)
    csv = RunDir(path).electrode_csv
    if not path.is_dir() or not csv.exists():
        return None
    info = read_build(path)
    table = pd.read_csv(csv)
    area = info.slab.area_nm2
    sigma = estimate(table["q_top_e"].to_numpy() / area)
    field_v_nm = info.electrode.field_kj_mol_nm_e / FARADAY_KJ_PER_MOL_V
    to_uc_cm2 = ELEMENTARY_CHARGE_C / 1e-14 * 1e6  # e/nm^2 -> microC/cm^2
    delta_v = float(table["delta_v_V"].mean())
    neutrality = float(np.abs(table["q_top_e"] + table["q_bottom_e"]).max())
    with np.errstate(divide="ignore", invalid="ignore"):
        cap, cap_err = sigma.mean * to_uc_cm2 / delta_v, sigma.err * to_uc_cm2 / abs(delta_v)
    return {
        "delta_v_V": delta_v,
        "sigma_top_e_per_nm2": sigma.mean,
        "sigma_top_e_per_nm2_err": sigma.err,
        "sigma_top_n_eff": sigma.n_eff,
        "sigma_top_converged": sigma.converged,
        "sigma_top_reason": sigma.reason,
        "sigma_top_uC_per_cm2": sigma.mean * to_uc_cm2,
        "sigma_bottom_e_per_nm2": float(table["q_bottom_e"].mean() / area),
        "field_V_per_nm": field_v_nm,
        "capacitance_uF_per_cm2": float(cap),
        "capacitance_uF_per_cm2_err": float(cap_err),
        "max_abs_total_electrode_charge_e": neutrality,
        "n_reports": len(table),
    }


def electrode_sheets(electrode: dict | None, planes: dict, lz: float) -> dict:
    """Sheets of the mean electrode face charges and the applied field (V/nm) for the
    Poisson potential of an electrode run (the trajectory holds no electrode charges).

    Parameters
    ----------
    electrode : dict or None
        From ``electrode_summary``.
    planes : dict of str to float
        z of the top and bottom atomic planes (A).
    lz : float
        Box length along z (A).

    Returns
    -------
    dict
        ``sheets`` (distance from the top plane, A -> e/nm^2) and ``external_field`` (V/nm),
        the keyword arguments of ``InterfaceProfiles``; empty for other runs.
    """
    if not electrode or "bottom" not in planes:
        return {}
    d_bottom = float((planes["bottom"] - planes["top"]) % lz)
    top, bottom = electrode["sigma_top_e_per_nm2"], electrode["sigma_bottom_e_per_nm2"]
    return {"sheets": {0.0: top, d_bottom: bottom}, "external_field": electrode["field_V_per_nm"]}


@dataclass(frozen=True)
class InterfaceOfRun:
    """Profiles from the top face, the contact layer of each face, and for electrode runs
    the surface charge, capacitance and the Poisson potential across the cell.

    Attributes
    ----------
    planes_angstrom : dict of str to float
        z of the slab's atomic planes (A).
    profiles : InterfaceResult
    contact : ContactResult
    electrode : dict or None
        ``electrode_summary`` of an electrode run.
    """

    planes_angstrom: dict[str, float]
    profiles: InterfaceResult
    contact: ContactResult
    electrode: dict | None


def interface_of_run(
    paths: list[Path],
    universe,
    species: dict[str, str] | None = None,
    z0: float | None = None,
    bin_width: float = 0.2,
    center: str | None = None,
    shells: dict[str, str] | None = None,
    cutoffs: dict[str, float] | None = None,
    contact: float | None = None,
    verbose: bool = False,
    **frames,
) -> InterfaceOfRun:
    """Interface analysis of a slab run (or of TOPOLOGY TRAJECTORY with ``z0`` given).

    species : name -> selection; default: every species of build.json (a run directory)
    z0 : surface plane (A); default the slab's top atomic plane in the first frame
    contact : contact-layer width (A); default the first minimum of the water-O profile

    Parameters
    ----------
    paths : list of Path
        A run directory, or TOPOLOGY TRAJECTORY.
    universe : MDAnalysis.Universe
    species : dict of str to str, optional
        Name -> selection; default: every species of build.json (a run directory).
    z0 : float, optional
        Surface plane (A); default the slab's top atomic plane in the first frame.
    bin_width : float
        Profile bin width (A).
    center : str, optional
        Selection of the centres whose coordination is profiled.
    shells : dict of str to str, optional
        Selection of each shell species.
    cutoffs : dict of str to float, optional
        First-shell cutoff of each shell (A).
    contact : float, optional
        Contact-layer width (A); default the first minimum of the water-O profile.
    verbose : bool
        Show a progress bar.
    **frames
        start, stop, step (frame indices).
    """
    run_dir = paths[0].is_dir()
    if species is None:
        if not run_dir:
            raise InputError(f"give --species NAME=SELECTION (no {BUILD_JSON} to take them from)")
        species = run_selections(read_build(paths[0])).molecules
    planes = slab_planes(paths[0], universe) if z0 is None else {"top": z0}
    electrode = electrode_summary(paths[0]) if run_dir else None
    charges = run_directory_charges(paths[0]) if run_dir else None
    if charges is None and hasattr(universe.atoms, "charges"):
        charges = universe.atoms.charges  # PSF, TPR, LAMMPS data ... carry them
    lz = float(universe.dimensions[2])
    profiles = (
        InterfaceProfiles(
            universe,
            species,
            planes["top"],
            bin_width,
            charges=charges,
            center=center,
            shells=shells or None,
            cutoffs=cutoffs or {},
            verbose=verbose,
            **electrode_sheets(electrode, planes, lz),
        )
        .run(**frames)
        .results.interface
    )
    if electrode:
        d_bottom = float((planes["bottom"] - planes["top"]) % lz)
        across = float(np.interp(d_bottom, profiles.distance_angstrom, profiles.potential_V))
        electrode["poisson_potential_bottom_minus_top_V"] = across
    thickness = contact or contact_thickness(
        profiles.distance_angstrom, profiles.water_o_density_per_nm3
    )
    layer = (
        ContactLayer(universe, species, planes, thickness, verbose=verbose)
        .run(**frames)
        .results.contact
    )
    return InterfaceOfRun(planes, profiles, layer, electrode)
