"""Reduce a finished run to named scalar descriptors with uncertainties.

Every descriptor carries its standard error, the effectively independent samples behind
it (n_eff), whether it converged and why not (``solvation.analysis.stats``; shell
quantities also need their first shells to have exchanged), and the trajectory time it
covers, so that the ranking can combine replicas, distrust what did not converge and
estimate how much longer the runs must be. Every analysis result of a job is also
written as JSON (and CSV where tabular) into the job directory, so figures can be
regenerated from the stored results alone. The analyses themselves are the recipes of
``solvation.runs``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from solvation import runs
from solvation.analysis.coordination import MIN_EXCHANGES_PER_ION
from solvation.analysis.hbonds import HBondResult
from solvation.analysis.results import jsonable
from solvation.analysis.stats import Estimate
from solvation.analysis.universe import InputError
from solvation.provenance import analysis_provenance
from solvation.rundir import (
    HBONDS_JSON,
    KB_JSON,
    MSD_CSV,
    RDF_JSON,
    SHELLS_JSON,
    TRANSPORT_JSON,
    WATER_ACTIVITY_JSON,
    BuildInfo,
    DescriptorValue,
    write_json_atomic,
)


def _finite(x: float | None) -> float | None:
    return float(x) if x is not None and np.isfinite(x) else None


def _value(
    e: Estimate,
    span_ps: float | None,
    time_factor: float | None = None,
    problem: str | None = None,
) -> DescriptorValue:
    """A descriptor from an estimate (unknown errors and n_eff become None); a
    ``time_factor`` of inf (no exchange at all) is stored as ``sampled = False``."""
    unsampled = time_factor is not None and not np.isfinite(time_factor)
    return DescriptorValue(
        value=float(e.mean),
        err=_finite(e.err),
        n_eff=_finite(e.n_eff),
        converged=bool(e.converged) and problem is None,
        reason=e.reason if problem is None else f"{problem}; {e.reason or ''}".rstrip("; "),
        span_ps=span_ps,
        time_factor=None if unsampled else time_factor,
        sampled=False if unsampled else (True if time_factor is not None else None),
        problem=problem,
    )


def _span_ps(u) -> float:
    """Trajectory time the analyses cover (ps): frames x time between frames."""
    return float(u.trajectory.n_frames * u.trajectory.dt)


def _write(outdir: Path, name: str, data: dict, u=None, selections=None, params=None) -> None:
    """One analysis result as strict JSON, with its provenance when ``u`` is given."""
    if u is not None:
        frames = {"start": None, "stop": None, "step": None, "n_frames": u.trajectory.n_frames}
        data = {**data, "provenance": analysis_provenance(u, selections, frames, params)}
    write_json_atomic(outdir / name, jsonable(data))


def structure_descriptors(
    u, build: BuildInfo, outdir: Path, shells: runs.ShellsOfRun | None = None
) -> dict[str, DescriptorValue]:
    """zn_water_cn, zn_anion_cn, zn_additive_cn, zn_total_cn and cip_fraction (CIP +
    AGG) of the Zn2+ first shells by the one first-shell definition (``shells``: already
    computed by ``runs.shells_of_run``, else computed here). A first shell beyond
    Zn2+'s chemistry marks every one of them with its ``problem``.

    Parameters
    ----------
    u : MDAnalysis.Universe
    build : BuildInfo
    outdir : Path
        The job directory (results are written there).
    shells : ShellsOfRun, optional
    """
    shells = shells or runs.shells_of_run(u, build)
    result, sel = shells.result, shells.selections
    if result is None:
        return {}
    selections = {"center": sel.centre, **sel.shells}
    params = {
        "cutoffs_angstrom": result.site_cutoffs_angstrom,
        "cutoff_source": result.cutoff_source,
        "second_shell_angstrom": result.second_shell_angstrom,
    }
    _write(outdir, SHELLS_JSON, result.to_dict(), u, selections, params)
    if shells.rdf is not None:
        _write(outdir, RDF_JSON, shells.rdf.to_dict(), u, selections)
    span = _span_ps(u)
    problem = "; ".join(result.problems) or None
    factor = {k: x.time_factor(result.n_centers) for k, x in result.exchanges.items()}

    def value(e: Estimate, shell: str | None) -> DescriptorValue:
        return _value(e, span, factor.get(shell) if shell else _slowest(factor), problem)

    out = {
        "zn_water_cn": value(result.coordination["water"], "water"),
        "zn_total_cn": value(result.total_coordination, None),
    }
    if sel.anion is not None:
        out["zn_anion_cn"] = value(result.coordination[sel.anion], sel.anion)
        out["cip_fraction"] = value(result.contact_pairs[sel.anion], sel.anion)
    neutral = list(sel.additives)
    if neutral:
        cn = _sum_estimates([result.coordination[k] for k in neutral])
        out["zn_additive_cn"] = value(cn, None if len(neutral) > 1 else neutral[0])
    return out


def _slowest(factors: dict[str, float | None]) -> float | None:
    """The largest run-length factor of several shells (None: all exchanged enough)."""
    known = [f for f in factors.values() if f is not None]
    return max(known) if known else None


def _sum_estimates(estimates: list[Estimate]) -> Estimate:
    """The sum of estimates of one run (errors in quadrature, as if uncorrelated: a
    bound for the additive CN of several species; flags and n_eff the worst)."""
    if len(estimates) == 1:
        return estimates[0]
    worst = min(estimates, key=lambda e: e.n_eff if np.isfinite(e.n_eff) else -1.0)
    reasons = sorted({e.reason for e in estimates if e.reason})
    return Estimate(
        float(sum(e.mean for e in estimates)),
        float(np.sqrt(sum(e.err**2 for e in estimates))),
        worst.n_eff,
        worst.g,
        worst.n_samples,
        0,
        all(e.converged for e in estimates),
        "; ".join(reasons) or None,
    )


def hbond_descriptors(
    u, build: BuildInfo, outdir: Path, result: HBondResult | None = None
) -> dict[str, DescriptorValue]:
    """H-bonds per water, free-water fraction and tetrahedral order q (``result``: already
    computed, else computed here).

    Parameters
    ----------
    u : MDAnalysis.Universe
    build : BuildInfo
    outdir : Path
        The job directory.
    result : HBondResult, optional
    """
    result = result or runs.hbonds_of_run(u, build)
    selections = runs.run_selections(build).molecules
    _write(outdir, HBONDS_JSON, result.to_dict(), u, selections, result.criterion)
    span = _span_ps(u)
    out = {
        "hbonds_per_water": _value(result.hbonds_per_water, span),
        "free_water_fraction": _value(
            result.free_water_fraction, span, _water_factor(result.shell_exchanges_per_cation)
        ),
        "tetrahedral_q": _value(result.tetrahedral_q, span),
    }
    if result.water_hbonds_per_water is not None:
        out["water_hbonds_per_water"] = _value(result.water_hbonds_per_water, span)
    return out


def _water_factor(per_cation: float | None) -> float | None:
    """Run-length factor for the cation shells to exchange enough water (inf: none)."""
    if per_cation is None or per_cation >= MIN_EXCHANGES_PER_ION:
        return None
    return MIN_EXCHANGES_PER_ION / per_cation if per_cation > 0 else float("inf")


def transport_descriptors(
    u,
    build: BuildInfo,
    outdir: Path,
    temperature_k: float,
    charges: np.ndarray | None,
    run: runs.TransportOfRun | None = None,
) -> dict[str, DescriptorValue]:
    """D of Zn2+ and water, conductivity and the Zn2+ transference number (``run``:
    already computed, else computed here).

    Parameters
    ----------
    u : MDAnalysis.Universe
    build : BuildInfo
    outdir : Path
        The job directory.
    temperature_k : float
        Temperature (K).
    charges : numpy.ndarray or None
        Per-atom charges (e).
    run : TransportOfRun, optional
    """
    run = run or runs.transport_of_run(u, build, temperature_k, charges, outdir)
    result, conductivity = run.transport, run.conductivity
    selections = runs.run_selections(build).molecules
    params = {"temperature_k": temperature_k}
    _write(outdir, TRANSPORT_JSON, {**result.to_dict(), **conductivity}, u, selections, params)
    result.to_frame().to_csv(outdir / MSD_CSV, index=False)
    span, out = _span_ps(u), {}
    for species, name in (("Zn2+", "D_zn"), ("water", "D_water")):
        if species in result.species:
            d = result.species[species]
            out[name] = DescriptorValue(
                value=d.D_m2_per_s,
                err=_finite(d.D_err_m2_per_s),
                n_eff=_finite(d.D_n_eff),
                converged=d.converged,
                reason=d.reason,
                span_ps=span,
            )
    if conductivity:
        c = conductivity
        out["sigma"] = DescriptorValue(
            value=c["sigma_S_per_m"],
            err=_finite(c["sigma_err_S_per_m"]),
            n_eff=_finite(c["sigma_n_eff"]),
            converged=c["sigma_converged"],
            reason=c["sigma_reason"],
            span_ps=span,
        )
        if "t_zn" in c:  # a ratio of slopes with no error estimate: never trusted as exact
            out["t_zn"] = DescriptorValue(
                value=c["t_zn"], converged=False, reason="no error estimate", span_ps=span
            )
    return out


def water_activity_descriptors(build: BuildInfo, outdir: Path) -> dict[str, DescriptorValue]:
    """a_w and phi (osmotic route) for an [osmotic] build; else a_cc of the KB route for a
    salt + water box (a campaign over molalities then gives a_w with
    ``solvation analyze water-activity JOB_DIRS... --method kb``); {} otherwise.

    Parameters
    ----------
    build : BuildInfo
    outdir : Path
        The job directory.
    """
    if build.osmotic is not None:
        result = runs.osmotic_from_run(outdir)
        _write(outdir, WATER_ACTIVITY_JSON, result.to_dict())
        flags = {"n_eff": _finite(result.n_eff), "converged": result.converged}
        flags["reason"] = result.reason
        return {
            "a_w": DescriptorValue(value=result.a_w, err=_finite(result.a_w_err), **flags),
            "osmotic_coefficient": DescriptorValue(
                value=result.osmotic_coefficient,
                err=_finite(result.osmotic_coefficient_err),
                **flags,
            ),
        }
    try:
        point = runs.kb_from_run(outdir)
    except InputError:  # slabs, additives, no ions: no KB point
        return {}
    _write(outdir, KB_JSON, point.to_dict())
    return {"kb_a_cc": _value(point.a_cc, None)}
