"""PMFs of an ion from the bulk electrolyte to a slab's surface (umbrella sampling), and
the descriptors a campaign ranks on: ``desolvation_barrier`` and
``adsorption_free_energy`` (kJ/mol, bulk = 0; definitions in ``solvation.analysis.pmf``).

A PMF directory holds ``umbrella.json`` (the path and its windows) and
``windows/wNNN`` (one run directory per window, ``solvation.engine.umbrella``); started
from a design file it also holds ``system/``, the design built and run, whose
equilibrated state seeds the windows. ``solvation pmf`` runs the windows concurrently
through the campaign executor (``pmf_runner``); a campaign job runs them one after
another inside the job (``pmf_descriptors``). Either way a finished window is not run
again and an interrupted one resumes.
"""

from __future__ import annotations

from pathlib import Path

from solvation.analysis.pair_pmf import PairPMFResult
from solvation.design import Design, load_design, parse_design
from solvation.engine import run
from solvation.engine.pair_umbrella import (
    check_pair_design,
    check_pair_source,
    prepare_pair_windows,
)
from solvation.engine.umbrella import (
    PMFSettings,
    UmbrellaError,
    pmf_settings,
    prepare_windows,
    run_window,
)
from solvation.rundir import (
    BUILD_JSON,
    PMF_CSV,
    PMF_DIR,
    PMF_PARENT_DIR,
    DescriptorValue,
    RunDir,
    UmbrellaInfo,
    has_run,
    read_design_table,
    read_run,
    write_json_atomic,
)
from solvation.runs.pmf import pmf_of_directory
from solvation.systems import build
from solvation.systems.composition import size_box


def source_design(source: Path) -> Design:
    """The design of a PMF source (a design file, or a build/run directory).

    Parameters
    ----------
    source : Path
        A design file, or a build/run directory.

    Raises
    ------
    UmbrellaError
        When a directory is not a build/run directory.
    """
    if source.is_dir():
        if not (source / BUILD_JSON).exists():
            raise UmbrellaError(f"{source} is neither a design file nor a build/run directory")
        return parse_design(read_design_table(source), str(source))
    return load_design(source)


def parent_run(source: Path, out: Path, platform: str = "auto", **protocol) -> Path:
    """The run directory the windows start from: ``source`` itself when it is a build or
    run directory (run first when it has no equilibrated state), else the design file
    ``source`` built into OUT/system and run. ``protocol``: overrides of the design's
    [protocol] for that run.

    Parameters
    ----------
    source : Path
        A design file, or a build/run directory.
    out : Path
        The PMF directory.
    platform : str
        OpenMM platform name, or "auto".
    **protocol
        Overrides of the design's [protocol] (values with units).
    """
    parent = source if source.is_dir() else build(source, out / PMF_PARENT_DIR).path
    if not (has_run(parent) and "npt" in read_run(parent).stages_done):
        run(parent, platform=platform, **protocol)
    return parent


def setup_pmf(
    source: str | Path,
    out: str | Path | None = None,
    platform: str = "auto",
    protocol: dict | None = None,
    device: int | None = None,
    **settings,
) -> tuple[Path, UmbrellaInfo]:
    """The PMF directory of ``source`` (a design file, or a build/run directory) with its
    windows written (default: RUN/pmf; required for a design file); see ``run_pmf`` of
    ``pmf_runner`` for the arguments. Settings are checked before anything runs.

    Parameters
    ----------
    source : str or Path
        A design file, or a build/run directory.
    out : str or Path, optional
        The PMF directory.
    platform : str
        OpenMM platform name, or "auto".
    protocol : dict, optional
        Overrides for the parent run.
    device : int, optional
        GPU index.
    **settings
        The design's [pmf] keys (values with units).
    """
    source = Path(source)
    if out is None:
        if not source.is_dir():
            raise UmbrellaError("give -o/--out: where to write the PMF of a design file")
        out = source / PMF_DIR
    out = Path(out)
    design = source_design(source)
    checked: PMFSettings = pmf_settings(design.pmf, **settings)
    if checked.pair is None and design.slab is None:
        raise UmbrellaError(
            f"{source} has no [slab]: the PMF path ends at a slab surface (or give --pair)"
        )
    if checked.pair is None:
        parent = parent_run(source, out, platform, **(protocol or {}))
        return out, prepare_windows(parent, out, checked, platform, device)
    if source.is_dir():  # refuse before the parent is run, and before any window
        check_pair_source(source, checked)
    else:
        check_pair_design(design, checked, size_box(design))
    parent = parent_run(source, out, platform, **(protocol or {}))
    return out, prepare_pair_windows(parent, out, checked, platform, device)


def pmf_descriptors(
    job_dir: Path, platform: str = "auto", device: int | None = None
) -> dict[str, DescriptorValue]:
    """Campaign job: the PMF of the job's run (windows one after another in this process,
    settings from the design's [pmf] table), written to ``pmf.json``/``pmf.csv``; its
    desolvation barrier and adsorption free energy (kJ/mol) with their errors, or for a
    pair PMF (``pair`` in [pmf]) the descriptors of ``pair_descriptors``.

    Parameters
    ----------
    job_dir : Path
        A campaign job directory (a finished slab run).
    platform : str
        OpenMM platform name, or "auto".
    device : int, optional
        GPU index.
    """
    job_dir = Path(job_dir)
    out, setup = setup_pmf(job_dir, job_dir / PMF_DIR, platform, device=device)
    for name in setup.windows:
        run_window(out / name, setup.protocol, platform, device)
    result = pmf_of_directory(out)
    write_json_atomic(RunDir(job_dir).pmf_json, result.to_dict())
    result.to_frame().to_csv(RunDir(job_dir).output(PMF_CSV), index=False)
    if isinstance(result, PairPMFResult):
        return pair_descriptors(result, setup)
    return {
        "desolvation_barrier": DescriptorValue(
            value=result.desolvation_barrier_kj_per_mol,
            err=result.desolvation_barrier_err_kj_per_mol,
        ),
        "adsorption_free_energy": DescriptorValue(
            value=result.adsorption_free_energy_kj_per_mol,
            err=result.adsorption_free_energy_err_kj_per_mol,
        ),
    }


def pair_descriptors(result: PairPMFResult, setup: UmbrellaInfo) -> dict[str, DescriptorValue]:
    """The descriptors of a pair PMF (definitions in ``solvation.analysis.pair_pmf``):

    - ``pairing_free_energy``: W_CIP - W_SSIP (kJ/mol; negative: contact favoured);
    - ``log_ka``: log10 K_A (standard state 1 mol/L) up to the boundary;
    - ``shell_entry_free_energy``: -RT ln(K_CIP c deg) (kJ/mol): the standard free energy
      of putting the partner's atom into the cation's first shell from apart; with the
      design's own box as solvent, an additive's or an anion's entry in that electrolyte.

    Each carries its bootstrap error, the smallest window's effective samples, the PMF's
    convergence flag with its first warning, and the production time of the windows.

    Parameters
    ----------
    result : PairPMFResult
    setup : UmbrellaInfo
        The pair PMF's record.
    """
    flags = {
        "n_eff": float(min(w["n_effective"] for w in result.windows)),
        "converged": result.converged,
        "reason": result.warnings[0] if result.warnings else None,
        "span_ps": float(setup.protocol["production_ps"]) * len(setup.windows),
    }

    def value(v: float, err: float) -> DescriptorValue:
        finite = v == v
        return DescriptorValue(
            value=v if finite else None, err=err if err == err else None, **flags
        )

    r = result
    return {
        "pairing_free_energy": value(
            r.pairing_free_energy_kj_per_mol, r.pairing_free_energy_err_kj_per_mol
        ),
        "log_ka": value(r.log10_k_a, r.log10_k_a_err),
        "shell_entry_free_energy": value(
            r.cip_free_energy_kj_per_mol, r.cip_free_energy_err_kj_per_mol
        ),
    }
