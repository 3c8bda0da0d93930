"""Laliberte's viscosity model of aqueous electrolytes: the experimental reference for the
viscosity rows of ``solvation validate``.

For a solution of solute mass fraction w_i (water w_w = 1 - w_i) at t (degrees C),

    ln eta_m = w_w ln eta_w + w_i ln eta_i,
    eta_i = exp((v1 (1 - w_w)^v2 + v3) / (v4 t + 1)) / (v5 (1 - w_w)^v6 + 1),
    eta_w = (t + 246) / ((0.05594 t + 5.2842) t + 137.37),

all in mPa s (Laliberte, J. Chem. Eng. Data 52 (2007) 321; coefficients updated in 54
(2009) 1725). The model fits its data sets with a standard deviation of 3.7%, which the
shipped references take as their uncertainty.
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
