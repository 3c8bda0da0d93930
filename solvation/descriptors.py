"""Reduce a finished run to named scalar descriptors with uncertainties.

Every analysis result of a job is also written as JSON (and CSV where tabular) into the
job directory, so figures can be regenerated from the stored results alone.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

ACCEPTOR_ELEMENTS = "element O N F Cl Br I"
FALLBACK_CUTOFF = 3.0  # A, when g(r) has no clear minimum (very short runs)


def _selections(build: dict) -> tuple[str | None, dict[str, str], str | None]:
    """(centre, shells, anion shell name) from a build's species and residue names."""
    from solvation.systems.formula import species_charge

    resnames = build["resnames"]
    centre = f"resname {resnames['Zn2+']}" if "Zn2+" in resnames else None
    shells = {"water": "resname HOH and name O"}
    anion = None
    for species, rn in resnames.items():
        if species in ("water", "Zn2+", "Zn(metal)"):
            continue
        try:
            charge = species_charge(species)
        except KeyError:
            charge = 0
        if charge > 0:
            continue
        shells[species] = f"resname {rn} and ({ACCEPTOR_ELEMENTS})"
        if charge < 0 and anion is None:
            anion = species
    return centre, shells, anion


def _value(mean: float, err: float) -> dict:
    return {"value": float(mean), "err": float(err) if np.isfinite(err) else None}


def structure_descriptors(u, build: dict, outdir: Path) -> dict:
    from solvation.analysis.coordination import solvation_shells
    from solvation.analysis.shells import NoMinimumError
    from solvation.analysis.stats import Estimate, block_estimate

    centre, shells, anion = _selections(build)
    if centre is None:
        return {}
    try:
        result, rdf = solvation_shells(u, centre, shells, residence=True)
    except NoMinimumError:
        result, rdf = solvation_shells(u, centre, shells, {k: FALLBACK_CUTOFF for k in shells})
    if anion is not None:
        second = {anion: result.cutoffs_angstrom[anion] + 2.0}
        result, _ = solvation_shells(u, centre, shells, result.cutoffs_angstrom, pairing=second)
    (outdir / "shells.json").write_text(json.dumps(result.to_dict(), indent=1))
    if rdf is not None:
        (outdir / "rdf.json").write_text(json.dumps(rdf.to_dict(), indent=1))
    out = {"zn_water_cn": block_estimate(result.per_frame["water"], 5)}
    if anion is not None:
        out["zn_anion_cn"] = block_estimate(result.per_frame[anion], 5)
        pairing = result.pairing[anion]
        out["cip_fraction"] = Estimate(pairing["CIP"] + pairing["AGG"], float("nan"))
    return {k: _value(v.mean, v.err) for k, v in out.items()}


def hbond_descriptors(u, build: dict, outdir: Path) -> dict:
    from solvation.analysis.hbonds import hydrogen_bonds
    from solvation.analysis.shells import NoMinimumError

    centre, shells, _ = _selections(build)
    groups = {k: v.split(" and ")[0] for k, v in shells.items() if k != "water"}
    try:
        result = hydrogen_bonds(u, groups=groups, cations=centre)
    except NoMinimumError:  # too short a run for the cation-water g(r) minimum
        result = hydrogen_bonds(u, groups=groups, cations=centre, cation_cutoff=FALLBACK_CUTOFF)
    (outdir / "hbonds.json").write_text(json.dumps(result.to_dict(), indent=1))
    return {
        "hbonds_per_water": _value(result.hbonds_per_water, result.hbonds_per_water_err),
        "free_water_fraction": _value(result.free_water_fraction, result.free_water_fraction_err),
        "tetrahedral_q": _value(result.tetrahedral_q, result.tetrahedral_q_err),
    }


def transport_descriptors(
    u, build: dict, outdir: Path, temperature: float, charges: np.ndarray
) -> dict:
    from solvation.analysis.transport import Transport
    from solvation.analysis.universe import species_charges

    resnames = build["resnames"]
    species = {k: f"resname {rn}" for k, rn in resnames.items() if k != "Zn(metal)"}
    z = species_charges(u, species, charges)
    ions = {k: v for k, v in z.items() if abs(v) > 1e-6}
    result = Transport(u, species, charges=None, temperature=temperature).run().results.transport
    if len(ions) >= 2:
        ionic = (
            Transport(u, {k: species[k] for k in ions}, charges=ions, temperature=temperature)
            .run()
            .results.transport
        )
        conductivity = ionic.conductivity
    else:
        conductivity = {}
    data = result.to_dict()
    data.update(conductivity)
    (outdir / "transport.json").write_text(json.dumps(data, indent=1))
    result.to_frame().to_csv(outdir / "msd.csv", index=False)
    out = {}
    if "Zn2+" in result.species:
        d = result.species["Zn2+"]
        out["D_zn"] = _value(d.D_m2_per_s, d.D_err_m2_per_s)
    if "water" in result.species:
        d = result.species["water"]
        out["D_water"] = _value(d.D_m2_per_s, d.D_err_m2_per_s)
    if conductivity:
        out["sigma"] = _value(conductivity["sigma_S_per_m"], conductivity["sigma_err_S_per_m"])
        if "t_zn" in conductivity:
            out["t_zn"] = _value(conductivity["t_zn"], float("nan"))
    return out


def water_activity_descriptors(build: dict, outdir: Path) -> dict:
    """a_w and phi (osmotic route) for an [osmotic] build; else a_cc of the KB route for a
    salt + water box (a campaign over molalities then gives a_w with
    ``solvation analyze water-activity JOB_DIRS... --method kb``); {} otherwise."""
    from solvation.analysis import water_activity as wa
    from solvation.analysis.universe import InputError

    if build.get("osmotic"):
        result = wa.osmotic_from_run(outdir)
        (outdir / "water_activity.json").write_text(json.dumps(result.to_dict(), indent=1))
        return {
            "a_w": _value(result.a_w, result.a_w_err),
            "osmotic_coefficient": _value(
                result.osmotic_coefficient, result.osmotic_coefficient_err
            ),
        }
    try:
        point = wa.kb_from_run(outdir)
    except InputError:  # slabs, additives, no ions: no KB point
        return {}
    (outdir / "kb.json").write_text(json.dumps(point.to_dict(), indent=1))
    return {"kb_a_cc": _value(point.a_cc.mean, point.a_cc.err)}
