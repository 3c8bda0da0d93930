"""Laliberte's viscosity and density models of aqueous electrolytes: the experimental
reference for the viscosity and density rows of ``solvation validate`` (and the fit of the
scaled family's Zn2+, tools/fit_scaled_zn.py).

For a solution of solute mass fraction w_i (water w_w = 1 - w_i) at t (degrees C),

    ln eta_m = w_w ln eta_w + w_i ln eta_i,
    eta_i = exp((v1 (1 - w_w)^v2 + v3) / (v4 t + 1)) / (v5 (1 - w_w)^v6 + 1),
    eta_w = (t + 246) / ((0.05594 t + 5.2842) t + 137.37),

all in mPa s (Laliberte, J. Chem. Eng. Data 52 (2007) 321; coefficients updated in 54
(2009) 1725). The model fits its data sets with a standard deviation of 3.7%, which the
shipped references take as their uncertainty. Density (Laliberte & Cooper, J. Chem. Eng.
Data 49 (2004) 1141; coefficients of 2009):

    1 / rho_m = w_w / rho_w + w_i / rho_app,i,
    rho_app,i = (c0 (1 - w_w) + c1) exp(1e-6 (t + c4)^2) / ((1 - w_w) + c2 + c3 t),

with rho_w from the same paper's water equation (kg/m^3). Coefficients as in
CalebBell/thermo thermo/Electrolytes/Laliberte2009.tsv [R].
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class ViscosityCoefficients:
    """v1..v6 of one solute and its molar mass.

    Attributes
    ----------
    v1, v2, v3, v5, v6 : float
        Fit parameters (dimensionless).
    v4 : float
        Fit parameter (1/degC).
    molar_mass_g_per_mol : float
    citation : str
    """

    v1: float
    v2: float
    v3: float
    v4: float
    v5: float
    v6: float
    molar_mass_g_per_mol: float
    citation: str


ZNSO4 = ViscosityCoefficients(
    13.5925262742582,
    1.35400381043399,
    10.5559124347897,
    0.00360342454740079,
    613.22295280165,
    0.195826073391803,
    161.44,
    "Laliberte, J. Chem. Eng. Data 54 (2009) 1725, ZnSO4 (46 points, 15-55 C, w <= 0.318), "
    "as in CalebBell/thermo thermo/Electrolytes/Laliberte2009.tsv",
)
MODEL_RELATIVE_SD = 0.037  # the model's overall standard deviation (Laliberte 2007)
DENSITY = {  # c0..c4 and molar mass (g/mol), Laliberte 2009 as in thermo's Laliberte2009.tsv
    "ZnSO4": (
        (
            19.3998326251204,
            36.9810552705442,
            -0.088765784769985,
            0.0010689313754713,
            2058.60217737214,
        ),
        161.44,
    ),
    "MgSO4": (
        (
            98.1201663080777,
            59.265764731786,
            -0.0303404982114453,
            0.000503619228557116,
            1763.7594229147,
        ),
        120.38,
    ),
}


def water_density_kg_per_m3(t_c: float) -> float:
    """Density of pure water (kg/m^3) at ``t_c`` degrees C, Laliberte & Cooper's equation.

    Parameters
    ----------
    t_c : float
        Temperature (degrees C).
    """
    poly = (
        (((-2.8054253e-10 * t_c + 1.0556302e-7) * t_c - 4.6170461e-5) * t_c - 0.0079870401) * t_c
        + 16.945176
    ) * t_c
    return (poly + 999.83952) / (1.0 + 0.01687985 * t_c)


def density_g_per_cm3(salt: str, molality: float, t_c: float = 25.0) -> float:
    """Density (g/cm^3) of the aqueous ``salt`` (a key of ``DENSITY``) at ``molality``.

    Parameters
    ----------
    salt : str
        'ZnSO4' or 'MgSO4'.
    molality : float
        mol salt per kg water.
    t_c : float
        Temperature (degrees C).
    """
    c, molar_mass = DENSITY[salt]
    solute_g = molality * molar_mass
    w_i = solute_g / (1000.0 + solute_g)
    apparent = (c[0] * w_i + c[1]) * math.exp(1e-6 * (t_c + c[4]) ** 2) / (w_i + c[2] + c[3] * t_c)
    return 1e-3 / ((1.0 - w_i) / water_density_kg_per_m3(t_c) + w_i / apparent)


def water_viscosity_mPa_s(t_c: float) -> float:
    """Viscosity of pure water (mPa s) at ``t_c`` degrees C, Laliberte's equation.

    Parameters
    ----------
    t_c : float
        Temperature (degrees C).
    """
    return (t_c + 246.0) / ((0.05594 * t_c + 5.2842) * t_c + 137.37)


def solute_viscosity_mPa_s(c: ViscosityCoefficients, w_water: float, t_c: float) -> float:
    """Partial viscosity eta_i of the solute (mPa s).

    Parameters
    ----------
    c : ViscosityCoefficients
    w_water : float
        Mass fraction of water.
    t_c : float
        Temperature (degrees C).
    """
    w = 1.0 - w_water
    return math.exp((c.v1 * w**c.v2 + c.v3) / (c.v4 * t_c + 1.0)) / (c.v5 * w**c.v6 + 1.0)


def viscosity_mPa_s(c: ViscosityCoefficients, molality: float, t_c: float = 25.0) -> float:
    """Viscosity of the solution (mPa s) at ``molality`` (mol/kg water).

    Parameters
    ----------
    c : ViscosityCoefficients
    molality : float
        mol solute per kg water.
    t_c : float
        Temperature (degrees C).
    """
    solute_g = molality * c.molar_mass_g_per_mol
    w_i = solute_g / (1000.0 + solute_g)
    w_w = 1.0 - w_i
    log_eta = w_w * math.log(water_viscosity_mPa_s(t_c))
    return math.exp(log_eta + w_i * math.log(solute_viscosity_mPa_s(c, w_w, t_c)))


def relative_viscosity(c: ViscosityCoefficients, molality: float, t_c: float = 25.0) -> float:
    """eta(solution) / eta(water) at ``molality`` (mol/kg) and ``t_c`` (degrees C).

    Parameters
    ----------
    c : ViscosityCoefficients
    molality : float
        mol solute per kg water.
    t_c : float
        Temperature (degrees C).
    """
    return viscosity_mPa_s(c, molality, t_c) / water_viscosity_mPa_s(t_c)
