"""``solvation analyze ...``: analyses of any trajectory MDAnalysis reads, or of a run
directory (then selections default to the run's species)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Optional

import pandas as pd
import typer

from solvation.analysis import RDF, recipes, solvation_shells
from solvation.analysis import water_activity as wa
from solvation.analysis.hbonds import hydrogen_bonds
from solvation.analysis.plots import plot_interface, plot_rdf, plot_shells
from solvation.analysis.results import jsonable
from solvation.analysis.threads import set_threads
from solvation.analysis.transport import DIMENSIONS, Transport
from solvation.analysis.universe import (
    load_universe,
    run_directory_charges,
    species_charges,
)
from solvation.analysis.viscosity import viscosity_of_run, yeh_hummer_viscosity
from solvation.console import warn
from solvation.inputs import InputError, check_outputs, named_numbers, number, prepared, whole
from solvation.provenance import analysis_provenance
from solvation.quantities import TEMPERATURE_LIMITS_K
from solvation.rundir import read_build, temperature_of

from .common import named, write_json

analyze_app = typer.Typer(
    help="Analyse trajectories: TOPOLOGY [TRAJECTORY...] in any MDAnalysis format, or a run "
    "directory. Selections use the MDAnalysis selection language.",
    no_args_is_help=True,
    rich_markup_mode=None,
)

_OPTIONS = {"strict": False}


@analyze_app.callback()
def analyze_options(
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Refuse a run directory whose trajectory holds fewer frames than its "
            "run.json records (default: a warning).",
        ),
    ] = False,
    threads: Annotated[
        Optional[int],
        typer.Option(
            "--threads",
            help="Threads for the compiled kernels (default: every core this process may "
            "use; NUMBA_NUM_THREADS caps it). Goes before the analysis name.",
            min=1,
        ),
    ] = None,
) -> None:
    """Analyse trajectories: TOPOLOGY [TRAJECTORY...] in any MDAnalysis format, or a run
    directory. Selections use the MDAnalysis selection language."""
    _OPTIONS["strict"] = strict
    set_threads(threads)


Paths = Annotated[list[Path], typer.Argument(help="Run directory, or TOPOLOGY TRAJECTORY...")]
Start = Annotated[Optional[int], typer.Option(help="First frame (0-based).")]
Stop = Annotated[Optional[int], typer.Option(help="Stop before this frame.")]
Step = Annotated[Optional[int], typer.Option(help="Use every STEP-th frame.")]
JsonOut = Annotated[Optional[Path], typer.Option("--json", help="Write the result as JSON.")]
CsvOut = Annotated[Optional[Path], typer.Option("--csv", help="Write the result table as CSV.")]
PlotOut = Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG plot here.")]
Center = Annotated[
    Optional[str],
    typer.Option(help='Centre selection, e.g. "resname ZN" (default for a run: its Zn2+).'),
]
Shell = Annotated[
    Optional[list[str]],
    typer.Option(
        "--shell",
        help='NAME="SELECTION" of coordinating atoms; repeat for each shell (default for a '
        "run: water O and the acceptor atoms of every other species).",
    ),
]
Cutoff = Annotated[
    Optional[list[str]],
    typer.Option(
        "--cutoff", help="NAME=ANGSTROM; shells without one use the first minimum of g(r)."
    ),
]


def merge_pair_args(argv: list[str]) -> list[str]:
    """Accept the documented ``--pair NAME="SEL_A" "SEL_B"`` (two values) by joining them
    as ``NAME=SEL_A|SEL_B``, the one-value form the option parser takes.

    Parameters
    ----------
    argv : list of str
        Command-line arguments.
    """
    out, k = [], 0
    while k < len(argv):
        token = argv[k]
        nxt = argv[k + 2] if k + 2 < len(argv) else None
        if (
            token == "--pair"
            and nxt is not None
            and "=" in argv[k + 1]
            and "|" not in argv[k + 1]
            and not nxt.startswith("-")
        ):
            out += [token, f"{argv[k + 1]}|{nxt}"]
            k += 3
        else:
            out.append(token)
            k += 1
    return out


def _universe(paths: list[Path]):
    return load_universe(paths[0], *paths[1:], strict=_OPTIONS["strict"])


def _frames(start, stop, step) -> dict:
    return {"start": start, "stop": stop, "step": step}


def _check(paths, json_file=None, csv_file=None, plot=None, start=None, stop=None, step=None):
    """Before any work: output files writable and not an input, frame range sane."""
    check_outputs(
        {"--json": (json_file, "json"), "--csv": (csv_file, "csv"), "--plot": (plot, "plot")},
        paths,
    )
    whole("--start", start, 0)
    whole("--stop", stop, 1)
    whole("--step", step, 1)
    if start is not None and stop is not None and stop <= start:
        raise InputError(f"--stop {stop} must be after --start {start}")


def _cutoffs(cutoff) -> dict[str, float]:
    """--cutoff NAME=ANGSTROM values: finite, above 0 and at most 20 A."""
    return named_numbers(
        "--cutoff", named(cutoff, "--cutoff"), "A", low=0.0, high=20.0, low_open=True
    )


def _emit(result, json_file, csv_file, frame=None, provenance=None) -> None:
    """Write ``result`` as JSON (with its provenance) and its table as CSV."""
    if json_file:
        write_json(json_file, {**result.to_dict(), "provenance": provenance or {}})
    if csv_file:
        (frame if frame is not None else result.to_frame()).to_csv(prepared(csv_file), index=False)


@analyze_app.command("rdf")
def rdf_cmd(
    paths: Paths,
    pair: Annotated[
        list[str],
        typer.Option(
            "--pair",
            help='NAME="SEL_A" "SEL_B" (or NAME="SEL_A|SEL_B"); repeat for more pairs. '
            "Example: --pair zn-ow='resname ZN' 'resname HOH and name O'",
        ),
    ],
    rmax: Annotated[float, typer.Option(help="Largest distance (A).")] = 10.0,
    bins: Annotated[int, typer.Option(help="Number of bins.")] = 200,
    include_same_molecule: Annotated[
        bool, typer.Option(help="Count pairs within one molecule too.")
    ] = False,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """g(r) and running coordination n(r) of several pairs in one pass."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    number("--rmax", rmax, "A", 0.0, 100.0, low_open=True)
    whole("--bins", bins, 1, 100_000)
    pairs = {}
    for name, value in named(pair, "--pair").items():
        if "|" not in value:
            raise typer.BadParameter(f'--pair {name}: write NAME="SEL_A|SEL_B"')
        a, b = value.split("|", 1)
        pairs[name] = (a.strip(), b.strip())
    u = _universe(paths)
    result = (
        RDF(
            u,
            pairs,
            rmax=rmax,
            nbins=bins,
            exclude_same_molecule=not include_same_molecule,
            verbose=True,
        )
        .run(start, stop, step)
        .results.rdf
    )
    for name, p in result.pairs.items():
        k = int(p.g_r.argmax())
        typer.echo(
            f"{name}: first peak {result.r_angstrom[k]:.3f} A (g = {p.g_r[k]:.2f}), "
            f"{result.n_frames} frames"
        )
    prov = analysis_provenance(
        u,
        {k: {"a": a, "b": b} for k, (a, b) in pairs.items()},
        {**_frames(start, stop, step), "n_frames": result.n_frames},
        {"rmax_angstrom": rmax, "bins": bins, "exclude_same_molecule": not include_same_molecule},
    )
    _emit(result, json_file, csv_file, provenance=prov)
    if plot:
        plot_rdf(result, prepared(plot))


def _shells(paths, center, shell, cutoff, pairing, start, stop, step, count="molecules"):
    """Shells with the user's selections, or a run's own (centre Zn2+, every species);
    returns (SolvationResult, provenance)."""
    u = _universe(paths)
    shells = named(shell, "--shell")
    if center is None or not shells:
        if not paths[0].is_dir():
            raise typer.BadParameter(
                "give --center and --shell (no run directory to take them from)"
            )
        sel = recipes.run_selections(read_build(paths[0]))
        if sel.centre is None and center is None:
            raise typer.BadParameter(f"{paths[0]} holds no Zn2+; give --center")
        center, shells = center or sel.centre, shells or sel.shells
    cutoffs = _cutoffs(cutoff)
    result, _ = solvation_shells(
        u,
        center,
        shells,
        cutoffs,
        pairing=pairing,
        count=count,
        verbose=True,
        **_frames(start, stop, step),
    )
    prov = analysis_provenance(
        u,
        {"center": center, **shells},
        {**_frames(start, stop, step), "n_frames": result.n_frames},
        {
            "cutoffs_angstrom": result.cutoffs_angstrom,
            "cutoff_source": result.cutoff_source,
            "pairing_second_shell_angstrom": pairing or {},
            "count": count,
        },
    )
    return result, prov


@analyze_app.command("coordination")
def coordination_cmd(
    paths: Paths,
    center: Center = None,
    shell: Shell = None,
    cutoff: Cutoff = None,
    count: Annotated[
        str, typer.Option(help="molecules (distinct molecules) or atoms.")
    ] = "molecules",
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Coordination numbers (mean, distribution, per frame), which atoms coordinate,
    denticity and residence times of each shell around the centre."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _cutoffs(cutoff)
    if count not in ("molecules", "atoms"):
        raise InputError(f"--count {count!r}: use molecules or atoms")
    result, prov = _shells(paths, center, shell, cutoff, None, start, stop, step, count)
    for name, cn in result.coordination.items():
        x = result.exchanges[name]
        typer.echo(
            f"{name}: cutoff {result.cutoffs_angstrom[name]:.2f} A, CN {cn.text('.3f')}; "
            f"spread over ions {result.coordination_spread[name]:.3f}; first-shell exchanges "
            f"{x.total} ({x.entering} in, {x.leaving} out; {x.per_ion_mean:.2f} per ion, "
            f"{x.per_ns:.3g} per ns)"
        )
    _emit(result, json_file, csv_file, provenance=prov)
    if plot:
        plot_shells(result, prepared(plot))


@analyze_app.command("speciation")
def speciation_cmd(
    paths: Paths,
    center: Center = None,
    shell: Shell = None,
    cutoff: Cutoff = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Fractions of shell compositions, e.g. (water)6 or (water)5(OTf)1."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _cutoffs(cutoff)
    result, prov = _shells(paths, center, shell, cutoff, None, start, stop, step)
    for label, fraction in list(result.speciation.items())[:10]:
        typer.echo(f"{label:>30}: {fraction:.4f}")
    _emit(result, json_file, csv_file, result.speciation_frame(), prov)
    if plot:
        plot_shells(result, prepared(plot))


@analyze_app.command("pairing")
def pairing_cmd(
    paths: Paths,
    center: Center = None,
    shell: Shell = None,
    cutoff: Cutoff = None,
    anion: Annotated[
        list[str],
        typer.Option(
            help="Shell NAME to classify (free/SSIP/CIP/AGG), or NAME=ANGSTROM to give "
            "the second-shell cutoff (else the second minimum of g(r))."
        ),
    ] = (),
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Ion-pairing classes of the centre with each anion shell."""
    _check(paths, json_file, csv_file, None, start, stop, step)
    _cutoffs(cutoff)
    given = named_numbers(
        "--anion",
        named([a for a in anion if "=" in a], "--anion"),
        "A",
        low=0.0,
        high=20.0,
        low_open=True,
    )
    pairing = {a.split("=")[0].strip(): given.get(a.split("=")[0].strip()) for a in anion}
    if not pairing:
        raise typer.BadParameter("name at least one --anion shell")
    result, prov = _shells(paths, center, shell, cutoff, pairing, start, stop, step)
    for name, classes in result.pairing.items():
        typer.echo(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in classes.items()))
        typer.echo(f"  contact pairs (CIP + AGG): {result.contact_pairs[name].text('.3f')}")
    frame = pd.DataFrame(
        [
            {"anion": n, **c, **result.contact_pairs[n].columns("contact_pairs")}
            for n, c in result.pairing.items()
        ]
    )
    _emit(result, json_file, csv_file, frame, prov)


SpeciesOpt = Annotated[
    list[str],
    typer.Option(
        "--species",
        help='NAME="SELECTION"; each residue in it is one molecule (centre of mass). '
        "Repeat for each species.",
    ),
]
Dims = Annotated[str, typer.Option("--dims", help="xyz, xy (in-plane), x, y or z.")]
Viscosity = Annotated[
    Optional[float],
    typer.Option(
        "--viscosity-mpa-s",
        help="Shear viscosity (mPa s) for the Yeh-Hummer correction. Default for a run "
        "directory: its own measured viscosity (`solvation run DIR --viscosity`), else the "
        "published viscosity of its water model; none for other trajectories.",
    ),
]
TemperatureOpt = Annotated[
    Optional[float],
    typer.Option("--temperature-k", help="Temperature (K); default from run.json, else 298.15."),
]
DtPs = Annotated[
    Optional[float],
    typer.Option("--dt-ps", help="Time between frames (ps) when the trajectory does not carry it."),
]


def _temperature(paths: list[Path], given: float | None) -> float:
    return given if given is not None else temperature_of(paths[0])


def _check_transport(dims, viscosity, temperature, dt_ps) -> None:
    if dims not in DIMENSIONS:
        raise InputError(f"--dims {dims!r}: use one of {', '.join(DIMENSIONS)}")
    number("--viscosity-mpa-s", viscosity, "mPa s", 0.0, 1000.0, low_open=True)
    number("--temperature-k", temperature, "K", *TEMPERATURE_LIMITS_K)
    number("--dt-ps", dt_ps, "ps", 0.0, 1.0e6, low_open=True)


def _transport(paths, species, charges, dims, viscosity, temperature, start, stop, step, dt_ps):
    u = _universe(paths)
    selections = named(species, "--species")
    eta, source = yeh_hummer_viscosity(
        None if viscosity is None else viscosity * 1e-3, paths[0] if paths[0].is_dir() else None
    )
    analysis = Transport(
        u,
        selections,
        charges=charges,
        dimensions=dims,
        temperature=_temperature(paths, temperature),
        viscosity=eta,
        viscosity_source=source,
        dt_ps=dt_ps,
        verbose=True,
    ).run(start, stop, step)
    prov = analysis_provenance(
        u,
        selections,
        {**_frames(start, stop, step), "n_frames": analysis.n_frames},
        {"dimensions": dims, "charges_e": charges or {}, "viscosity_source": source},
    )
    return analysis.result, prov


def _flag_text(n_eff: float | None, converged: bool, reason: str | None) -> str:
    """'(n_eff N)' and, when not converged, the reason."""
    n = "?" if n_eff is None or n_eff != n_eff else f"{n_eff:.0f}"
    return f"(n_eff {n})" + ("" if converged else f", NOT CONVERGED: {reason}")


def _error_text(
    err: float, n_eff: float, converged: bool, reason: str | None, unit: str = ""
) -> str:
    """'+- ERR UNIT (n_eff N)' (a standard error) and the reason when not converged."""
    e = "?" if err is None or err != err else f"{err:.2g}"
    return f"+- {e}{' ' + unit if unit else ''} {_flag_text(n_eff, converged, reason)}"


@analyze_app.command("diffusion")
def diffusion_cmd(
    paths: Paths,
    species: SpeciesOpt,
    dims: Dims = "xyz",
    viscosity: Viscosity = None,
    temperature: TemperatureOpt = None,
    dt_ps: DtPs = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Self-diffusion coefficients from the FFT MSD of unwrapped centres of mass, with the
    fit window, standard error (time-correlation aware, with effective samples) and the
    Yeh-Hummer finite-size correction (it says which viscosity it used)."""
    _check(paths, json_file, csv_file, None, start, stop, step)
    _check_transport(dims, viscosity, temperature, dt_ps)
    result, prov = _transport(
        paths, species, None, dims, viscosity, temperature, start, stop, step, dt_ps
    )
    for name, d in result.species.items():
        corr = f", corrected {d.D_corrected_m2_per_s:.3e}" if d.D_corrected_m2_per_s else ""
        error = _error_text(d.D_err_m2_per_s, d.D_n_eff, d.converged, d.reason, "m2/s")
        typer.echo(
            f"{name}: D = {d.D_m2_per_s:.3e} {error}{corr}; fit "
            f"{d.fit_window_ps[0]:g}-{d.fit_window_ps[1]:g} ps"
        )
    typer.echo(f"Yeh-Hummer viscosity: {result.viscosity_source}")
    _emit(result, json_file, csv_file, provenance=prov)


@analyze_app.command("conductivity")
def conductivity_cmd(
    paths: Paths,
    species: SpeciesOpt,
    charge: Annotated[
        Optional[list[str]],
        typer.Option(
            "--charge",
            help="NAME=Z charge per molecule (e); default from a run "
            "directory's system.xml or the topology's charges.",
        ),
    ] = None,
    dims: Dims = "xyz",
    viscosity: Viscosity = None,
    temperature: TemperatureOpt = None,
    dt_ps: DtPs = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Ionic conductivity (Einstein-Helfand and Nernst-Einstein), Haven ratio and the Zn2+
    transference number."""
    _check(paths, json_file, csv_file, None, start, stop, step)
    _check_transport(dims, viscosity, temperature, dt_ps)
    charges = named_numbers("--charge", named(charge, "--charge"), "e", low=-10.0, high=10.0)
    if not charges:
        charges = species_charges(
            _universe(paths), named(species, "--species"), run_directory_charges(paths[0])
        )
    charged = [k for k, z in charges.items() if z != 0]
    if len(charged) < 2:
        warn(
            f"only {len(charged)} charged species given ({', '.join(charged) or 'none'}): "
            "sigma counts only them, and the transference number of a single charged "
            "species is 1 by construction; give every ion with --species"
        )
    result, prov = _transport(
        paths, species, charges, dims, viscosity, temperature, start, stop, step, dt_ps
    )
    c = result.conductivity
    error = _error_text(
        c["sigma_err_S_per_m"], c["sigma_n_eff"], c["sigma_converged"], c["sigma_reason"], "S/m"
    )
    typer.echo(
        f"sigma (Einstein-Helfand) {c['sigma_S_per_m']:.3g} {error}; Nernst-Einstein "
        f"{c['sigma_NE_S_per_m']:.3g} S/m; Haven ratio {c['haven_ratio']:.3g}; "
        f"t({c['cation']}) {c.get('t_zn', float('nan')):.3f} (no error estimate)"
    )
    _emit(result, json_file, csv_file, provenance=prov)


@analyze_app.command("hbonds")
def hbonds_cmd(
    paths: Paths,
    water: Annotated[str, typer.Option(help="Water selection.")] = "resname HOH",
    group: Annotated[
        Optional[list[str]],
        typer.Option("--group", help='NAME="SELECTION" of other H-bonding species.'),
    ] = None,
    cations: Annotated[
        Optional[str], typer.Option(help="Cations for shell/free water (none: skip).")
    ] = "resname ZN",
    cation_cutoff: Annotated[
        Optional[float], typer.Option(help="Cation-water O cutoff (A); default from g(r).")
    ] = None,
    distance: Annotated[float, typer.Option(help="Donor-acceptor cutoff (A).")] = 3.5,
    angle: Annotated[float, typer.Option(help="Angle cutoff (degrees).")] = 30.0,
    angle_definition: Annotated[
        str, typer.Option(help="HDA (Luzar-Chandler, below ANGLE) or DHA (above ANGLE).")
    ] = "HDA",
    lifetimes: Annotated[bool, typer.Option("--lifetimes", help="H-bond lifetimes.")] = False,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Hydrogen-bond network of water: H-bonds per water, classes, partners, shell and free
    water, tetrahedral order q, largest cluster, optional lifetimes."""
    _check(paths, json_file, csv_file, None, start, stop, step)
    number("--distance", distance, "A", 0.0, 10.0, low_open=True)
    number("--angle", angle, "degrees", 0.0, 180.0, low_open=True)
    number("--cation-cutoff", cation_cutoff, "A", 0.0, 20.0, low_open=True)
    if angle_definition not in ("HDA", "DHA"):
        raise InputError(f"--angle-definition {angle_definition!r}: use HDA or DHA")
    u = _universe(paths)
    groups = named(group, "--group")
    result = hydrogen_bonds(
        u,
        water,
        groups,
        cations=None if cations in (None, "none") else cations,
        cation_cutoff=cation_cutoff,
        distance=distance,
        angle=angle,
        angle_definition=angle_definition,
        lifetimes=lifetimes,
        verbose=True,
        **_frames(start, stop, step),
    )
    typer.echo(f"H-bonds per water {result.hbonds_per_water.text('.3f')}")
    typer.echo(f"free water fraction {result.free_water_fraction.text('.3f')}")
    typer.echo(f"tetrahedral q {result.tetrahedral_q.text('.3f')}")
    prov = analysis_provenance(
        u,
        {"water": water, "cations": cations, **groups},
        {**_frames(start, stop, step), "n_frames": result.n_frames},
        result.criterion,
    )
    _emit(result, json_file, csv_file, provenance=prov)


@analyze_app.command("water-activity")
def water_activity_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Run directory (osmotic, free-water) or several (kb series)."),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="osmotic (a run built with an [osmotic] table), kb (Kirkwood-Buff over a "
            "series of bulk runs of one salt, Gibbs-Duhem), free-water (structural proxy), "
            "or auto: osmotic for an osmotic run, kb for several runs.",
        ),
    ] = "auto",
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Water activity a_w and osmotic coefficient with errors (see
    solvation.analysis.water_activity for the three routes and their references)."""
    _check(paths, json_file, csv_file, None, start, stop, step)
    results = recipes.water_activity_of_runs(paths, method, **_frames(start, stop, step))
    for r in results:
        typer.echo(_activity_line(r))
    write_json(json_file, {**jsonable(results[-1]), "series": jsonable(results)})
    if csv_file:
        keys = (
            "method",
            "molality_mol_per_kg",
            "a_w",
            "a_w_err",
            "osmotic_coefficient",
            "osmotic_coefficient_err",
            "n_eff",
            "converged",
            "reason",
        )
        rows = [{k: getattr(r, k) for k in keys} for r in results]
        pd.DataFrame(rows).to_csv(prepared(csv_file), index=False)


def _activity_line(r: wa.WaterActivity) -> str:
    flag = _flag_text(r.n_eff, bool(r.converged), r.reason)
    if r.a_w is None:
        d = r.details
        return (
            f"{r.method}: free water fraction {d['free_water_fraction']:.3f} +- "
            f"{d['free_water_fraction_err']:.2g} {flag} (not an activity)"
        )
    return (
        f"{r.method}: m = {r.molality_mol_per_kg:.3f} mol/kg  a_w = {r.a_w:.4f} +- "
        f"{r.a_w_err:.2g}  phi = {r.osmotic_coefficient:.3f} +- "
        f"{r.osmotic_coefficient_err:.2g} {flag}"
    )


@analyze_app.command("viscosity")
def viscosity_cmd(
    directory: Annotated[Path, typer.Argument(help="Run directory with a --viscosity run.")],
    json_file: JsonOut = None,
) -> None:
    """Shear viscosity (mPa s) of a run's periodic-perturbation run (`solvation run DIR
    --viscosity`): eta = rho A / (<V> k^2) with its standard error and effective samples."""
    _check([directory], json_file)
    result = viscosity_of_run(directory)
    typer.echo(result.text())
    write_json(json_file, result.to_dict())


@analyze_app.command("interface")
def interface_cmd(
    paths: Paths,
    species: Annotated[
        Optional[list[str]],
        typer.Option(
            "--species",
            help='NAME="SELECTION" for density profiles; default for a run: its species.',
        ),
    ] = None,
    z0: Annotated[
        Optional[float],
        typer.Option(
            "--z0-angstrom",
            help="Surface plane (A); default: the slab's top atomic plane in the first "
            "frame of a run directory.",
        ),
    ] = None,
    bin_width: Annotated[float, typer.Option("--bin-angstrom", help="Bin width (A).")] = 0.2,
    center: Annotated[
        Optional[str], typer.Option(help='Centre for coordination by distance, e.g. "resname ZN".')
    ] = None,
    shell: Annotated[Optional[list[str]], typer.Option("--shell", help='NAME="SEL".')] = None,
    cutoff: Cutoff = None,
    contact: Annotated[
        Optional[float],
        typer.Option(
            "--contact-angstrom",
            help="Contact-layer width from each face (A); default: the first minimum of "
            "the water-O density profile.",
        ),
    ] = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Profiles along the surface normal (number, mass and charge density, Poisson
    potential, water orientation, coordination by distance), the contact layer of each
    face (composition, water in contact per nm^2, coverage, residence) and, for
    constant-potential electrode runs, surface charge and capacitance."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    number("--z0-angstrom", z0, "A")
    number("--bin-angstrom", bin_width, "A", 0.0, 10.0, low_open=True)
    number("--contact-angstrom", contact, "A", 0.0, 20.0, low_open=True)
    cutoffs = _cutoffs(cutoff)
    u = _universe(paths)
    out = recipes.interface_of_run(
        paths,
        u,
        named(species, "--species") or None,
        z0,
        bin_width,
        center,
        named(shell, "--shell"),
        cutoffs,
        contact,
        verbose=True,
        **_frames(start, stop, step),
    )
    result, layer, electrode = out.profiles, out.contact, out.electrode
    typer.echo(f"surface at z = {out.planes_angstrom['top']:.3f} A, {result.n_frames} frames")
    if electrode:
        typer.echo(
            "Poisson + field: bottom face minus top face "
            f"{electrode['poisson_potential_bottom_minus_top_V']:.3f} V"
        )
    for face, f in layer.faces.items():
        typer.echo(f"contact layer ({face}, {layer.thickness_angstrom:.2f} A), per nm2:")
        for k, v in f.molecules_per_nm2.items():
            typer.echo(f"  {k} {v.text('.3f')}")
        if f.water_contact_per_nm2:
            typer.echo(f"  water O in contact {f.water_contact_per_nm2.text('.3f')}")
    if electrode:
        error = _error_text(
            electrode["capacitance_uF_per_cm2_err"],
            electrode["sigma_top_n_eff"],
            electrode["sigma_top_converged"],
            electrode["sigma_top_reason"],
            "uF/cm2",
        )
        typer.echo(
            f"electrode: dV {electrode['delta_v_V']:.3f} V, sigma "
            f"{electrode['sigma_top_uC_per_cm2']:.2f} uC/cm2, C "
            f"{electrode['capacitance_uF_per_cm2']:.2f} {error}"
        )
    prov = analysis_provenance(
        u,
        named(species, "--species"),
        {**_frames(start, stop, step), "n_frames": result.n_frames},
        {"planes_angstrom": out.planes_angstrom, "bin_angstrom": bin_width},
    )
    write_json(
        json_file,
        {
            **result.to_dict(),
            "contact_layer": layer.to_dict(),
            "electrode": electrode,
            "provenance": prov,
        },
    )
    _emit(result, None, csv_file)
    if plot:
        plot_interface(result, prepared(plot))
