"""Pair-specific Lennard-Jones terms (NBFix) on top of a NonbondedForce.

The NonbondedForce keeps every atom's own sigma and epsilon and mixes them by
Lorentz-Berthelot (LB). For each listed pair of atom sets (A, B) one
CustomNonbondedForce, restricted by an interaction group to A x B, adds

    E_pair(r) - E_LB(r),   E(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6],

so that A-B pairs interact with the listed sigma and epsilon in total; a term given a C4
(``c4_kj_per_mol_nm4``, possibly 0) adds the ion-induced-dipole attraction -C4/r^4 of the
12-6-4 model (Li & Merz, J. Chem. Theory Comput. 10 (2014) 289) to the pair. E_LB uses each
particle's own NonbondedForce parameters, so the correction is exact whatever the atoms
are. The force has the NonbondedForce's cutoff (periodic or not), its exclusions
(every exception) and a long-range correction when the NonbondedForce has one. The pair's
sigma and epsilon are global parameters ``<name>_sigma`` and ``<name>_epsilon`` (nm,
kJ/mol; and ``<name>_c4``, kJ mol^-1 nm^4), so a script can change them in a Context or a
serialised System (tools/fit_scaled_zn.py does).

OpenMM's own NBFix route (``LennardJonesForce`` in ForceField XML) moves all Lennard-Jones
into one tabulated CustomNonbondedForce over every pair; a correction restricted to the
listed pairs keeps the NonbondedForce's fast kernel for everything else.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import openmm

ENERGY = (
    "4*{name}_epsilon*(({name}_sigma/r)^12-({name}_sigma/r)^6)"
    " - 4*sqrt(e1*e2)*((0.5*(s1+s2)/r)^12-(0.5*(s1+s2)/r)^6)"
)
C4_ENERGY = " - {name}_c4/r^4"


def parameter_name(label: str) -> str:
    """A global-parameter prefix from a pair label (``Zn2+ / water:O`` ->
    ``nbfix_Zn2p_water_O``).

    Parameters
    ----------
    label : str
        Pair label 'a / b'.
    """
    text = label.replace("+", "p").replace("-", "m")
    return "nbfix_" + "_".join(w for w in re.split(r"[^A-Za-z0-9]+", text) if w)


def _nonbonded(system: openmm.System) -> openmm.NonbondedForce:
    return next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))


def add_pair_term(
    system: openmm.System,
    label: str,
    atoms_a: Sequence[int],
    atoms_b: Sequence[int],
    sigma_nm: float,
    epsilon_kj_per_mol: float,
    c4_kj_per_mol_nm4: float | None = None,
) -> openmm.CustomNonbondedForce:
    """Add the NBFix correction for pairs (a in ``atoms_a``, b in ``atoms_b``).

    Parameters
    ----------
    system : the System; its NonbondedForce gives the LB parameters, cutoff and exclusions.
    label : force name is ``NBFix <label>``; the global parameters derive from it.
    atoms_a, atoms_b : particle indices of the two sets (disjoint).
    sigma_nm, epsilon_kj_per_mol : the pair's Lennard-Jones sigma (nm) and epsilon (kJ/mol).
    c4_kj_per_mol_nm4 : optional -C4/r^4 term (kJ mol^-1 nm^4); None: no such term.
    """
    nb = _nonbonded(system)
    name = parameter_name(label)
    energy = ENERGY + (C4_ENERGY if c4_kj_per_mol_nm4 is not None else "")
    force = openmm.CustomNonbondedForce(energy.format(name=name))
    force.addGlobalParameter(f"{name}_sigma", sigma_nm)
    force.addGlobalParameter(f"{name}_epsilon", epsilon_kj_per_mol)
    if c4_kj_per_mol_nm4 is not None:
        force.addGlobalParameter(f"{name}_c4", c4_kj_per_mol_nm4)
    force.addPerParticleParameter("s")
    force.addPerParticleParameter("e")
    for i in range(nb.getNumParticles()):
        _, sigma, epsilon = nb.getParticleParameters(i)
        force.addParticle([sigma._value, epsilon._value])
    for k in range(nb.getNumExceptions()):
        i, j = nb.getExceptionParameters(k)[:2]
        force.addExclusion(i, j)
    if nb.getNonbondedMethod() == openmm.NonbondedForce.NoCutoff:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.NoCutoff)
    elif nb.usesPeriodicBoundaryConditions():
        force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffPeriodic)
    else:
        force.setNonbondedMethod(openmm.CustomNonbondedForce.CutoffNonPeriodic)
    force.setCutoffDistance(nb.getCutoffDistance())
    force.setUseSwitchingFunction(nb.getUseSwitchingFunction())
    force.setSwitchingDistance(nb.getSwitchingDistance())
    force.setUseLongRangeCorrection(nb.getUseDispersionCorrection())
    force.addInteractionGroup(list(atoms_a), list(atoms_b))
    force.setName(f"NBFix {label}")
    system.addForce(force)
    return force
