"""The run-directory contract: every file name of a build, run, PMF, window and campaign
job directory (``RunDir`` owns their paths), typed, versioned records of ``build.json``,
``run.json``, ``viscosity/viscosity.json`` (a periodic-perturbation run), a PMF
directory's ``umbrella.json``, a window's ``window.json`` and a campaign job's
``result.json``, the production checkpoint record (``checkpoint.json``), and the only
code that reads or writes them. No other module spells a file name of these
directories: they use ``RunDir`` or the constants below (``tests/test_layout.py``).

Every record carries ``schema_version``. A record with another version, or with keys
this version does not know, is refused with a message naming the file and what to do,
so a renamed key fails when the directory is opened, never halfway through an analysis.
Records are pydantic models; JSON is written strictly (NaN and infinities become null)
and atomically (temporary file, fsync, rename).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import tomllib
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from solvation.errors import InputError, SolvationError
from solvation.jsonio import read_text, write_json_atomic

SCHEMA_VERSION = 2  # 1: files written before the schema was versioned

# --- the file names of a run directory (nowhere else) ----------------------------------

# build directory (``solvation build``)
BUILD_JSON, DESIGN_TOML, SYSTEM_XML = "build.json", "design.toml", "system.xml"
TOPOLOGY_PDB, TOPOLOGY_CIF = "topology.pdb", "topology.cif"
# run directory (``solvation run``)
RUN_JSON, STATE_CSV, EQUILIBRATION_CSV = "run.json", "state.csv", "equilibration.csv"
ELECTRODE_CSV = "electrode.csv"
TRAJECTORY_STEM, TRAJECTORY_FORMATS = "trajectory", ("xtc", "dcd")
CHECKPOINT_JSON, CHECKPOINT_PREFIX, CHECKPOINT_SUFFIX = "checkpoint.json", "checkpoint-", ".chk"
STAGE_PREFIX, STAGE_SUFFIX = "stage-", ".xml"
VISCOSITY_DIR, VISCOSITY_JSON, VISCOSITY_CSV = "viscosity", "viscosity.json", "viscosity.csv"
# PMF directory and its windows (``solvation pmf``); a PMF made from a design builds
# its parent in ``system/``; a campaign job's PMF sits in its ``pmf/`` folder
WINDOW_JSON, UMBRELLA_JSON = "window.json", "umbrella.json"
PMF_PARENT_DIR, PMF_DIR = "system", "pmf"
# metadynamics stage folder (``engine.metadynamics``)
METAD_DIR = "metad"
METAD_JSON, METAD_CSV, METAD_CHECKPOINT = "metad.json", "metad.csv", "checkpoint.chk"
# analysis outputs of a campaign job directory, and its result
RESULT_JSON = "result.json"
SHELLS_JSON, RDF_JSON, HBONDS_JSON = "shells.json", "rdf.json", "hbonds.json"
TRANSPORT_JSON, MSD_CSV, KB_JSON = "transport.json", "msd.csv", "kb.json"
WATER_ACTIVITY_JSON = "water_activity.json"
PMF_JSON, PMF_CSV, METAD_PAIRS_JSON = "pmf.json", "pmf.csv", "metad_pairs.json"

TRAJECTORY_FILES = tuple(f"{TRAJECTORY_STEM}.{f}" for f in TRAJECTORY_FORMATS)
# every fixed file name above (tests/test_layout.py: no other module spells one)
FILE_NAMES = (
    BUILD_JSON,
    DESIGN_TOML,
    SYSTEM_XML,
    TOPOLOGY_PDB,
    TOPOLOGY_CIF,
    RUN_JSON,
    STATE_CSV,
    EQUILIBRATION_CSV,
    ELECTRODE_CSV,
    *TRAJECTORY_FILES,
    CHECKPOINT_JSON,
    VISCOSITY_JSON,
    VISCOSITY_CSV,
    WINDOW_JSON,
    UMBRELLA_JSON,
    METAD_JSON,
    METAD_CSV,
    METAD_CHECKPOINT,
    RESULT_JSON,
    SHELLS_JSON,
    RDF_JSON,
    HBONDS_JSON,
    TRANSPORT_JSON,
    MSD_CSV,
    KB_JSON,
    WATER_ACTIVITY_JSON,
    PMF_JSON,
    PMF_CSV,
    METAD_PAIRS_JSON,
)
# files that make a run, build, PMF or window directory what it is: never an output
# target (``solvation.inputs``); the patterns name checkpoints and stage states
RECORD_NAMES = frozenset(
    {
        BUILD_JSON,
        RUN_JSON,
        SYSTEM_XML,
        TOPOLOGY_PDB,
        TOPOLOGY_CIF,
        DESIGN_TOML,
        STATE_CSV,
        EQUILIBRATION_CSV,
        ELECTRODE_CSV,
        *TRAJECTORY_FILES,
        CHECKPOINT_JSON,
        RESULT_JSON,
        UMBRELLA_JSON,
        WINDOW_JSON,
        VISCOSITY_JSON,
        VISCOSITY_CSV,
    }
)
RECORD_PATTERNS = (
    re.compile(rf"^{CHECKPOINT_PREFIX}\d+{re.escape(CHECKPOINT_SUFFIX)}$"),
    re.compile(rf"^{STAGE_PREFIX}[a-z]+{re.escape(STAGE_SUFFIX)}$"),
)
DIRECTORY_MARKERS = (BUILD_JSON, UMBRELLA_JSON, WINDOW_JSON)  # a run/build, PMF, window dir


DAMAGED_HINTS = {
    BUILD_JSON: "rebuild the directory with `solvation build DESIGN.toml -o NEW_DIR`",
    RUN_JSON: "restore it, or remove it to run again from the start (`solvation run DIR`)",
    RESULT_JSON: "remove the job's directory and run the campaign again",
}


class RunDirError(SolvationError):
    """A build/run/job directory whose records are missing or of another version."""


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class _Versioned(_Record):
    schema_version: int = SCHEMA_VERSION


# --- build.json -----------------------------------------------------------------------


class ConcentrationRecord(_Record):
    """A solute's concentration as requested and as the integer counts achieve it."""

    solute: str
    requested: str
    requested_value: float
    achieved: float
    unit: str  # mol/kg, mol/L, wt%, vol%, mol%, g/L
    formula_units: int


class SlabRecord(_Record):
    """The substrate slab: material, facet, size, z of its outer atomic planes (nm),
    lateral area."""

    material: str = "Zn"
    facet: str
    layers: int
    repeats: list[int]
    z_faces_nm: list[float]  # bottom, top atomic planes at build time
    electrolyte_z_nm: list[float]
    vacuum_nm: float
    frozen: bool
    n_metal_atoms: int
    area_nm2: float
    adsorbed: dict[str, Any] | None = None


class ElectrodeRecord(_Record):
    """A constant-potential electrode (finite-field method)."""

    potential_difference_V: float
    field_kj_mol_nm_e: float
    gaussian_width_nm: float
    thomas_fermi_length_nm: float
    method: str
    n_electrode_atoms: int
    method_reference: str


class OsmoticRecord(_Record):
    """Flat-bottom walls of the osmotic-pressure route (nm, kJ/mol/nm^2)."""

    walls_nm: list[float]
    force_constant_kj_mol_nm2: float
    confined_resnames: list[str]
    n_solution_water: int
    n_reservoir_water: int
    area_nm2: float


class BuildInfo(_Versioned):
    """``build.json``: what was built, from which design, with which parameters."""

    name: str
    spec_hash: str
    counts: dict[str, int]
    resnames: dict[str, str]  # species -> residue name
    total_charge: float  # e
    box_nm: list[float]
    box_vectors_nm: list[list[float]]
    n_atoms: int
    concentrations: list[ConcentrationRecord]
    density_estimate_g_per_cm3: float
    density_note: str
    estimated_densities: list[str]
    temperature_k: float
    water_model: str
    forcefield: list[dict[str, Any]]  # one provenance entry per parameter set
    charge_scale: float
    seed: int
    min_intermolecular_distance_angstrom: float
    smiles: dict[str, str]
    slab: SlabRecord | None = None
    electrode: ElectrodeRecord | None = None
    osmotic: OsmoticRecord | None = None
    initial_structure: dict[str, Any] | None = None  # pre-hydration, contact pairs at t = 0
    # model family, how it was chosen and what it is validated for (forcefields.status)
    model_family: dict[str, Any] | None = None
    versions: dict[str, str]
    build_seconds: float = 0.0
    topology: str = TOPOLOGY_PDB


# --- run.json -------------------------------------------------------------------------


class RunInfo(_Versioned):
    """``run.json``: protocol, progress through the stages, platform, speeds, densities."""

    protocol: dict[str, Any]
    stages_done: list[str] = []
    ns_per_day: dict[str, float | None] = {}
    complete: bool = False
    platform: str | None = None
    precision: str | None = None
    device: int | None = None
    versions: dict[str, str] = {}
    seed: int | None = None
    n_atoms: int | None = None
    minimized_energy_kj_mol: float | None = None
    minimize_seconds: float | None = None
    equilibration_csv_bytes: int = 0
    npt_volume_nm3: float | None = None
    density_g_per_cm3: float | None = None
    density_err_g_per_cm3: float | None = None  # standard error (solvation.analysis.stats)
    density_n_eff: float | None = None
    density_converged: bool | None = None
    density_reason: str | None = None  # why the density did not converge
    concentrations_after_npt: list[dict[str, Any]] = []
    n_frames: int | None = None
    trajectory: str | None = None
    # production appended after the run first finished (`solvation run DIR --extend`):
    # one {"from_ps", "to_ps", "requested"} entry per extension, in order
    extensions: list[dict[str, Any]] = []

    @property
    def temperature_k(self) -> float:
        """Thermostat temperature of the run's protocol, in K."""
        return float(self.protocol["temperature_k"])


# --- viscosity/viscosity.json ----------------------------------------------------------


class ViscosityInfo(_Versioned):
    """``viscosity/viscosity.json``: a periodic-perturbation (cosine acceleration) NVT run
    started from the run's equilibrated state; ``viscosity.csv`` beside it holds the flow
    amplitude V (nm/ps) every ``report_steps`` steps."""

    acceleration_nm_per_ps2: float
    time_ps: float
    report_steps: int
    timestep_fs: float
    friction_per_ps: float
    temperature_k: float
    box_nm: list[float]
    mass_amu: float
    density_kg_per_m3: float
    seed: int
    complete: bool = False
    platform: str | None = None
    precision: str | None = None
    ns_per_day: float | None = None


# --- a campaign job's result ----------------------------------------------------------


class DescriptorValue(_Record):
    """One descriptor of one job: value with its standard error (None: unknown), the
    effective samples behind it, whether it converged (None: not assessed, written before
    convergence was judged), why not, the trajectory time it covers (ps), and for shell
    quantities how many times longer the run must be for the shells to exchange enough
    (None: they did, none did, or not a shell quantity), ``sampled``: False when its slow
    process (first-shell exchange) never happened in the run, so that plain MD of this
    length cannot say how long it would need, and ``problem``: an error of the analysis
    behind it (a first shell beyond the cation's chemistry) that forbids ranking it."""

    value: float | None
    err: float | None = None
    n_eff: float | None = None
    converged: bool | None = None
    reason: str | None = None
    span_ps: float | None = None
    time_factor: float | None = None
    sampled: bool | None = None
    problem: str | None = None


class JobResult(_Versioned):
    """``result.json`` of a campaign job: its descriptors, timings and platform;
    ``frames_read``: trajectory frames its per-frame analyses (structure, H-bonds,
    transport) read: the frame count for their one pass (the opt-in water_activity reads
    the run on its own and is not counted); ``analysis_seconds``: wall time after the MD
    run (loading, analyses, writing results)."""

    key: str
    descriptors: dict[str, DescriptorValue]
    seconds: float
    ns_per_day: float | None = None
    platform: str | None = None
    frames_read: int | None = None
    analysis_seconds: float | None = None


# --- umbrella sampling ----------------------------------------------------------------


class WindowInfo(_Versioned):
    """``window.json`` of an umbrella-sampling window (itself a run directory): the
    harmonic restraint on one ion's z (``coordinate`` "height") or on the distance between
    a cation and a partner atom ("distance"), and where the window started."""

    index: int
    centre_nm: float  # height above the slab's top atomic plane, or pair distance
    force_constant_kj_mol_nm2: float
    ion_index: int  # atom index in topology.pdb (the cation of a pair)
    ion_species: str
    restraint_z_nm: float | None = None  # height: absolute z of the restraint's minimum
    top_plane_start_nm: float | None = None
    pull_rate_nm_per_ps: float  # the steered pull that seeded the window
    coordinate: str = "height"  # height | distance
    partner_index: int | None = None  # distance: the partner's reference atom
    partner_species: str | None = None


class UmbrellaInfo(_Versioned):
    """``umbrella.json`` of a PMF directory: the path of the ion, its windows and the
    parent run they started from."""

    parent: str
    ion_species: str
    ion_index: int
    centres_nm: list[float]
    force_constant_kj_mol_nm2: float
    spacing_nm: float
    temperature_k: float
    shell_cutoff_angstrom: float
    pull_ps: float  # steered MD per window spacing that seeded the windows
    windows: list[str]  # window directories, relative to the PMF directory
    protocol: dict[str, Any]
    # a pair PMF (coordinate "distance"): the partner, the model's charges and eps_r
    coordinate: str = "height"  # height | distance
    partner_species: str | None = None
    partner_index: int | None = None
    partner_atom: str | None = None  # atom name of the partner's reference atom
    partner_acceptors: list[int] = []  # partner atoms counted as in the cation's shell
    charges_e: list[float] | None = None  # net charges of cation and partner in the model
    dielectric: float | None = None  # eps_r of the model's water
    dielectric_source: str | None = None
    boundary_nm: float | None = None  # K_A boundary
    boundary_source: str | None = None


# --- reading and writing --------------------------------------------------------------


def _read(path: Path, model: type[_Versioned], what: str, hint: str):
    if not path.exists():
        raise RunDirError(f"{path.parent} holds no {path.name}: {hint}")
    damaged = DAMAGED_HINTS.get(path.name, f"recreate the {what}")
    try:
        data = json.loads(read_text(path, f"the {what} record"))
    except InputError as err:
        raise RunDirError(f"{err}: it is damaged; {damaged}") from None
    except json.JSONDecodeError as err:
        raise RunDirError(f"{path} is not valid JSON ({err}): it is damaged; {damaged}") from None
    found = data.get("schema_version", 1) if isinstance(data, dict) else None
    if found != SCHEMA_VERSION:
        age = "an older" if isinstance(found, int) and found < SCHEMA_VERSION else "another"
        raise RunDirError(
            f"{path} was written by {age} version of solvation (schema {found}; this "
            f"version reads schema {SCHEMA_VERSION}). Recreate the {what} with this version, "
            "or use the solvation version that wrote it"
        )
    try:
        return model.model_validate(data)
    except ValidationError as err:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in err.errors()[:5]
        )
        raise RunDirError(f"{path} does not match the {what} schema ({fields})") from None


def read_build(directory: str | Path) -> BuildInfo:
    """``build.json`` of a build or run directory.

    Parameters
    ----------
    directory : str or Path
        A build or run directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(
        Path(directory) / BUILD_JSON,
        BuildInfo,
        "build",
        "is it a build directory? Create one with `solvation build DESIGN.toml -o DIR`",
    )


def write_build(directory: str | Path, info: BuildInfo) -> None:
    """Write ``build.json`` into a build directory (atomically).

    Parameters
    ----------
    directory : str or Path
        The build directory.
    info : BuildInfo
        The record to write.
    """
    write_json_atomic(Path(directory) / BUILD_JSON, info.model_dump(mode="json"))


def has_run(directory: str | Path) -> bool:
    """Whether ``directory`` holds a ``run.json`` (a run has finished there).

    Parameters
    ----------
    directory : str or Path
        A build or run directory.
    """
    return (Path(directory) / RUN_JSON).exists()


def run_complete(directory: str | Path) -> bool:
    """Whether ``directory`` holds a run whose production has finished (``run.json``
    says so).

    Parameters
    ----------
    directory : str or Path
        A build or run directory.
    """
    return has_run(directory) and read_run(directory).complete


def read_run(directory: str | Path) -> RunInfo:
    """``run.json`` of a run directory.

    Parameters
    ----------
    directory : str or Path
        A run directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(
        Path(directory) / RUN_JSON,
        RunInfo,
        "run",
        "run it first with `solvation run DIR`",
    )


def write_run(directory: str | Path, info: RunInfo) -> None:
    """Write ``run.json`` into a run directory (atomically).

    Parameters
    ----------
    directory : str or Path
        The run directory.
    info : RunInfo
        The record to write.
    """
    write_json_atomic(Path(directory) / RUN_JSON, info.model_dump(mode="json"))


def read_result(directory: str | Path) -> JobResult:
    """``result.json`` of a finished campaign job directory.

    Parameters
    ----------
    directory : str or Path
        A campaign job directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(Path(directory) / RESULT_JSON, JobResult, "job result", "the job did not finish")


def write_result(directory: str | Path, result: JobResult) -> None:
    """Write ``result.json`` into a campaign job directory (atomically).

    Parameters
    ----------
    directory : str or Path
        The job directory.
    result : JobResult
        The record to write.
    """
    write_json_atomic(Path(directory) / RESULT_JSON, result.model_dump(mode="json"))


def load_system(directory: str | Path):
    """The serialized OpenMM System (``system.xml``) of a build directory.

    Parameters
    ----------
    directory : str or Path
        A build or run directory.

    Returns
    -------
    openmm.System

    Raises
    ------
    RunDirError
        When ``system.xml`` is missing or cannot be read.
    """
    import openmm  # here, not at the top: reading run records must not load OpenMM

    path = Path(directory) / SYSTEM_XML
    if not path.exists():
        raise RunDirError(f"{directory} holds no {SYSTEM_XML}; rebuild it with `solvation build`")
    try:
        return openmm.XmlSerializer.deserialize(path.read_text())
    except (OSError, ValueError, openmm.OpenMMException) as err:  # damaged or cut XML
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise RunDirError(
            f"{path} cannot be read ({first}); it may be truncated or edited. Rebuild the "
            "directory with `solvation build DESIGN.toml -o NEW_DIR`"
        ) from None


def save_system(directory: str | Path, system) -> None:
    """Write the serialized OpenMM System (``system.xml``) into a build directory.

    Parameters
    ----------
    directory : str or Path
        A build directory (or the temporary folder that becomes one).
    system : openmm.System
        The System to write.
    """
    import openmm  # here, not at the top: reading run records must not load OpenMM

    (Path(directory) / SYSTEM_XML).write_text(openmm.XmlSerializer.serialize(system))


def has_viscosity(directory: str | Path) -> bool:
    """Whether ``directory`` holds ``viscosity/viscosity.json`` (a finished viscosity run).

    Parameters
    ----------
    directory : str or Path
        A run directory.
    """
    return (Path(directory) / VISCOSITY_DIR / VISCOSITY_JSON).exists()


def read_viscosity(directory: str | Path) -> ViscosityInfo:
    """``viscosity/viscosity.json`` of a run directory.

    Parameters
    ----------
    directory : str or Path
        A run directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(
        Path(directory) / VISCOSITY_DIR / VISCOSITY_JSON,
        ViscosityInfo,
        "viscosity run",
        "run it with `solvation run DIR --viscosity`",
    )


def write_viscosity(directory: str | Path, info: ViscosityInfo) -> None:
    """Write ``viscosity/viscosity.json`` into a run directory (atomically), creating the
    folder.

    Parameters
    ----------
    directory : str or Path
        The run directory.
    info : ViscosityInfo
        The record to write.
    """
    path = Path(directory) / VISCOSITY_DIR
    path.mkdir(exist_ok=True)
    write_json_atomic(path / VISCOSITY_JSON, info.model_dump(mode="json"))


def read_design_table(directory: str | Path) -> dict:
    """The design (a TOML table) copied into a build directory.

    Parameters
    ----------
    directory : str or Path
        A build or run directory.

    Raises
    ------
    RunDirError
        When the directory holds no design file.
    """
    path = Path(directory) / DESIGN_TOML
    if not path.exists():
        raise RunDirError(f"{directory} holds no {DESIGN_TOML}; rebuild the directory")
    try:
        return tomllib.loads(read_text(path, "design copy"))
    except (InputError, tomllib.TOMLDecodeError) as err:
        raise RunDirError(
            f"{path} cannot be read ({err}); it was edited or damaged: restore it from the "
            "design file the directory was built from"
        ) from None


def temperature_of(directory: str | Path, default: float = 298.15) -> float:
    """Temperature (K) of a run directory's protocol; ``default`` for anything else.

    Parameters
    ----------
    directory : str or Path
        A run directory, or anything else (a trajectory file, a build directory).
    default : float
        Temperature in K returned when ``directory`` is not a finished run.

    Returns
    -------
    float
        Temperature in K.
    """
    path = Path(directory)
    if path.is_dir() and has_run(path):
        return read_run(path).temperature_k
    return default


def read_window(directory: str | Path) -> WindowInfo:
    """``window.json`` of an umbrella-sampling window directory.

    Parameters
    ----------
    directory : str or Path
        An umbrella-sampling window directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(
        Path(directory) / WINDOW_JSON,
        WindowInfo,
        "umbrella window",
        "is it a window of `solvation pmf`?",
    )


def write_window(directory: str | Path, info: WindowInfo) -> None:
    """Write ``window.json`` into an umbrella-sampling window directory (atomically).

    Parameters
    ----------
    directory : str or Path
        The window directory.
    info : WindowInfo
        The record to write.
    """
    write_json_atomic(Path(directory) / WINDOW_JSON, info.model_dump(mode="json"))


def read_umbrella(directory: str | Path) -> UmbrellaInfo:
    """``umbrella.json`` of a PMF directory (made by `solvation pmf`).

    Parameters
    ----------
    directory : str or Path
        A PMF directory.

    Raises
    ------
    RunDirError
        When the file is missing, damaged or written by another schema version.
    """
    return _read(
        Path(directory) / UMBRELLA_JSON,
        UmbrellaInfo,
        "PMF directory",
        "make one with `solvation pmf RUN_OR_DESIGN -o DIR`",
    )


def write_umbrella(directory: str | Path, info: UmbrellaInfo) -> None:
    """Write ``umbrella.json`` into a PMF directory (atomically).

    Parameters
    ----------
    directory : str or Path
        The PMF directory.
    info : UmbrellaInfo
        The record to write.
    """
    write_json_atomic(Path(directory) / UMBRELLA_JSON, info.model_dump(mode="json"))


# --- the production checkpoint record -------------------------------------------------


def write_checkpoint(folder: str | Path, step: int, data: bytes, sizes: dict[str, int]) -> Path:
    """Save ``checkpoint-<step>.chk`` (fsynced, renamed into place), then atomically point
    ``checkpoint.json`` at it with its SHA-256 and the byte sizes of the outputs, then
    delete older checkpoint files: a kill at any moment leaves a consistent pair.

    Parameters
    ----------
    folder : str or Path
        A run directory (or its viscosity folder).
    step : int
        The simulation step of the checkpoint.
    data : bytes
        OpenMM's checkpoint (``Context.createCheckpoint``).
    sizes : dict
        Output file name -> size in bytes at this step.

    Returns
    -------
    Path
        The checkpoint file.
    """
    files = RunDir(folder)
    chk = files.checkpoint_file(step)
    tmp = chk.with_suffix(".tmp")
    with tmp.open("wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, chk)
    record = {"step": step, "file": chk.name, "sizes": sizes}
    record["sha256"] = hashlib.sha256(data).hexdigest()
    write_json_atomic(files.checkpoint_json, record)
    for old in files.checkpoint_files():
        if old != chk:
            old.unlink(missing_ok=True)
    return chk


def read_checkpoint_record(folder: str | Path) -> dict | None:
    """The production checkpoint record of ``folder`` (None: there is none), checked to
    name a checkpoint file that exists and holds what its SHA-256 says.

    Parameters
    ----------
    folder : str or Path
        A run directory (or its viscosity folder).

    Returns
    -------
    dict or None
        ``step``, ``file`` (the checkpoint's name in ``folder``), ``sizes`` (output name
        -> bytes) and ``sha256`` (absent in records written before it was kept).

    Raises
    ------
    RunDirError
        For a damaged record, a missing checkpoint file or one whose SHA-256 differs.
    """
    folder = Path(folder)
    marker = folder / CHECKPOINT_JSON
    if not marker.exists():
        return None
    try:
        record = json.loads(marker.read_bytes().decode("utf-8"))
        ok = (
            isinstance(record["step"], int)
            and isinstance(record["file"], str)
            and isinstance(record["sizes"], dict)
            and record["step"] >= 0
        )
    except (ValueError, KeyError, TypeError):
        ok = False
    if not ok:
        raise RunDirError(f"{marker} is damaged (not a checkpoint record)")
    chk = folder / record["file"]
    if not chk.is_file():
        raise RunDirError(f"{marker} names {record['file']}, which is missing")
    digest = record.get("sha256")  # records written before it was kept have none
    if digest is not None and hashlib.sha256(chk.read_bytes()).hexdigest() != digest:
        raise RunDirError(f"{chk} is damaged (its SHA-256 differs from the record's)")
    return record


def remove_checkpoints(folder: str | Path) -> None:
    """Delete the checkpoint record and every checkpoint file of ``folder``.

    Parameters
    ----------
    folder : str or Path
        A run directory (or its viscosity folder).
    """
    files = RunDir(folder)
    files.checkpoint_json.unlink(missing_ok=True)
    for old in files.checkpoint_files():
        old.unlink()


# --- the directory ----------------------------------------------------------------------


class RunDir:
    """A build, run, PMF, window or campaign job directory: the path of every file in it
    and its typed records (each read from disk when asked, never cached).

    ``os.fspath`` and ``str`` give the directory, so a ``RunDir`` goes wherever a path
    does; ``RunDir(RunDir(p))`` is ``RunDir(p)``.

    Parameters
    ----------
    path : str, Path or RunDir
        The directory (it need not exist yet).
    """

    def __init__(self, path: str | Path | RunDir):
        self.path = Path(path)

    def __fspath__(self) -> str:
        return os.fspath(self.path)

    def __str__(self) -> str:
        return str(self.path)

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def __eq__(self, other) -> bool:
        return isinstance(other, RunDir) and other.path == self.path

    def __hash__(self) -> int:
        return hash(self.path)

    # -- build files ----------------------------------------------------------------------

    @property
    def build_json(self) -> Path:
        """``build.json``: what was built (``BuildInfo``)."""
        return self.path / BUILD_JSON

    @property
    def design_toml(self) -> Path:
        """``design.toml``: the design the directory was built from."""
        return self.path / DESIGN_TOML

    @property
    def system_xml(self) -> Path:
        """``system.xml``: the serialized OpenMM System."""
        return self.path / SYSTEM_XML

    @property
    def topology_pdb(self) -> Path:
        """``topology.pdb``: topology and starting coordinates."""
        return self.path / TOPOLOGY_PDB

    @property
    def topology_cif(self) -> Path:
        """``topology.cif``: the PDBx copy written for systems too large for PDB."""
        return self.path / TOPOLOGY_CIF

    # -- run files ------------------------------------------------------------------------

    @property
    def run_json(self) -> Path:
        """``run.json``: protocol and progress of the run (``RunInfo``)."""
        return self.path / RUN_JSON

    @property
    def state_csv(self) -> Path:
        """``state.csv``: production energies, temperature, volume, density, speed."""
        return self.path / STATE_CSV

    @property
    def equilibration_csv(self) -> Path:
        """``equilibration.csv``: the same columns from minimisation to NPT."""
        return self.path / EQUILIBRATION_CSV

    @property
    def electrode_csv(self) -> Path:
        """``electrode.csv``: electrode charges of a constant-potential run."""
        return self.path / ELECTRODE_CSV

    def trajectory(self, fmt: str = "xtc") -> Path:
        """The production trajectory written in format ``fmt``.

        Parameters
        ----------
        fmt : str
            ``xtc`` or ``dcd``.
        """
        return self.path / f"{TRAJECTORY_STEM}.{fmt}"

    def trajectories(self) -> list[Path]:
        """Every trajectory name a run may write, XTC first (existing or not)."""
        return [self.trajectory(f) for f in TRAJECTORY_FORMATS]

    def stage_xml(self, stage: str) -> Path:
        """``stage-<stage>.xml``: the state at the end of an equilibration stage.

        Parameters
        ----------
        stage : str
            The stage ('npt').
        """
        return self.path / f"{STAGE_PREFIX}{stage}{STAGE_SUFFIX}"

    @property
    def checkpoint_json(self) -> Path:
        """``checkpoint.json``: the record of the last production checkpoint."""
        return self.path / CHECKPOINT_JSON

    def checkpoint_file(self, step: int) -> Path:
        """``checkpoint-<step>.chk``: the OpenMM checkpoint at ``step``.

        Parameters
        ----------
        step : int
            The simulation step.
        """
        return self.path / f"{CHECKPOINT_PREFIX}{step}{CHECKPOINT_SUFFIX}"

    def checkpoint_files(self) -> list[Path]:
        """The checkpoint files on disk (normally one)."""
        return sorted(self.path.glob(f"{CHECKPOINT_PREFIX}*{CHECKPOINT_SUFFIX}"))

    def production_outputs(self, fmt: str, electrode: bool) -> list[Path]:
        """The production outputs: trajectory, ``state.csv`` and, with an electrode,
        ``electrode.csv`` (the files a checkpoint records).

        Parameters
        ----------
        fmt : str
            Trajectory format (``xtc`` or ``dcd``).
        electrode : bool
            Whether the run writes electrode charges.
        """
        out = [self.trajectory(fmt), self.state_csv]
        return [*out, self.electrode_csv] if electrode else out

    def production_files(self) -> list[Path]:
        """Every production output a run may have written (both trajectory formats)."""
        return [*self.trajectories(), self.state_csv, self.electrode_csv]

    @property
    def viscosity(self) -> RunDir:
        """The ``viscosity/`` folder of a periodic-perturbation run (its checkpoints sit
        there, named as a run's)."""
        return RunDir(self.path / VISCOSITY_DIR)

    @property
    def viscosity_json(self) -> Path:
        """``viscosity/viscosity.json`` (``ViscosityInfo``)."""
        return self.path / VISCOSITY_DIR / VISCOSITY_JSON

    @property
    def viscosity_csv(self) -> Path:
        """``viscosity/viscosity.csv``: the flow amplitude over time."""
        return self.path / VISCOSITY_DIR / VISCOSITY_CSV

    # -- PMF, windows, metadynamics ---------------------------------------------------------

    @property
    def umbrella_json(self) -> Path:
        """``umbrella.json`` of a PMF directory (``UmbrellaInfo``)."""
        return self.path / UMBRELLA_JSON

    @property
    def window_json(self) -> Path:
        """``window.json`` of an umbrella window (``WindowInfo``)."""
        return self.path / WINDOW_JSON

    @property
    def metad_json(self) -> Path:
        """``metad.json`` of a metadynamics folder: settings, progress, step."""
        return self.path / METAD_JSON

    @property
    def metad_csv(self) -> Path:
        """``metad.csv`` of a metadynamics folder: one row per deposit."""
        return self.path / METAD_CSV

    @property
    def metad_checkpoint(self) -> Path:
        """``checkpoint.chk`` of a metadynamics folder: its state."""
        return self.path / METAD_CHECKPOINT

    # -- analysis outputs and result of a campaign job ---------------------------------------

    @property
    def result_json(self) -> Path:
        """``result.json`` of a campaign job (``JobResult``)."""
        return self.path / RESULT_JSON

    def output(self, name: str) -> Path:
        """An analysis output of a job directory by its name (``SHELLS_JSON``, ...).

        Parameters
        ----------
        name : str
            One of the analysis file names of this module.
        """
        return self.path / name

    @property
    def shells_json(self) -> Path:
        """``shells.json``: first-shell composition of the job's run."""
        return self.path / SHELLS_JSON

    @property
    def rdf_json(self) -> Path:
        """``rdf.json``: the RDFs behind the shells."""
        return self.path / RDF_JSON

    @property
    def hbonds_json(self) -> Path:
        """``hbonds.json``: the hydrogen-bond network."""
        return self.path / HBONDS_JSON

    @property
    def pmf_json(self) -> Path:
        """``pmf.json``: a job's potential of mean force."""
        return self.path / PMF_JSON

    def read_json(self, name: str) -> Any:
        """An analysis output (JSON) of a job directory, None when it is not there.

        Parameters
        ----------
        name : str
            One of the analysis file names of this module (``SHELLS_JSON``, ...).
        """
        path = self.path / name
        return json.loads(path.read_text()) if path.exists() else None

    # -- records ------------------------------------------------------------------------------

    @property
    def build(self) -> BuildInfo:
        """``build.json`` (``read_build``)."""
        return read_build(self.path)

    @property
    def run(self) -> RunInfo:
        """``run.json`` (``read_run``)."""
        return read_run(self.path)

    @property
    def has_run(self) -> bool:
        """Whether a run has finished a stage here (``run.json`` exists)."""
        return has_run(self.path)

    @property
    def design_table(self) -> dict:
        """The design copied into the directory, as a TOML table (``read_design_table``)."""
        return read_design_table(self.path)

    def system(self):
        """The OpenMM System of ``system.xml`` (``load_system``)."""
        return load_system(self.path)

    @property
    def result(self) -> JobResult:
        """``result.json`` of a campaign job (``read_result``)."""
        return read_result(self.path)

    @property
    def umbrella(self) -> UmbrellaInfo:
        """``umbrella.json`` of a PMF directory (``read_umbrella``)."""
        return read_umbrella(self.path)

    @property
    def window(self) -> WindowInfo:
        """``window.json`` of an umbrella window (``read_window``)."""
        return read_window(self.path)

    @property
    def viscosity_info(self) -> ViscosityInfo:
        """``viscosity/viscosity.json`` (``read_viscosity``)."""
        return read_viscosity(self.path)

    def checkpoint(self) -> dict | None:
        """The production checkpoint record (``read_checkpoint_record``)."""
        return read_checkpoint_record(self.path)
