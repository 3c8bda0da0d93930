"""``solvation analyze ...``: structure analyses of any trajectory MDAnalysis reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Optional

import typer

analyze_app = typer.Typer(
    help="Analyse trajectories: TOPOLOGY [TRAJECTORY...] in any MDAnalysis format, or a run "
    "directory. Selections use the MDAnalysis selection language.",
    no_args_is_help=True,
)

Paths = Annotated[list[Path], typer.Argument(help="Run directory, or TOPOLOGY TRAJECTORY...")]
Start = Annotated[Optional[int], typer.Option(help="First frame (0-based).")]
Stop = Annotated[Optional[int], typer.Option(help="Stop before this frame.")]
Step = Annotated[Optional[int], typer.Option(help="Use every STEP-th frame.")]
JsonOut = Annotated[Optional[Path], typer.Option("--json", help="Write the result as JSON.")]
CsvOut = Annotated[Optional[Path], typer.Option("--csv", help="Write the result table as CSV.")]
PlotOut = Annotated[Optional[Path], typer.Option("--plot", help="Write a PNG plot here.")]
Center = Annotated[str, typer.Option(help='Centre selection, e.g. "resname ZN".')]
Shell = Annotated[
    list[str],
    typer.Option("--shell", help='NAME="SELECTION" of coordinating atoms; repeat for each shell.'),
]
Cutoff = Annotated[
    Optional[list[str]],
    typer.Option(
        "--cutoff", help="NAME=ANGSTROM; shells without one use the first minimum of g(r)."
    ),
]


def merge_pair_args(argv: list[str]) -> list[str]:
    """Accept the documented ``--pair NAME="SEL_A" "SEL_B"`` (two values) by joining them
    as ``NAME=SEL_A|SEL_B``, the one-value form the option parser takes."""
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


def _named(items: list[str] | None, what: str) -> dict[str, str]:
    out = {}
    for item in items or []:
        if "=" not in item:
            raise typer.BadParameter(f"{what} {item!r} must be NAME=VALUE")
        name, value = item.split("=", 1)
        out[name.strip()] = value.strip().strip('"').strip("'")
    return out


def _universe(paths: list[Path]):
    from solvation.analysis import load_universe

    return load_universe(paths[0], *paths[1:])


def _emit(result, json_file, csv_file, frame=None) -> None:
    if json_file:
        json_file.write_text(json.dumps(result.to_dict(), indent=2) + "\n")
    if csv_file:
        (frame if frame is not None else result.to_frame()).to_csv(csv_file, index=False)


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
    from solvation.analysis import RDF

    pairs = {}
    for name, value in _named(pair, "--pair").items():
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
    _emit(result, json_file, csv_file)
    if plot:
        from solvation.analysis.plots import plot_rdf

        plot_rdf(result, plot)


def _shells(paths, center, shell, cutoff, pairing, start, stop, step, count="molecules"):
    from solvation.analysis import solvation_shells

    cutoffs = {k: float(v) for k, v in _named(cutoff, "--cutoff").items()}
    return solvation_shells(
        _universe(paths),
        center,
        _named(shell, "--shell"),
        cutoffs,
        pairing=pairing,
        count=count,
        start=start,
        stop=stop,
        step=step,
        verbose=True,
    )


@analyze_app.command("coordination")
def coordination_cmd(
    paths: Paths,
    center: Center,
    shell: Shell,
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
    result, _ = _shells(paths, center, shell, cutoff, None, start, stop, step, count)
    for name, cn in result.coordination_numbers.items():
        typer.echo(
            f"{name}: cutoff {result.cutoffs_angstrom[name]:.2f} A, CN {cn:.3f} "
            f"+- {result.coordination_std[name]:.3f}"
        )
    _emit(result, json_file, csv_file)
    if plot:
        from solvation.analysis.plots import plot_shells

        plot_shells(result, plot)


@analyze_app.command("speciation")
def speciation_cmd(
    paths: Paths,
    center: Center,
    shell: Shell,
    cutoff: Cutoff = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
    plot: PlotOut = None,
) -> None:
    """Fractions of shell compositions, e.g. (water)6 or (water)5(OTf)1."""
    result, _ = _shells(paths, center, shell, cutoff, None, start, stop, step)
    for label, fraction in list(result.speciation.items())[:10]:
        typer.echo(f"{label:>30}: {fraction:.4f}")
    _emit(result, json_file, csv_file, result.speciation_frame())
    if plot:
        from solvation.analysis.plots import plot_shells

        plot_shells(result, plot)


@analyze_app.command("pairing")
def pairing_cmd(
    paths: Paths,
    center: Center,
    shell: Shell,
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
    import pandas as pd

    pairing = {a.split("=")[0]: (float(a.split("=")[1]) if "=" in a else None) for a in anion}
    if not pairing:
        raise typer.BadParameter("name at least one --anion shell")
    result, _ = _shells(paths, center, shell, cutoff, pairing, start, stop, step)
    for name, classes in result.pairing.items():
        typer.echo(f"{name}: " + ", ".join(f"{k} {v:.3f}" for k, v in classes.items()))
    frame = pd.DataFrame([{"anion": n, **c} for n, c in result.pairing.items()])
    _emit(result, json_file, csv_file, frame)


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
        help="Shear viscosity (mPa s) for the Yeh-Hummer correction "
        "(default: experimental water, 0.890).",
    ),
]
TemperatureOpt = Annotated[
    Optional[float],
    typer.Option("--temperature-k", help="Temperature (K); default from run.json, else 298.15."),
]
Blocks = Annotated[int, typer.Option("--blocks", help="Independent time blocks for errors.")]
DtPs = Annotated[
    Optional[float],
    typer.Option("--dt-ps", help="Time between frames (ps) when the trajectory does not carry it."),
]


def _temperature(paths: list[Path], given: float | None) -> float:
    from solvation.analysis.universe import run_temperature

    return given if given is not None else run_temperature(paths[0])


def _transport(
    paths, species, charges, dims, viscosity, temperature, blocks, start, stop, step, dt_ps=None
):
    from solvation.analysis.transport import Transport

    u = _universe(paths)
    result = Transport(
        u,
        _named(species, "--species"),
        charges=charges,
        dimensions=dims,
        temperature=_temperature(paths, temperature),
        viscosity=None if viscosity is None else viscosity * 1e-3,
        n_blocks=blocks,
        dt_ps=dt_ps,
        verbose=True,
    ).run(start, stop, step)
    return result.results.transport


@analyze_app.command("diffusion")
def diffusion_cmd(
    paths: Paths,
    species: SpeciesOpt,
    dims: Dims = "xyz",
    viscosity: Viscosity = None,
    temperature: TemperatureOpt = None,
    blocks: Blocks = 5,
    dt_ps: DtPs = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Self-diffusion coefficients from the FFT MSD of unwrapped centres of mass, with the
    fit window, block uncertainty and Yeh-Hummer finite-size correction."""
    result = _transport(
        paths, species, None, dims, viscosity, temperature, blocks, start, stop, step, dt_ps
    )
    for name, d in result.species.items():
        corr = f", corrected {d.D_corrected_m2_per_s:.3e}" if d.D_corrected_m2_per_s else ""
        typer.echo(
            f"{name}: D = {d.D_m2_per_s:.3e} +- {d.D_err_m2_per_s:.1e} m2/s{corr} "
            f"(fit {d.fit_window_ps[0]:g}-{d.fit_window_ps[1]:g} ps"
            f"{'' if d.diffusive else ', NOT diffusive'})"
        )
    _emit(result, json_file, csv_file)


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
    blocks: Blocks = 5,
    dt_ps: DtPs = None,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Ionic conductivity (Einstein-Helfand and Nernst-Einstein), Haven ratio and the Zn2+
    transference number."""
    from solvation.analysis.universe import run_directory_charges, species_charges

    charges = {k: float(v) for k, v in _named(charge, "--charge").items()}
    if not charges:
        charges = species_charges(
            _universe(paths), _named(species, "--species"), run_directory_charges(paths[0])
        )
    result = _transport(
        paths, species, charges, dims, viscosity, temperature, blocks, start, stop, step, dt_ps
    )
    c = result.conductivity
    typer.echo(
        f"sigma (Einstein-Helfand) {c['sigma_S_per_m']:.3g} +- {c['sigma_err_S_per_m']:.2g}"
        f" S/m; Nernst-Einstein {c['sigma_NE_S_per_m']:.3g} S/m; Haven ratio "
        f"{c['haven_ratio']:.3g}; t({c['cation']}) {c.get('t_zn', float('nan')):.3f}"
    )
    _emit(result, json_file, csv_file)


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
    from solvation.analysis.hbonds import hydrogen_bonds

    result = hydrogen_bonds(
        _universe(paths),
        water,
        _named(group, "--group"),
        cations=None if cations in (None, "none") else cations,
        cation_cutoff=cation_cutoff,
        distance=distance,
        angle=angle,
        angle_definition=angle_definition,
        lifetimes=lifetimes,
        start=start,
        stop=stop,
        step=step,
        verbose=True,
    )
    typer.echo(
        f"H-bonds per water {result.hbonds_per_water:.3f} +- "
        f"{result.hbonds_per_water_err:.3f}; free water {result.free_water_fraction:.3f};"
        f" q {result.tetrahedral_q:.3f}"
    )
    _emit(result, json_file, csv_file)


@analyze_app.command("water-activity")
def water_activity_cmd(
    paths: Annotated[
        list[Path],
        typer.Argument(help="Run directory (osmotic, free-water) or several (kb series)."),
    ],
    method: Annotated[
        str,
        typer.Option(
            help="osmotic (a run built with [osmotic]), kb (Kirkwood-Buff over a series "
            "of bulk runs of one salt, Gibbs-Duhem), free-water (structural proxy), or "
            "auto: osmotic for an [osmotic] run, kb for several runs."
        ),
    ] = "auto",
    blocks: Annotated[int, typer.Option(help="Time blocks for the errors.")] = 5,
    start: Start = None,
    stop: Stop = None,
    step: Step = None,
    json_file: JsonOut = None,
    csv_file: CsvOut = None,
) -> None:
    """Water activity a_w and osmotic coefficient with errors (see
    solvation.analysis.water_activity for the three routes and their references)."""
    import pandas as pd

    from solvation.analysis import water_activity as wa
    from solvation.analysis.results import jsonable

    frames = {"start": start, "stop": stop, "step": step}
    method = _activity_method(paths, method)
    if method == "osmotic":
        results = [wa.osmotic_from_run(paths[0], blocks, **frames)]
    elif method == "kb":
        results = wa.gibbs_duhem([wa.kb_from_run(p, blocks, **frames) for p in paths])
    else:
        from solvation.analysis.hbonds import hydrogen_bonds

        hb = hydrogen_bonds(_universe(paths), n_blocks=blocks, **frames)
        results = [wa.free_water_proxy(hb.free_water_fraction, hb.free_water_fraction_err)]
    for r in results:
        typer.echo(_activity_line(r))
    out = {**jsonable(results[-1]), "series": jsonable(results)}
    if json_file:
        json_file.write_text(json.dumps(out, indent=2) + "\n")
    if csv_file:
        keys = ("method", "molality_mol_per_kg", "a_w", "a_w_err", "osmotic_coefficient")
        rows = [{k: getattr(r, k) for k in keys} for r in results]
        pd.DataFrame(rows).to_csv(csv_file, index=False)


def _electrode_sheets(electrode: dict | None, planes: dict, lz: float) -> dict:
    """Sheets of the mean electrode face charges and the applied field (V/nm) for the
    Poisson potential of an electrode run (the trajectory holds no electrode charges)."""
    if not electrode or "bottom" not in planes:
        return {}
    d_bottom = float((planes["bottom"] - planes["top"]) % lz)
    top, bottom = electrode["sigma_top_e_per_nm2"], electrode["sigma_bottom_e_per_nm2"]
    return {"sheets": {0.0: top, d_bottom: bottom}, "external_field": electrode["field_V_per_nm"]}


def _activity_method(paths: list[Path], method: str) -> str:
    if method not in ("auto", "osmotic", "kb", "free-water"):
        raise typer.BadParameter("--method must be auto, osmotic, kb or free-water")
    if method == "auto":
        from solvation.analysis.universe import InputError, build_info

        try:
            osmotic = build_info(paths[0]).get("osmotic")
        except InputError:
            osmotic = None
        method = "osmotic" if osmotic else "kb" if len(paths) > 1 else ""
        if not method:
            raise typer.BadParameter(
                "one run without [osmotic]: give --method free-water for the proxy, or "
                "several runs of one salt at different molalities for --method kb"
            )
    if method in ("osmotic", "free-water") and len(paths) > 1 and paths[1].is_dir():
        raise typer.BadParameter(f"--method {method} takes one run directory")
    return method


def _activity_line(r) -> str:
    if r.a_w is None:
        d = r.details
        return f"{r.method}: free water fraction {d['free_water_fraction']:.3f} (not an activity)"
    return (
        f"{r.method}: m = {r.molality_mol_per_kg:.3f} mol/kg  a_w = {r.a_w:.4f} +- "
        f"{r.a_w_err:.4f}  phi = {r.osmotic_coefficient:.3f} +- {r.osmotic_coefficient_err:.3f}"
    )


@analyze_app.command("interface")
def interface_cmd(
    paths: Paths,
    species: Annotated[
        list[str], typer.Option("--species", help='NAME="SELECTION" for density profiles.')
    ],
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
    from solvation.analysis.contact import ContactLayer, contact_thickness
    from solvation.analysis.interface import (
        InterfaceProfiles,
        electrode_summary,
        slab_planes,
    )
    from solvation.analysis.universe import run_directory_charges

    shells = _named(shell, "--shell")
    cutoffs = {k: float(v) for k, v in _named(cutoff, "--cutoff").items()}
    u = _universe(paths)
    if z0 is None:
        planes = slab_planes(paths[0], u)
        z0 = planes["top"]
    else:
        planes = {"top": z0}
    electrode = electrode_summary(paths[0]) if paths[0].is_dir() else None
    charges = run_directory_charges(paths[0])
    if charges is None and hasattr(u.atoms, "charges"):
        charges = u.atoms.charges  # PSF, TPR, LAMMPS data ... carry them
    result = (
        InterfaceProfiles(
            u,
            _named(species, "--species"),
            z0,
            bin_width,
            charges=charges,
            center=center,
            shells=shells or None,
            cutoffs=cutoffs,
            verbose=True,
            **_electrode_sheets(electrode, planes, u.dimensions[2]),
        )
        .run(start, stop, step)
        .results.interface
    )
    typer.echo(f"surface at z = {z0:.3f} A, {result.n_frames} frames")
    if electrode:
        import numpy as np

        d_bottom = float((planes["bottom"] - z0) % u.dimensions[2])
        across = float(np.interp(d_bottom, result.distance_angstrom, result.potential_V))
        electrode["poisson_potential_bottom_minus_top_V"] = across
        typer.echo(f"Poisson + field: bottom face minus top face {across:.3f} V")
    thickness = contact or contact_thickness(
        result.distance_angstrom, result.water_o_density_per_nm3
    )
    layer = (
        ContactLayer(u, _named(species, "--species"), planes, thickness, verbose=True)
        .run(start, stop, step)
        .results.contact
    )
    for face, f in layer.faces.items():
        parts = ", ".join(f"{k} {v.mean:.2f}" for k, v in f.molecules_per_nm2.items())
        water = (
            f"; water in contact {f.water_contact_per_nm2.mean:.2f}/nm2"
            if (f.water_contact_per_nm2)
            else ""
        )
        typer.echo(f"contact layer ({face}, {thickness:.2f} A): {parts} per nm2{water}")
    if electrode:
        typer.echo(
            f"electrode: dV {electrode['delta_v_V']:.3f} V, sigma "
            f"{electrode['sigma_top_uC_per_cm2']:.2f} uC/cm2, C "
            f"{electrode['capacitance_uF_per_cm2']:.2f} uF/cm2"
        )
    if json_file:
        out = {**result.to_dict(), "contact_layer": layer.to_dict(), "electrode": electrode}
        json_file.write_text(json.dumps(out, indent=2) + "\n")
    _emit(result, None, csv_file)
    if plot:
        from solvation.analysis.plots import plot_interface

        plot_interface(result, plot)
