"""Pair-specific Lennard-Jones terms (NBFix) on top of a NonbondedForce.

The NonbondedForce keeps every atom's own sigma and epsilon and mixes them by
Lorentz-Berthelot (LB). For each listed pair of atom sets (A, B) one
CustomNonbondedForce, restricted by an interaction group to A x B, adds

    E_pair(r) - E_LB(r),   E(r) = 4 eps [(sigma/r)^12 - (sigma/r)^6],

so that A-B pairs interact with the listed sigma and epsilon in total. E_LB uses each
particle's own NonbondedForce parameters, so the correction is exact whatever the atoms
are. The force has the NonbondedForce's cutoff (periodic or not), its exclusions
(every exception) and a long-range correction when the NonbondedForce has one. The pair's
sigma and epsilon are global parameters ``<name>_sigma`` and ``<name>_epsilon`` (nm,
kJ/mol), so a script can change them in a Context (tools/fit_scaled_zn.py does).

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
) -> openmm.CustomNonbondedForce:
    """Add the NBFix correction for pairs (a in ``atoms_a``, b in ``atoms_b``).

    Parameters
    ----------
    system : the System; its NonbondedForce gives the LB parameters, cutoff and exclusions.
    label : force name is ``NBFix <label>``; the global parameters derive from it.
    atoms_a, atoms_b : particle indices of the two sets (disjoint).
    sigma_nm, epsilon_kj_per_mol : the pair's Lennard-Jones sigma (nm) and epsilon (kJ/mol).
    """
    nb = _nonbonded(system)
    name = parameter_name(label)
    force = openmm.CustomNonbondedForce(ENERGY.format(name=name))
    force.addGlobalParameter(f"{name}_sigma", sigma_nm)
    force.addGlobalParameter(f"{name}_epsilon", epsilon_kj_per_mol)
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
