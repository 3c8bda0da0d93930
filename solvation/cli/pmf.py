"""``solvation pmf`` (umbrella windows of one ion from the bulk to a slab's surface) and
``solvation analyze pmf`` (its free-energy and water-count profile with MBAR)."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated, Optional

import typer

import solvation
from solvation import analysis, campaigns, runs
from solvation.inputs import InputError, check_outputs, number, output_dir, prepared, whole
from solvation.rundir import PMF_PARENT_DIR, UMBRELLA_JSON

from .analyze import CsvOut, JsonOut, PlotOut, analyze_app, prepare_analysis
from .common import cluster_options, write_json


def pmf_cmd(
    source: Annotated[
        Path,
        typer.Argument(
            help="Design file (with a \\[slab] unless --pair), or a build/run directory."
        ),
    ],
    out: Annotated[
        Optional[Path],
        typer.Option("-o", "--out", help="PMF directory (default RUN/pmf; needed for a design)."),
    ] = None,
    ion: Annotated[Optional[str], typer.Option(help="Ion species, e.g. Zn2+.")] = None,
    start: Annotated[
        Optional[str],
        typer.Option("--from", help="'bulk' (mid-electrolyte), pair: 'far'; or a distance."),
    ] = None,
    end: Annotated[
        Optional[str],
        typer.Option(
            "--to", help="'surface' (--surface-distance), pair: 'contact'; or a distance."
        ),
    ] = None,
    surface_distance: Annotated[
        Optional[str], typer.Option(help="Closest window to the top plane, e.g. 0.2nm.")
    ] = None,
    spacing: Annotated[Optional[str], typer.Option(help="Window spacing, e.g. 0.1nm.")] = None,
    force_constant: Annotated[
        Optional[str],
        typer.Option(help="e.g. '1000 kJ/mol/nm^2'; auto: 4 kT / spacing^2."),
    ] = None,
    equilibration: Annotated[
        Optional[str], typer.Option(help="Per window, before production, e.g. 100ps.")
    ] = None,
    window_time: Annotated[
        Optional[str], typer.Option(help="Production per window, e.g. 1ns.")
    ] = None,
    shell_cutoff: Annotated[
        Optional[str], typer.Option(help="Ion - water O first-shell cutoff, e.g. 3.0A.")
    ] = None,
    pair: Annotated[
        Optional[tuple[str, str]],
        typer.Option(
            help="Pair PMF along the cation - partner distance, e.g. --pair Zn2+ SO4^2- "
            "(no slab needed; see the PMF how-to, 'Pair PMF')."
        ),
    ] = None,
    partner_atom: Annotated[
        Optional[str],
        typer.Option(help="Partner's reference atom name (default: S of SO4/OTf, first O)."),
    ] = None,
    contact: Annotated[
        Optional[str], typer.Option(help="Pair: closest window, e.g. 0.28nm (default auto).")
    ] = None,
    boundary: Annotated[
        Optional[str],
        typer.Option(help="Pair: K_A boundary, e.g. 1.2nm (default: Bjerrum distance)."),
    ] = None,
    tail: Annotated[
        Optional[str], typer.Option(help="Pair: windows past the boundary (default 0.1nm).")
    ] = None,
    pull_time: Annotated[
        Optional[str], typer.Option(help="Steered MD per window spacing, e.g. 10ps.")
    ] = None,
    executor: Annotated[str, typer.Option(help="local, dask or slurm.")] = "local",
    cluster: Annotated[
        Optional[Path],
        typer.Option(
            help="TOML file whose [executor] table sets the slurm executor's options "
            "(a campaign file works)."
        ),
    ] = None,
    slots: Annotated[int, typer.Option(help="Concurrent windows (local) or Dask workers.")] = 1,
    scheduler: Annotated[
        Optional[str], typer.Option(help="Dask scheduler address (tcp://host:8786).")
    ] = None,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Run failed windows again.")
    ] = False,
    platform: Annotated[str, typer.Option(help="auto|CUDA|HIP|OpenCL|CPU|Reference")] = "auto",
) -> None:
    """Umbrella sampling of one ion's height above the slab's top atomic plane, or with
    --pair of the distance between a cation and a partner: windows from --from to --to,
    each a resumable run seeded from the equilibrated parent run, run concurrently
    through the campaign executor. Analyse with `solvation analyze pmf`. Options override
    the design's \\[pmf] table."""
    whole("--slots", slots, 1, 1024)
    output_dir(
        out,
        "-o",
        accepts=lambda p: any(
            (p / n).exists() for n in (UMBRELLA_JSON, "catalog.sqlite", PMF_PARENT_DIR)
        ),
    )
    settings = {
        "ion": ion,
        "from": start,
        "to": end,
        "surface_distance": surface_distance,
        "spacing": spacing,
        "force_constant": force_constant,
        "equilibration": equilibration,
        "window_time": window_time,
        "shell_cutoff": shell_cutoff,
        "pair": list(pair) if pair else None,
        "partner_atom": partner_atom,
        "contact": contact,
        "boundary": boundary,
        "tail": tail,
        "pull_time": pull_time,
    }
    setup = campaigns.pmf_runner.run_pmf(
        source,
        out,
        executor=executor,
        cluster=cluster_options(cluster) if cluster else None,
        slots=slots,
        scheduler=scheduler,
        retry_failed=retry_failed,
        platform=platform,
        **settings,
    )
    if setup.coordinate == "distance":
        typer.echo(
            f"{len(setup.windows)} windows of {setup.ion_species} - {setup.partner_species} "
            f"({setup.partner_atom}) at {setup.centres_nm[0]:.3f}-{setup.centres_nm[-1]:.3f} nm "
            f"(K_A boundary {setup.boundary_nm:.3f} nm: {setup.boundary_source}), k "
            f"{setup.force_constant_kj_mol_nm2:.0f} kJ/mol/nm^2: done"
        )
        return
    typer.echo(
        f"{len(setup.windows)} windows of {setup.ion_species} at "
        f"{setup.centres_nm[0]:.3f}-{setup.centres_nm[-1]:.3f} nm, k "
        f"{setup.force_constant_kj_mol_nm2:.0f} kJ/mol/nm^2: done"
    )


@analyze_app.command("pmf")
def analyze_pmf_cmd(
    directory: Annotated[Path, typer.Argument(help="PMF directory (from `solvation pmf`).")],
    shell_cutoff: Annotated[
        Optional[float],
        typer.Option("--shell-cutoff-angstrom", help="Ion - water O cutoff (A)."),
    ] = None,
    bin_width: Annotated[
        Optional[float],
        typer.Option(
            "--bin-nm",
            help="Histogram bin width (nm); default spacing / 4 (pair: smallest spacing / 2).",
        ),
    ] = None,
    bootstrap: Annotated[
        Optional[int],
        typer.Option(help="Pair PMF: bootstrap resamples for the errors (default 100).", min=2),
    ] = None,
    finished_only: Annotated[
        bool,
        typer.Option("--finished-only", help="Pair PMF: only the windows that have finished."),
    ] = False,
    also: Annotated[
        Optional[list[Path]],
        typer.Option(
            "--with",
            help="Pair PMF: another PMF directory of the same pair from the same parent "
            "run whose windows join the MBAR (e.g. stiffer windows added where the first "
            "set was pushed off its centres); repeatable.",
        ),
    ] = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Free-energy profile of the ion along its height above the surface (MBAR on
    decorrelated window samples, bulk = 0) with its uncertainty, the first-shell water
    count along the path, the desolvation barrier and the adsorbed-state free energy.
    A pair PMF directory gives W(r) (Jacobian removed, matched to the Coulomb tail in the
    model's eps_r), the CIP and SSIP states, log10 K_A and its CIP part (1 mol/L standard
    state) with bootstrap errors."""
    check_outputs(
        {"--json": (json_file, "json"), "--csv": (csv_file, "csv"), "--plot": (plot, "plot")},
        [directory, *(also or [])],
    )
    number("--shell-cutoff-angstrom", shell_cutoff, "A", 0.0, 10.0, low_open=True)
    number("--bin-nm", bin_width, "nm", 0.0, 1.0, low_open=True)
    pair = solvation.rundir.read_umbrella(directory).coordinate == "distance"
    if also and not pair:
        raise InputError(f"--with adds windows to a pair PMF; {directory} is a surface PMF")
    prepare_analysis()
    if pair:
        result = runs.pair_pmf_of_directory(
            directory,
            shell_cutoff,
            bin_width,
            bootstrap or analysis.pair_pmf.DEFAULT_BOOTSTRAP,
            True,
            finished_only,
            tuple(also or ()),
        )
        _echo_pair(result)
    else:
        result = runs.pmf_of_directory(directory, shell_cutoff, bin_width, verbose=True)
        _echo_surface(result)
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")
    write_json(json_file, result.to_dict())
    if csv_file:
        result.to_frame().to_csv(prepared(csv_file), index=False)
    if plot:
        (analysis.plots.plot_pair_pmf if pair else analysis.plots.plot_pmf)(result, prepared(plot))


def _echo_surface(result) -> None:
    typer.echo(
        f"{result.ion}: desolvation barrier {result.desolvation_barrier_kj_per_mol:.2f} +- "
        f"{result.desolvation_barrier_err_kj_per_mol:.2f} kJ/mol at "
        f"{result.barrier_z_nm:.3f} nm; adsorbed state "
        f"{result.adsorption_free_energy_kj_per_mol:.2f} +- "
        f"{result.adsorption_free_energy_err_kj_per_mol:.2f} kJ/mol at "
        f"{result.adsorbed_z_nm:.3f} nm; first-shell water {result.bulk_water_count:.2f} in bulk"
    )
    typer.echo(result.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"))


def _pm(value: float, err: float, unit: str = "") -> str:
    text = f"{value:.3g}" if value == value else "n/a"
    if value == value and err == err:
        text += f" +- {err:.2g}"
    return f"{text} {unit}".rstrip()


def _echo_pair(r) -> None:
    typer.echo(
        f"{r.cation} - {r.partner} ({r.partner_atom}): W(r) matched to the Coulomb tail "
        f"q {r.charges_e[0]:+.3g} / {r.charges_e[1]:+.3g} e, eps_r {r.dielectric:g} "
        f"({r.dielectric_source})"
    )
    d = r.to_dict()

    def w(name: str) -> str:
        return _pm(d[f"{name}_kj_per_mol"] or math.nan, d[f"{name}_err_kj_per_mol"] or math.nan)

    states = [
        f"{label} at {_pm(d[f'{key}_r_nm'] or math.nan, math.nan, 'nm')}: W {w(key + '_w')}"
        for key, label in (("cip", "CIP"), ("ssip", "SSIP"), ("barrier", "barrier"))
    ]
    typer.echo("  " + "; ".join(states) + " kJ/mol")
    typer.echo(
        f"  W_CIP - W_SSIP {w('pairing_free_energy')} kJ/mol; "
        f"CIP -> SSIP barrier {w('dissociation_barrier')} kJ/mol"
    )
    typer.echo(
        f"  log10 K_A {_pm(r.log10_k_a, r.log10_k_a_err)} (eps_r: +- "
        f"{r.log10_k_a_dielectric_err:.2g}; R = {r.boundary_nm:.3f} nm, "
        f"{r.boundary_source}); log10 K_CIP {_pm(r.log10_k_cip, r.log10_k_cip_err)}; "
        f"CIP share {_pm(r.cip_fraction_of_pairs, r.cip_fraction_of_pairs_err)}"
    )
    typer.echo(f"  standard state: {r.standard_state}; errors: {r.n_bootstrap} bootstrap resamples")
    typer.echo(r.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
