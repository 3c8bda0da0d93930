"""Zn electrodes held at a potential difference with OpenMM's ConstantPotentialForce.

Finite-field method (Dufils et al., PRL 123 (2019) 195501), as OpenMM implements it: the
cell is fully periodic; the metal slab and its periodic image enclose the electrolyte,
and a uniform external field E_z = dV / L_z makes the potential of the electrolyte side
of the slab's top face differ by dV from that of its bottom face (seen across the
periodic boundary). The metal is one electrode at potential 0; its atoms carry Gaussian
charges (width ``gaussian_width_nm``) solved every step, with the total charge of the
system held at zero (the electrolyte is neutral, so the metal is too, and its two faces
carry opposite charges). An optional Thomas-Fermi screening length makes the metal an
imperfect conductor (Scalfi et al., JCP 153 (2020) 174704).

OpenMM's rules for the force: it computes all Coulomb interactions (PME) and no
Lennard-Jones, so every charge moves from the NonbondedForce into it (exceptions with
them) and the NonbondedForce keeps only Lennard-Jones (cutoff, no PME).
"""

from __future__ import annotations

import openmm

from solvation.constants import FARADAY_KJ_PER_MOL_V

FORCE_NAME = "constant potential electrode"
# Gaussian width 1/eta with eta = 1.979 1/A, the value used for metal electrodes since
# Reed, Lanning & Madden, JCP 126 (2007) 084704 (not fitted to zinc)
DEFAULT_WIDTH_NM = 0.0505


def field_for(delta_v: float, box_z_nm: float) -> float:
    """External field (kJ/mol/nm per e) that drops ``delta_v`` (V) over the cell length.

    Parameters
    ----------
    delta_v : float
        Potential difference (V).
    box_z_nm : float
        Cell length along z (nm).
    """
    return delta_v * FARADAY_KJ_PER_MOL_V / box_z_nm


def add_constant_potential(
    system: openmm.System,
    electrode_atoms: list[int],
    delta_v: float,
    box_z_nm: float,
    gaussian_width_nm: float = DEFAULT_WIDTH_NM,
    thomas_fermi_scale: float = 0.0,
    matrix: bool = True,
) -> openmm.ConstantPotentialForce:
    """Move Coulomb into a ConstantPotentialForce with ``electrode_atoms`` as one
    electrode at 0 V under the field of ``delta_v`` (V); returns the new force.
    ``matrix``: OpenMM's matrix solver (electrode atoms must not move) or CG otherwise.
    ``thomas_fermi_scale``: l_TF^2 / V_atom (1/nm), 0 for a perfect conductor.

    Parameters
    ----------
    system : openmm.System
        With a NonbondedForce (modified in place).
    electrode_atoms : list of int
        Indices of the electrode atoms.
    delta_v : float
        Potential difference across the cell (V).
    box_z_nm : float
        Cell length along z (nm).
    gaussian_width_nm : float
        Width of the electrode atoms' Gaussian charges (nm).
    thomas_fermi_scale : float
        l_TF^2 / V_atom (1/nm); 0 for a perfect conductor.
    matrix : bool
        OpenMM's matrix solver (frozen electrode), else conjugate gradients.
    """
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    cpf = openmm.ConstantPotentialForce()
    for i in range(nb.getNumParticles()):
        q, sigma, eps = nb.getParticleParameters(i)
        cpf.addParticle(q)
        nb.setParticleParameters(i, 0.0, sigma, eps)
    for k in range(nb.getNumExceptions()):
        i, j, qq, sigma, eps = nb.getExceptionParameters(k)
        cpf.addException(i, j, qq)
        nb.setExceptionParameters(k, i, j, 0.0, sigma, eps)
    nb.setNonbondedMethod(openmm.NonbondedForce.CutoffPeriodic)  # LJ only now
    cpf.setCutoffDistance(nb.getCutoffDistance())
    cpf.setEwaldErrorTolerance(nb.getEwaldErrorTolerance())
    cpf.addElectrode(set(electrode_atoms), 0.0, gaussian_width_nm, thomas_fermi_scale)
    cpf.setUseChargeConstraint(True)
    cpf.setChargeConstraintTarget(0.0)
    cpf.setExternalField(openmm.Vec3(0.0, 0.0, field_for(delta_v, box_z_nm)))
    cpf.setConstantPotentialMethod(
        openmm.ConstantPotentialForce.Matrix if matrix else openmm.ConstantPotentialForce.CG
    )
    cpf.setName(FORCE_NAME)
    system.addForce(cpf)
    return cpf


def electrode_force(system: openmm.System) -> openmm.ConstantPotentialForce | None:
    """The system's ConstantPotentialForce, if it has one.

    Parameters
    ----------
    system : openmm.System
    """
    return next(
        (f for f in system.getForces() if isinstance(f, openmm.ConstantPotentialForce)), None
    )
