"""Planar profiles along the surface normal (z) of a slab system.

Distances are measured from a surface plane z0 (the top face recorded in build.json, or
given) into the electrolyte, through the periodic image: d = (z - z0) mod Lz. Profiles
per species: number density (nm^-3), mass density (g/cm^3); the total charge density
(e/nm^3) and the electrostatic potential from Poisson's equation,

    phi(d) = -(1 / eps0) int_0^d int_0^d' rho(d'') dd'' dd',  phi(0) = 0, E(0) = 0,

in volts; water orientation (mean cos of the angle between the water dipole and +z, and
the distributions of cos theta of the dipole and of the O-H bonds per distance bin); and
the coordination number of a centre species as a function of its distance from the
surface. Contact-layer statistics are in ``contact``; the electrode's surface charge and
capacitance come from ``electrode_summary``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.integrate import cumulative_trapezoid

from solvation.constants import (
    AVOGADRO_PER_MOL,
    ELEMENTARY_CHARGE_C,
    VACUUM_PERMITTIVITY_F_PER_M,
)

from .base import Analysis
from .results import ResultMixin
from .universe import InputError, select

COS_BINS = 20


def poisson_potential(z_nm: np.ndarray, rho_e_per_nm3: np.ndarray) -> np.ndarray:
    """Potential (V) from a charge density profile (e/nm^3) on a uniform grid (nm), by
    double cumulative trapezoidal integration with phi(0) = 0 and E(0) = 0.

    Parameters
    ----------
    z_nm : numpy.ndarray
        Uniform grid (nm).
    rho_e_per_nm3 : numpy.ndarray
        Charge density (e/nm^3) on the grid.

    Returns
    -------
    numpy.ndarray
        Potential (V) on the grid.
    """
    rho = rho_e_per_nm3 * ELEMENTARY_CHARGE_C / 1e-27  # C/m^3
    z = z_nm * 1e-9
    field = cumulative_trapezoid(rho, z, initial=0.0) / VACUUM_PERMITTIVITY_F_PER_M
    return -cumulative_trapezoid(field, z, initial=0.0)


@dataclass(frozen=True)
class InterfaceResult(ResultMixin):
    """Profiles along the surface normal from the plane ``z0`` (see the module docstring).

    Attributes
    ----------
    z0_angstrom : float
        The surface plane (A).
    distance_angstrom : numpy.ndarray
        Bin centres: distance from the plane (A).
    number_density_per_nm3 : dict of str to numpy.ndarray
        Number density of each species (nm^-3).
    mass_density_g_per_cm3 : dict of str to numpy.ndarray
        Mass density of each species (g/cm^3).
    charge_density_e_per_nm3 : numpy.ndarray
        Total charge density (e/nm^3).
    potential_V : numpy.ndarray
        Electrostatic potential (V), phi(0) = 0.
    water_cos_theta : numpy.ndarray
        Mean cos of the angle between the water dipole and +z.
    coordination_vs_distance : dict of str to numpy.ndarray
        Coordination number of the centre by each shell, against the centre's distance.
    n_frames : int
        Frames analysed.
    water_o_density_per_nm3 : numpy.ndarray or None
        Water-oxygen number density (nm^-3).
    water_dipole_cos_distribution, water_oh_cos_distribution : numpy.ndarray or None
        Distributions of cos theta of the dipole and of the O-H bonds per distance bin.
    """

    z0_angstrom: float
    distance_angstrom: np.ndarray
    number_density_per_nm3: dict[str, np.ndarray]
    mass_density_g_per_cm3: dict[str, np.ndarray]
    charge_density_e_per_nm3: np.ndarray
    potential_V: np.ndarray
    water_cos_theta: np.ndarray
    coordination_vs_distance: dict[str, np.ndarray]
    n_frames: int
    water_o_density_per_nm3: np.ndarray | None = None
    # P(cos theta | distance bin) of the water dipole and of the O-H bonds with +z, on
    # COS_BINS uniform bins in [-1, 1] (rows: distance bins, each row sums to 1 or is 0)
    water_dipole_cos_distribution: np.ndarray | None = None
    water_oh_cos_distribution: np.ndarray | None = None

    def to_frame(self) -> pd.DataFrame:
        """Profiles as a table, one row per distance bin (units in the column names)."""
        cols = {
            "distance_angstrom": self.distance_angstrom,
            "charge_density_e_per_nm3": self.charge_density_e_per_nm3,
            "potential_V": self.potential_V,
            "water_cos_theta": self.water_cos_theta,
        }
        if self.water_o_density_per_nm3 is not None:
            cols["water_o_per_nm3"] = self.water_o_density_per_nm3
        for k, v in self.number_density_per_nm3.items():
            cols[f"n_{k}_per_nm3"] = v
        for k, v in self.coordination_vs_distance.items():
            cols[f"cn_{k}"] = v
        return pd.DataFrame(cols)


def _sheet_density(centres: np.ndarray, width: float, sheets: dict) -> np.ndarray:
    """Charge density (e/nm^3) of sheets {distance A: sigma e/nm^2}, each in its bin."""
    rho = np.zeros_like(centres)
    for d, sigma in sheets.items():
        rho[min(int(d / width), len(rho) - 1)] += sigma / (width / 10.0)
    return rho


def _cos_histogram(bins: np.ndarray, cos: np.ndarray, n_bins: int) -> np.ndarray:
    """Counts of cos theta (COS_BINS bins over [-1, 1]) per distance bin."""
    k = np.clip(((cos + 1.0) / 2.0 * COS_BINS).astype(int), 0, COS_BINS - 1)
    flat = np.bincount(bins * COS_BINS + k, minlength=n_bins * COS_BINS)
    return flat.reshape(n_bins, COS_BINS)


def _normalise_rows(hist: np.ndarray) -> np.ndarray:
    total = hist.sum(axis=1, keepdims=True)
    return np.divide(hist, total, out=np.zeros_like(hist), where=total > 0)


class InterfaceProfiles(Analysis):
    """Profiles along z from the plane ``z0`` (A); see the module docstring.

    species: name -> selection; charges: per-atom charges (e) for the charge density and
    potential (None: skip); center/shells/cutoffs: coordination of ``center`` atoms by
    each shell (distinct molecules within the cutoff) binned by the centre's distance.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    species : dict of str to str
        Selection of each species, by name.
    z0 : float
        The surface plane (A).
    bin_width : float
        Bin width (A).
    charges : numpy.ndarray, optional
        Per-atom charges (e) for the charge density and potential (None: skip).
    sheets : dict of float to float, optional
        Charged sheets the trajectory does not hold (electrode faces): distance (A) ->
        surface charge density (e/nm^2).
    external_field : float, optional
        Applied field (V/nm) added to the potential.
    water : str or None
        Selection of the water for orientation (None: skip).
    center : str, optional
        Selection of the centres whose coordination is profiled.
    shells : dict of str to str, optional
        Selection of each shell species.
    cutoffs : dict of str to float, optional
        First-shell cutoff of each shell (A).
    **kwargs
        Passed to ``Analysis`` (e.g. ``verbose``).
    """

    result_name = "interface"

    def __init__(
        self,
        universe,
        species: dict[str, str],
        z0: float,
        bin_width: float = 0.2,
        charges: np.ndarray | None = None,
        sheets: dict[float, float] | None = None,
        external_field: float | None = None,
        water: str | None = "resname HOH",
        center: str | None = None,
        shells: dict[str, str] | None = None,
        cutoffs: dict[str, float] | None = None,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        self.universe, self.z0, self.width = universe, float(z0), float(bin_width)
        self.groups = {k: select(universe, v, f"species {k!r}") for k, v in species.items()}
        self.charges = None if charges is None else np.asarray(charges, float)
        self.sheets, self.external_field = dict(sheets or {}), external_field
        if self.charges is not None and len(self.charges) != universe.atoms.n_atoms:
            raise InputError("charges must give one value per atom")
        self.water = select(universe, water, "water") if water else None
        self.center = select(universe, center, "centre") if center else None
        self.shells = {k: select(universe, v, f"shell {k!r}") for k, v in (shells or {}).items()}
        self.cutoffs = dict(cutoffs or {})
        if self.center is not None and set(self.shells) - set(self.cutoffs):
            raise InputError("give a cutoff for every shell")

    def _prepare(self):
        lz = float(self.universe.trajectory.ts.dimensions[2])
        self.edges = np.arange(0.0, lz + self.width, self.width)
        nb = len(self.edges) - 1
        self._counts = {k: np.zeros(nb) for k in self.groups}
        self._mass = {k: np.zeros(nb) for k in self.groups}
        self._charge = np.zeros(nb)
        self._cos_sum, self._cos_n = np.zeros(nb), np.zeros(nb)
        self._dipole_hist, self._oh_hist = np.zeros((nb, COS_BINS)), np.zeros((nb, COS_BINS))
        self._cn_sum = {k: np.zeros(nb) for k in self.shells}
        self._cn_n = np.zeros(nb)
        self._volume = np.zeros(nb)
        if self.water is not None:
            res = self.water.resindices
            self._w_res = np.unique(res, return_inverse=True)[1]
            self._w_o = np.array([n.upper().startswith("O") for n in self.water.names])

    def _distance(self, z: np.ndarray, lz: float) -> np.ndarray:
        return np.mod(z - self.z0, lz)

    def _bin(self, d: np.ndarray) -> np.ndarray:
        idx = (d / self.width).astype(int)
        return np.clip(idx, 0, len(self.edges) - 2)

    def _single_frame(self):
        ts = self._ts
        lz = float(ts.dimensions[2])
        area = ts.volume / lz  # A^2 (the lateral cell area, triclinic included)
        self._volume += area * self.width
        pos = ts.positions
        for name, group in self.groups.items():
            b = self._bin(self._distance(pos[group.indices, 2], lz))
            self._counts[name] += np.bincount(b, minlength=len(self._counts[name]))
            self._mass[name] += np.bincount(
                b, weights=group.masses, minlength=len(self._mass[name])
            )
        if self.charges is not None:
            b = self._bin(self._distance(pos[:, 2], lz))
            self._charge += np.bincount(b, weights=self.charges, minlength=len(self._charge))
        if self.water is not None:
            self._orientation(pos, lz)
        if self.center is not None:
            self._coordination(pos, lz)

    def _orientation(self, pos, lz) -> None:
        """cos(theta) of each water dipole (O -> midpoint of the Hs) with +z."""
        wpos = pos[self.water.indices]
        o = wpos[self._w_o]
        hsum = np.zeros_like(o)
        np.add.at(hsum, self._w_res[~self._w_o], wpos[~self._w_o])
        dipole = hsum / 2.0 - o
        cos = dipole[:, 2] / np.linalg.norm(dipole, axis=1)
        b = self._bin(self._distance(o[:, 2], lz))
        self._cos_sum += np.bincount(b, weights=cos, minlength=len(self._cos_sum))
        self._cos_n += np.bincount(b, minlength=len(self._cos_n))
        self._dipole_hist += _cos_histogram(b, cos, len(self._cos_n))
        oh = wpos[~self._w_o] - o[self._w_res[~self._w_o]]
        oh_cos = oh[:, 2] / np.linalg.norm(oh, axis=1)
        self._oh_hist += _cos_histogram(b[self._w_res[~self._w_o]], oh_cos, len(self._cos_n))

    def _neighbour_requests(self) -> list[tuple]:
        """Centre-shell pairs within each shell's cutoff (A), per frame."""
        if self.center is None:
            return []
        return [(self.center.indices, g.indices, self.cutoffs[k]) for k, g in self.shells.items()]

    def _coordination(self, pos, lz) -> None:
        b = self._bin(self._distance(pos[self.center.indices, 2], lz))
        self._cn_n += np.bincount(b, minlength=len(self._cn_n))
        query = self.neighbours()
        for name, shell in self.shells.items():
            ci, sj, _ = query.pairs(self.center.indices, shell.indices, self.cutoffs[name])
            pairs = np.column_stack([ci, sj])
            own = self.center.resindices[pairs[:, 0]] == shell.resindices[pairs[:, 1]]
            pairs = pairs[~own]  # a centre's own molecule is not in its shell
            keys = np.unique(
                pairs[:, 0] * (self.universe.atoms.n_atoms + 1) + shell.resindices[pairs[:, 1]]
            )
            per_centre = np.bincount(
                keys // (self.universe.atoms.n_atoms + 1), minlength=self.center.n_atoms
            )
            self._cn_sum[name] += np.bincount(b, weights=per_centre, minlength=len(self._cn_n))

    def _potential(self, centres: np.ndarray, charge: np.ndarray) -> np.ndarray:
        """Poisson potential (V) of the fixed charges plus the ``sheets`` (electrode face
        charges, which the trajectory does not hold). With an ``external_field`` (V/nm,
        finite-field electrode runs) the potential is the periodic (tin-foil) solution,
        phi(L_z) = phi(0), minus E d: then the metal is an equipotential and the
        electrolyte side of the bottom face lies -dV below the top face."""
        rho = charge + _sheet_density(centres, self.width, self.sheets)
        phi = poisson_potential(centres / 10.0, rho)
        if self.external_field is None:
            return phi
        length = self.edges[-1] / 10.0  # nm
        slope = poisson_potential(np.r_[centres, self.edges[-1]] / 10.0, np.r_[rho, rho[0]])[-1]
        return phi - (slope / length + self.external_field) * centres / 10.0

    def _conclude(self):
        vol_nm3 = self._volume / 1000.0  # summed over frames
        centres = 0.5 * (self.edges[1:] + self.edges[:-1])
        number = {k: v / vol_nm3 for k, v in self._counts.items()}
        mass = {k: v / AVOGADRO_PER_MOL / (self._volume * 1e-24) for k, v in self._mass.items()}
        charge = self._charge / vol_nm3
        potential = (
            self._potential(centres, charge)
            if self.charges is not None
            else np.full_like(centres, np.nan)
        )
        with np.errstate(invalid="ignore", divide="ignore"):
            cos = self._cos_sum / self._cos_n
            cn = {k: v / self._cn_n for k, v in self._cn_sum.items()}
        water = self.water is not None
        self.results.interface = InterfaceResult(
            self.z0,
            centres,
            number,
            mass,
            charge,
            potential,
            cos,
            cn,
            self.n_frames,
            self._cos_n / vol_nm3 if water else None,
            _normalise_rows(self._dipole_hist) if water else None,
            _normalise_rows(self._oh_hist) if water else None,
        )
