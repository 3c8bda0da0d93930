"""Water activity of an electrolyte from MD, three routes, each with an uncertainty.

1. Osmotic pressure (Luo & Roux, J. Phys. Chem. Lett. 1 (2010) 183). The build option
   ``[osmotic]`` confines every solute molecule between two flat-bottom walls normal to
   z (U = k/2 (z - z_wall)^2 beyond them, on every solute atom) with pure water outside.
   The mean force on the walls over their two faces is the osmotic pressure,
   Pi = <F_lo + F_hi> / (2 A). Then ln a_w = -Pi V_w / (R T) (V_w the molar volume of the
   pure water of the reservoir, measured) and the osmotic coefficient
   phi = -ln a_w / (M_w sum_i m_i), with the molalities m_i of the solute particles
   (ions count separately) measured inside the walls.
2. Kirkwood-Buff integrals. G_ij from g_ij(r) of molecular centres with the finite-volume
   correction of Kruger et al. (J. Phys. Chem. Lett. 4 (2013) 235; Kruger & Vlugt, PRE 97
   (2018) 051301): G_V(R) = 4 pi int_0^2R (g - 1) r^2 w(r / 2R) dr with
   w(x) = 1 - 3x/2 + x^3/2, and G_inf the slope of R G_V(R) against R (R G_V = R G_inf +
   F_inf). The ions are one component "c" (indistinguishable-ion treatment of Kusalik &
   Patey, JCP 86 (1987) 5110; Weerasinghe & Smith, JCP 118 (2003) 3891):
   a_cc = (d ln a_salt / d ln rho_c)_{T,P} = 1 / (1 + rho_c (G_cc - G_cw)), with
   G_cc = sum x_i x_j G_ij and G_cw = sum x_i G_iw over ion fractions x_i.
   Over a concentration series, Gibbs-Duhem (d ln a_w = -nu M_w m d ln a_salt) gives
   ln a_w(m) = -nu M_w int_0^m a_cc (d ln rho_c / d ln m) dm, with rho_c(m) / m fitted
   linearly over the series and the integrand -nu M_w at m = 0. Errors: the frames are
   cut into ``KB_SEGMENTS`` consecutive segments, each segment's g(r) gives its own
   G_ij (the KB integral is linear in g), and the per-segment series is reduced like any
   per-frame series (``solvation.analysis.stats``: transient dropped, statistical
   inefficiency measured, n_eff reported), so segments are never assumed independent.
3. The free-water fraction (water in no cation's first shell) of the H-bond analysis, a
   structural proxy reported as such: it is not an activity and carries ``a_w = None``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.stats import chi2 as _chi2

from solvation.constants import (
    AVOGADRO_PER_MOL,
    GAS_CONSTANT_KJ_PER_MOL_K,
    WATER_MOLAR_MASS_KG_PER_MOL,
)

from .base import Analysis
from .rdf import RDF
from .results import ResultMixin
from .stats import Estimate, estimate
from .universe import InputError, select

KJ_MOL_NM3_TO_BAR = 1e3 / AVOGADRO_PER_MOL / 1e-27 / 1e5  # 16.6054 bar per kJ/mol/nm^3
A3_TO_CM3_PER_MOL = 1e-24 * AVOGADRO_PER_MOL  # 0.602214


@dataclass(frozen=True)
class WaterActivity(ResultMixin):
    """Water activity and osmotic coefficient from one route (``method``), with standard
    errors; ``details`` holds the route's own numbers (pressure, G_ij ...).
    ``molality_mol_per_kg`` is what phi refers to: the molality of all solute particles
    (ions counted separately, sum_i m_i) for the osmotic route, of salt formula units m
    for the KB route (phi = -ln a_w / (nu M_w m), nu in ``details``); the two phi agree.

    Attributes
    ----------
    method : str
        The route ('osmotic', 'kb', 'free-water-proxy').
    a_w, a_w_err : float or None
        Water activity and its standard error.
    osmotic_coefficient, osmotic_coefficient_err : float or None
        phi and its standard error.
    molality_mol_per_kg : float or None
        Molality phi refers to (mol/kg).
    details : dict
        The route's own numbers.
    n_eff, converged, reason
        Effective samples and convergence of the estimate.
    """

    method: str
    a_w: float | None
    a_w_err: float | None
    osmotic_coefficient: float | None
    osmotic_coefficient_err: float | None
    molality_mol_per_kg: float | None
    details: dict = field(default_factory=dict)
    n_eff: float | None = None
    converged: bool | None = None
    reason: str | None = None


# --- route 1: osmotic pressure ---------------------------------------------------------


class OsmoticPressure(Analysis):
    """Mean wall force of an ``[osmotic]`` build -> Pi, a_w, phi (see module docstring).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    walls_nm : tuple of (float, float)
        (z_lo, z_hi) of the flat-bottom walls (nm), as in build.json.
    force_constant : float
        k of the walls (kJ/mol/nm^2).
    confined : str
        Selection of the atoms the walls act on (the solutes).
    water : str
        Selection of water oxygens.
    temperature_k : float
        Temperature (K).
    buffer_nm : float
        Reservoir water closer than this to a wall is left out of V_w (nm).
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "water_activity"

    def __init__(
        self,
        universe,
        walls_nm: tuple[float, float],
        force_constant: float,
        confined: str,
        water: str = "resname HOH and name O",
        temperature_k: float = 298.15,
        buffer_nm: float = 0.5,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        lo, hi = walls_nm
        if not 0 <= lo < hi:
            raise InputError(f"walls must satisfy 0 <= z_lo < z_hi (got {walls_nm} nm)")
        self.universe = universe
        self.walls = np.array([lo, hi]) * 10.0  # A
        self.k = force_constant / 100.0  # kJ/mol/A^2
        self.confined = select(universe, confined, "confined (solute) selection")
        self.water = select(universe, water, "water oxygen selection")
        self.temperature, self.buffer = temperature_k, buffer_nm * 10

    def _prepare(self):
        self._pressure, self._particles, self._inside_water, self._vw = [], [], [], []

    def _single_frame(self):
        ts = self._ts
        lo, hi = self.walls
        lz = ts.dimensions[2]
        if hi >= lz:
            raise InputError(f"wall z_hi {hi / 10:g} nm lies outside the box ({lz / 10:g} nm)")
        z = self.confined.positions[:, 2].astype(np.float64)
        force = self.k * (np.clip(z - hi, 0, None).sum() + np.clip(lo - z, 0, None).sum())
        area = ts.volume / lz  # A^2, any cell shape
        self._pressure.append(force / (2.0 * area) * 1e3 * KJ_MOL_NM3_TO_BAR)  # bar
        centres = self.confined.center_of_geometry(compound="residues")[:, 2]
        self._particles.append(np.count_nonzero((centres > lo) & (centres < hi)))
        zw = self.water.positions[:, 2]
        self._inside_water.append(np.count_nonzero((zw > lo) & (zw < hi)))
        out_lo, out_hi = hi + self.buffer, lz + lo - self.buffer  # reservoir across the PBC
        zr = np.where(zw < lo, zw + lz, zw)
        n_res = np.count_nonzero((zr > out_lo) & (zr < out_hi))
        volume = area * max(out_hi - out_lo, 0.0)
        self._vw.append(volume * 1e-24 * AVOGADRO_PER_MOL / n_res if n_res else np.nan)  # cm3/mol

    def _conclude(self):
        pressure = self._estimate(self._pressure)
        molality = float(
            np.mean(self._particles) / (np.mean(self._inside_water) * WATER_MOLAR_MASS_KG_PER_MOL)
        )
        vw = float(np.nanmean(self._vw))  # cm^3/mol
        rt = GAS_CONSTANT_KJ_PER_MOL_K * self.temperature  # kJ/mol
        # Pi V_w / RT: bar * cm^3/mol = 1e-1 J/mol = 1e-4 kJ/mol
        x = pressure.mean * vw * 1e-4 / rt
        x_err = pressure.err * vw * 1e-4 / rt
        a_w = float(np.exp(-x))
        phi = x / (WATER_MOLAR_MASS_KG_PER_MOL * molality) if molality > 0 else float("nan")
        self.results.water_activity = WaterActivity(
            "osmotic",
            a_w,
            float(a_w * x_err),
            float(phi),
            float(x_err / (WATER_MOLAR_MASS_KG_PER_MOL * molality))
            if molality > 0
            else float("nan"),
            molality,
            {
                "osmotic_pressure_bar": pressure.mean,
                "osmotic_pressure_bar_err": pressure.err,
                "osmotic_pressure": pressure,
                "water_molar_volume_cm3_per_mol": vw,
                "solute_particles_inside": float(np.mean(self._particles)),
                "water_inside": float(np.mean(self._inside_water)),
                "walls_nm": (self.walls / 10).tolist(),
                "force_constant_kj_mol_nm2": self.k * 100,
                "temperature_k": self.temperature,
                "n_frames": self.n_frames,
                "pressure_bar_per_frame": np.asarray(self._pressure),
            },
            pressure.n_eff,
            pressure.converged,
            pressure.reason,
        )


# --- route 2: Kirkwood-Buff -----------------------------------------------------------


def kb_integral(r: np.ndarray, g: np.ndarray) -> float:
    """Kirkwood-Buff integral G_inf (A^3) of g(r) on uniform bin centres ``r`` (A): the
    finite-volume integrals G_V(R) for R from a quarter to a half of the largest r,
    extrapolated linearly in R G_V(R) against R (Kruger & Vlugt).

    Parameters
    ----------
    r : numpy.ndarray
        Uniform bin centres (A).
    g : numpy.ndarray
        g(r).
    """
    r, g = np.asarray(r, float), np.asarray(g, float)
    dr = r[1] - r[0]
    radii = np.linspace(r[-1] / 4.0, r[-1] / 2.0, 12)
    g_v = []
    for big_r in radii:
        x = r / (2.0 * big_r)
        w = np.where(x < 1.0, 1.0 - 1.5 * x + 0.5 * x**3, 0.0)
        g_v.append(4.0 * np.pi * np.sum((g - 1.0) * r**2 * w) * dr)
    slope, _ = np.polyfit(radii, radii * np.asarray(g_v), 1)
    return float(slope)


def centre_atoms(universe, resname: str) -> str:
    """Selection of one centre atom per molecule of ``resname``: its heaviest atom.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    resname : str
        Residue name of the species.
    """
    group = select(universe, f"resname {resname}", f"species {resname}")
    first = group.residues[0].atoms
    name = first.names[int(np.argmax(first.masses))]
    return f"resname {resname} and name {name}"


@dataclass(frozen=True)
class KBPoint(ResultMixin):
    """KB integrals (cm^3/mol) and a_cc of one composition, and what Gibbs-Duhem needs.

    Attributes
    ----------
    G_cm3_per_mol : dict of str to Estimate
        Kirkwood-Buff integrals G_ij by pair (cm^3/mol).
    a_cc : Estimate
        Salt-salt stability a_cc.
    molality_mol_per_kg : float
        Salt formula units per kg water (mol/kg).
    nu : int
        Ions per formula unit.
    ion_density_per_nm3 : float
        rho_c, all ions (nm^-3).
    """

    G_cm3_per_mol: dict[str, Estimate]
    a_cc: Estimate
    molality_mol_per_kg: float  # salt formula units per kg water
    nu: int  # ions per formula unit
    ion_density_per_nm3: float  # rho_c, all ions


KB_SEGMENTS = 40  # consecutive frame segments whose KB integrals form the error series


def _segment_integrals(universe, pairs, frames, rmax, nbins, step, verbose, segments):
    """KB integrals per segment ({pair: G (A^3)}), and each segment's frame count and
    summed volume (A^3)."""
    out, n_frames, volumes = [], [], []
    for block in np.array_split(frames, min(segments, len(frames))):
        res = (
            RDF(universe, pairs, rmax=rmax, nbins=nbins)
            .run(block[0], block[-1] + 1, step, verbose=verbose)
            .results.rdf
        )
        out.append({n: kb_integral(res.r_angstrom, p.g_r) for n, p in res.pairs.items()})
        n_frames.append(res.n_frames)
        volumes.append(res.mean_volume_angstrom3 * res.n_frames)
    return out, np.asarray(n_frames), np.asarray(volumes)


def kirkwood_buff(
    universe,
    ions: dict[str, str],
    water: str,
    nu: int | None = None,
    rmax: float | None = None,
    nbins: int = 300,
    segments: int = KB_SEGMENTS,
    **run_kwargs,
) -> KBPoint:
    """G_ij between the ion species (one centre atom per ion, e.g. Zn and the S of
    sulfate) and water (its O), and a_cc, with standard errors from ``segments``
    consecutive frame segments (module docstring). ``nu`` ions per formula unit (default:
    all ions of one formula unit by smallest integer ratio of the counts). ``rmax`` (A)
    defaults to just under half the box.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    ions : dict of str to str
        Selection of one centre atom per ion, by species.
    water : str
        Selection of the water centres (O).
    nu : int, optional
        Ions per formula unit.
    rmax : float, optional
        Largest g(r) distance (A).
    nbins : int
        g(r) bins.
    segments : int
        Consecutive frame segments for the errors.
    **run_kwargs
        Frame range (start, stop, step) and ``verbose``.
    """
    groups = {name: select(universe, sel, f"ion {name!r}") for name, sel in ions.items()}
    water_group = select(universe, water, "water centre selection")
    counts = {name: g.n_atoms for name, g in groups.items()}
    dims = universe.trajectory.ts.dimensions
    rmax = rmax or float(np.floor(0.5 * np.min(dims[:3]) * 0.99))
    species = {**ions, "water": water}
    names = list(species)
    pairs = {
        f"{a}-{b}": (species[a], species[b])
        for i, a in enumerate(names)
        for b in names[i:]
        if not (a == "water" and b == "water")
    }
    start, stop, step = run_kwargs.get("start"), run_kwargs.get("stop"), run_kwargs.get("step")
    frames = np.arange(universe.trajectory.n_frames)[slice(start, stop, step)]
    if len(frames) < 2:
        raise InputError(f"the KB route needs at least 2 frames (got {len(frames)})")
    per_segment, n_frames, volumes = _segment_integrals(
        universe, pairs, frames, rmax, nbins, step, run_kwargs.get("verbose", False), segments
    )
    n_ions = sum(counts.values())
    x = {n: c / n_ions for n, c in counts.items()}
    # L = G_cc - G_cw is linear in the G_ij: a per-segment series of its own
    diff = estimate(
        [
            sum(x[a] * x[b] * _pair(G, a, b) for a in counts for b in counts)
            - sum(x[a] * _pair(G, a, "water") for a in counts)
            for G in per_segment
        ]
    )
    t0 = diff.n_equilibration  # the same segments for every G_ij
    rho_c = n_ions / (volumes[t0:].sum() / n_frames[t0:].sum())  # per A^3, mean volume
    a_cc = 1.0 / (1.0 + rho_c * diff.mean)
    a_cc_est = Estimate(
        float(a_cc),
        float(rho_c * diff.err * a_cc**2),
        diff.n_eff,
        diff.g,
        diff.n_samples,
        diff.n_equilibration,
        diff.converged,
        diff.reason,
    )
    G = {
        n: estimate([b[n] for b in per_segment], equilibration=t0).scaled(A3_TO_CM3_PER_MOL)
        for n in pairs
    }
    nu = nu or _formula_ions(list(counts.values()))
    n_water = water_group.n_atoms
    molality = n_ions / nu / (n_water * WATER_MOLAR_MASS_KG_PER_MOL)
    return KBPoint(G, a_cc_est, float(molality), int(nu), float(rho_c * 1e3))


def _pair(G: dict, a: str, b: str) -> float:
    return G[f"{a}-{b}"] if f"{a}-{b}" in G else G[f"{b}-{a}"]


def _formula_ions(counts: list[int]) -> int:
    """Ions per formula unit: the counts divided by their greatest common divisor."""
    gcd = int(np.gcd.reduce(np.asarray(counts, dtype=np.int64)))
    return int(sum(counts) // gcd)


SERIES_AGREEMENT_P = 1e-3  # chi-squared p-value below which a_cc points disagree


def series_scatter(m: np.ndarray, a_cc: np.ndarray, err: np.ndarray) -> str | None:
    """Why a series of a_cc(m) scatters beyond its errors, or None: chi-squared of a
    polynomial in m of degree min(n - 2, 2) weighted by the errors, p below
    ``SERIES_AGREEMENT_P``. a_cc varies smoothly with m; points that a smooth curve
    cannot join within their errors (e.g. 0.61 at 1.94 m and 1.13 at 2.00 m, 70 sigma
    apart) have errors that miss the ion-pair structure each run is stuck in.

    Parameters
    ----------
    m : numpy.ndarray
        Molalities (mol/kg).
    a_cc : numpy.ndarray
        a_cc at each molality.
    err : numpy.ndarray
        Their standard errors.
    """
    ok = np.isfinite(a_cc) & np.isfinite(err) & (err > 0)
    m, a_cc, err = m[ok], a_cc[ok], err[ok]
    if len(m) < 2:
        return None
    degree = min(len(m) - 2, 2)
    coeffs = np.polyfit(m, a_cc, degree, w=1.0 / err)
    chi2 = float(np.sum(((np.polyval(coeffs, m) - a_cc) / err) ** 2))
    dof = len(m) - degree - 1
    p = float(_chi2.sf(chi2, dof))
    if p >= SERIES_AGREEMENT_P:
        return None
    return (
        f"the a_cc points scatter beyond their errors (chi-squared {chi2:.3g} for {dof} "
        f"degrees of freedom about a smooth curve in m, p = {p:.2g}): the per-run errors "
        "miss the ion-pair structure each run is stuck in; add replicas or run longer"
    )


def gibbs_duhem(points: list[KBPoint]) -> list[WaterActivity]:
    """ln a_w at each molality of a concentration series (same salt, any order) by
    integrating Gibbs-Duhem from m = 0 (trapezoid rule; see the module docstring).
    Errors propagate the a_cc standard errors (independent runs, so independent
    between points); n_eff and the convergence flag are the least converged point's, and
    every point is flagged when the series scatters beyond its errors
    (``series_scatter``).

    Parameters
    ----------
    points : list of KBPoint
        At least two molalities of one salt.

    Raises
    ------
    InputError
        For fewer than two points or mixed salts.
    """
    if len(points) < 2:
        raise InputError("the Kirkwood-Buff route needs a series of at least two molalities")
    if len({p.nu for p in points}) != 1:
        raise InputError("the series mixes salts with different numbers of ions per formula")
    points = sorted(points, key=lambda p: p.molality_mol_per_kg)
    nu = points[0].nu
    m = np.array([0.0] + [p.molality_mol_per_kg for p in points])
    rho = np.array([p.ion_density_per_nm3 for p in points])
    # rho_c / m = c0 + c1 m  ->  d ln rho_c / d ln m = 1 + c1 m / (c0 + c1 m)
    c1, c0 = np.polyfit(m[1:], rho / m[1:], 1)
    dlnrho = 1.0 + c1 * m / (c0 + c1 * m)
    acc = np.array([1.0] + [p.a_cc.mean for p in points])
    acc_err = np.array([0.0] + [p.a_cc.err for p in points])
    scatter = series_scatter(m[1:], acc[1:], acc_err[1:])
    f = -nu * WATER_MOLAR_MASS_KG_PER_MOL * acc * dlnrho
    f_err = nu * WATER_MOLAR_MASS_KG_PER_MOL * np.nan_to_num(acc_err) * dlnrho
    out = []
    for k in range(1, len(m)):
        dm = np.diff(m[: k + 1])
        ln_aw = float(np.sum(0.5 * (f[:k] + f[1 : k + 1]) * dm))
        weights = np.zeros(k + 1)
        weights[:k] += 0.5 * dm
        weights[1:] += 0.5 * dm
        err = float(np.sqrt(np.sum((weights * f_err[: k + 1]) ** 2)))
        a_w = float(np.exp(ln_aw))
        scale = nu * WATER_MOLAR_MASS_KG_PER_MOL * m[k]
        used = [p.a_cc for p in points[:k]]
        worst = min(used, key=lambda e: e.n_eff if np.isfinite(e.n_eff) else -1.0)
        unconverged = [e.reason for e in used if not e.converged]
        if scatter:
            unconverged.append(scatter)
        out.append(
            WaterActivity(
                "kirkwood-buff",
                a_w,
                a_w * err,
                -ln_aw / scale,
                err / scale,
                float(m[k]),
                {
                    "a_cc": points[k - 1].a_cc.mean,
                    "a_cc_err": points[k - 1].a_cc.err,
                    "G_cm3_per_mol": {n: e.mean for n, e in points[k - 1].G_cm3_per_mol.items()},
                    "nu": nu,
                },
                worst.n_eff,
                not unconverged,
                "; ".join(unconverged) or None,
            )
        )
    return out


# --- route 3: structural proxy --------------------------------------------------------


def free_water_proxy(free_water_fraction: Estimate) -> WaterActivity:
    """The free-water fraction as a labelled proxy: no a_w, no osmotic coefficient.

    Parameters
    ----------
    free_water_fraction : Estimate
        From ``hydrogen_bonds``.
    """
    return WaterActivity(
        "free-water-proxy",
        None,
        None,
        None,
        None,
        None,
        {
            "free_water_fraction": free_water_fraction.mean,
            "free_water_fraction_err": free_water_fraction.err,
            "note": "fraction of water in no cation first shell; a structural proxy, "
            "not a thermodynamic activity",
        },
        free_water_fraction.n_eff,
        free_water_fraction.converged,
        free_water_fraction.reason,
    )
