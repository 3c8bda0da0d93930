"""The ``solvation`` command line (typer): each command parses its options, calls one
library function and formats what it returns."""

from __future__ import annotations

import resource
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.table import Table

from solvation.campaigns import (
    Catalog,
    make_figures,
    rank_directory,
    run_campaign,
    run_demo,
)
from solvation.engine import bench_md, run
from solvation.forcefields import find_sets, parameter_sets, water_model
from solvation.rundir import RunDirError
from solvation.systems import build
from solvation.validation import validate

from .analyze import analyze_app
from .common import JsonOpt, write_json
from .pmf import pmf_cmd

app = typer.Typer(
    help="Molecular dynamics of aqueous zinc-battery electrolytes with OpenMM.",
    no_args_is_help=True,
    add_completion=False,
)
ff_app = typer.Typer(
    help="Browse the force-field library: water models, ion sets, anions, "
    "molecules, Zn metal and the other slab substrates, each with its citation.",
    no_args_is_help=True,
)
campaign_app = typer.Typer(
    help="Campaigns: many designs x replicas, run locally or on Dask.", no_args_is_help=True
)
bench_app = typer.Typer(
    help="Speed benchmarks against the peer tool, in one process.", no_args_is_help=True
)
app.add_typer(ff_app, name="forcefields")
app.add_typer(analyze_app, name="analyze")
app.add_typer(campaign_app, name="campaign")
app.add_typer(bench_app, name="bench")
app.command("pmf")(pmf_cmd)


@ff_app.command("list")
def ff_list(
    species: Annotated[Optional[str], typer.Option(help="Only rows of this species.")] = None,
    water: Annotated[Optional[str], typer.Option(help="Only rows for this water model.")] = None,
    json_file: JsonOpt = None,
) -> None:
    """One row per parameter set: species, water model, set name, citation."""
    rows = find_sets(species) if species else parameter_sets()
    if water:
        wm = water_model(water).name
        rows = [r for r in rows if r.water_model in (wm, "any")]
    table = Table("species", "water_model", "set", "citation", show_lines=False)
    for r in rows:
        table.add_row(r.species, r.water_model, r.set, r.citation)
    Console(width=200).print(table)
    write_json(
        json_file,
        [{k: r.to_dict()[k] for k in ("species", "water_model", "set", "citation")} for r in rows],
    )


@ff_app.command("show")
def ff_show(
    name: Annotated[
        str,
        typer.Argument(
            help="Species (Zn2+, OTf, xylitol), water model (tip3p) or set (12-6-4, clp)."
        ),
    ],
    json_file: JsonOpt = None,
) -> None:
    """Parameters, citation and source file of every set matching NAME."""
    rows = find_sets(name)
    for r in rows:
        typer.echo(f"{r.species}  [{r.water_model} / {r.set}]")
        for key, value in r.parameters.items():
            typer.echo(f"    {key} = {value}")
        typer.echo(f"    citation: {r.citation}")
        if r.source:
            typer.echo(f"    source: {r.source}")
    write_json(json_file, [r.to_dict() for r in rows])


@app.command("build")
def build_cmd(
    design: Annotated[Path, typer.Argument(help="Design TOML file (see README 'Design files').")],
    out: Annotated[Path, typer.Option("-o", "--out", help="Build directory to create.")],
    json_file: JsonOpt = None,
) -> None:
    """Build an electrolyte box or Zn slab from DESIGN into a directory holding
    system.xml, topology.pdb, build.json and a copy of the design.

    Counts come from the concentrations (requested vs achieved are reported); packing
    uses packmol with the design's seed. Re-running on a finished directory does nothing.
    """
    info = build(design, out).info
    typer.echo(
        f"{out}: {info.n_atoms} atoms, box {[round(x, 3) for x in info.box_nm]} nm, "
        f"charge {info.total_charge:+.0f} e"
    )
    typer.echo("  counts: " + ", ".join(f"{k} {v}" for k, v in info.counts.items()))
    for c in info.concentrations:
        typer.echo(f"  {c.solute}: requested {c.requested}, achieved {c.achieved:.4g} {c.unit}")
    typer.echo(
        f"  estimated density {info.density_estimate_g_per_cm3:.3f} g/cm3 "
        "(ideal mixing; NPT gives the real one)"
    )
    write_json(json_file, info.model_dump(mode="json"))


@app.command("run")
def run_cmd(
    directory: Annotated[Path, typer.Argument(help="Build directory (from `solvation build`).")],
    time: Annotated[
        Optional[str], typer.Option("--time", help="Production length, e.g. 2ns.")
    ] = None,
    equilibration: Annotated[
        Optional[str], typer.Option(help="Heating + NPT length, e.g. 500ps.")
    ] = None,
    report_every: Annotated[
        Optional[str], typer.Option(help="Frame and state.csv interval, e.g. 1ps.")
    ] = None,
    checkpoint_every: Annotated[
        Optional[str], typer.Option(help="Checkpoint interval, e.g. 100ps.")
    ] = None,
    timestep: Annotated[
        Optional[str], typer.Option(help="Integration step, e.g. 2fs (4fs needs --hmr).")
    ] = None,
    hmr: Annotated[
        bool, typer.Option("--hmr", help="Hydrogen mass repartitioning (3 amu); 4 fs by default.")
    ] = False,
    ensemble: Annotated[
        Optional[str], typer.Option(help="Production ensemble: NVT or NPT.")
    ] = None,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
    device: Annotated[Optional[int], typer.Option(help="GPU device index.")] = None,
    precision: Annotated[
        Optional[str], typer.Option(help="GPU precision: mixed (default), single, double.")
    ] = None,
    json_file: JsonOpt = None,
) -> None:
    """Minimise, heat (NVT), equilibrate (NPT) and run production for DIRECTORY.

    Writes trajectory.xtc, state.csv, checkpoints and run.json into DIRECTORY. Killed
    runs continue from the last checkpoint when the same command is run again; a
    finished run is not run again. Values without units are refused.
    """
    overrides = {
        "production": time,
        "equilibration": equilibration,
        "report_every": report_every,
        "checkpoint_every": checkpoint_every,
        "timestep": timestep,
        "hmr": True if hmr else None,
        "ensemble": ensemble,
    }
    info = run(directory, platform=platform, device=device, precision=precision, **overrides)
    rates = ", ".join(f"{k} {v:.1f}" for k, v in info.ns_per_day.items() if v)
    typer.echo(f"{directory}: complete on {info.platform} ({info.precision}); ns/day: {rates}")
    if info.density_g_per_cm3:
        typer.echo(f"  NPT density {info.density_g_per_cm3:.4f} g/cm3")
    write_json(json_file, info.model_dump(mode="json"))


@campaign_app.command("run")
def campaign_run_cmd(
    campaign: Annotated[Path, typer.Argument(help="Campaign TOML file.")],
    directory: Annotated[
        Optional[Path],
        typer.Option(
            "-o",
            "--out",
            help="Campaign directory (default: next to the file, named after the campaign).",
        ),
    ] = None,
    executor: Annotated[str, typer.Option(help="local or dask.")] = "local",
    scheduler: Annotated[
        Optional[str], typer.Option(help="Dask scheduler address (tcp://host:8786).")
    ] = None,
    slots: Annotated[
        Optional[int], typer.Option(help="Concurrent jobs (local) or workers (dask).")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed jobs again.")
    ] = False,
    platform: Annotated[str, typer.Option(help="OpenMM platform for every job.")] = "auto",
) -> None:
    """Run every unfinished job (build, run, analyse) and record it in DIR/catalog.sqlite.
    Re-running skips finished jobs and resumes interrupted ones."""
    catalog = run_campaign(
        campaign,
        directory,
        executor=executor,
        scheduler=scheduler,
        slots=slots,
        retry_failed=retry_failed,
        platform=platform,
    )
    _print_jobs(catalog.jobs())


def _cell(value, fmt: str) -> str:
    return "" if value is None or value != value else format(value, fmt)


def _print_jobs(jobs) -> None:
    table = Table("design", "replica", "status", "seconds", "ns/day", "platform", "error")
    for r in jobs.itertuples():
        table.add_row(
            str(r.design),
            str(r.replica),
            str(r.status),
            _cell(r.seconds, ".0f"),
            _cell(r.ns_per_day, ".1f"),
            r.platform if isinstance(r.platform, str) else "",
            (r.error or "").splitlines()[0][:60] if isinstance(r.error, str) else "",
        )
    Console(width=160).print(table)


@campaign_app.command("status")
def campaign_status_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    export: Annotated[
        Optional[Path],
        typer.Option(help="Also write jobs.csv, descriptors.csv and descriptors.parquet here."),
    ] = None,
) -> None:
    """Table of the jobs of a campaign directory."""
    if not (directory / "catalog.sqlite").exists():
        raise RunDirError(f"{directory} holds no catalog.sqlite (is it a campaign directory?)")
    catalog = Catalog(directory)
    _print_jobs(catalog.jobs())
    if export:
        export.mkdir(parents=True, exist_ok=True)
        for p in catalog.export(export):
            typer.echo(f"wrote {p}")


@app.command("rank")
def rank_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    campaign: Annotated[
        Optional[Path],
        typer.Option(help="Campaign file with the [rank] weights."),
    ] = None,
    weight: Annotated[Optional[list[str]], typer.Option(help="NAME=W, overrides the file.")] = None,
    pareto: Annotated[
        Optional[str], typer.Option(help="Two descriptors A,B for a Pareto front.")
    ] = None,
    json_file: JsonOpt = None,
) -> None:
    """Rank designs by weighted, normalised descriptors; bootstrap uncertainty and the
    probability of ranking first; writes DIR/ranking.csv and the ranking figure."""
    weights = {}
    for item in weight or []:
        name, _, value = item.partition("=")
        weights[name.strip()] = float(value)
    front = tuple(pareto.split(",")) if pareto else None
    result = rank_directory(directory, campaign, weights, front)
    typer.echo(result.table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    if result.pareto:
        typer.echo(f"Pareto front: {', '.join(result.pareto)}")
    write_json(
        json_file, {"ranking": result.table.to_dict(orient="records"), "pareto": result.pareto}
    )


@app.command("figures")
def figures_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    out: Annotated[
        Optional[Path], typer.Option(help="Output folder (default DIR/figures).")
    ] = None,
) -> None:
    """Regenerate every figure (PDF, SVG, PNG + CSV) from the stored results alone."""
    paths = make_figures(directory, out)
    typer.echo(f"wrote {len(paths)} files to {paths[0].parent if paths else out}")


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Option("-o", "--out", help="Demo directory.")] = Path(
        "solvation-demo"
    ),
    platform: Annotated[str, typer.Option(help="OpenMM platform.")] = "auto",
) -> None:
    """Three designs (2 m ZnSO4, 2 m Zn(OTf)2, 2 m ZnSO4 + EG) built, run, analysed and
    ranked in a few minutes on 2 CPU cores; prints the ranking and writes the figures."""
    result = run_demo(directory, platform=platform)
    typer.echo("demo ranking (15 ps per design: a smoke test of the workflow, not converged):")
    typer.echo(result["ranking"].table.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    typer.echo(f"figures: {directory / 'campaign' / 'figures'}")


@app.command("validate")
def validate_cmd(
    reference: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="Extra reference YAML files (value, uncertainty, unit, conditions, citation)."
        ),
    ] = None,
    quick: Annotated[
        bool,
        typer.Option(
            "--quick",
            help="TIP3P/12-6-4 only, small boxes, tens "
            "of ps: minutes on 2 CPU cores, wide uncertainties.",
        ),
    ] = False,
    systems: Annotated[
        str, typer.Option(help="Comma-separated: water, zn_water, solutions.")
    ] = "water,zn_water,solutions",
    out: Annotated[Path, typer.Option("-o", "--out", help="Report directory.")] = Path(
        "validation"
    ),
    platform: Annotated[str, typer.Option(help="OpenMM platform.")] = "auto",
) -> None:
    """Run reference systems and compare with experiment: report.md, report.html,
    report.json and one plot per quantity."""
    report = validate(
        out, reference, quick=quick, systems=tuple(systems.split(",")), platform=platform
    )
    for c in report["comparisons"]:
        typer.echo(
            f"{c['quantity']:>22} {c['model']:>16}: {c['simulated']:.4g} vs "
            f"{c['reference']:.4g} {c['unit']} ({c['deviation_sigma']:+.1f} sigma, "
            f"{'pass' if c['passed'] else 'FAIL'})"
        )
    typer.echo(f"report: {out / 'report.md'}")


@bench_app.command("md")
def bench_md_cmd(
    directory: Annotated[Path, typer.Argument(help="Build directory.")],
    steps: Annotated[int, typer.Option(help="Timed steps per loop.")] = 5000,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
    hmr: Annotated[
        bool, typer.Option("--hmr", help="4 fs with hydrogen mass repartitioning.")
    ] = False,
    json_file: JsonOpt = None,
) -> None:
    """ns/day of the production loop through our engine (default reporters) and through a
    plain OpenMM loop (no reporters), same System, integrator, platform and steps."""
    r = bench_md(directory, steps=steps, platform=platform, hmr=hmr)
    r["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    typer.echo(
        f"{r['platform']}, {r['n_atoms']} atoms, {r['timestep_fs']:g} fs, {steps} steps: "
        f"plain OpenMM {r['plain_openmm_ns_per_day']:.1f} ns/day, solvation "
        f"{r['solvation_ns_per_day']:.1f} ns/day, ratio {r['ratio']:.3f}, "
        f"peak RSS {r['peak_rss_mib']:.0f} MiB"
    )
    write_json(json_file, r)
