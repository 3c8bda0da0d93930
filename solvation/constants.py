"""Physical constants used across the package, from CODATA 2018 (``scipy.constants``).

Names carry their unit. Every module takes its constants from here.
"""

from __future__ import annotations

from scipy import constants as _c

AVOGADRO_PER_MOL = _c.Avogadro  # 6.02214076e23 1/mol
BOLTZMANN_J_PER_K = _c.Boltzmann  # 1.380649e-23 J/K
ELEMENTARY_CHARGE_C = _c.elementary_charge  # 1.602176634e-19 C
FARADAY_C_PER_MOL = _c.physical_constants["Faraday constant"][0]  # 96485.33212 C/mol
FARADAY_KJ_PER_MOL_V = FARADAY_C_PER_MOL / 1000.0  # kJ/mol per volt per elementary charge
GAS_CONSTANT_KJ_PER_MOL_K = _c.R / 1000.0  # 8.314462618e-3 kJ/(mol K)
VACUUM_PERMITTIVITY_F_PER_M = _c.epsilon_0  # 8.8541878128e-12 F/m
WATER_MOLAR_MASS_KG_PER_MOL = 0.01801528  # H2O, IUPAC atomic weights
WATER_DENSITY_298K_G_PER_CM3 = 0.99705  # liquid water, 298.15 K, 1 bar (CRC Handbook)
ZERO_CELSIUS_K = _c.zero_Celsius  # 273.15 K
