"""Substrate slabs of every library material (``[slab] material``, ``facet``), cut with ASE.

The bulk crystal comes from the space group and Wyckoff sites of
``forcefields/data/substrates.toml`` (``ase.spacegroup.crystal``); CuZn5 is an ordered
approximant of the disordered hcp alloy. ``ase.build.surface`` cuts the facet with its
normal along z; the cut plane (the termination) is placed in the widest gap between
atomic planes that leaves the slab without a dipole along z (ionic substrates: formal
charges; ZnF2 (110) then ends on bridging F), and the slab is checked to be neutral.
The lateral cell is ``repeats`` surface cells, or the fewest cells whose widths reach a
target (``lateral``, or the electrolyte's cube edge for materials other than Zn). hcp Zn
keeps its own builder (``slab.zn_slab``), so Zn designs build as before.
"""

from __future__ import annotations

import math

import numpy as np
from ase import Atoms
from ase.build import bulk as ase_bulk
from ase.build import surface
from ase.spacegroup import crystal

from solvation.design import SlabSpec
from solvation.forcefields.substrates import Material, SubstrateError, material

from .slab import Slab, SlabError, zn_slab

DIPOLE_TOLERANCE = 1e-6  # e/A: |sum q z| / area below this is dipole-free


def bulk_crystal(mat: Material) -> Atoms:
    """The bulk crystal of ``mat`` (ASE Atoms, A); the ordered approximant for CuZn5.

    Parameters
    ----------
    mat : Material
    """
    if mat.approximant is not None:
        return _ordered_approximant(mat)
    return crystal(
        [s["symbol"] for s in mat.sites],
        [tuple(s["xyz"]) for s in mat.sites],
        spacegroup=mat.spacegroup,
        cellpar=list(mat.cellpar),
    )


def _min_image_distance(xyz: np.ndarray, point: np.ndarray, cell: np.ndarray) -> np.ndarray:
    frac = (xyz - point) @ np.linalg.inv(cell)
    frac -= np.round(frac)
    return np.linalg.norm(frac @ cell, axis=1)


def _ordered_approximant(mat: Material) -> Atoms:
    """hcp cell of ``mat`` as an orthohexagonal supercell with Cu placed plane by plane by
    farthest-point selection under periodic boundaries (deterministic): each close-packed
    plane holds ``cu_per_plane`` Cu, each Cu as far as possible from those already placed."""
    a, c = mat.cellpar[0], mat.cellpar[2]
    atoms = ase_bulk("Zn", "hcp", a=a, c=c, orthorhombic=True).repeat(
        tuple(mat.approximant["orthohexagonal_repeats"])
    )
    xyz, cell = atoms.get_positions(), np.array(atoms.cell)
    planes = np.round(xyz[:, 2], 4)
    chosen: list[int] = []
    for z in np.unique(planes):
        members = np.flatnonzero(planes == z)
        for _ in range(mat.approximant["cu_per_plane"]):
            if chosen:
                d = np.min([_min_image_distance(xyz[members], xyz[i], cell) for i in chosen], 0)
                pick = int(members[np.argmax(np.round(d, 6))])
            else:
                pick = int(members[0])
            chosen.append(pick)
            members = members[members != pick]
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[chosen] = "Cu"
    atoms.set_chemical_symbols(list(symbols))
    return atoms


def dipole_per_area(z: np.ndarray, charges: np.ndarray, area: float) -> float:
    """z dipole of a slab per lateral area (e/A), about its own centre.

    Parameters
    ----------
    z : numpy.ndarray
        z of each atom (A).
    charges : numpy.ndarray
        Charges (e).
    area : float
        Lateral area (A^2).
    """
    return float(np.sum(charges * (z - z.mean())) / area)


def _charges(mat: Material, symbols) -> np.ndarray:
    return np.array([mat.charge(s) for s in symbols])


def _terminate(slab: Atoms, layers: int, mat: Material) -> Atoms:
    """Shift the cut to the widest gap between atomic planes (within one repeat of the
    slab) that leaves no z dipole; refuse when no cut does."""
    charges = _charges(mat, slab.get_chemical_symbols())
    area = float(np.linalg.norm(np.cross(slab.cell[0], slab.cell[1])))
    scaled = slab.get_scaled_positions()
    period = 1.0 / layers
    planes = np.unique(np.round(scaled[:, 2] % period, 6))
    gaps = np.diff(np.append(planes, planes[0] + period))
    for k in np.argsort(-gaps, kind="stable"):
        cut = planes[k] + gaps[k] / 2.0
        trial = scaled.copy()
        trial[:, 2] = (scaled[:, 2] - cut) % 1.0
        z = trial[:, 2] * float(np.linalg.norm(slab.cell[2])) * _normal_cosine(slab)
        if abs(dipole_per_area(z, charges, area)) < DIPOLE_TOLERANCE:
            slab.set_scaled_positions(trial)
            return slab
    raise SlabError(f"{mat.name}: no termination of this facet is free of a z dipole")


def _normal_cosine(slab: Atoms) -> float:
    """Cosine between the slab's third cell vector and the surface normal."""
    normal = np.cross(slab.cell[0], slab.cell[1])
    c = np.array(slab.cell[2])
    return float(abs(normal @ c) / (np.linalg.norm(normal) * np.linalg.norm(c)))


def surface_cell(mat: Material, facet: str | None, layers: int) -> Atoms:
    """One lateral surface cell of ``layers`` repeats along the facet normal, rotated so
    that the normal is +z (a along x, b in the xy plane), bottom plane at z = 0.

    Parameters
    ----------
    mat : Material
    facet : str or None
        Facet label; None: the material's default.
    layers : int
        Repeats along the facet normal.
    """
    miller = mat.facet(facet).miller
    slab = surface(bulk_crystal(mat), miller, layers, vacuum=None, periodic=True)
    slab = _terminate(slab, layers, mat)
    cell, _ = slab.cell.standard_form()
    slab.set_cell(cell, scale_atoms=True)
    xyz = slab.get_positions()
    xyz[:, 2] -= xyz[:, 2].min()
    slab.set_positions(xyz)
    return slab


def _wrap_lateral(atoms: Atoms) -> Atoms:
    """Fractional x, y in [0, 1), those within 1e-6 of a cell edge put on it (packmol
    refuses fixed atoms a rounding error outside its box)."""
    frac = atoms.get_scaled_positions(wrap=False)
    frac[:, :2] %= 1.0
    frac[:, :2][np.isclose(frac[:, :2], 1.0, atol=1e-6, rtol=0)] = 0.0
    frac[:, :2][np.isclose(frac[:, :2], 0.0, atol=1e-6, rtol=0)] = 0.0
    atoms.set_scaled_positions(frac)
    return atoms


def lateral_repeats(a: np.ndarray, b: np.ndarray, target_angstrom: float) -> tuple[int, int]:
    """Fewest repeats of a lateral cell (a along x, b in the xy plane; A) whose widths
    along x and y reach ``target_angstrom``.

    Parameters
    ----------
    a, b : numpy.ndarray
        Lateral cell vectors (A).
    target_angstrom : float
        Smallest lateral width (A).
    """
    return (
        max(1, math.ceil(target_angstrom / abs(a[0]) - 1e-9)),
        max(1, math.ceil(target_angstrom / abs(b[1]) - 1e-9)),
    )


def _zn(spec: SlabSpec, target: float | None) -> Slab:
    repeats = spec.repeats
    if repeats is None:
        unit = zn_slab(spec.facet, spec.layers, (1, 2) if spec.facet == "002" else (1, 1))
        nx, ny = lateral_repeats(unit.a, unit.b, target)
        repeats = (nx, 2 * ny) if spec.facet == "002" else (nx, ny)
    return zn_slab(spec.facet, spec.layers, repeats)


def substrate_slab(spec: SlabSpec, box_edge_nm: float) -> Slab:
    """The slab of ``spec``; ``box_edge_nm``: lateral width used when ``spec`` gives
    neither ``repeats`` nor ``lateral`` (the electrolyte's cube edge).

    Parameters
    ----------
    spec : SlabSpec
        The design's ``[slab]`` table.
    box_edge_nm : float
        Electrolyte cube edge (nm).
    """
    target = 10.0 * (spec.lateral.nm if spec.lateral is not None else box_edge_nm)
    mat = material(spec.material)
    if mat.name == "Zn":
        return _zn(spec, target)
    try:
        unit = surface_cell(mat, spec.facet, spec.layers)
    except SubstrateError as err:
        raise SlabError(str(err)) from None
    a, b = np.array(unit.cell[0]), np.array(unit.cell[1])
    repeats = spec.repeats or lateral_repeats(a, b, target)
    atoms = _wrap_lateral(unit.repeat((*repeats, 1)))
    symbols = tuple(atoms.get_chemical_symbols())
    charge = float(np.sum(_charges(mat, symbols)))
    if abs(charge) > 1e-9:
        raise SlabError(f"{mat.name} slab carries net charge {charge:+g} e")
    return Slab(
        mat.facet(spec.facet).label,
        spec.layers,
        atoms.get_positions(),
        a * repeats[0],
        b * repeats[1],
        symbols,
        mat.name,
        tuple(repeats),
    )
