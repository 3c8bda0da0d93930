"""Two-compartment box of the osmotic-pressure route (Luo & Roux, JPCL 1 (2010) 183).

The solution of the design's [box] (its solutes and its waters) fills a slab
z_lo < z < z_hi in the middle of a box elongated along z; ``reservoir`` times as many
waters again fill the rest (pure water, across the periodic boundary). A
CustomExternalForce, U = k/2 [max(0, z - z_hi)^2 + max(0, z_lo - z)^2], on every atom of
every non-water molecule keeps the solutes between the walls; water passes freely. The
mean force on the walls gives the osmotic pressure (``analysis.water_activity``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import openmm
import openmm.app as app

from solvation.constants import AVOGADRO_PER_MOL
from solvation.design import OsmoticSpec

from .composition import Composition
from .packing import PackItem

WALL_FORCE_NAME = "osmotic walls"
WALL_MARGIN = 1.0  # A: solutes are packed this far inside the walls (packmol is approximate)


@dataclass(frozen=True)
class OsmoticLayout:
    """Box edges and wall planes (A), reservoir water count, confined residue names.

    Attributes
    ----------
    box : numpy.ndarray
        Box edge lengths (A).
    walls : tuple of float
        z of the lower and upper wall planes (A).
    n_reservoir : int
        Reservoir water molecules.
    confined : tuple of str
        Residue names held between the walls.
    k_kj_mol_nm2 : float
        Wall force constant (kJ/mol/nm^2).
    """

    box: np.ndarray  # (3,) edge lengths
    walls: tuple[float, float]
    n_reservoir: int
    confined: tuple[str, ...]
    k_kj_mol_nm2: float

    def info(self, n_solution_water: int) -> dict:
        """The ``osmotic`` record of build.json (walls in nm, area in nm^2).

        Parameters
        ----------
        n_solution_water : int
            Water molecules of the solution between the walls.
        """
        return {
            "walls_nm": [self.walls[0] / 10.0, self.walls[1] / 10.0],
            "force_constant_kj_mol_nm2": self.k_kj_mol_nm2,
            "confined_resnames": list(self.confined),
            "n_solution_water": n_solution_water,
            "n_reservoir_water": self.n_reservoir,
            "area_nm2": float(self.box[0] * self.box[1] / 100.0),
        }


def layout(comp: Composition, spec: OsmoticSpec) -> OsmoticLayout:
    """Sizes from the solution's estimated volume and the water's molar volume.

    Parameters
    ----------
    comp : Composition
        The solution.
    spec : OsmoticSpec
        The design's ``[osmotic]`` table.
    """
    water = next(c for c in comp.components.values() if c.role == "water")
    n_solution = comp.counts[water.key]
    n_reservoir = max(2, round(spec.reservoir * n_solution))
    v_solution = comp.volume_nm3 * 1000.0  # A^3
    v_reservoir = n_reservoir * water.volume_cm3_per_mol / AVOGADRO_PER_MOL * 1e24
    lateral = ((v_solution + v_reservoir) / spec.aspect) ** (1.0 / 3.0)
    lz = spec.aspect * lateral
    thickness = v_solution / lateral**2
    walls = (0.5 * (lz - thickness), 0.5 * (lz + thickness))
    confined = tuple(
        sorted({c.template.resname for c in comp.components.values() if c.role != "water"})
    )
    box = np.array([lateral, lateral, lz])
    return OsmoticLayout(box, walls, n_reservoir, confined, spec.force_constant.kj_per_mol_nm2)


def pack_items(comp: Composition, lay: OsmoticLayout) -> list[PackItem]:
    """Solutes and the solution's water between the walls, reservoir water on both sides.

    Parameters
    ----------
    comp : Composition
    lay : OsmoticLayout
    """
    lx, ly, lz = lay.box
    lo, hi = lay.walls
    order = sorted(comp.counts, key=lambda k: -comp.components[k].template.n_atoms)
    items = []
    for k in order:
        margin = 0.0 if comp.components[k].role == "water" else WALL_MARGIN
        inside = f"inside box 0 0 {lo + margin:.3f} {lx:.3f} {ly:.3f} {hi - margin:.3f}"
        items.append(
            PackItem(comp.components[k].template, comp.counts[k], (inside,), compartment="solution")
        )
    water = next(c for c in comp.components.values() if c.role == "water").template
    below = round(lay.n_reservoir * lo / (lz - (hi - lo)))
    for count, (z0, z1) in ((below, (0.0, lo)), (lay.n_reservoir - below, (hi, lz))):
        if count:
            box = f"inside box 0 0 {z0:.3f} {lx:.3f} {ly:.3f} {z1:.3f}"
            items.append(PackItem(water, count, (box,), compartment="reservoir"))
    return items


def add_walls(system: openmm.System, topology: app.Topology, lay: OsmoticLayout) -> int:
    """Add the flat-bottom wall force on every atom of the confined residues; returns how
    many atoms it acts on.

    Parameters
    ----------
    system : openmm.System
    topology : openmm.app.Topology
    lay : OsmoticLayout
    """
    force = openmm.CustomExternalForce("0.5*k_wall*(max(0, z - z_hi)^2 + max(0, z_lo - z)^2)")
    force.addGlobalParameter("k_wall", lay.k_kj_mol_nm2)
    force.addGlobalParameter("z_lo", lay.walls[0] / 10.0)
    force.addGlobalParameter("z_hi", lay.walls[1] / 10.0)
    force.setName(WALL_FORCE_NAME)
    for atom in topology.atoms():
        if atom.residue.name in lay.confined:
            force.addParticle(atom.index, [])
    system.addForce(force)
    return force.getNumParticles()
