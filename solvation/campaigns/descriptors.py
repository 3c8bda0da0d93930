"""Reduce a finished run to named scalar descriptors with uncertainties.

Every analysis result of a job is also written as JSON (and CSV where tabular) into the
job directory, so figures can be regenerated from the stored results alone. The
analyses themselves are the recipes of ``solvation.analysis.recipes``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solvation.analysis import recipes
from solvation.analysis.hbonds import HBondResult
from solvation.analysis.results import jsonable
from solvation.analysis.stats import block_estimate
from solvation.analysis.universe import InputError
from solvation.provenance import analysis_provenance
from solvation.rundir import BuildInfo, DescriptorValue, write_json_atomic


def _value(mean: float, err: float | None = None) -> DescriptorValue:
    finite = err is not None and np.isfinite(err)
    return DescriptorValue(value=float(mean), err=float(err) if finite else None)


def _write(outdir: Path, name: str, data: dict, u=None, selections=None, params=None) -> None:
    """One analysis result as strict JSON, with its provenance when ``u`` is given."""
    if u is not None:
        frames = {"start": None, "stop": None, "step": None, "n_frames": u.trajectory.n_frames}
        data = {**data, "provenance": analysis_provenance(u, selections, frames, params)}
    write_json_atomic(outdir / name, jsonable(data))


def structure_descriptors(
    u, build: BuildInfo, outdir: Path, shells: recipes.ShellsOfRun | None = None
) -> dict[str, DescriptorValue]:
    """zn_water_cn, zn_anion_cn and cip_fraction (CIP + AGG) of the Zn2+ shells
    (``shells``: already computed, else computed here)."""
    shells = shells or recipes.shells_of_run(u, build)
    result, anion = shells.result, shells.selections.anion
    if result is None:
        return {}
    selections = {"center": shells.selections.centre, **shells.selections.shells}
    params = {"cutoffs_angstrom": result.cutoffs_angstrom, "cutoff_source": result.cutoff_source}
    _write(outdir, "shells.json", result.to_dict(), u, selections, params)
    if shells.rdf is not None:
        _write(outdir, "rdf.json", shells.rdf.to_dict(), u, selections)
    water = block_estimate(result.per_frame["water"], 5)
    out = {"zn_water_cn": _value(water.mean, water.err)}
    if anion is not None:
        cn = block_estimate(result.per_frame[anion], 5)
        out["zn_anion_cn"] = _value(cn.mean, cn.err)
        pairing = result.pairing[anion]
        out["cip_fraction"] = _value(pairing["CIP"] + pairing["AGG"])
    return out


def hbond_descriptors(
    u, build: BuildInfo, outdir: Path, result: HBondResult | None = None
) -> dict[str, DescriptorValue]:
    """H-bonds per water, free-water fraction and tetrahedral order q (``result``: already
    computed, else computed here)."""
    result = result or recipes.hbonds_of_run(u, build)
    selections = recipes.run_selections(build).molecules
    _write(outdir, "hbonds.json", result.to_dict(), u, selections, result.criterion)
    return {
        "hbonds_per_water": _value(result.hbonds_per_water, result.hbonds_per_water_err),
        "free_water_fraction": _value(result.free_water_fraction, result.free_water_fraction_err),
        "tetrahedral_q": _value(result.tetrahedral_q, result.tetrahedral_q_err),
    }


def transport_descriptors(
    u,
    build: BuildInfo,
    outdir: Path,
    temperature_k: float,
    charges: np.ndarray | None,
    run: recipes.TransportOfRun | None = None,
) -> dict[str, DescriptorValue]:
    """D of Zn2+ and water, conductivity and the Zn2+ transference number (``run``:
    already computed, else computed here)."""
    run = run or recipes.transport_of_run(u, build, temperature_k, charges)
    result, conductivity = run.transport, run.conductivity
    selections = recipes.run_selections(build).molecules
    params = {"temperature_k": temperature_k}
    _write(outdir, "transport.json", {**result.to_dict(), **conductivity}, u, selections, params)
    result.to_frame().to_csv(outdir / "msd.csv", index=False)
    out = {}
    for species, name in (("Zn2+", "D_zn"), ("water", "D_water")):
        if species in result.species:
            d = result.species[species]
            out[name] = _value(d.D_m2_per_s, d.D_err_m2_per_s)
    if conductivity:
        out["sigma"] = _value(conductivity["sigma_S_per_m"], conductivity["sigma_err_S_per_m"])
        if "t_zn" in conductivity:
            out["t_zn"] = _value(conductivity["t_zn"])
    return out


def water_activity_descriptors(build: BuildInfo, outdir: Path) -> dict[str, DescriptorValue]:
    """a_w and phi (osmotic route) for an [osmotic] build; else a_cc of the KB route for a
    salt + water box (a campaign over molalities then gives a_w with
    ``solvation analyze water-activity JOB_DIRS... --method kb``); {} otherwise."""
    if build.osmotic is not None:
        result = recipes.osmotic_from_run(outdir)
        _write(outdir, "water_activity.json", result.to_dict())
        return {
            "a_w": _value(result.a_w, result.a_w_err),
            "osmotic_coefficient": _value(
                result.osmotic_coefficient, result.osmotic_coefficient_err
            ),
        }
    try:
        point = recipes.kb_from_run(outdir)
    except InputError:  # slabs, additives, no ions: no KB point
        return {}
    _write(outdir, "kb.json", point.to_dict())
    return {"kb_a_cc": _value(point.a_cc.mean, point.a_cc.err)}
