"""Ion-pair physics of the pair PMF: the Coulomb tail, the Bjerrum distance and the
association constant of a pair potential of mean force W(r).

Definitions (SI inside, nm and kJ/mol at the boundary):

- Coulomb tail in a continuum of relative permittivity eps_r:
  U(r) = q1 q2 e^2 / (4 pi eps0 eps_r r) (kJ/mol with N_A), q1, q2 the species' net charges
  in the model (scaled charges included);
- Bjerrum distance of a pair of opposite charges: q_B = |q1 q2| e^2 / (8 pi eps0 eps_r kT),
  where U(q_B) = -2 kT (Bjerrum 1926): 1.43 nm for a 2:2 pair in water at 298 K
  (eps_r 78.4); the conventional boundary of an associated pair;
- association constant (Bjerrum; e.g. Marcus & Hefter, Chem. Rev. 106 (2006) 4585):
  K_A = 4 pi N_A int_0^R r^2 exp(-W(r)/kT) dr, with W -> 0 as r -> infinity, in
  L/mol; log10 K_A is that of K_A c deg, standard state c deg = 1 mol/L;
- standard free energy of the pair: dG = -RT ln(K_A c deg).

W(r) is given on histogram bins (edges r_0 < r_1 < ...), constant inside each bin (as a
histogram estimator gives it); the integral over a bin is then exact:
int r^2 exp(-W/kT) dr = exp(-W_b/kT) (r_hi^3 - r_lo^3) / 3.
"""

from __future__ import annotations

import math

import numpy as np

from solvation.constants import (
    AVOGADRO_PER_MOL,
    ELEMENTARY_CHARGE_C,
    GAS_CONSTANT_KJ_PER_MOL_K,
    VACUUM_PERMITTIVITY_F_PER_M,
)

NM3_TO_L = 1e-24  # 1 nm^3 = 1e-27 m^3 = 1e-24 L
STANDARD_CONCENTRATION_MOL_PER_L = 1.0


def coulomb_kj_mol_nm(eps_r: float) -> float:
    """e^2 N_A / (4 pi eps0 eps_r) in kJ/mol nm: U(r) = this x q1 q2 / r.

    Parameters
    ----------
    eps_r : float
        Relative permittivity of the medium.
    """
    joule_m = ELEMENTARY_CHARGE_C**2 / (4.0 * math.pi * VACUUM_PERMITTIVITY_F_PER_M * eps_r)
    return joule_m * AVOGADRO_PER_MOL / 1000.0 * 1e9


def coulomb_tail_kj_per_mol(r_nm, q1: float, q2: float, eps_r: float) -> np.ndarray:
    """Screened Coulomb energy q1 q2 e^2 / (4 pi eps0 eps_r r) (kJ/mol).

    Parameters
    ----------
    r_nm : array_like
        Distances (nm).
    q1, q2 : float
        Net charges (e).
    eps_r : float
        Relative permittivity.
    """
    return coulomb_kj_mol_nm(eps_r) * q1 * q2 / np.asarray(r_nm, dtype=float)


def bjerrum_distance_nm(q1: float, q2: float, eps_r: float, temperature_k: float) -> float | None:
    """Bjerrum distance |q1 q2| e^2 / (8 pi eps0 eps_r kT) (nm) of opposite charges; None
    for charges of the same sign or a neutral partner (no Bjerrum boundary).

    Parameters
    ----------
    q1, q2 : float
        Net charges (e).
    eps_r : float
        Relative permittivity.
    temperature_k : float
        Temperature (K).
    """
    if q1 * q2 >= 0:
        return None
    kt = GAS_CONSTANT_KJ_PER_MOL_K * temperature_k
    return coulomb_kj_mol_nm(eps_r) * abs(q1 * q2) / (2.0 * kt)


def _bin_volumes(edges_nm: np.ndarray, upper_nm: float) -> np.ndarray:
    """(r_hi^3 - r_lo^3) / 3 of each bin (nm^3), the bins cut at ``upper_nm``."""
    lo = np.minimum(edges_nm[:-1], upper_nm)
    hi = np.minimum(edges_nm[1:], upper_nm)
    return (hi**3 - lo**3) / 3.0


def association_constant_l_per_mol(
    edges_nm, w_kj_per_mol, temperature_k: float, boundary_nm: float, lower_nm: float = 0.0
) -> float:
    """4 pi N_A int r^2 exp(-W/kT) dr from ``lower_nm`` to ``boundary_nm`` (L/mol), W
    constant within each bin; bins outside the range count with the part inside it, bins
    whose W is not finite (never visited) count as W = +infinity.

    Parameters
    ----------
    edges_nm : array_like
        Bin edges (nm), increasing; len(W) + 1 of them.
    w_kj_per_mol : array_like
        W per bin (kJ/mol), zero at infinite separation.
    temperature_k : float
        Temperature (K).
    boundary_nm : float
        Upper limit R of the integral (nm).
    lower_nm : float
        Lower limit (nm).
    """
    edges = np.asarray(edges_nm, dtype=float)
    w = np.asarray(w_kj_per_mol, dtype=float)
    kt = GAS_CONSTANT_KJ_PER_MOL_K * temperature_k
    volume = _bin_volumes(edges, boundary_nm) - _bin_volumes(edges, lower_nm)
    weight = np.where(np.isfinite(w), np.exp(-np.where(np.isfinite(w), w, 0.0) / kt), 0.0)
    return float(4.0 * math.pi * AVOGADRO_PER_MOL * np.sum(volume * weight) * NM3_TO_L)


def standard_free_energy_kj_per_mol(k_l_per_mol: float, temperature_k: float) -> float:
    """-RT ln(K c deg) (kJ/mol), c deg = 1 mol/L; +inf for K = 0.

    Parameters
    ----------
    k_l_per_mol : float
        Association constant (L/mol).
    temperature_k : float
        Temperature (K).
    """
    kc = k_l_per_mol * STANDARD_CONCENTRATION_MOL_PER_L
    if kc <= 0:
        return math.inf
    return -GAS_CONSTANT_KJ_PER_MOL_K * temperature_k * math.log(kc)
