"""Shear viscosity by periodic perturbation.

Periodic perturbation (cosine acceleration; Hess, J. Chem. Phys. 116 (2002) 209; the
GROMACS reference manual, "Viscosity calculation"): every atom is accelerated along x by
a(z) = A cos(k z), k = 2 pi / L_z. A Newtonian liquid answers with the steady flow
v_x(z) = V cos(k z), V = A rho / (eta k^2), so

    eta = rho A / (<V> k^2),   eta [Pa s] = 1e-6 rho [kg/m^3] A [nm/ps^2] / (V [nm/ps] k^2 [1/nm^2])

The amplitude is measured from the atoms as V = 2 sum_i m_i v_x,i cos(k z_i) / sum_i m_i
(``velocity_amplitude``; the 2 is 1 / <cos^2>). The run (``solvation run DIR
--viscosity``, solvation.engine.viscosity) writes V every few steps; its mean and
standard error come from ``solvation.analysis.stats.estimate`` (the build-up of the flow
is dropped as the initial transient), and the mean V is inverted, never a mean of
per-sample eta (V fluctuates through zero). To first order sigma_eta / eta =
sigma_V / V. The shear rate at the nodes of the profile, V k, should stay below about
0.1 / ps (one over the slowest molecular relaxation of water, GROMACS manual): above it
the liquid thins and eta comes out low, so such a result is marked not converged.

The viscosity of a run directory, and the one the Yeh-Hummer correction of its diffusion
uses, are ``solvation.runs.viscosity``'s.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .results import ResultMixin
from .stats import Estimate, estimate

MAX_SHEAR_RATE_PER_PS = 0.1  # above it the flow thins the liquid (GROMACS manual)


def velocity_amplitude(
    z_nm: np.ndarray, vx_nm_per_ps: np.ndarray, masses: np.ndarray, lz_nm: float
) -> float:
    """Amplitude V (nm/ps) of the flow profile V cos(2 pi z / L_z): the mass-weighted
    projection 2 sum m v_x cos(k z) / sum m (particles of zero mass are left out).

    Parameters
    ----------
    z_nm : numpy.ndarray
        z of each particle (nm).
    vx_nm_per_ps : numpy.ndarray
        x velocity of each particle (nm/ps).
    masses : numpy.ndarray
        Particle masses (weights; Da as OpenMM gives them).
    lz_nm : float
        Box length along z (nm).
    """
    m = np.asarray(masses, dtype=np.float64)
    keep = m > 0
    k = 2.0 * np.pi / lz_nm
    cos = np.cos(k * np.asarray(z_nm, dtype=np.float64)[keep])
    return float(2.0 * np.sum(m[keep] * np.asarray(vx_nm_per_ps)[keep] * cos) / m[keep].sum())


def fit_velocity_profile(
    z_nm: np.ndarray, vx_nm_per_ps: np.ndarray, masses: np.ndarray, lz_nm: float, bins: int = 20
) -> tuple[float, float, pd.DataFrame]:
    """Least-squares fit of v_x(z) = V cos(k z) + c to the mass-weighted mean velocity in
    ``bins`` slabs along z; returns (V, its standard error, the binned profile with
    z_nm, vx_nm_per_ps, mass). A cross-check of ``velocity_amplitude`` that also shows
    the profile's shape.

    Parameters
    ----------
    z_nm : numpy.ndarray
        z of each particle (nm).
    vx_nm_per_ps : numpy.ndarray
        x velocity of each particle (nm/ps).
    masses : numpy.ndarray
        Particle masses (weights; Da as OpenMM gives them).
    lz_nm : float
        Box length along z (nm).
    bins : int
        Slabs along z.
    """
    m = np.asarray(masses, dtype=np.float64)
    z = np.mod(np.asarray(z_nm, dtype=np.float64), lz_nm)
    edges = np.linspace(0.0, lz_nm, bins + 1)
    idx = np.clip(np.digitize(z, edges) - 1, 0, bins - 1)
    mass = np.bincount(idx, weights=m, minlength=bins)
    momentum = np.bincount(idx, weights=m * np.asarray(vx_nm_per_ps), minlength=bins)
    centres = 0.5 * (edges[1:] + edges[:-1])
    full = mass > 0
    profile = momentum[full] / mass[full]
    design = np.column_stack([np.cos(2 * np.pi * centres[full] / lz_nm), np.ones(full.sum())])
    weights = np.sqrt(mass[full] / mass[full].mean())
    coef, residual, *_ = np.linalg.lstsq(design * weights[:, None], profile * weights, rcond=None)
    dof = max(full.sum() - 2, 1)
    sigma2 = float(residual[0]) / dof if len(residual) else 0.0
    cov = sigma2 * np.linalg.inv((design * weights[:, None]).T @ (design * weights[:, None]))
    table = pd.DataFrame({"z_nm": centres[full], "vx_nm_per_ps": profile, "mass": mass[full]})
    return float(coef[0]), float(np.sqrt(cov[0, 0])), table


def eta_pa_s(
    density_kg_per_m3: float,
    acceleration_nm_per_ps2: float,
    amplitude_nm_per_ps: float,
    lz_nm: float,
) -> float:
    """eta = rho A / (V k^2) in Pa s (module docstring).

    Parameters
    ----------
    density_kg_per_m3 : float
        Mass density (kg/m^3).
    acceleration_nm_per_ps2 : float
        Amplitude A of the applied acceleration (nm/ps^2).
    amplitude_nm_per_ps : float
        Flow amplitude V (nm/ps).
    lz_nm : float
        Box length along z (nm).

    Returns
    -------
    float
        Viscosity (Pa s).
    """
    k = 2.0 * np.pi / lz_nm
    return 1e-6 * density_kg_per_m3 * acceleration_nm_per_ps2 / (amplitude_nm_per_ps * k**2)


@dataclass(frozen=True)
class ViscosityResult(ResultMixin):
    """Shear viscosity from a periodic-perturbation run.

    Attributes
    ----------
    eta_mPa_s, eta_err_mPa_s : float
        Viscosity and its standard error (from the amplitude's) (mPa s).
    n_eff, converged, reason
        Of the amplitude series (plus the shear-rate check).
    amplitude : Estimate
        The flow amplitude V (nm/ps).
    acceleration_nm_per_ps2 : float
        Applied acceleration amplitude (nm/ps^2).
    density_kg_per_m3 : float
        Mass density (kg/m^3).
    lz_nm : float
        Box length along z (nm).
    wavevector_per_nm : float
        k = 2 pi / L_z (1/nm).
    shear_rate_per_ps : float
        Largest shear rate V k (1/ps).
    time_ps : float
        Length of the analysed series (ps).
    sample_interval_ps : float
        Time between amplitude samples (ps).
    """

    eta_mPa_s: float
    eta_err_mPa_s: float
    n_eff: float
    converged: bool
    reason: str | None
    amplitude: Estimate
    acceleration_nm_per_ps2: float
    density_kg_per_m3: float
    lz_nm: float
    wavevector_per_nm: float
    shear_rate_per_ps: float
    time_ps: float
    sample_interval_ps: float

    def text(self) -> str:
        """'eta = ... +- ... mPa s (n_eff N); V, A, shear rate' and why not converged."""
        flag = "" if self.converged else f", NOT CONVERGED: {self.reason}"
        return (
            f"eta = {self.eta_mPa_s:.4g} +- {self.eta_err_mPa_s:.2g} mPa s (n_eff "
            f"{self.n_eff:.0f}); V = {self.amplitude.mean:.4g} nm/ps over {self.time_ps:g} ps, "
            f"A = {self.acceleration_nm_per_ps2:g} nm/ps^2, shear rate "
            f"{self.shear_rate_per_ps:.3g}/ps{flag}"
        )


def viscosity_from_amplitudes(
    amplitudes_nm_per_ps: np.ndarray,
    acceleration_nm_per_ps2: float,
    density_kg_per_m3: float,
    lz_nm: float,
    sample_interval_ps: float,
) -> ViscosityResult:
    """eta with its standard error from a series of flow amplitudes (module docstring).

    Parameters
    ----------
    amplitudes_nm_per_ps : numpy.ndarray
        Flow amplitude V per sample (nm/ps).
    acceleration_nm_per_ps2 : float
        Applied acceleration amplitude (nm/ps^2).
    density_kg_per_m3 : float
        Mass density (kg/m^3).
    lz_nm : float
        Box length along z (nm).
    sample_interval_ps : float
        Time between samples (ps).
    """
    amp = estimate(amplitudes_nm_per_ps, equilibration=True)  # the flow builds up from rest
    k = 2.0 * np.pi / lz_nm
    resolved = amp.mean > 0 and np.isfinite(amp.err) and amp.mean > 2.0 * amp.err
    eta = eta_pa_s(density_kg_per_m3, acceleration_nm_per_ps2, amp.mean, lz_nm) * 1e3
    if not resolved:
        amp = amp.flagged(
            f"flow amplitude not resolved (V = {amp.mean:.3g} +- {amp.err:.2g} nm/ps)"
        )
        eta = eta if amp.mean > 0 else float("nan")
    shear = amp.mean * k
    if shear > MAX_SHEAR_RATE_PER_PS:
        amp = amp.flagged(
            f"shear rate {shear:.3g}/ps above {MAX_SHEAR_RATE_PER_PS}/ps thins the liquid: "
            "lower the acceleration"
        )
    return ViscosityResult(
        eta_mPa_s=float(eta),
        eta_err_mPa_s=float(abs(eta) * amp.err / amp.mean) if amp.mean else float("nan"),
        n_eff=amp.n_eff,
        converged=amp.converged,
        reason=amp.reason,
        amplitude=amp,
        acceleration_nm_per_ps2=acceleration_nm_per_ps2,
        density_kg_per_m3=density_kg_per_m3,
        lz_nm=lz_nm,
        wavevector_per_nm=k,
        shear_rate_per_ps=float(shear),
        time_ps=len(amplitudes_nm_per_ps) * sample_interval_ps,
        sample_interval_ps=sample_interval_ps,
    )
