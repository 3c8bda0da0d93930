"""Open trajectories for analysis: a run directory, or TOPOLOGY TRAJECTORY..., any format
MDAnalysis reads; checked before any expensive work."""

from __future__ import annotations

import warnings
from pathlib import Path

import MDAnalysis as mda
import numpy as np
import openmm

from solvation.errors import SolvationError
from solvation.forcefields.system import fixed_charges


class InputError(SolvationError):
    """Topology/trajectory that cannot be analysed as given."""


def _run_directory(path: Path) -> tuple[str, list[str]]:
    top = path / "topology.pdb"
    trajs = [str(p) for p in (path / "trajectory.xtc", path / "trajectory.dcd") if p.exists()]
    if not top.exists():
        raise InputError(
            f"{path} is a directory but holds no topology.pdb (is it a build or run directory?)"
        )
    if not trajs:
        raise InputError(f"{path} holds no trajectory.xtc/.dcd yet; run `solvation run {path}`")
    return str(top), trajs


def load_universe(topology: str | Path, *trajectories: str | Path, **kwargs) -> mda.Universe:
    """MDAnalysis Universe from a run directory or TOPOLOGY [TRAJECTORY ...].

    Raises InputError for missing files, topology/trajectory atom-count mismatch, and
    unreadable (for example truncated) trajectories, before any analysis runs.
    """
    path = Path(topology)
    if path.is_dir():
        if trajectories:
            raise InputError("give either a run directory or TOPOLOGY TRAJECTORY..., not both")
        topology, trajectories = _run_directory(path)
    for f in (topology, *trajectories):
        if not Path(f).exists():
            raise InputError(f"file {f} does not exist")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            universe = mda.Universe(str(topology), *[str(t) for t in trajectories], **kwargs)
    except (ValueError, OSError, EOFError) as err:
        raise InputError(
            f"cannot open {topology} with {[str(t) for t in trajectories]}: {err}. "
            "Topology and trajectory must describe the same atoms"
        ) from None
    _check_readable(universe)
    return universe


def _check_readable(universe: mda.Universe) -> None:
    """Read the last frame: catches truncated files before a long analysis."""
    traj = universe.trajectory
    try:
        n = traj.n_frames
        traj[n - 1]
        coords = traj.ts.positions
        traj[0]
    except Exception as err:  # readers raise several types for damaged files
        raise InputError(
            f"trajectory {traj.filename} cannot be read to its end ({err}); it may "
            "be truncated: cut it to its complete frames or re-run"
        ) from None
    if not np.isfinite(coords).all():
        raise InputError(f"trajectory {traj.filename} holds non-finite coordinates")
    if traj.ts.dimensions is None or np.any(traj.ts.dimensions[:3] <= 0):
        raise InputError(f"{traj.filename} has no periodic box; analyses need one")


def select(universe: mda.Universe, selection: str, what: str = "selection"):
    """AtomGroup for an MDAnalysis selection string, refusing empty or invalid ones."""
    try:
        group = universe.select_atoms(selection)
    except Exception as err:
        raise InputError(f"invalid {what} {selection!r}: {err}") from None
    if group.n_atoms == 0:
        names = sorted(set(universe.residues.resnames))[:20]
        raise InputError(
            f"{what} {selection!r} selects no atoms; residue names here: {', '.join(names)}"
        )
    return group


def molecule_ids(universe: mda.Universe) -> np.ndarray:
    """Molecule index per atom: the residue (one molecule per residue in our topologies,
    GROMACS, LAMMPS data molecule IDs and PSF segments alike)."""
    return np.asarray(universe.atoms.resindices)


def run_directory_charges(path: str | Path) -> np.ndarray | None:
    """Per-atom fixed charges (e) from a build/run directory's system.xml, else None."""
    system_xml = Path(path) / "system.xml"
    if not Path(path).is_dir() or not system_xml.exists():
        return None
    system = openmm.XmlSerializer.deserialize(system_xml.read_text())
    return np.array(fixed_charges(system))


def species_charges(
    universe: mda.Universe, species: dict[str, str], atom_charges: np.ndarray | None
) -> dict[str, float]:
    """Charge per molecule (e) of each species: from ``atom_charges`` (run directory) or
    the topology's own charges (PSF, TPR, LAMMPS data ...)."""
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
