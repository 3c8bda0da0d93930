"""Per-particle fixed charges of an OpenMM System (the charges analyses of a run
directory use). OpenMM is imported when a System is read, not with this module, so that
analyses load without it."""

from __future__ import annotations


def fixed_charges(system) -> list[float]:
    """Per-particle fixed charges (e) from the force that carries Coulomb: the
    ConstantPotentialForce of an electrode system (electrode atoms hold 0, their charges
    are solved), else the NonbondedForce.

    Parameters
    ----------
    system : openmm.System
    """
    import openmm  # the caller has loaded it to read the System

    cpf = [f for f in system.getForces() if isinstance(f, openmm.ConstantPotentialForce)]
    if cpf:
        params = [cpf[0].getParticleParameters(i) for i in range(cpf[0].getNumParticles())]
        return [q.value_in_unit(openmm.unit.elementary_charge) for q in params]
    nb = next(f for f in system.getForces() if isinstance(f, openmm.NonbondedForce))
    return [
        nb.getParticleParameters(i)[0].value_in_unit(openmm.unit.elementary_charge)
        for i in range(nb.getNumParticles())
    ]
