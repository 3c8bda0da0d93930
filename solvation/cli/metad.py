"""``solvation metad`` (well-tempered metadynamics on the cation-anion contact number of a
run) and ``solvation analyze metad`` (its reweighted contact pairs)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

import solvation
from solvation import analysis, engine, runs
from solvation.design import parse_design
from solvation.inputs import check_outputs, prepared

from .analyze import JsonOut, PlotOut, analyze_app
from .common import write_json


def metad_cmd(
    directory: Annotated[Path, typer.Argument(help="Run directory past NPT (solvation run).")],
    cation: Annotated[Optional[str], typer.Option(help="Cation species (Zn2+).")] = None,
    anion: Annotated[
        Optional[str], typer.Option(help="Anion species; its O/N/F are the acceptors (SO4).")
    ] = None,
    time: Annotated[Optional[str], typer.Option("--time", help="Length, e.g. 2ns (1ns).")] = None,
    height: Annotated[Optional[float], typer.Option(help="Gaussian height, kJ/mol (1).")] = None,
    width: Annotated[Optional[float], typer.Option(help="Gaussian width, contacts (0.3).")] = None,
    bias_factor: Annotated[Optional[float], typer.Option(help="Well-tempered gamma (10).")] = None,
    deposit: Annotated[Optional[str], typer.Option(help="Between Gaussians (1ps).")] = None,
    checkpoint: Annotated[Optional[str], typer.Option(help="Checkpoint interval (20ps).")] = None,
    cv: Annotated[
        Optional[str],
        typer.Option(
            help="contacts: the contact number N; exchange: N minus the cations' "
            "first-shell water count, so that a water leaving is biased too (contacts)."
        ),
    ] = None,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
) -> None:
    """Well-tempered metadynamics (OpenMM Metadynamics) on the smooth number of
    cation - anion acceptor contacts, started from the run's NPT state; resumable (the
    same command continues a stopped stage, a longer --time extends it). Options
    override the design's \\[metad] table. Analyse with `solvation analyze metad`."""
    spec = parse_design(solvation.rundir.read_design_table(directory), str(directory)).metad
    settings = engine.metadynamics.metad_settings(
        spec,
        cation=cation,
        anion=anion,
        time=time,
        height=height,
        width=width,
        bias_factor=bias_factor,
        deposit=deposit,
        checkpoint=checkpoint,
        cv=cv,
    )
    record = engine.metadynamics.run_metadynamics(directory, settings, platform)
    typer.echo(
        f"metadynamics {record['time_ps']:.0f} ps of {record['n_cations']} "
        f"{settings.cation} and {record['n_anions']} {settings.anion}: "
        f"{record['ns_per_day'] or 0:.1f} ns/day"
    )


@analyze_app.command("metad")
def analyze_metad_cmd(
    directory: Annotated[Path, typer.Argument(help="Run directory with a metadynamics stage.")],
    skip: Annotated[
        float, typer.Option(help="Leading fraction left out (bias build-up).", min=0, max=0.9)
    ] = 0.2,
    json_file: JsonOut = None,
    plot: PlotOut = None,
) -> None:
    """Unbiased distribution of the number of contact pairs and the fraction of cations in
    contact (CIP + AGG) from the metadynamics stage, reweighted with c(t) (Tiwary &
    Parrinello 2015), with autocorrelation-aware errors and running estimates."""
    check_outputs({"--json": (json_file, "json"), "--plot": (plot, "plot")}, [directory])
    r = runs.metad_of_directory(directory, skip)
    flag = "" if r.converged else ", NOT CONVERGED"
    typer.echo(
        f"{r.n_cations} cations, {r.n_frames} frames after {r.skip_ps:.0f} ps: cations in "
        f"contact {r.cip_fraction:.3f} +- {r.cip_fraction_err:.3f} (n_eff "
        f"{r.cip_fraction_n_eff:.1f}, {r.changes} changes{flag}); CV {r.cv_min:.2f}-"
        f"{r.cv_max:.2f} contacts"
    )
    typer.echo(r.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for warning in r.warnings:
        typer.echo(f"warning: {warning}")
    write_json(json_file, r.to_dict())
    if plot:
        analysis.plots.plot_contact_pairs({directory.name: r}, prepared(plot))
