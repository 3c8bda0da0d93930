"""The ``solvation`` command line (typer): each command parses its options, calls one
library function and formats what it returns.

Start-up: the packages a verb calls (``analysis``, ``campaigns``, ``engine``,
``forcefields``, ``systems``, ``validation``) load lazily (SPEC 1, ``lazy_loader``), so
importing this module and ``solvation --help`` load none of OpenMM, MDAnalysis, RDKit,
openff, ASE, matplotlib, numba, pymbar or pandas; a verb loads what it uses when it runs
(``tests/test_layout.py`` checks this in a fresh interpreter).
"""

from __future__ import annotations

import math
import resource
from dataclasses import asdict
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated, Optional

import typer

import solvation
from solvation import campaigns, engine, forcefields, runs, systems, validation
from solvation.console import configure_logging
from solvation.design import load_design
from solvation.engine.protocol import DEFAULT_ACCELERATION, DEFAULT_TIME_PS, Protocol, protocol_from
from solvation.inputs import check_outputs, number, output_dir, parse_number, whole
from solvation.quantities import time_ps
from solvation.rundir import STATE_CSV, RunDir

from .analyze import analyze_app
from .common import JsonOpt, named, print_table, write_json
from .metad import metad_cmd
from .pmf import pmf_cmd

# help texts are plain text: "[osmotic]" must print as written, not vanish as rich markup
app = typer.Typer(
    help="Molecular dynamics of aqueous zinc-battery electrolytes with OpenMM.",
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
)
ff_app = typer.Typer(
    help="Browse the force-field library: water models, ion sets, anions, "
    "molecules, Zn metal and the other slab substrates, each with its citation.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
campaign_app = typer.Typer(
    help="Campaigns: many designs x replicas, run locally, on Dask or on SLURM.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
bench_app = typer.Typer(
    help="Speed benchmarks against the peer tool, in one process.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(ff_app, name="forcefields")
app.add_typer(analyze_app, name="analyze")
app.add_typer(campaign_app, name="campaign")
app.add_typer(bench_app, name="bench")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"solvation {package_version('solvation')}")
        raise typer.Exit()


@app.callback()
def main_options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
    quiet: Annotated[
        bool, typer.Option("-q", "--quiet", help="Warnings and errors only; no progress bars.")
    ] = False,
    verbose: Annotated[
        int, typer.Option("-v", "--verbose", count=True, help="More detail (debug messages).")
    ] = 0,
) -> None:
    """Molecular dynamics of aqueous zinc-battery electrolytes with OpenMM."""
    configure_logging(-1 if quiet else verbose)


@ff_app.command("list")
def ff_list(
    species: Annotated[Optional[str], typer.Option(help="Only rows of this species.")] = None,
    water: Annotated[Optional[str], typer.Option(help="Only rows for this water model.")] = None,
    json_file: JsonOpt = None,
) -> None:
    """One row per parameter set: species, water model, set name, citation."""
    check_outputs({"--json": (json_file, "json")})
    rows = forcefields.find_sets(species) if species else forcefields.parameter_sets()
    if water:
        wm = forcefields.water_model(water).name
        rows = [r for r in rows if r.water_model in (wm, "any")]
    print_table(
        ("species", "water_model", "set", "citation"),
        [(r.species, r.water_model, r.set, r.citation) for r in rows],
        width=200,
    )
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
    family: Annotated[
        Optional[str],
        typer.Option(help="Only the rows of this model family: full or scaled."),
    ] = None,
    json_file: JsonOpt = None,
) -> None:
    """Parameters, citation and source file of every set matching NAME; for the scaled
    family's fitted Zn2+ also the fit's targets, results and residuals."""
    check_outputs({"--json": (json_file, "json")})
    rows = forcefields.find_sets(name, family)
    for r in rows:
        typer.echo(f"{r.species}  [{r.water_model} / {r.set}]")
        for key, value in r.parameters.items():
            if isinstance(value, dict):
                typer.echo(f"    {key}:")
                for k, v in value.items():
                    typer.echo(f"        {k}: {v}")
                continue
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
    The design's [protocol] table is checked too, so that a typo there shows now.
    """
    check_outputs({"--json": (json_file, "json")}, [design])
    output_dir(out, "-o", accepts=lambda p: RunDir(p).build_json.is_file())
    checked = load_design(design)
    protocol_from(checked.protocol, checked.temperature)
    info = systems.build(design, out).info
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


_DEFAULTS = Protocol()


def _time_text(ps: float) -> str:
    """A time in ps as the options write it: '2ns', '500ps', '2fs'."""
    if ps >= 1000.0:
        return f"{ps / 1000.0:g}ns"
    return f"{ps:g}ps" if ps >= 1.0 else f"{ps * 1000.0:g}fs"


def _default(what: str, ps: float | str) -> str:
    shown = _time_text(ps) if isinstance(ps, float) else ps
    return f"{what} [default: {shown}, or the design's [protocol]]"


@app.command("run")
def run_cmd(
    directory: Annotated[Path, typer.Argument(help="Build directory (from `solvation build`).")],
    time: Annotated[
        Optional[str],
        typer.Option("--time", help=_default("Production length.", _DEFAULTS.production_ps)),
    ] = None,
    equilibration: Annotated[
        Optional[str],
        typer.Option(
            help=_default(
                f"Heating ({_DEFAULTS.heating_fraction:.0%}, NVT from "
                f"{_DEFAULTS.heating_start_k:g} K) + NPT length.",
                _DEFAULTS.equilibration_ps,
            )
        ),
    ] = None,
    report_every: Annotated[
        Optional[str],
        typer.Option(help=_default(f"Frame and {STATE_CSV} interval.", _DEFAULTS.report_every_ps)),
    ] = None,
    checkpoint_every: Annotated[
        Optional[str],
        typer.Option(help=_default("Checkpoint interval.", _DEFAULTS.checkpoint_every_ps)),
    ] = None,
    timestep: Annotated[
        Optional[str],
        typer.Option(
            help=_default("Integration step (4fs needs --hmr).", _DEFAULTS.timestep_fs / 1000.0)
        ),
    ] = None,
    hmr: Annotated[
        bool,
        typer.Option(
            "--hmr",
            help=f"Hydrogen mass repartitioning ({_DEFAULTS.hydrogen_mass_amu:g} amu); "
            "4 fs by default.",
        ),
    ] = False,
    ensemble: Annotated[
        Optional[str],
        typer.Option(help=_default("Production ensemble: NVT or NPT.", _DEFAULTS.ensemble)),
    ] = None,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
    device: Annotated[Optional[int], typer.Option(help="GPU device index.")] = None,
    precision: Annotated[
        Optional[str], typer.Option(help="GPU precision: mixed (default), single, double.")
    ] = None,
    threads: Annotated[
        Optional[int],
        typer.Option(
            "--threads",
            min=1,
            help="CPU platform threads [default: OPENMM_CPU_THREADS, else every core].",
        ),
    ] = None,
    extend: Annotated[
        Optional[str],
        typer.Option(
            help="Append this much production to a finished run (e.g. 10ns), from its "
            "last checkpoint. Execution options (--platform, --device, --precision, "
            "--threads) may change; the recorded physics may not."
        ),
    ] = None,
    viscosity: Annotated[
        bool,
        typer.Option(
            "--viscosity",
            help="After the run, measure the shear viscosity by periodic perturbation "
            "(NVT from the equilibrated state; DIR/viscosity/).",
        ),
    ] = False,
    acceleration: Annotated[
        float,
        typer.Option(
            "--acceleration-nm-ps2",
            help="Cosine acceleration amplitude A (nm/ps^2) for --viscosity; keep the "
            "shear rate below 0.1/ps (the result says so if not).",
        ),
    ] = DEFAULT_ACCELERATION,
    viscosity_time: Annotated[
        str, typer.Option(help="Length of the --viscosity run.")
    ] = _time_text(DEFAULT_TIME_PS),
    restart_production: Annotated[
        bool,
        typer.Option(
            "--restart-production",
            help=f"Discard the production (trajectory, {STATE_CSV}, checkpoints) and run it "
            "again from the end of equilibration: for a production whose files were "
            "damaged (the run says so when it starts).",
        ),
    ] = False,
    json_file: JsonOpt = None,
) -> None:
    """Minimise, heat (NVT), equilibrate (NPT) and run production for DIRECTORY.

    Prints the plan first: each stage with its length and the estimated wall time at
    the ns/day measured on this machine. Options left out come from the design's
    [protocol] table, else the defaults shown; a directory that holds a run resumes
    its recorded protocol. Writes trajectory.xtc, state.csv, checkpoints and run.json
    into DIRECTORY. Killed runs continue from the last checkpoint when the same command
    is run again; a finished run is not run again, but --extend lengthens it. Ctrl-C or
    SIGTERM stops at the next frame with a checkpoint (exit status 130). One run per
    directory at a time. Values without units are refused. With --viscosity a
    periodic-perturbation run follows (also resumable) and eta is printed with its
    standard error; Yeh-Hummer corrections of this run then use it. Every start checks
    the trajectory and state.csv against the checkpoint: they are cut back exactly to
    it, or the run is refused with what to do.
    """
    check_outputs({"--json": (json_file, "json")}, [directory])
    whole("--device", device, 0)
    if viscosity:
        number("--acceleration-nm-ps2", acceleration, "nm/ps^2", 0.0, 10.0, low_open=True)
        number("--viscosity-time", time_ps(viscosity_time), "ps", 0.0, low_open=True)
    overrides = {
        "production": time,
        "equilibration": equilibration,
        "report_every": report_every,
        "checkpoint_every": checkpoint_every,
        "timestep": timestep,
        "hmr": True if hmr else None,
        "ensemble": ensemble,
    }
    _echo_model_status(directory)
    info = engine.run(
        directory,
        platform=platform,
        device=device,
        precision=precision,
        extend=extend,
        threads=threads,
        restart_production=restart_production,
        **overrides,
    )
    rates = ", ".join(f"{k} {v:.1f}" for k, v in info.ns_per_day.items() if v)
    typer.echo(f"{directory}: complete on {info.platform} ({info.precision}); ns/day: {rates}")
    if info.density_g_per_cm3:
        typer.echo(
            f"  NPT density {info.density_g_per_cm3:.4f} +- {info.density_err_g_per_cm3 or 0:.1g} "
            f"g/cm3 (n_eff {info.density_n_eff or float('nan'):.0f})"
            + ("" if info.density_converged else f", NOT CONVERGED: {info.density_reason}")
        )
    record = info.model_dump(mode="json")
    if viscosity:
        record["viscosity"] = _viscosity_stage(
            directory, acceleration, time_ps(viscosity_time), platform, device, precision
        )
    write_json(json_file, record)


def _echo_model_status(directory: Path) -> None:
    """The model family of the build and what it is validated for (build.json)."""
    status = solvation.rundir.read_build(directory).model_family
    if status is None:
        typer.echo("model family: not recorded (built by an older version of solvation)")
        return
    typer.echo(f"model family: {status['family']} ({status['chosen_by']})")
    if status["validated"]:
        typer.echo("  against experiment (solvation validate, docs/validation.md section 4):")
    else:
        typer.echo("  validated: nothing in this box (docs/validation.md)")
    for line in status["validated"]:
        typer.echo(f"    {line}")
    if status["not_validated"]:
        typer.echo(f"  not validated: {', '.join(status['not_validated'])}")


def _viscosity_stage(directory, acceleration, length_ps, platform, device, precision) -> dict:
    """Run (or resume) the periodic-perturbation run and print eta."""
    engine.viscosity.run_viscosity(directory, acceleration, length_ps, platform, device, precision)
    result = runs.viscosity_of_run(directory)
    typer.echo(f"  viscosity: {result.text()}")
    return result.to_dict()


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
    executor: Annotated[
        Optional[str],
        typer.Option(help="local, dask or slurm (default: the campaign's [executor] kind)."),
    ] = None,
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
    Re-running skips finished jobs and resumes interrupted ones. Exit status 0 when every
    job is done, 1 when any failed or is unfinished, 130 when stopped by Ctrl-C/SIGTERM
    (running jobs checkpoint and resume on the next run)."""
    whole("--slots", slots, 1, 1024)
    catalog = campaigns.run_campaign(
        campaign,
        directory,
        executor=executor,
        scheduler=scheduler,
        slots=slots,
        retry_failed=retry_failed,
        platform=platform,
    )
    _print_jobs(catalog.jobs())
    _exit_unless_done(catalog)


def _exit_unless_done(catalog: campaigns.Catalog) -> None:
    """One summary line; exit status 1 unless every job is done."""
    counts = catalog.counts()
    total = sum(counts.values())
    typer.echo(", ".join(f"{n} {state}" for state, n in counts.items() if n) or "no jobs")
    if counts["done"] != total:
        typer.echo(
            f"{total - counts['done']} of {total} jobs are not done; see the error column "
            "(`solvation campaign status DIR`), re-run to resume, --retry-failed to retry",
            err=True,
        )
        raise typer.Exit(1)


def _cell(value, fmt: str) -> str:
    """A number formatted for the table; empty for None and NaN."""
    try:
        return "" if value is None or value != value else format(value, fmt)
    except (TypeError, ValueError):
        return str(value)


def _text(value, width: int = 60) -> str:
    """First line of a text cell (empty for None and NaN), printed literally."""
    return value.strip().splitlines()[0][:width] if isinstance(value, str) and value.strip() else ""


def _slurm_cell(job_id, cache: dict) -> str:
    """'ID STATE (reason)' of a SLURM job, asked once per job id."""
    if not isinstance(job_id, str) or not job_id:
        return ""
    if job_id not in cache:
        state = campaigns.slurm.job_state(job_id)
        reason = f" ({state['reason']})" if state["reason"] else ""
        cache[job_id] = f"{job_id} {state['state'] or 'gone'}{reason}"
    return cache[job_id]


def _print_jobs(jobs) -> None:
    """The jobs table; with SLURM columns (job, its state now, worker log) when any job
    ran in a SLURM job."""
    slurm = jobs.slurm_job.notna().any()
    columns = ["design", "replica", "status", "seconds", "ns/day", "platform"]
    columns += ["SLURM job", "log"] if slurm else []
    rows, cache = [], {}
    for r in jobs.itertuples():
        process = getattr(r, "process", "")
        row = [
            _text(r.design),
            _cell(r.replica, "d"),
            _text(r.status) + (f" ({process})" if process else ""),
            _cell(r.seconds, ".0f"),
            _cell(r.ns_per_day, ".1f"),
            _text(r.platform),
        ]
        if slurm:
            row += [_slurm_cell(r.slurm_job, cache), _text(r.log, 200)]
        rows.append([*row, _text(r.error, 200 if slurm else 60)])
    print_table([*columns, "error"], rows, width=200 if slurm else 160, markup=False)


def _print_worker_jobs(catalog) -> None:
    """The SLURM worker jobs a slurm executor submitted, with their states now (why
    queued campaign jobs wait)."""
    ids = (catalog.meta("slurm_worker_jobs") or "").split()
    if ids:
        cache: dict = {}
        typer.echo("SLURM worker jobs: " + ", ".join(_slurm_cell(i, cache) for i in ids))


@campaign_app.command("status")
def campaign_status_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    export: Annotated[
        Optional[Path],
        typer.Option(help="Also write jobs.csv, descriptors.csv and descriptors.parquet here."),
    ] = None,
) -> None:
    """Table of the jobs of a campaign directory: every state (pending, queued, running,
    interrupted, failed, done), errors included; a job left 'running' by a campaign that
    was killed shows as 'dead' (its process is gone: `solvation campaign run` resumes it),
    a running one with its process and host; for a slurm executor each job's SLURM job,
    its state now and the worker's log, and the worker jobs still queued or running."""
    output_dir(export, "--export")
    catalog = campaigns.Catalog.existing(directory)
    jobs = campaigns.with_processes(directory, catalog.jobs())
    _print_jobs(jobs)
    _print_worker_jobs(catalog)
    order = [*catalog.counts()]  # the catalog's states in order, then 'dead' after running
    order.insert(order.index("running") + 1, "dead")
    found = jobs.status.value_counts()
    typer.echo(", ".join(f"{found[s]} {s}" for s in order if found.get(s, 0)) or "no jobs")
    if export:
        export.mkdir(parents=True, exist_ok=True)
        for p in catalog.export(export):
            typer.echo(f"wrote {p}")


@app.command("cite")
def cite_cmd(
    directory: Annotated[Path, typer.Argument(help="Build or run directory.")],
    out: Annotated[
        Optional[Path], typer.Option("-o", "--out", help="Write the BibTeX to this file.")
    ] = None,
) -> None:
    """The force-field papers a build or run used, as BibTeX (from its build.json): one
    entry per paper, with the species and parameter sets that use it."""
    text = solvation.citations.bibtex_of(directory)
    if out:
        out.write_text(text)
        typer.echo(f"wrote {out}")
    else:
        typer.echo(text, nl=False)


@app.command("rank")
def rank_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    campaign: Annotated[
        Optional[Path],
        typer.Option(
            help="Campaign file with the [rank] weights (default: the file the directory "
            "was made from)."
        ),
    ] = None,
    weight: Annotated[Optional[list[str]], typer.Option(help="NAME=W, overrides the file.")] = None,
    pareto: Annotated[
        Optional[str], typer.Option(help="Two descriptors A,B for a Pareto front.")
    ] = None,
    json_file: JsonOpt = None,
) -> None:
    """Rank designs by weighted, normalised descriptors combined over replicas: score with
    its spread, probability of ranking first and 95% rank interval from the combined
    uncertainty (unconverged descriptors are not trusted), and which neighbours cannot
    be separated with the data at hand and how much longer the runs would need to be.
    Writes DIR/ranking.csv, DIR/separability.csv and the ranking figure."""
    check_outputs({"--json": (json_file, "json")}, [directory])
    output_dir(directory, "DIRECTORY")
    weights = {
        name: parse_number(f"--weight {name}", value)
        for name, value in named(weight, "--weight").items()
    }
    front = tuple(p.strip() for p in pareto.split(",")) if pareto else None
    result = campaigns.rank_directory(directory, campaign, weights, front)
    _print_ranking(result)
    if result.pareto:
        typer.echo(f"Pareto front: {', '.join(result.pareto)}")
    for design, why in result.left_out.items():
        typer.echo(f"left out: {design}: {why}")
    write_json(
        json_file,
        {
            "ranking": result.table.to_dict(orient="records"),
            "pareto": result.pareto,
            "left_out": result.left_out,
            "separability": [{**asdict(s), "text": s.text()} for s in result.separations],
        },
    )


def _print_ranking(result) -> None:
    """The ranking table (score +- its spread over draws, P(first), 95% rank interval,
    unconverged descriptors) and the separability lines."""
    rows = [
        (
            str(r.rank),
            str(r.design),
            f"{r.score:+.2f} +- {r.score_err:.2f}",
            f"{r.p_first:.2f}",
            f"{r.rank_low}-{r.rank_high}",
            r.unconverged or "",
        )
        for r in result.table.itertuples()
    ]
    print_table(("rank", "design", "score", "P(first)", "rank 95%", "unconverged"), rows)
    for line in result.summary():
        typer.echo(line)


@app.command("descriptors")
def descriptors_cmd(json_file: JsonOpt = None) -> None:
    """Every descriptor campaigns compute and rank: its name, unit, exact definition, the
    analysis that computes it ([analyses] list) and the slow process a run must sample
    for it to settle. `solvation analyze` prints the same quantities under the same
    names."""
    definitions = campaigns.definitions.DESCRIPTOR_DEFINITIONS
    rows = [
        (d.name, d.unit, d.analysis, d.definition, d.slow_process) for d in definitions.values()
    ]
    columns = ("name", "unit", "analysis", "definition", "needs sampled")
    print_table(columns, rows, width=200, markup=False)
    write_json(json_file, {k: asdict(d) for k, d in definitions.items()})


@app.command("figures")
def figures_cmd(
    directory: Annotated[Path, typer.Argument(help="Campaign directory.")],
    out: Annotated[
        Optional[Path], typer.Option(help="Output folder (default DIR/figures).")
    ] = None,
) -> None:
    """Regenerate every figure (PDF, SVG, PNG + CSV) from the stored results alone."""
    output_dir(out, "--out")
    paths = campaigns.make_figures(directory, out)
    typer.echo(f"wrote {len(paths)} files to {paths[0].parent if paths else out}")


@app.command("demo")
def demo_cmd(
    directory: Annotated[Path, typer.Option("-o", "--out", help="Demo directory.")] = Path(
        "solvation-demo"
    ),
    platform: Annotated[str, typer.Option(help="OpenMM platform.")] = "auto",
    family: Annotated[
        Optional[str],
        typer.Option(help="Model family: full or scaled (default: the default family)."),
    ] = None,
) -> None:
    """Three designs (2 m ZnSO4, 2 m Zn(OTf)2, 2 m ZnSO4 + EG), two replicas each, built,
    run, analysed and ranked in a few minutes on 2 CPU cores; prints the ranking with
    what it cannot separate and writes the figures."""
    if family is not None and family not in ("full", "scaled"):
        raise typer.BadParameter(f"unknown model family {family!r}; use full or scaled")
    result = campaigns.run_demo(directory, platform=platform, family=family)
    typer.echo(
        "demo ranking (2 replicas x 8 ps per design: a smoke test of the workflow; the "
        "ranking says what it cannot tell):"
    )
    _print_ranking(result["ranking"])
    jobs = result["jobs"]
    if (jobs.status != "done").any():
        _print_jobs(jobs[jobs.status != "done"])
    typer.echo(f"figures: {directory / 'campaign' / 'figures'}")


@app.command("validate")
def validate_cmd(
    reference: Annotated[
        Optional[list[Path]],
        typer.Option(
            help="Extra reference YAML files (value, uncertainty, unit, conditions, citation)."
        ),
    ] = None,
    profile: Annotated[
        str,
        typer.Option(
            help="quick: TIP3P/12-6-4, small boxes, tens of ps (minutes on 2 CPU cores); "
            "cpu: the ZnSO4 rows of both model families (about 2 hours on 2 cores); "
            "gpu: every row, several systems at once on one GPU (under 10 minutes on an "
            "H100/H200); full: every water model and Zn set, ns runs.",
        ),
    ] = "quick",
    quick: Annotated[bool, typer.Option("--quick", help="Same as --profile quick.")] = False,
    systems: Annotated[
        str, typer.Option(help="Comma-separated: water, zn_water, solutions, osmotic.")
    ] = "water,zn_water,solutions,osmotic",
    families: Annotated[
        Optional[str],
        typer.Option(help="Comma-separated model families: full, scaled (default: the profile's)."),
    ] = None,
    out: Annotated[Path, typer.Option("-o", "--out", help="Report directory.")] = Path(
        "validation"
    ),
    platform: Annotated[str, typer.Option(help="OpenMM platform.")] = "auto",
    cases: Annotated[
        Optional[str],
        typer.Option(
            help="Comma-separated case-name patterns to run and report, e.g. "
            "'znso4_1m-*,znso4_2m-*-r0' (names as in OUT/runs/).",
        ),
    ] = None,
    finished_only: Annotated[
        bool,
        typer.Option(
            "--finished-only",
            help="Run nothing: report the cases whose runs are complete, list the rest.",
        ),
    ] = False,
) -> None:
    """Run reference systems and compare with experiment: report.md, report.html,
    report.json and one plot per quantity. Finished cases are reused on a re-run."""
    output_dir(out, "-o", accepts=lambda p: (p / "runs").is_dir() or (p / "report.json").exists())
    report = validation.validate(
        out,
        reference,
        profile="quick" if quick else profile,
        systems=tuple(s.strip() for s in systems.split(",")),
        platform=platform,
        families=tuple(f.strip() for f in families.split(",")) if families else None,
        finished_only=finished_only,
        only=tuple(c.strip() for c in cases.split(",")) if cases else (),
    )
    for c in report["comparisons"]:
        typer.echo(
            f"{c['quantity']:>22} {c['system']:>10} {c['model']:>14}: {c['simulated']:.4g} +- "
            f"{c['simulated_err']:.2g} vs {c['reference']:.4g} {c['unit']} "
            + (
                f"({c['deviation_sigma']:+.1f} sigma, {'pass' if c['passed'] else 'FAIL'})"
                if math.isfinite(c["deviation_sigma"])
                else "(error unknown: not converged, FAIL)"
            )
        )
    if report["not_run"]:
        typer.echo(f"not run: {', '.join(report['not_run'])}")
    typer.echo(f"report: {out / 'report.md'}")


@bench_app.command("md")
def bench_md_cmd(
    directory: Annotated[Path, typer.Argument(help="Build directory.")],
    steps: Annotated[int, typer.Option(min=1, help="Timed steps per loop.")] = 5000,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
    hmr: Annotated[
        bool, typer.Option("--hmr", help="4 fs with hydrogen mass repartitioning.")
    ] = False,
    repeats: Annotated[
        int, typer.Option(min=1, help="Timed repeats of each loop; the fastest counts.")
    ] = 2,
    json_file: JsonOpt = None,
) -> None:
    """ns/day of the production loop through our engine (default reporters) and through a
    plain OpenMM loop (no reporters), same System, integrator, platform and steps."""
    check_outputs({"--json": (json_file, "json")}, [directory])
    r = engine.bench_md(directory, steps=steps, platform=platform, hmr=hmr, repeats=repeats)
    r["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    typer.echo(
        f"{r['platform']}, {r['n_atoms']} atoms, {r['timestep_fs']:g} fs, {steps} steps: "
        f"plain OpenMM {r['plain_openmm_ns_per_day']:.1f} ns/day, solvation "
        f"{r['solvation_ns_per_day']:.1f} ns/day, ratio {r['ratio']:.3f}, "
        f"peak RSS {r['peak_rss_mib']:.0f} MiB"
    )
    write_json(json_file, r)


app.command("pmf")(pmf_cmd)  # after the commands above, so --help lists it after them
app.command("metad")(metad_cmd)
