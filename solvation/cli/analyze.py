"""``solvation analyze ...``: analyses of any trajectory MDAnalysis reads, or of a run
directory (then selections default to the run's species)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer

import solvation
from solvation import analysis, runs
from solvation.console import LOGGER, warn
from solvation.inputs import InputError, check_outputs, named_numbers, number, prepared, whole
from solvation.provenance import analysis_provenance
from solvation.quantities import TEMPERATURE_LIMITS_K
from solvation.rundir import RUN_JSON, SYSTEM_XML

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
            f"{RUN_JSON} records (default: a warning).",
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
    _OPTIONS["threads"] = threads


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
        "--cutoff",
        help="NAME=ANGSTROM first-shell radius; shells without one follow the one first-shell "
        "definition (the solvent's g(r) minimum; for other species the minimum after a "
        "contact peak, else the solvent's radius).",
    ),
]
Discard = Annotated[
    str,
    typer.Option(
        "--discard",
        help="Leading frames left out of the means: a number, or 'auto' for the transient "
        "that equilibration detection finds (said on the terminal). Default 0: every "
        "selected frame; the detection is reported as a diagnostic only.",
    ),
]


def _discard(text: str) -> int | str:
    """--discard as 'auto' or a number of frames."""
    if text.strip().lower() == "auto":
        return "auto"
    try:
        n = int(text)
    except ValueError:
        n = -1
    if n < 0:
        raise typer.BadParameter(f"--discard takes 'auto' or a number of frames >= 0, not {text!r}")
    return n


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


def prepare_analysis() -> None:
    """Load what every analysis verb needs, when the verb runs: the thread count of the
    compiled kernels (numba) and MDAnalysis. MDAnalysis imports RDKit for its RDKit converter,
    which no verb uses: it is imported here with RDKit hidden (about 0.15 s less), and
    RDKit stays importable afterwards."""
    n = analysis.threads.set_threads(_OPTIONS.get("threads"))  # default: this process's cores
    LOGGER.debug("compiled kernels use %d threads", n)
    if "MDAnalysis" in sys.modules or "rdkit" in sys.modules:
        return
    sys.modules["rdkit"] = None  # `import rdkit` raises ImportError, which MDAnalysis skips
    try:
        import MDAnalysis  # noqa: F401
    finally:
        del sys.modules["rdkit"]


def _universe(paths: list[Path]):
    prepare_analysis()
    return analysis.universe.load_universe(paths[0], *paths[1:], strict=_OPTIONS["strict"])


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
        analysis.rdf.RDF(
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
    for name in result.pairs:
        peak = result.first_peak(name)
        where = f"first peak {peak[0]:.3f} A (g = {peak[1]:.2f})" if peak else "no clear peak"
        typer.echo(f"{name}: {where}, {result.n_frames} frames")
    prov = analysis_provenance(
        u,
        {k: {"a": a, "b": b} for k, (a, b) in pairs.items()},
        {**_frames(start, stop, step), "n_frames": result.n_frames},
        {"rmax_angstrom": rmax, "bins": bins, "exclude_same_molecule": not include_same_molecule},
    )
    _emit(result, json_file, csv_file, provenance=prov)
    if plot:
        analysis.plots.plot_rdf(result, prepared(plot))


def _shells(paths, center, shell, cutoff, pairing, frames, count="molecules", discard=0):
    """Shells with the user's selections, or a run's own (``runs.shells_of_run``: the
    campaign's numbers for the same run); returns (SolvationResult, provenance)."""
    u = _universe(paths)
    shells = named(shell, "--shell")
    cutoffs = _cutoffs(cutoff)
    pairing = "auto" if pairing is None else pairing
    options = {"count": count, "discard": _discard(discard), **frames}
    if center is None and not shells:
        if not paths[0].is_dir():
            raise typer.BadParameter(
                "give --center and --shell (no run directory to take them from)"
            )
        run = runs.shells_of_run(
            u,
            solvation.rundir.read_build(paths[0]),
            cutoffs=cutoffs,
            pairing=pairing,
            verbose=True,
            **options,
        )
        if run.result is None:
            raise typer.BadParameter(f"{paths[0]} holds no Zn2+; give --center and --shell")
        result, center, shells = run.result, run.selections.centre, run.selections.shells
    else:
        if center is None or not shells:  # one given: the run's selections for the other
            if not paths[0].is_dir():
                raise typer.BadParameter(
                    "give --center and --shell (no run directory to take them from)"
                )
            sel = runs.run_selections(solvation.rundir.read_build(paths[0]))
            center, shells = center or sel.centre, shells or sel.shells
        result, _ = analysis.solvation_shells(
            u, center, shells, cutoffs, pairing, verbose=True, **options
        )
    prov = analysis_provenance(
        u,
        {"center": center, **shells},
        {**frames, "n_frames": result.n_frames, "discard": options["discard"]},
        {
            "cutoffs_angstrom": result.site_cutoffs_angstrom,
            "cutoff_source": result.cutoff_source,
            "second_shell_angstrom": result.second_shell_angstrom,
            "solvent": result.solvent,
            "count": count,
        },
    )
    _shell_warnings(result)
    return result, prov


def _radii(result, name: str) -> str:
    """'2.96 A' or 'O 2.96 A, N 3.00 A' for a shell's sites."""
    sites = result.site_cutoffs_angstrom.get(name) or {"": result.cutoffs_angstrom[name]}
    if len(sites) == 1:
        return f"{next(iter(sites.values())):.2f} A"
    return ", ".join(f"{el} {r:.2f} A" for el, r in sites.items())


def _total_line(result) -> str:
    """The total first shell and the chemistry check."""
    total = result.total_coordination
    limit = result.max_first_shell
    check = f"limit {limit}" if limit is not None else "no limit known for this centre"
    most = max(result.total_distribution) if result.total_distribution else 0
    status = "INVALID (see the error above)" if result.problems else "within the limit"
    if limit is None:
        status = "not checked"
    return f"total first shell: {total.text('.3f')}; at most {most} ligands ({check}): {status}"


def _shell_warnings(result) -> None:
    """The chemistry check and the equilibration diagnostic, on stderr."""
    for problem in result.problems:
        typer.secho(f"ERROR in the analysis: {problem}", err=True, fg="red", bold=True)
    estimates = {f"CN {k}": e for k, e in result.coordination.items()}
    estimates.update({f"contact pairs {k}": e for k, e in result.contact_pairs.items()})
    for name, e in estimates.items():
        if e.n_equilibration or e.detected_equilibration:
            typer.echo(f"{name}: {e.equilibration_text()}", err=True)


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
    discard: Discard = "0",
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Coordination numbers (mean, distribution, per frame), which atoms coordinate,
    denticity and residence times of each shell around the centre, the total first
    shell, and the radius of each shell with where it came from."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _cutoffs(cutoff)
    _discard(discard)
    if count not in ("molecules", "atoms"):
        raise InputError(f"--count {count!r}: use molecules or atoms")
    frames = _frames(start, stop, step)
    result, prov = _shells(paths, center, shell, cutoff, None, frames, count, discard)
    for name, cn in result.coordination.items():
        x = result.exchanges[name]
        typer.echo(
            f"{name}: first shell {_radii(result, name)}, CN {cn.text('.3f')}; "
            f"spread over ions {result.coordination_spread[name]:.3f}; first-shell exchanges "
            f"{x.total} ({x.entering} in, {x.leaving} out; {x.per_ion_mean:.2f} per ion, "
            f"{x.per_ns:.3g} per ns)"
        )
        typer.echo(f"  radius from: {result.cutoff_source[name]}")
    typer.echo(_total_line(result))
    _emit(result, json_file, csv_file, provenance=prov)
    if plot:
        analysis.plots.plot_shells(result, prepared(plot))


@analyze_app.command("speciation")
def speciation_cmd(
    paths: Paths,
    center: Center = None,
    shell: Shell = None,
    cutoff: Cutoff = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    discard: Discard = "0",
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Fractions of first-shell compositions, e.g. (water)6 or (water)5(OTf)1."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _cutoffs(cutoff)
    _discard(discard)
    frames = _frames(start, stop, step)
    result, prov = _shells(paths, center, shell, cutoff, None, frames, discard=discard)
    for label, fraction in list(result.speciation.items())[:10]:
        typer.echo(f"{label:>30}: {fraction:.4f}")
    _emit(result, json_file, csv_file, result.speciation_frame(), prov)
    if plot:
        analysis.plots.plot_shells(result, prepared(plot))


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
            "its second-shell radius. Default: every shell but the solvent, second shells "
            "from g(r) (the minimum after the solvent-shared peak)."
        ),
    ] = (),
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    discard: Discard = "0",
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Ion-pairing classes (free, SSIP, CIP, AGG) of the centre with every species but
    the solvent (or the --anion shells)."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _cutoffs(cutoff)
    _discard(discard)
    given = named_numbers(
        "--anion",
        named([a for a in anion if "=" in a], "--anion"),
        "A",
        low=0.0,
        high=20.0,
        low_open=True,
    )
    pairing = {a.split("=")[0].strip(): given.get(a.split("=")[0].strip()) for a in anion}
    frames = _frames(start, stop, step)
    result, prov = _shells(paths, center, shell, cutoff, pairing or None, frames, discard=discard)
    if not result.pairing:
        raise typer.BadParameter("no shell to classify: name one with --anion NAME")
    for name, classes in result.pairing.items():
        typer.echo(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in classes.items()))
        typer.echo(f"  contact pairs (CIP + AGG): {result.contact_pairs[name].text('.3f')}")
    import pandas as pd  # here: only this verb's table needs it

    frame = pd.DataFrame(
        [
            {"anion": n, **c, **result.contact_pairs[n].columns("contact_pairs")}
            for n, c in result.pairing.items()
        ]
    )
    _emit(result, json_file, csv_file, frame, prov)
    if plot:
        analysis.plots.plot_pairing(result, prepared(plot))


SpeciesOpt = Annotated[
    Optional[list[str]],
    typer.Option(
        "--species",
        help='NAME="SELECTION"; each residue in it is one molecule (centre of mass). '
        "Repeat for each species. Default for a run directory: every species of the run.",
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
    typer.Option("--temperature-k", help=f"Temperature (K); default from {RUN_JSON}, else 298.15."),
]
DtPs = Annotated[
    Optional[float],
    typer.Option("--dt-ps", help="Time between frames (ps) when the trajectory does not carry it."),
]


def _temperature(paths: list[Path], given: float | None) -> float:
    return given if given is not None else solvation.rundir.temperature_of(paths[0])


def _species(paths: list[Path], species: list[str] | None) -> dict[str, str]:
    """The --species selections, or a run directory's own species (as coordination takes
    its shells from the run)."""
    given = named(species, "--species")
    if given:
        return given
    if not paths[0].is_dir():
        raise typer.BadParameter(
            "give --species NAME=SELECTION (no run directory to take them from)"
        )
    return runs.run_selections(solvation.rundir.read_build(paths[0])).molecules


def _check_transport(dims, viscosity, temperature, dt_ps) -> None:
    dimensions = analysis.transport.DIMENSIONS
    if dims not in dimensions:
        raise InputError(f"--dims {dims!r}: use one of {', '.join(dimensions)}")
    number("--viscosity-mpa-s", viscosity, "mPa s", 0.0, 1000.0, low_open=True)
    number("--temperature-k", temperature, "K", *TEMPERATURE_LIMITS_K)
    number("--dt-ps", dt_ps, "ps", 0.0, 1.0e6, low_open=True)


def _transport(paths, selections, charges, dims, viscosity, temperature, start, stop, step, dt_ps):
    u = _universe(paths)
    transport = runs.transport_analysis(
        u,
        selections,
        _temperature(paths, temperature),
        paths[0] if paths[0].is_dir() else None,
        None if viscosity is None else viscosity * 1e-3,
        charges=charges,
        dimensions=dims,
        dt_ps=dt_ps,
        verbose=True,
    ).run(start, stop, step)
    source = transport.viscosity_source
    prov = analysis_provenance(
        u,
        selections,
        {**_frames(start, stop, step), "n_frames": transport.n_frames},
        {"dimensions": dims, "charges_e": charges or {}, "viscosity_source": source},
    )
    return transport.results.transport, prov


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
    species: SpeciesOpt = None,
    dims: Dims = "xyz",
    viscosity: Viscosity = None,
    temperature: TemperatureOpt = None,
    dt_ps: DtPs = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Self-diffusion coefficients from the FFT MSD of unwrapped centres of mass, with the
    fit window, standard error (time-correlation aware, with effective samples) and the
    Yeh-Hummer finite-size correction (it says which viscosity it used)."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _check_transport(dims, viscosity, temperature, dt_ps)
    selections = _species(paths, species)
    result, prov = _transport(
        paths, selections, None, dims, viscosity, temperature, start, stop, step, dt_ps
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
    if plot:
        analysis.plots.plot_msd(result, prepared(plot))


@analyze_app.command("conductivity")
def conductivity_cmd(
    paths: Paths,
    species: SpeciesOpt = None,
    charge: Annotated[
        Optional[list[str]],
        typer.Option(
            "--charge",
            help="NAME=Z charge per molecule (e); default from a run "
            f"directory's {SYSTEM_XML} or the topology's charges.",
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
    plot: PlotOut = None,
) -> None:
    """Ionic conductivity (Einstein-Helfand and Nernst-Einstein), Haven ratio and the Zn2+
    transference number."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    _check_transport(dims, viscosity, temperature, dt_ps)
    charges = named_numbers("--charge", named(charge, "--charge"), "e", low=-10.0, high=10.0)
    selections = _species(paths, species)
    if not charges:
        charges = analysis.universe.species_charges(
            _universe(paths), selections, runs.run_directory_charges(paths[0])
        )
    charged = [k for k, z in charges.items() if z != 0]
    if len(charged) < 2:
        warn(
            f"only {len(charged)} charged species given ({', '.join(charged) or 'none'}): "
            "sigma counts only them, and the transference number of a single charged "
            "species is 1 by construction; give every ion with --species"
        )
    result, prov = _transport(
        paths, selections, charges, dims, viscosity, temperature, start, stop, step, dt_ps
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
    if plot:
        sigma = f"σ (Einstein-Helfand) {c['sigma_S_per_m']:.3g} ± {c['sigma_err_S_per_m']:.2g} S/m"
        analysis.plots.plot_msd(result, plot, title=sigma)


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
    discard: Discard = "0",
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Hydrogen-bond network of water: H-bonds per water (every partner, and water-water
    only), classes, partners, shell and free water, tetrahedral order q, largest cluster,
    optional lifetimes. A run directory without --group or --water takes the run's own
    species (the campaign's numbers for the same run)."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    number("--distance", distance, "A", 0.0, 10.0, low_open=True)
    number("--angle", angle, "degrees", 0.0, 180.0, low_open=True)
    number("--cation-cutoff", cation_cutoff, "A", 0.0, 20.0, low_open=True)
    if angle_definition not in ("HDA", "DHA"):
        raise InputError(f"--angle-definition {angle_definition!r}: use HDA or DHA")
    _discard(discard)
    u = _universe(paths)
    groups = named(group, "--group")
    frames = _frames(start, stop, step)
    options = {
        "cation_cutoff": cation_cutoff,
        "distance": distance,
        "angle": angle,
        "angle_definition": angle_definition,
        "lifetimes": lifetimes,
        "discard": _discard(discard),
    }
    if paths[0].is_dir() and not groups and water == "resname HOH" and cations == "resname ZN":
        build = solvation.rundir.read_build(paths[0])
        result = runs.hbonds_of_run(u, build, verbose=True, options=options, **frames)
        sel = runs.run_selections(build)
        water, cations = sel.molecules.get("water", water), sel.centre
        groups = {k: v for k, v in sel.molecules.items() if k in sel.shells and k != "water"}
    else:
        cations = None if cations in (None, "none") else cations
        result = analysis.hydrogen_bonds(
            u, water, groups, cations=cations, verbose=True, **options, **frames
        )
    typer.echo(f"H-bonds per water (every partner) {result.hbonds_per_water.text('.3f')}")
    typer.echo(f"water-water H-bonds per water {result.water_hbonds_per_water.text('.3f')}")
    typer.echo(f"free water fraction {result.free_water_fraction.text('.3f')}")
    typer.echo(f"tetrahedral q {result.tetrahedral_q.text('.3f')}")
    prov = analysis_provenance(
        u,
        {"water": water, "cations": cations, **groups},
        {**frames, "n_frames": result.n_frames, "discard": options["discard"]},
        result.criterion,
    )
    _emit(result, json_file, csv_file, provenance=prov)
    if plot:
        analysis.plots.plot_hbonds(result, prepared(plot))


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
    plot: PlotOut = None,
) -> None:
    """Water activity a_w and osmotic coefficient with errors (see
    solvation.analysis.water_activity for the three routes and their references)."""
    _check(paths, json_file, csv_file, plot, start, stop, step)
    prepare_analysis()
    results = runs.water_activity_of_runs(paths, method, **_frames(start, stop, step))
    for r in results:
        typer.echo(_activity_line(r))
    jsonable = analysis.results.jsonable
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
        import pandas as pd  # here: only this verb's table needs it

        pd.DataFrame(rows).to_csv(prepared(csv_file), index=False)
    if plot:
        analysis.plots.plot_water_activity(results, prepared(plot))


def _activity_line(r: analysis.water_activity.WaterActivity) -> str:
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
    prepare_analysis()
    result = runs.viscosity_of_run(directory)
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
    out = runs.interface_of_run(
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
        analysis.plots.plot_interface(result, prepared(plot))
