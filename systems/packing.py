"""Pack molecules into a box with packmol (fixed seed, periodic when the cell is
orthorhombic), and check the result for overlaps."""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from scipy.spatial import cKDTree

from solvation.console import LOGGER
from solvation.errors import SolvationError

from . import tiling
from .templates import ResidueTemplate, water_template

WATER = water_template().resname
# packmol ends when the squared restraint violations sum below its precision (0.01), so
# an atom may sit ~0.1 A inside an ``outside sphere``: the spheres are drawn larger
SPHERE_MARGIN_ANGSTROM = 0.2


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
        (count, n_atoms, 3) start coordinates (A) that packmol polishes
        (``restart_from``) instead of starting at random.
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


TEMP_PREFIX = "solvation-packmol-"
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the packmol child before it runs: the kernel kills it when this process dies,
    SIGKILL included (Linux ``PR_SET_PDEATHSIG``; elsewhere a no-op)."""
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (OSError, AttributeError):
            pass


def remove_stale_folders(root: str | Path | None = None) -> list[Path]:
    """Remove the packmol folders of builds whose process has died (a SIGKILLed build
    cannot remove its own); returns them. Folders are named after their process's PID.

    Parameters
    ----------
    root : str or Path, optional
        Folder to look in (default: the temporary directory).
    """
    removed = []
    for folder in Path(root or tempfile.gettempdir()).glob(f"{TEMP_PREFIX}*-*"):
        pid = folder.name[len(TEMP_PREFIX) :].split("-", 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        except PermissionError:  # alive, another user's
            pass
    return removed


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
    polish: bool = False,
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
    if polish:
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
    ``solute_exclusion_angstrom`` away. The water then goes around them in a second
    packmol run with those molecules held fixed and each exclusion as ``outside sphere``
    constraints (periodic images included), at least ``exclusion_angstrom`` from each
    excluding molecule's first atom. Where the cell is periodic and a water item's
    constraints are boxes, its start is cut from a pre-packed water box
    (``tiling.place_water``) and packmol only polishes it (``restart_from``); a start in
    which every water keeps the tolerance and the exclusions is taken as it is.
    A 2 m ZnSO4 slab with 800 waters and pre-hydrated Zn2+: 39 s in one run, 7-13 s in
    two; 2 m ZnSO4 with 3000 waters: 50-100 s of packmol CPU time from a random water
    start, 3 s from the tile's start (the solute run: 4 s).

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
        When packmol fails, times out or does not reach the tolerance.
    """
    items = [i for i in items if i.count > 0]
    later = [k for k, i in enumerate(items) if i.template.resname == WATER and i.fixed_xyz is None]
    limit = (timeout, time.monotonic() + timeout)  # one limit for both runs
    if not later:
        solutes = [_among_solutes(i) for i in items]
        return _run_packmol(solutes, seed, tolerance, pbc, limit, nloop)
    if not any(i.exclusion_angstrom > 0 or i.solute_exclusion_angstrom > 0 for i in items):
        return _run_packmol(items, seed, tolerance, pbc, limit, nloop)
    first = [k for k in range(len(items)) if k not in later]
    solutes = [_among_solutes(items[k]) for k in first]
    placed = _run_packmol(solutes, seed, tolerance, pbc, limit, nloop)
    held, spheres = _held(placed, [items[k] for k in first], pbc)
    centres = [
        (c, r + SPHERE_MARGIN_ANGSTROM)
        for c, r in _exclusion_centres(placed, [items[k] for k in first])
    ]
    starts, clear = _water_starts(
        [items[k] for k in later],
        (held.fixed_xyz, centres),
        pbc,
        tolerance,
        seed,
    )
    if clear:  # every water keeps the tolerance and the exclusions: nothing to polish
        water = [(i.template, c) for i in starts for c in i.start_xyz]
    else:
        around = [replace(i, constraints=i.constraints + spheres) for i in starts]
        water = _run_packmol([held, *around], seed, tolerance, pbc, limit, nloop)[1:]
    placed += water
    molecules, by_item = iter(placed), {}
    for k in first + later:
        by_item[k] = [next(molecules) for _ in range(items[k].count)]
    return [m for k in range(len(items)) for m in by_item[k]]


def _held(
    placed: list[tuple[ResidueTemplate, np.ndarray]],
    items: list[PackItem],
    pbc: tuple[float, ...] | None,
) -> tuple[PackItem, tuple[str, ...]]:
    """The molecules of a first run as one fixed packmol structure, and the ``outside
    sphere`` constraints that keep later molecules out of their exclusion spheres."""
    xyz = np.vstack([c for _, c in placed])
    elements = tuple(e for t, _ in placed for e in t.elements)
    names = tuple(f"X{k}" for k in range(len(elements)))
    centres = [(c, r) for points, r in _exclusion_centres(placed, items) for c in points]
    if pbc is not None:  # packmol refuses fixed atoms outside the periodic box
        lo, hi = np.round(pbc[:3], 4), np.round(pbc[3:], 4)  # as _input writes them
        xyz = np.minimum(lo + np.mod(xyz - lo, hi - lo), hi - 1e-4)
        centres = [(p, r) for c, r in centres for p in _images(c, lo, hi, r)]
    template = ResidueTemplate("FIX", names, elements, (), xyz, 0)
    spheres = tuple(
        f"outside sphere {x:.4f} {y:.4f} {z:.4f} {r + SPHERE_MARGIN_ANGSTROM:.3f}"
        for (x, y, z), r in centres
    )
    return PackItem(template, 1, fixed_xyz=xyz), spheres


def _exclusion_centres(
    placed: list[tuple[ResidueTemplate, np.ndarray]], items: list[PackItem]
) -> list[tuple[np.ndarray, float]]:
    """The first atoms ((k, 3), A) of the molecules of ``placed`` (``items`` in order)
    that exclude others, grouped by their ``exclusion_angstrom`` (A)."""
    owners = (i for i in items for _ in range(i.count))
    by_radius: dict[float, list[np.ndarray]] = {}
    for item, (_, xyz) in zip(owners, placed, strict=True):
        if item.exclusion_angstrom > 0:
            by_radius.setdefault(item.exclusion_angstrom, []).append(xyz[0])
    return [(np.array(c), r) for r, c in by_radius.items()]


def _water_starts(
    items: list[PackItem],
    obstacles: tuple[np.ndarray, list[tuple[np.ndarray, float]]],
    pbc: tuple[float, ...] | None,
    tolerance: float,
    seed: int,
) -> tuple[list[PackItem], bool]:
    """The water ``items`` with start coordinates cut from the water tile
    (``tiling.place_water``) around the ``obstacles`` (atoms placed, A; exclusion
    centres with their radius, A) and the starts of the items before, where an item is a
    three-site water in a box of a periodic cell; an item whose tile start falls short
    is split into the start and the rest at random. True when every water has a start
    that keeps the tolerance from all others (then no packmol run is needed)."""
    held, centres = obstacles
    started, out, clear = time.monotonic(), [], True
    for item in items:
        region = tiling.region_of(item.constraints, pbc)
        if region is None or item.template.n_atoms != 3:
            out.append(item)
            clear = False
            continue
        xyz, n_clear = tiling.place_water(
            item.template.xyz_angstrom, item.count, region, held, centres, pbc, tolerance, seed
        )
        clear = clear and n_clear == item.count
        held = np.vstack([held, xyz.reshape(-1, 3)])
        out.append(replace(item, count=len(xyz), start_xyz=xyz))
        if len(xyz) < item.count:
            out.append(replace(item, count=item.count - len(xyz)))
        LOGGER.debug(
            "water start from the tile: %d of %d, %d keep the tolerance (%.1f s)",
            len(xyz),
            item.count,
            n_clear,
            time.monotonic() - started,
        )
    return out, clear


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
    copies = np.asarray(xyz, float)
    centres = copies.mean(axis=1)
    angles = np.zeros((len(copies), 3))
    if template.n_atoms > 1:
        angles = _euler(_kabsch(reference, copies - centres[:, None]))
    table = np.hstack([centres, angles])
    return "\n".join(" ".join(f"{v:.10f}" for v in row) for row in table) + "\n"


def _kabsch(reference: np.ndarray, copies: np.ndarray) -> np.ndarray:
    """(n, 3, 3) rotations that best turn the centred ``reference`` (atoms, 3) onto each
    of the centred ``copies`` (n, atoms, 3): copy ~ R @ reference (Kabsch), all at once
    (scipy's ``Rotation.align_vectors`` takes one molecule per call: 2.9 s for 3000)."""
    h = np.einsum("ai,naj->nij", reference, copies)
    u, _, vt = np.linalg.svd(h)
    flip = np.sign(np.linalg.det(np.einsum("nji,nkj->nik", vt, u)))
    vt[:, 2] *= flip[:, None]
    return np.einsum("nji,nkj->nik", vt, u)


def _euler(m: np.ndarray) -> np.ndarray:
    """(n, 3) angles (beta, gamma, theta) of packmol's ``eulerrmat`` whose matrices,
    columns v1 v2 v3, are ``m`` (n, 3, 3): v3 = (sin g sin t, cos g sin t, cos t),
    v1_z = sin b sin t, v2_z = -cos b sin t; for sin t = 0, gamma = 0 and
    v1_x = cos b, v2_x = sin b."""
    theta = np.arccos(np.clip(m[:, 2, 2], -1.0, 1.0))
    gamma = np.arctan2(m[:, 0, 2], m[:, 1, 2])
    beta = np.arctan2(m[:, 2, 0], -m[:, 2, 1])
    polar = np.sin(theta) < 1e-9
    beta[polar] = np.arctan2(m[polar, 0, 1], m[polar, 0, 0])
    gamma[polar] = 0.0
    return np.stack([beta, gamma, theta], axis=1)


def _images(point: np.ndarray, lo: np.ndarray, hi: np.ndarray, r: float) -> list[np.ndarray]:
    """The periodic images of ``point`` whose sphere of radius ``r`` reaches the box."""
    length = hi - lo
    wrapped = lo + np.mod(point - lo, length)
    shifts = np.array(list(itertools.product((-1, 0, 1), repeat=3))) * length
    return [q for q in wrapped + shifts if np.all(q > lo - r) and np.all(q < hi + r)]


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
    polish = all(i.start_xyz is not None for i in items if i.fixed_xyz is None)
    items = _random_starts(items, pbc, seed)
    remove_stale_folders()
    with tempfile.TemporaryDirectory(prefix=f"{TEMP_PREFIX}{os.getpid()}-") as tmp:
        workdir = Path(tmp)
        (workdir / "pack.inp").write_text(
            _input(items, workdir, seed, tolerance, pbc, nloop, polish)
        )
        try:
            with (workdir / "pack.inp").open() as stdin:
                run = subprocess.run(
                    [str(packmol_executable())],
                    stdin=stdin,
                    cwd=workdir,
                    capture_output=True,
                    text=True,
                    timeout=max(deadline - time.monotonic(), 1.0),
                    preexec_fn=_die_with_parent,
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


def _random_starts(
    items: list[PackItem], pbc: tuple[float, ...] | None, seed: int
) -> list[PackItem]:
    """In a run that holds fixed atoms, a uniform random start (``tiling.random_start``)
    for each item that is neither fixed nor started: packmol's own first guess puts
    such molecules on their region's boundary."""
    if all(i.fixed_xyz is None for i in items):
        return items
    out = []
    for k, item in enumerate(items):
        if item.fixed_xyz is None and item.start_xyz is None:
            xyz = tiling.random_start(
                item.template.xyz_angstrom, item.count, item.constraints, pbc, seed + k
            )
            item = item if xyz is None else replace(item, start_xyz=xyz)
        out.append(item)
    return out


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
