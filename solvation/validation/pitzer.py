"""Pitzer osmotic coefficients and water activities: the experimental reference for the
osmotic-coefficient row of ``solvation validate``.

For a salt M_{nu+} X_{nu-} at molality m (mol/kg),

    phi - 1 = |z+ z-| f^phi + m (2 nu+ nu- / nu) B^phi + m^2 (2 (nu+ nu-)^{3/2} / nu) C^phi,
    f^phi = -A_phi sqrt(I) / (1 + b sqrt(I)),   b = 1.2 kg^1/2 mol^-1/2,
    B^phi = beta0 + beta1 exp(-alpha1 sqrt(I)) + beta2 exp(-alpha2 sqrt(I)),

with ionic strength I = (nu+ z+^2 + nu- z-^2) m / 2 and nu = nu+ + nu-. The water
activity follows from ln a_w = -nu m M_w phi. Equations: Pitzer & Mayorga, J. Phys. Chem.
77 (1973) 2300 and, for 2:2 salts with the beta2 term and alpha1 = 1.4, alpha2 = 12,
Pitzer & Mayorga, J. Solution Chem. 3 (1974) 539. A_phi = 0.3915 at 298.15 K.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from solvation.constants import WATER_MOLAR_MASS_KG_PER_MOL

A_PHI_298K = 0.3915  # kg^1/2 mol^-1/2, water at 298.15 K
B_PITZER = 1.2  # kg^1/2 mol^-1/2


@dataclass(frozen=True)
class PitzerSalt:
    """Pitzer parameters of one salt (kg/mol units; alphas in kg^1/2 mol^-1/2).

    Attributes
    ----------
    z_cation, z_anion : int
        Ion charges (e).
    nu_cation, nu_anion : int
        Ions per formula unit.
    beta0, beta1, beta2 : float
        Pitzer parameters (kg/mol).
    c_phi : float
        C^phi (kg^2/mol^2).
    alpha1, alpha2 : float
        (kg^1/2 mol^-1/2).
    citation : str
    """

    z_cation: int
    z_anion: int
    nu_cation: int
    nu_anion: int
    beta0: float
    beta1: float
    beta2: float
    c_phi: float
    alpha1: float = 2.0
    alpha2: float = 12.0
    citation: str = ""

    @property
    def nu(self) -> int:
        """Ions per formula unit."""
        return self.nu_cation + self.nu_anion


ZNSO4 = PitzerSalt(
    2,
    -2,
    1,
    1,
    beta0=0.1949,
    beta1=2.883,
    beta2=-32.81,
    c_phi=0.0290,
    alpha1=1.4,
    alpha2=12.0,
    citation="Pitzer & Mayorga, J. Solution Chem. 3 (1974) 539 (ZnSO4, 298.15 K) [R]",
)


def osmotic_coefficient(salt: PitzerSalt, molality: float, a_phi: float = A_PHI_298K) -> float:
    """Osmotic coefficient phi of ``salt`` at ``molality`` (mol/kg) from Pitzer's equations.

    Parameters
    ----------
    salt : PitzerSalt
    molality : float
        Salt molality (mol/kg).
    a_phi : float
        Debye-Hueckel A^phi (kg^1/2 mol^-1/2).
    """
    m = float(molality)
    ionic = 0.5 * (salt.nu_cation * salt.z_cation**2 + salt.nu_anion * salt.z_anion**2) * m
    root = math.sqrt(ionic)
    f_phi = -a_phi * root / (1.0 + B_PITZER * root)
    b_phi = (
        salt.beta0
        + salt.beta1 * math.exp(-salt.alpha1 * root)
        + salt.beta2 * math.exp(-salt.alpha2 * root)
    )
    nn = salt.nu_cation * salt.nu_anion
    return (
        1.0
        + abs(salt.z_cation * salt.z_anion) * f_phi
        + m * (2.0 * nn / salt.nu) * b_phi
        + m**2 * (2.0 * nn**1.5 / salt.nu) * salt.c_phi
    )


def water_activity(salt: PitzerSalt, molality: float, a_phi: float = A_PHI_298K) -> float:
    """Water activity a_w = exp(-nu m M_w phi) of the solution.

    Parameters
    ----------
    salt : PitzerSalt
    molality : float
        Salt molality (mol/kg).
    a_phi : float
        Debye-Hueckel A^phi (kg^1/2 mol^-1/2).
    """
    phi = osmotic_coefficient(salt, molality, a_phi)
    return math.exp(-salt.nu * molality * WATER_MOLAR_MASS_KG_PER_MOL * phi)
