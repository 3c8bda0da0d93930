"""Open trajectories for analysis: a run directory, or TOPOLOGY TRAJECTORY..., any format
MDAnalysis reads, or an mdtraj Trajectory; checked before any expensive work.

- A run directory's trajectory with fewer frames than its run.json records (a truncated
  or partly copied file) gives a warning, or an InputError with ``strict=True``.
- A topology without atom names (LAMMPS data files carry types only) gets its atom types
  as names, so that ``name 3`` selects type 3 and coordinating atoms are labelled.
- Molecules are bonded fragments where the topology has bonds (multi-residue molecules
  stay whole), residues otherwise (``molecule_ids``).
- An ``mdtraj.Trajectory`` becomes an in-memory MDAnalysis Universe (``as_universe``).
"""

from __future__ import annotations

import contextlib
import gc
import sys
import traceback
import warnings
from pathlib import Path

import MDAnalysis as mda
import numpy as np
from MDAnalysis.coordinates.memory import MemoryReader
from MDAnalysis.lib.util import guess_format
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from solvation.console import LOGGER, warn
from solvation.errors import InputError
from solvation.rundir import RUN_JSON, RunDir, has_run, read_run

# What MDAnalysis' parsers and readers raise for a file they cannot read (found by opening
# empty, damaged, truncated, foreign and misnamed files of the common suffixes): read and
# XDR/DCD header errors (OSError), parse errors (ValueError, UnicodeDecodeError), a suffix
# no coordinate reader takes (TypeError), files that end early (EOFError, StopIteration,
# IndexError, KeyError), and a format whose optional reader package is missing
# (ImportError; RuntimeError "please install ..."). Anything else that escapes a reader
# (ZeroDivisionError, AttributeError, AssertionError, MemoryError ...) is a bug, ours, a
# reader's or in a transformation the caller passed, and keeps its traceback.
UNREADABLE = (OSError, ValueError, TypeError, EOFError, StopIteration, LookupError)
UNREADABLE += (ImportError, RuntimeError)
# What a selection the topology cannot answer raises: a syntax error (SelectionError), a
# value that does not parse (ValueError), or a keyword whose attribute the topology lacks
# ("element O" without elements: AttributeError, or NoDataError, which derives from it).
BAD_SELECTION = (mda.exceptions.SelectionError, ValueError, AttributeError)


def _run_directory(path: Path) -> tuple[str, list[str]]:
    files = RunDir(path)
    top = files.topology_pdb
    trajs = [str(p) for p in files.trajectories() if p.exists()]
    if not top.exists():
        raise InputError(
            f"{path} is a directory but holds no {top.name} (is it a build or run directory?)"
        )
    if not trajs:
        xtc = files.trajectory("xtc").name
        raise InputError(f"{path} holds no {xtc}/.dcd yet; run `solvation run {path}`")
    return str(top), trajs


def _formats(topology: str, trajectories: list[str], given: dict) -> dict:
    """Topology and trajectory formats from the file names, passed to MDAnalysis so that
    it skips its format hints: those import ParmEd, and with it OpenMM and RDKit (seconds
    of start-up), only to ask whether a file name is a ParmEd or OpenMM object. A suffix
    MDAnalysis does not know, or trajectories of mixed formats, are left to MDAnalysis."""
    try:
        top = guess_format(topology)
        formats = {guess_format(t) for t in trajectories} if trajectories else {top}
    except (ValueError, TypeError):
        return {}
    out = {} if "topology_format" in given else {"topology_format": top}
    if "format" not in given and len(formats) == 1 and next(iter(formats)) in mda._READERS:
        out["format"] = formats.pop()
    return out


def load_universe(
    topology: str | Path, *trajectories: str | Path, strict: bool = False, **kwargs
) -> mda.Universe:
    """MDAnalysis Universe from a run directory or TOPOLOGY [TRAJECTORY ...].

    Raises InputError for missing files, topology/trajectory atom-count mismatch, and
    unreadable (for example truncated) trajectories, before any analysis runs. A run
    directory's trajectory shorter than its run.json says warns (``strict``: raises).

    Parameters
    ----------
    topology : str or Path
        A run directory, or a topology file.
    *trajectories : str or Path
        Trajectory files (none for a run directory).
    strict : bool
        Raise, rather than warn, for a run directory's short trajectory.
    **kwargs
        Passed to ``MDAnalysis.Universe``.

    Raises
    ------
    InputError
        For missing or unreadable files and mismatched atom counts.
    """
    path = Path(topology)
    if path.is_dir():
        if trajectories:
            raise InputError("give either a run directory or TOPOLOGY TRAJECTORY..., not both")
        topology, trajectories = _run_directory(path)
    for f in (topology, *trajectories):
        if not Path(f).exists():
            raise InputError(f"file {f} does not exist")
        if Path(f).is_dir():
            raise InputError(f"{f} is a directory; give a topology or trajectory file")
    files = [str(t) for t in trajectories]
    kwargs = {**_formats(str(topology), files, kwargs), **kwargs}
    universe = _open(str(topology), files, kwargs)
    _check_readable(universe)
    LOGGER.debug(
        "opened %s with %s (%s): %d atoms, %d frames %g ps apart",
        topology,
        files or "its own coordinates",
        ", ".join(f"{k}={v}" for k, v in kwargs.items()) or "formats guessed by MDAnalysis",
        universe.atoms.n_atoms,
        universe.trajectory.n_frames,
        universe.trajectory.dt,
    )
    if path.is_dir():
        _check_complete(path, universe, strict)
    return as_universe(universe)


@contextlib.contextmanager
def _quiet_unraisable():
    """Readers that fail halfway raise again in ``__del__`` ("Exception ignored in ...");
    while a file is opened, such noise is dropped (the failure itself is reported)."""
    previous = sys.unraisablehook
    sys.unraisablehook = lambda unraisable: None
    try:
        yield
    finally:
        gc.collect()
        sys.unraisablehook = previous


def _open(topology: str, trajectories: list[str], kwargs: dict) -> mda.Universe:
    """The Universe of the files; what the readers raise for a file they cannot read (an
    unknown suffix, a damaged or foreign file: ``UNREADABLE``) is one InputError."""
    with _quiet_unraisable():
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return mda.Universe(topology, *trajectories, **kwargs)
        except UNREADABLE as err:
            reason = str(err).strip().splitlines()[0].rstrip(".") if str(err).strip() else ""
            message = f"{type(err).__name__}{': ' + reason if reason else ''}"
            traceback.clear_frames(err.__traceback__)  # a half-made reader goes now, quietly
    raise InputError(
        f"cannot open {topology} with {trajectories}: {message}. Give files MDAnalysis reads "
        "(see its format list; the suffix chooses the reader) that describe the same atoms"
    )


def _check_complete(path: Path, universe: mda.Universe, strict: bool) -> None:
    """Compare the frames on disk with the frames the run recorded, or, for a run not
    finished yet, the frames its production will write."""
    if not has_run(path):
        return
    info = read_run(path)
    found = universe.trajectory.n_frames
    if not info.complete:
        total = _planned_frames(info.protocol)
        message = (
            f"{path}: the run is not finished ({found} of {total} production frames written)"
            "; its results will change"
        )
        if strict:
            raise InputError(f"{message} (--strict)")
        warn(f"{message}; analysing the {found} frames there (--strict refuses)")
        return
    expected = info.n_frames
    if expected is None or found >= expected:
        return
    message = (
        f"{path}: the trajectory holds {found} frames but {RUN_JSON} records {expected}; it "
        "may be truncated or still being copied"
    )
    if strict:
        raise InputError(f"{message} (--strict)")
    warn(f"{message}; analysing the {found} frames there (--strict refuses)")


def _planned_frames(protocol: dict) -> int | str:
    """Production frames a run's protocol writes ('?' when it cannot tell)."""
    try:
        return round(float(protocol["production_ps"]) / float(protocol["report_every_ps"]))
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        return "?"


def _check_readable(universe: mda.Universe) -> None:
    """Read the last frame: catches truncated files before a long analysis."""
    traj = universe.trajectory
    try:
        n = traj.n_frames
        traj[n - 1]
        coords = traj.ts.positions
        traj[0]
    except UNREADABLE as err:
        raise InputError(
            f"trajectory {traj.filename} cannot be read to its end ({err}); it may "
            "be truncated: cut it to its complete frames or re-run"
        ) from None
    if not np.isfinite(coords).all():
        raise InputError(f"trajectory {traj.filename} holds non-finite coordinates")
    if traj.ts.dimensions is None or np.any(traj.ts.dimensions[:3] <= 0):
        raise InputError(f"{traj.filename} has no periodic box; analyses need one")


def select(universe: mda.Universe, selection: str, what: str = "selection"):
    """AtomGroup for an MDAnalysis selection string, refusing empty or invalid ones.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    selection : str
        MDAnalysis selection string.
    what : str
        What it selects, for the message.

    Raises
    ------
    InputError
        For an invalid selection or one that selects nothing.
    """
    try:
        group = universe.select_atoms(selection)
    except BAD_SELECTION as err:
        raise InputError(f"invalid {what} {selection!r}: {err}") from None
    if group.n_atoms == 0:
        names = sorted(set(universe.residues.resnames))[:20]
        raise InputError(
            f"{what} {selection!r} selects no atoms; residue names here: {', '.join(names)}"
        )
    return group


def atom_elements(atoms) -> np.ndarray:
    """Element symbols of ``atoms`` (upper case, e.g. 'O', 'CL', 'ZN'); guessed from the
    atom names by MDAnalysis' default guesser when the topology has no elements.

    Parameters
    ----------
    atoms : MDAnalysis.AtomGroup
    """
    try:
        elements = np.asarray([str(e).upper() for e in atoms.elements])
        if all(elements):
            return elements
    except AttributeError:  # no elements attribute (NoDataError): guess from names
        pass
    from MDAnalysis.guesser.default_guesser import DefaultGuesser

    guess = DefaultGuesser(None).guess_atom_element
    names = np.asarray(atoms.names)
    table = {str(n): str(guess(str(n))).upper() for n in np.unique(names)}
    return np.asarray([table[str(n)] for n in names])


def molecule_ids(universe: mda.Universe) -> np.ndarray:
    """Molecule index per atom: bonded fragments where the topology has bonds, residues
    where it has none.

    When the bonds cover every atom of every multi-atom residue (PSF, TPR, LAMMPS data),
    molecules are exactly the bonded fragments, so a molecule spanning several residues
    stays one. Topologies with partial bonds (PDB CONECT records only for non-standard
    residues, as OpenMM writes them: water has none) join each residue's atoms as well.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    """
    residues = np.asarray(universe.atoms.resindices)
    bonds = _bond_indices(universe)
    n = universe.atoms.n_atoms
    if bonds is None or len(bonds) == 0:
        return residues
    bonded = np.zeros(n, bool)
    bonded[bonds.ravel()] = True
    sizes = np.bincount(residues)
    if not np.all(bonded | (sizes[residues] == 1)):  # partial bonds: residues join too
        first = np.full(residues.max() + 1, -1)
        first[residues[::-1]] = np.arange(n)[::-1]
        bonds = np.concatenate([bonds, np.column_stack([np.arange(n), first[residues]])])
    graph = coo_matrix((np.ones(len(bonds)), (bonds[:, 0], bonds[:, 1])), shape=(n, n))
    return connected_components(graph, directed=False)[1]


def _bond_indices(universe: mda.Universe) -> np.ndarray | None:
    try:
        return np.asarray(universe.bonds.indices, dtype=np.int64).reshape(-1, 2)
    except (AttributeError, mda.exceptions.NoDataError):
        return None


def as_universe(obj) -> mda.Universe:
    """An MDAnalysis Universe for ``obj``: a Universe (atom types stand in for missing
    names) or an mdtraj Trajectory (converted in memory: names, elements, residues,
    bonds, coordinates in A, box, times). Anything else is refused.

    Parameters
    ----------
    obj : MDAnalysis.Universe or mdtraj.Trajectory

    Raises
    ------
    InputError
        For anything else.
    """
    if isinstance(obj, mda.Universe):
        if not hasattr(obj.atoms, "names") and hasattr(obj.atoms, "types"):
            obj.add_TopologyAttr("names", np.asarray(obj.atoms.types, dtype=object))
        return obj
    if type(obj).__module__.startswith("mdtraj") and hasattr(obj, "xyz"):
        return _from_mdtraj(obj)
    raise InputError(
        f"cannot analyse a {type(obj).__name__}: give an MDAnalysis Universe, an mdtraj "
        "Trajectory, or files (load_universe)"
    )


def _from_mdtraj(traj) -> mda.Universe:
    """In-memory Universe of an mdtraj Trajectory (nm -> A; times in ps)."""
    top = traj.topology
    atoms = list(top.atoms)
    residues = list(top.residues)
    u = mda.Universe.empty(
        traj.n_atoms,
        n_residues=len(residues),
        atom_resindex=[a.residue.index for a in atoms],
        residue_segindex=[0] * len(residues),
        trajectory=False,
    )
    u.add_TopologyAttr("names", [a.name for a in atoms])
    symbols = [a.element.symbol if a.element is not None else "" for a in atoms]
    u.add_TopologyAttr("types", symbols)
    u.add_TopologyAttr("elements", symbols)
    u.add_TopologyAttr("masses", [a.element.mass if a.element is not None else 0.0 for a in atoms])
    u.add_TopologyAttr("resnames", [r.name for r in residues])
    u.add_TopologyAttr("resids", [r.resSeq for r in residues])
    u.add_TopologyAttr("bonds", [(a.index, b.index) for a, b in top.bonds])
    dims = None
    if traj.unitcell_lengths is not None:
        dims = np.hstack([traj.unitcell_lengths * 10.0, traj.unitcell_angles]).astype(np.float32)
    times = np.asarray(traj.time, float)
    dt = float(times[1] - times[0]) if len(times) > 1 else 1.0
    u.load_new(
        np.asarray(traj.xyz * 10.0, dtype=np.float32),
        format=MemoryReader,
        order="fac",
        dimensions=dims,
        dt=dt,
        time_offset=float(times[0]) if len(times) else 0.0,
    )
    return u


def species_charges(
    universe: mda.Universe, species: dict[str, str], atom_charges: np.ndarray | None
) -> dict[str, float]:
    """Charge per molecule (e) of each species: from ``atom_charges`` (run directory) or
    the topology's own charges (PSF, TPR, LAMMPS data ...).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    species : dict of str to str
        Selection of each species.
    atom_charges : numpy.ndarray or None
        Per-atom charges (e); None: the topology's.

    Raises
    ------
    InputError
        When no charges are known.
    """
    if atom_charges is None:
        if not hasattr(universe.atoms, "charges"):
            raise InputError(
                "the topology carries no charges; give --charge NAME=Z for every "
                "species (or analyse a run directory)"
            )
        atom_charges = np.asarray(universe.atoms.charges, dtype=float)
    out = {}
    for name, sel in species.items():
        group = select(universe, sel, f"species {name!r}")
        residue = group.residues[0].atoms
        out[name] = round(float(atom_charges[residue.indices].sum()), 6)
    return out
