"""hcp Zn slabs exposing (002) = (0001), (100) = (10-10) or (101) = (10-11), from ASE;
the Slab record shared with the other substrates (``substrates.py``)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from ase.build import bulk, hcp0001, hcp10m10, surface

from solvation.errors import SolvationError
from solvation.forcefields.library import ZN_METAL

A_ANGSTROM = ZN_METAL["a_nm"] * 10.0  # 2.6648 A
C_ANGSTROM = ZN_METAL["c_nm"] * 10.0  # 4.9467 A


class SlabError(SolvationError, ValueError):
    """A slab that cannot be built as asked."""


@dataclass(frozen=True)
class Slab:
    """Substrate atoms (A) with their elements, lateral cell vectors a, b (A, in the xy
    plane, a along x) and the z of the bottom and top atomic planes (A).

    Attributes
    ----------
    facet : str
        Facet label (e.g. '002').
    layers : int
        Atomic layers.
    xyz : numpy.ndarray
        Atom coordinates (A).
    a, b : numpy.ndarray
        Lateral cell vectors (A).
    elements : tuple of str
        Element of each atom; empty: all Zn.
    material : str
        Material name.
    repeats : tuple of int
        Lateral surface cells.
    """

    facet: str
    layers: int
    xyz: np.ndarray
    a: np.ndarray
    b: np.ndarray
    elements: tuple[str, ...] = ()  # one per atom; empty: all Zn
    material: str = "Zn"
    repeats: tuple[int, int] = (1, 1)  # lateral surface cells

    @property
    def symbols(self) -> tuple[str, ...]:
        """Element of every atom."""
        return self.elements or ("Zn",) * len(self.xyz)

    @property
    def z_faces(self) -> tuple[float, float]:
        """z of the bottom and top atomic planes (A)."""
        return float(self.xyz[:, 2].min()), float(self.xyz[:, 2].max())

    @property
    def area_angstrom2(self) -> float:
        """Lateral area (A^2)."""
        return float(abs(self.a[0] * self.b[1] - self.a[1] * self.b[0]))

    @property
    def orthorhombic(self) -> bool:
        """Whether b is along y (the lateral cell is rectangular)."""
        return abs(self.b[0]) < 1e-6


def zn_slab(facet: str, layers: int, repeats: tuple[int, int]) -> Slab:
    """Build the slab; the bottom plane sits at z = 0.

    Parameters
    ----------
    facet : str
        Zn facet ('002', ...).
    layers : int
        Atomic layers.
    repeats : tuple of int
        Lateral surface cells along a and b.

    Raises
    ------
    SlabError
        For an unknown facet or repeats the facet cannot tile.
    """
    nx, ny = repeats
    if facet == "002" and ny % 2:
        raise SlabError(
            f"slab repeats {repeats}: the second number must be even for the rectangular (002) cell"
        )
    if facet == "002":
        atoms = hcp0001("Zn", size=(nx, ny, layers), a=A_ANGSTROM, c=C_ANGSTROM, orthogonal=True)
    elif facet == "100":
        atoms = hcp10m10("Zn", size=(nx, ny, layers), a=A_ANGSTROM, c=C_ANGSTROM)
    elif facet == "101":
        atoms = surface(
            bulk("Zn", "hcp", a=A_ANGSTROM, c=C_ANGSTROM), (1, 0, 1), layers, periodic=True
        ).repeat((nx, ny, 1))
    else:
        raise SlabError(f"unknown facet {facet!r}; use 002, 100 or 101")
    cell, _ = atoms.cell.standard_form()  # a along x, b in the xy plane, c along z
    atoms.set_cell(cell, scale_atoms=True)
    atoms.wrap()
    xyz = atoms.get_positions()
    xyz[:, 2] -= xyz[:, 2].min()
    a, b = np.array(cell[0]), np.array(cell[1])
    if b[0] < -a[0] / 2 - 1e-9 or b[0] > a[0] / 2 + 1e-9:  # OpenMM's reduced box form
        b[0] -= a[0] * np.round(b[0] / a[0])
    return Slab(facet, layers, xyz, a, b, repeats=(nx, ny))
