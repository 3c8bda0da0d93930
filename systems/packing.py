"""Pack molecules into a box with packmol (fixed seed, periodic when the cell is
orthorhombic), and check the result for overlaps."""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree
from scipy.spatial.transform import Rotation

from solvation.console import LOGGER
from solvation.errors import SolvationError

from . import tiling
from .exclusion import cover_points, placed_points
from .templates import ResidueTemplate, water_template

WATER = water_template().resname
# packmol ends when its violations sum below its precision (0.01), so an atom may sit a
# little inside an exclusion: the exclusions of the water run are covered this much wider
EXCLUSION_MARGIN_ANGSTROM = 0.2
# an exclusion found this much short (A) after packing fails the packing
EXCLUSION_SLACK_ANGSTROM = 0.15


class PackingError(SolvationError):
    """packmol failed, or its result has overlapping atoms."""


@dataclass(frozen=True)
class PackItem:
    """``count`` copies of ``template`` subject to packmol constraint lines
    (e.g. ``inside box 0 0 0 30 30 30``); ``fixed`` places one copy as given.

    Attributes
    ----------
    template : ResidueTemplate
    count : int
        Copies to place.
    constraints : tuple of str
        Packmol constraint lines (coordinates in A).
    fixed_xyz : numpy.ndarray or None
        Coordinates (A) of one copy placed as given.
    compartment : str
        Region of the box the item fills ('' for a one-region box; the osmotic box has
        'solution' and 'reservoir'); pre-hydration takes an ion's first-shell waters from
        the water item of its compartment.
    exclusion_angstrom : float
        No atom of another molecule closer than this (A) to the first atom of each copy
        (0: the packing tolerance); the items with an exclusion are packed in a first
        packmol run (see ``pack``).
    solute_exclusion_angstrom : float
        No atom of another molecule that is not water (ions, complexes, additives,
        co-solvents) closer than this (A) to the first atom of each copy; applies where
        larger than ``exclusion_angstrom``, in the run that packs everything but water.
    start_xyz : numpy.ndarray or None
        (count, n_atoms, 3) start coordinates (A) that packmol polishes from
        (``restart_from``) instead of a random start.
    """

    template: ResidueTemplate
    count: int
    constraints: tuple[str, ...] = ()
    fixed_xyz: np.ndarray | None = None
    compartment: str = ""
    exclusion_angstrom: float = 0.0
    solute_exclusion_angstrom: float = 0.0
    start_xyz: np.ndarray | None = None


def _among_solutes(item: PackItem) -> PackItem:
    """``item`` packed where no water is: its exclusion widened to the solute one."""
    wider = max(item.exclusion_angstrom, item.solute_exclusion_angstrom)
    return replace(item, exclusion_angstrom=wider)


def packmol_executable() -> Path:
    """The packmol binary of this environment (``<sys.prefix>/bin/packmol``, from PyPI)."""
    path = Path(sys.prefix) / "bin" / "packmol"
    if not path.exists():
        raise PackingError(f"packmol not found at {path}; install it with `pip install packmol`")
    return path


def _xyz(template: ResidueTemplate, xyz: np.ndarray) -> str:
    lines = [str(template.n_atoms), template.resname]
    lines += [
        f"{e} {x:.6f} {y:.6f} {z:.6f}" for e, (x, y, z) in zip(template.elements, xyz, strict=True)
    ]
    return "\n".join(lines) + "\n"


def _input(
    items: list[PackItem],
    workdir: Path,
    seed: int,
    tolerance: float,
    pbc: tuple[float, ...] | None,
    nloop: int,
) -> str:
    lines = [
        f"tolerance {tolerance}",
        f"seed {seed}",
        "filetype xyz",
        "output packed.xyz",
        f"nloop {nloop}",
    ]
    if pbc is not None:
        lines.append("pbc " + " ".join(f"{v:.4f}" for v in pbc))
    if all(i.start_xyz is not None for i in items if i.fixed_xyz is None):
        lines.append("discale 1.0")  # a start at the tolerance: no first loops at 1.1 x
    for k, item in enumerate(items):
        name = f"s{k}.xyz"
        xyz = item.fixed_xyz if item.fixed_xyz is not None else item.template.xyz_angstrom
        (workdir / name).write_text(_xyz(item.template, xyz))
        lines += [f"structure {name}", f"  number {item.count}"]
        if item.fixed_xyz is not None:
            lines.append("  fixed 0. 0. 0. 0. 0. 0.")
        if item.start_xyz is not None:
            (workdir / f"s{k}.rst").write_text(restart_text(item.template, item.start_xyz))
            lines.append(f"  restart_from s{k}.rst")
        lines += [f"  {c}" for c in item.constraints]
        if item.exclusion_angstrom > 0:  # packmol keeps atoms i, j >= r_i + r_j apart
            radius = item.exclusion_angstrom - tolerance / 2
            lines += ["  atoms 1", f"    radius {radius:.3f}", "  end atoms"]
        lines.append("end structure")
    return "\n".join(lines) + "\n"


def pack(
    items: list[PackItem],
    seed: int,
    tolerance: float = 2.0,
    pbc: tuple[float, ...] | None = None,
    timeout: float = 3600.0,
    nloop: int = 400,
) -> list[tuple[ResidueTemplate, np.ndarray]]:
    """Run packmol; return (template, coordinates in A) per molecule, in item order.

    ``nloop`` bounds packmol's optimisation loops per molecule type; a packing that does
    not reach the tolerance raises PackingError with packmol's own last lines.

    Items with an exclusion distance are packed in two runs. packmol sizes its cell
    lists by the largest atom radius, so one large radius makes every distance search
    slow; instead, the excluding items and every other item except water go into a first
    run (few molecules, large cells) that keeps other solutes
    ``solute_exclusion_angstrom`` away. They are then held fixed with cover points
    (``exclusion``: extra fixed atoms that keep every atom of another molecule
    ``exclusion_angstrom`` away, periodic images included) and the water is packed
    around them from a start cut from a pre-packed water box (``tiling``) where its
    constraints are boxes in a periodic cell, so packmol only polishes. Every exclusion
    is checked on the result. 2 m ZnSO4 with 3000 waters, pre-hydrated: ~80 s of
    packmol CPU time with outside-sphere constraints and a random start, ~10 s so.

    Parameters
    ----------
    items : list of PackItem
    seed : int
        Packmol random seed.
    tolerance : float
        Minimum distance between molecules (A).
    pbc : tuple of float, optional
        Periodic box for packmol (xmin, ymin, zmin, xmax, ymax, zmax in A).
    timeout : float
        Time limit (s) for packing, both runs together.
    nloop : int
        Packmol optimisation loops per molecule type.

    Raises
    ------
    PackingError
        When packmol fails, times out or does not reach the tolerance or an exclusion.
    """
    items = [i for i in items if i.count > 0]
    later = [k for k, i in enumerate(items) if i.template.resname == WATER and i.fixed_xyz is None]
    limit = (timeout, time.monotonic() + timeout)  # one limit for both runs
    if not later:
        solutes = [_among_solutes(i) for i in items]
        return _checked(_run_packmol(solutes, seed, tolerance, pbc, limit, nloop), items, pbc)
    if not any(i.exclusion_angstrom > 0 or i.solute_exclusion_angstrom > 0 for i in items):
        return _run_packmol(items, seed, tolerance, pbc, limit, nloop)
    first = [k for k in range(len(items)) if k not in later]
    solutes = [_among_solutes(items[k]) for k in first]
    placed = _run_packmol(solutes, seed, tolerance, pbc, limit, nloop)
    held = _held(placed, [items[k] for k in first], pbc, tolerance)
    around = _with_starts([items[k] for k in later], held.fixed_xyz, pbc, tolerance, seed)
    placed += _run_packmol([held, *around], seed, tolerance, pbc, limit, nloop)[1:]
    molecules, by_item = iter(placed), {}
    for k in first + later:
        by_item[k] = [next(molecules) for _ in range(items[k].count)]
    return _checked([m for k in range(len(items)) for m in by_item[k]], items, pbc)


def _held(
    placed: list[tuple[ResidueTemplate, np.ndarray]],
    items: list[PackItem],
    pbc: tuple[float, ...] | None,
    tolerance: float,
) -> PackItem:
    """The molecules of a first run as one fixed packmol structure, with the cover
    points (``exclusion.cover_points``) that keep later molecules out of each excluding
    molecule's ``exclusion_angstrom`` (plus EXCLUSION_MARGIN_ANGSTROM)."""
    xyz, elements = [c for _, c in placed], [e for t, _ in placed for e in t.elements]
    for item, (template, c) in zip((i for i in items for _ in range(i.count)), placed, strict=True):
        if item.exclusion_angstrom > 0:
            radius = item.exclusion_angstrom + EXCLUSION_MARGIN_ANGSTROM
            points = cover_points(template.xyz_angstrom, radius, tolerance)
            xyz.append(placed_points(template.xyz_angstrom, c, points))
            elements += ["X"] * len(points)
    xyz = np.vstack(xyz)
    if pbc is not None:  # packmol refuses fixed atoms outside the periodic box
        lo, hi = np.round(pbc[:3], 4), np.round(pbc[3:], 4)  # as _input writes them
        xyz = np.minimum(lo + np.mod(xyz - lo, hi - lo), hi - 1e-4)
    names = tuple(f"X{k}" for k in range(len(elements)))
    template = ResidueTemplate("FIX", names, tuple(elements), (), xyz, 0)
    return PackItem(template, 1, fixed_xyz=xyz)


def _with_starts(
    items: list[PackItem],
    obstacles: np.ndarray,
    pbc: tuple[float, ...] | None,
    tolerance: float,
    seed: int,
) -> list[PackItem]:
    """Water items with start coordinates cut from the water tile around ``obstacles``
    (A) and the starts of the items before, where an item's constraints are boxes in a
    periodic cell (``tiling.region_of``); the others keep packmol's random start."""
    out = []
    for item in items:
        region = tiling.region_of(item.constraints, pbc)
        start = None
        if region is not None:
            start = tiling.start_positions(item.count, region, obstacles, pbc, tolerance, seed)
        if start is not None:
            obstacles = np.vstack([obstacles, start.reshape(-1, 3)])
        out.append(replace(item, start_xyz=start))
    return out


def _checked(
    placed: list[tuple[ResidueTemplate, np.ndarray]],
    items: list[PackItem],
    pbc: tuple[float, ...] | None,
) -> list[tuple[ResidueTemplate, np.ndarray]]:
    """``placed`` (molecules in item order) once every exclusion is found kept: no atom
    of another molecule within ``exclusion_angstrom`` of an excluding molecule's first
    atom, none of another non-water molecule within ``solute_exclusion_angstrom``
    (EXCLUSION_SLACK_ANGSTROM allowed for packmol's precision); PackingError if not."""
    owners = [i for i in items for _ in range(i.count)]
    if not any(i.exclusion_angstrom > 0 or i.solute_exclusion_angstrom > 0 for i in owners):
        return placed
    xyz = np.concatenate([c for _, c in placed])
    molecule = np.concatenate([np.full(len(c), k) for k, (_, c) in enumerate(placed)])
    water = np.concatenate([np.full(len(c), t.resname == WATER) for t, c in placed])
    cell = None if pbc is None else tiling.Cell(np.array(pbc[:3]), np.array(pbc[3:]))
    wrap = (lambda x: x) if cell is None else cell.wrap
    tree = cKDTree(wrap(xyz), boxsize=None if cell is None else cell.lengths)
    for k, ((template, c), item) in enumerate(zip(placed, owners, strict=True)):
        for radius, solutes_only in (
            (item.exclusion_angstrom, False),
            (item.solute_exclusion_angstrom, True),
        ):
            if radius <= 0:
                continue
            near = np.array(tree.query_ball_point(wrap(c[0]), radius - EXCLUSION_SLACK_ANGSTROM))
            near = near[molecule[near] != k] if len(near) else near
            near = near[~water[near]] if solutes_only and len(near) else near
            if len(near):
                raise PackingError(
                    f"packed box has an atom of another molecule within {radius} A of a "
                    f"{template.resname} (its exclusion); try another seed or a larger box"
                )
    return placed


def restart_text(template: ResidueTemplate, xyz: np.ndarray) -> str:
    """packmol ``restart_from`` lines for copies of ``template`` at ``xyz``
    ((count, n_atoms, 3) in A): each copy's centre (packmol weighs the atoms of an xyz
    file equally) and the Euler angles of packmol's ``eulerrmat`` that turn the centred
    template onto it.

    Parameters
    ----------
    template : ResidueTemplate
    xyz : numpy.ndarray
        (count, n_atoms, 3) coordinates of the copies (A).
    """
    reference = template.xyz_angstrom - template.xyz_angstrom.mean(axis=0)
    lines = []
    for copy in np.asarray(xyz, float):
        centre = copy.mean(axis=0)
        angles = (0.0, 0.0, 0.0)
        if template.n_atoms > 1:
            rotation, _ = Rotation.align_vectors(copy - centre, reference)
            angles = _euler(rotation.as_matrix())
        lines.append(" ".join(f"{v:.10f}" for v in (*centre, *angles)))
    return "\n".join(lines) + "\n"


def _euler(m: np.ndarray) -> tuple[float, float, float]:
    """(beta, gamma, theta) of packmol's ``eulerrmat`` whose matrix, columns v1 v2 v3,
    is ``m``: v3 = (sin g sin t, cos g sin t, cos t), v1_z = sin b sin t,
    v2_z = -cos b sin t; for sin t = 0, gamma = 0 and v1_x = cos b, v2_x = sin b."""
    theta = float(np.arccos(np.clip(m[2, 2], -1.0, 1.0)))
    if np.sin(theta) < 1e-9:
        return float(np.arctan2(m[0, 1], m[0, 0])), 0.0, theta
    gamma = float(np.arctan2(m[0, 2], m[1, 2]))
    return float(np.arctan2(m[2, 0], -m[2, 1])), gamma, theta


def _run_packmol(
    items: list[PackItem],
    seed: int,
    tolerance: float,
    pbc: tuple[float, ...] | None,
    limit: tuple[float, float],
    nloop: int,
) -> list[tuple[ResidueTemplate, np.ndarray]]:
    """One packmol run; (template, coordinates in A) per molecule, in item order.
    ``limit``: the packing's time limit (s) and its deadline (``time.monotonic``)."""
    timeout, deadline = limit
    started, cpu = time.monotonic(), _children_cpu_seconds()
    with tempfile.TemporaryDirectory(prefix="solvation-packmol-") as tmp:
        workdir = Path(tmp)
        (workdir / "pack.inp").write_text(_input(items, workdir, seed, tolerance, pbc, nloop))
        try:
            with (workdir / "pack.inp").open() as stdin:
                run = subprocess.run(
                    [str(packmol_executable())],
                    stdin=stdin,
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                    timeout=max(deadline - time.monotonic(), 1.0),
                )
        except subprocess.TimeoutExpired:
            raise PackingError(
                f"packmol did not finish within its time limit of {timeout:g} s; the box may "
                "be too dense: try a lower concentration or a larger tolerance margin, or "
                "raise the limit with [box] packmol_timeout_s"
            ) from None
        out = workdir / "packed.xyz"
        if run.returncode != 0 or not out.exists():
            text = (run.stdout + run.stderr).strip().splitlines()
            key = [x.strip() for x in text if "ERROR" in x.upper() or "PERFECT" in x.upper()]
            tail = "\n".join(key + [x for x in text[-6:] if x.strip()])
            raise PackingError(
                f"packmol failed (exit {run.returncode}):\n{tail}\n"
                "try a larger box (lower concentration) or a smaller tolerance"
            )
        coords = np.loadtxt(out, skiprows=2, usecols=(1, 2, 3), ndmin=2)
    LOGGER.debug(
        "packmol: %d molecules of %d kinds (tolerance %g A%s) in %.1f s, %.1f s CPU",
        sum(i.count for i in items),
        len(items),
        tolerance,
        ", from a start" if any(i.start_xyz is not None for i in items) else "",
        time.monotonic() - started,
        _children_cpu_seconds() - cpu,
    )
    placed, start = [], 0
    for item in items:
        for _ in range(item.count):
            n = item.template.n_atoms
            placed.append((item.template, coords[start : start + n]))
            start += n
    return placed


def _children_cpu_seconds() -> float:
    """User + system CPU time (s) of this process's finished child processes."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def min_intermolecular_distance(
    placed: list[tuple[ResidueTemplate, np.ndarray]], box: np.ndarray | None, cutoff: float = 4.0
) -> float:
    """Smallest distance (A) between atoms of different molecules (orthorhombic PBC if
    ``box`` lengths are given); ``cutoff`` if none is closer.

    Parameters
    ----------
    placed : list of (ResidueTemplate, numpy.ndarray)
        Each molecule's template and coordinates (A).
    box : numpy.ndarray or None
        Orthorhombic box edges (A).
    cutoff : float
        Search distance (A).
    """
    xyz = np.concatenate([c for _, c in placed])
    mol = np.concatenate([np.full(len(c), i) for i, (_, c) in enumerate(placed)])
    if box is not None:
        xyz = np.mod(xyz, box)
    tree = cKDTree(xyz, boxsize=box)
    pairs = tree.query_pairs(cutoff, output_type="ndarray")
    pairs = pairs[mol[pairs[:, 0]] != mol[pairs[:, 1]]]
    if len(pairs) == 0:
        return cutoff
    d = xyz[pairs[:, 0]] - xyz[pairs[:, 1]]
    if box is not None:
        d -= box * np.round(d / box)
    return float(np.sqrt((d * d).sum(axis=1)).min())
