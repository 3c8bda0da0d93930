"""Umbrella sampling and MBAR: an analytic double well recovered within its error bars,
Zn2+ far from any surface giving a flat profile, windows that resume, and bad input."""

from __future__ import annotations

import numpy as np
import openmm
import openmm.unit as u
import pytest
from scipy.integrate import quad

from solvation.analysis.pmf import decorrelate, umbrella_profile
from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K

T = 298.15
KT = GAS_CONSTANT_KJ_PER_MOL_K * T
WELL = {"A": 3.0 * KT, "b": 0.1}  # U(z) = A ((z/b)^2 - 1)^2: minima at +-b, barrier 3 kT


def _double_well(z: float) -> float:
    return WELL["A"] * ((z / WELL["b"]) ** 2 - 1.0) ** 2


def _sample_windows(centres, k, steps=20000, every=20, seed=7):
    """One particle (10 amu) in the double well along z plus a harmonic bias, Langevin
    dynamics on OpenMM's Reference platform; its z every ``every`` steps per window."""
    system = openmm.System()
    system.addParticle(10.0)
    force = openmm.CustomExternalForce("A*((z/b)^2-1)^2 + 0.5*k*(z-z0)^2")
    for name, value in (("A", WELL["A"]), ("b", WELL["b"]), ("k", k), ("z0", 0.0)):
        force.addGlobalParameter(name, value)
    force.addParticle(0, [])
    system.addForce(force)
    integrator = openmm.LangevinMiddleIntegrator(T, 10.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    context = openmm.Context(system, integrator, openmm.Platform.getPlatformByName("Reference"))
    out = []
    for c in centres:
        context.setParameter("z0", c)
        context.setPositions([openmm.Vec3(0.0, 0.0, c)] * u.nanometer)
        context.setVelocitiesToTemperature(T, seed)
        integrator.step(2000)  # equilibrate in the window
        z = []
        for _ in range(steps // every):
            integrator.step(every)
            z.append(context.getState(getPositions=True).getPositions(asNumpy=True)[0, 2]._value)
        out.append(np.array(z))
    return out


def test_umbrella_mbar_recovers_an_analytic_double_well():
    """MBAR on decorrelated umbrella samples gives F(z) = U(z) + const of a particle in a
    known double well, bin by bin within 3 of its error bars (plus 0.05 kT)."""
    spacing = 0.05
    centres = np.round(np.arange(-0.2, 0.2 + 1e-9, spacing), 6)
    k = 4.0 * KT / spacing**2
    series = _sample_windows(centres, k)
    kept = [s[decorrelate(s).indices] for s in series]
    assert min(len(s) for s in kept) > 100  # uncorrelated samples per window
    edges = np.arange(-0.175, 0.175 + 1e-9, 0.025)  # the wells rise to 27 kT at +-0.2 nm
    profile = umbrella_profile(kept, centres, [k] * len(centres), T, edges)

    def bin_f(mid):
        w = quad(lambda z: np.exp(-_double_well(z) / KT), mid - 0.0125, mid + 0.0125)[0]
        return -KT * np.log(w)

    exact = np.array([bin_f(m) for m in profile.z_nm]) - bin_f(profile.reference_nm)
    deviation = np.abs(profile.free_energy_kj_per_mol - exact)
    err = profile.free_energy_err_kj_per_mol
    assert len(profile.z_nm) == len(edges) - 1
    assert np.all(deviation <= 3.0 * err + 0.05 * KT), (deviation, err)
    # the barrier really is there: F(0) - F(-0.1) about 3 kT
    top = profile.free_energy_kj_per_mol[np.argmin(np.abs(profile.z_nm - 0.0125))]
    well = profile.free_energy_kj_per_mol[np.argmin(np.abs(profile.z_nm + 0.0875))]
    assert 2.0 * KT < top - well < 4.0 * KT
    # errors are sane: finite, positive except at the reference, below 0.5 kT
    assert np.all(np.isfinite(err)) and np.max(err) < 0.5 * KT
    assert np.min(np.diag(profile.overlap[1:, :-1])) > 0.03
