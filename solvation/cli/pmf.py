"""``solvation pmf`` (umbrella windows of one ion from the bulk to a slab's surface) and
``solvation analyze pmf`` (its free-energy and water-count profile with MBAR)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import typer

from solvation import analysis, campaigns
from solvation.inputs import check_outputs, number, output_dir, prepared, whole

from .analyze import CsvOut, JsonOut, PlotOut, analyze_app, prepare_analysis
from .common import cluster_options, write_json


def pmf_cmd(
    source: Annotated[
        Path, typer.Argument(help="Design file with a \\[slab], or a build/run directory.")
    ],
    out: Annotated[
        Optional[Path],
        typer.Option("-o", "--out", help="PMF directory (default RUN/pmf; needed for a design)."),
    ] = None,
    ion: Annotated[Optional[str], typer.Option(help="Ion species, e.g. Zn2+.")] = None,
    start: Annotated[
        Optional[str], typer.Option("--from", help="'bulk' (mid-electrolyte) or a distance.")
    ] = None,
    end: Annotated[
        Optional[str], typer.Option("--to", help="'surface' (--surface-distance) or a distance.")
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
    """Umbrella sampling of one ion's height above the slab's top atomic plane: windows
    from --from to --to, each a resumable run seeded from the equilibrated parent run,
    run concurrently through the campaign executor. Analyse with `solvation analyze pmf`.
    Options override the design's \\[pmf] table."""
    whole("--slots", slots, 1, 1024)
    output_dir(
        out,
        "-o",
        accepts=lambda p: any(
            (p / n).exists() for n in ("umbrella.json", "catalog.sqlite", "system")
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
        typer.Option("--bin-nm", help="Histogram bin width (nm); default spacing / 4."),
    ] = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Free-energy profile of the ion along its height above the surface (MBAR on
    decorrelated window samples, bulk = 0) with its uncertainty, the first-shell water
    count along the path, the desolvation barrier and the adsorbed-state free energy."""
    check_outputs(
        {"--json": (json_file, "json"), "--csv": (csv_file, "csv"), "--plot": (plot, "plot")},
        [directory],
    )
    number("--shell-cutoff-angstrom", shell_cutoff, "A", 0.0, 10.0, low_open=True)
    number("--bin-nm", bin_width, "nm", 0.0, 1.0, low_open=True)
    prepare_analysis()
    result = analysis.recipes.pmf_of_directory(directory, shell_cutoff, bin_width, verbose=True)
    typer.echo(
        f"{result.ion}: desolvation barrier {result.desolvation_barrier_kj_per_mol:.2f} +- "
        f"{result.desolvation_barrier_err_kj_per_mol:.2f} kJ/mol at "
        f"{result.barrier_z_nm:.3f} nm; adsorbed state "
        f"{result.adsorption_free_energy_kj_per_mol:.2f} +- "
        f"{result.adsorption_free_energy_err_kj_per_mol:.2f} kJ/mol at "
        f"{result.adsorbed_z_nm:.3f} nm; first-shell water {result.bulk_water_count:.2f} in bulk"
    )
    typer.echo(result.to_frame().to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    for warning in result.warnings:
        typer.echo(f"warning: {warning}")
    write_json(json_file, result.to_dict())
    if csv_file:
        result.to_frame().to_csv(prepared(csv_file), index=False)
    if plot:
        analysis.plots.plot_pmf(result, prepared(plot))
