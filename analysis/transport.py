"""Transport: mean-squared displacement, self-diffusion, conductivity, transference.

- Unwrapping: per atom, frame to frame, with the box of the current frame
  (x_u(t) = x_u(t-1) + d - L(t) round(d / L(t)) in fractional coordinates, d the wrapped
  displacement); this "toroidal" scheme keeps diffusion unbiased under NPT (von Bulow,
  Bullerjahn & Hummer, J. Chem. Phys. 153 (2020) 021101). Molecules are made whole in
  the first frame (minimum image to their first atom); their centres of mass are then
  followed. The system's centre-of-mass drift is removed.
- MSD by FFT for every molecule at once (O(F log F) per coordinate).
- D from a linear fit of MSD(t) in a diffusive window chosen where the local log-log
  slope stays within 1 +- ``slope_tolerance`` (after the ballistic start, up to
  ``max_lag_fraction`` of the trajectory, 10% by default).
- Uncertainty of a fitted slope (D, and the Einstein-Helfand conductivity), aware of
  the time correlation: the least-squares slope over lags t_L in the window is a fixed
  linear combination sum_L c_L MSD(t_L), c_L = (t_L - <t>) / sum (t_L - <t>)^2, and MSD
  is an average over time origins, so the slope is the mean over origins t0 of
  s(t0) = sum_L c_L |x(t0 + t_L) - x(t0)|^2 (averaged over molecules; computed for all
  origins at once by FFT). Overlapping windows make s(t0) strongly correlated; its
  statistical inefficiency (pymbar, ``solvation.analysis.stats``) gives the standard
  error and the effective number of independent origins n_eff, roughly the trajectory
  length over the fit window. A slope with fewer than 10 effective origins, or a window
  that is not diffusive, is reported as not converged. Over seeded random walks the
  z-scores (D - D_true) / err have a standard deviation of 1.1-1.2 at n_eff ~ 16 and
  1.06 at n_eff ~ 30 (the error of an error estimated from few effective samples).
- Finite size (Yeh & Hummer, J. Phys. Chem. B 108 (2004) 15873):
  D_inf = D_pbc + xi kB T / (6 pi eta L), xi = 2.837297, with eta given by the caller
  (``solvation.runs.viscosity.yeh_hummer_viscosity`` picks it for a run: a user-given value,
  the run's own measured viscosity, else the water model's published one); without a
  viscosity no correction is made.
- Conductivity: Nernst-Einstein from the self terms; Einstein-Helfand from the
  collective charge displacement; Haven ratio; Zn transference number from both.
Units: A, ps inside; SI in results (m^2/s, S/m).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from MDAnalysis.lib.mdamath import triclinic_vectors

from solvation.constants import BOLTZMANN_J_PER_K, ELEMENTARY_CHARGE_C

from .base import Analysis
from .results import ResultMixin
from .stats import Estimate, estimate
from .universe import InputError, select

XI_CUBIC = 2.837297  # Yeh-Hummer constant for a cubic box
A2_PER_PS_TO_M2_PER_S = 1e-8
DIMENSIONS = {"xyz": [0, 1, 2], "xy": [0, 1], "x": [0], "y": [1], "z": [2]}


def msd_fft(x: np.ndarray, chunk: int = 256) -> np.ndarray:
    """MSD(lag) averaged over particles; ``x`` (frames, particles, dims), any units^2.

    MSD(m) = S1(m) - 2 S2(m) with S2 the position autocorrelation by FFT
    (Calandrini et al., Collection SFN 12 (2011) 201), vectorised over particles and
    taken in chunks of particles so that memory stays bounded.

    Parameters
    ----------
    x : numpy.ndarray
        Unwrapped positions (frames, particles, dims).
    chunk : int
        Particles per FFT batch.

    Returns
    -------
    numpy.ndarray
        MSD at each lag (frames), in the square of the unit of ``x``.
    """
    n, n_particles = x.shape[0], x.shape[1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    lags = np.arange(n)
    total = np.zeros(n)
    for start in range(0, n_particles, chunk):
        part = np.asarray(x[:, start : start + chunk], dtype=np.float64)
        spec = np.fft.rfft(part, size, axis=0)
        s2 = np.fft.irfft(spec * spec.conj(), size, axis=0)[:n].sum(axis=2)
        d = np.square(part).sum(axis=2)
        cum = np.concatenate([np.zeros((1, d.shape[1])), np.cumsum(d, axis=0)])
        s1 = cum[n] - cum[lags] + cum[n - lags]
        total += (s1 - 2 * s2).sum(axis=1)
    return total / (n - lags) / n_particles


def cross_msd_fft(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """<(a(t+m) - a(t)) . (b(t+m) - b(t))> over origins; ``a``, ``b`` (frames, dims).

    Parameters
    ----------
    a, b : numpy.ndarray
        Positions (frames, dims), any common unit.
    """
    n = a.shape[0]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    fa, fb = np.fft.rfft(a, size, axis=0), np.fft.rfft(b, size, axis=0)
    cab = np.fft.irfft(fa * fb.conj(), size, axis=0)[:n]  # sum_t a(t+m) b(t)
    cba = np.fft.irfft(fb * fa.conj(), size, axis=0)[:n]
    prod = (a * b).sum(axis=1)
    cum = np.concatenate([[0.0], np.cumsum(prod)])
    lags = np.arange(n)
    # sum_t [a(t+m).b(t+m) + a(t).b(t)] over t = 0..n-m-1
    self_terms = (cum[n] - cum[lags]) + cum[n - lags]
    return (self_terms - cab.sum(axis=1) - cba.sum(axis=1)) / (n - lags)


@dataclass(frozen=True)
class Diffusion(ResultMixin):
    """Self-diffusion of one species; SI units. ``D_err_m2_per_s`` is the standard error
    (module docstring) with ``D_n_eff`` effective time origins; ``converged`` is False
    with a ``reason`` for too few of them or a non-diffusive fit window.

    Attributes
    ----------
    n_molecules : int
        Molecules of the species.
    D_m2_per_s, D_err_m2_per_s : float
        Self-diffusion coefficient and its standard error (m^2/s).
    D_corrected_m2_per_s : float or None
        D with the Yeh-Hummer finite-size correction (m^2/s; None without a viscosity).
    fit_window_ps : tuple of float
        Lag window of the fit (ps).
    diffusive : bool
        Whether the MSD is diffusive (log-log slope near 1) in the window.
    dimensions : str
        Dimensions of the MSD ("xyz", "xy", ...).
    D_n_eff : float
        Effective time origins of the error.
    converged : bool
        False with a ``reason`` for too few origins or a non-diffusive fit window.
    reason : str or None
    """

    n_molecules: int
    D_m2_per_s: float
    D_err_m2_per_s: float
    D_corrected_m2_per_s: float | None
    fit_window_ps: tuple[float, float]
    diffusive: bool
    dimensions: str
    D_n_eff: float = float("nan")
    converged: bool = False
    reason: str | None = None


@dataclass(frozen=True)
class TransportResult(ResultMixin):
    """Diffusion per species, MSD curves and, with charges, conductivity.

    Attributes
    ----------
    temperature_K : float
        Temperature (K).
    volume_m3 : float
        Mean box volume (m^3).
    box_length_m : float
        Box edge used by the Yeh-Hummer correction (m).
    viscosity_Pa_s : float or None
        Viscosity of the Yeh-Hummer correction (Pa s).
    viscosity_source : str
        Where that viscosity came from.
    lag_ps : numpy.ndarray
        Lag times (ps).
    msd_angstrom2 : dict of str to numpy.ndarray
        MSD of each species (A^2).
    species : dict of str to Diffusion
    conductivity : dict
        With charges: ``sigma_S_per_m`` (S/m) with its error, the Nernst-Einstein value ...
    """

    temperature_K: float
    volume_m3: float
    box_length_m: float
    viscosity_Pa_s: float | None
    viscosity_source: str
    lag_ps: np.ndarray
    msd_angstrom2: dict[str, np.ndarray]
    species: dict[str, Diffusion]
    conductivity: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        """JSON-able dict without the MSD curves."""
        out = super().to_dict()
        out.pop("msd_angstrom2")
        out.pop("lag_ps")
        for d in out["species"].values():
            d["fit_window_ps"] = list(d["fit_window_ps"])
        out.update(out.pop("conductivity"))
        return out

    def to_frame(self) -> pd.DataFrame:
        """MSD curves: lag_ps and one column per species (A^2)."""
        return pd.DataFrame(
            {
                "lag_ps": self.lag_ps,
                **{f"msd_{k}_angstrom2": v for k, v in self.msd_angstrom2.items()},
            }
        )


def _box_matrix(dimensions: np.ndarray) -> np.ndarray:
    return triclinic_vectors(dimensions).astype(np.float64)


def _minimum_image(delta: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Displacements wrapped to the nearest image in the box ``h`` (rows = box vectors)."""
    frac = delta @ np.linalg.inv(h)
    return (frac - np.round(frac)) @ h


def local_slope(lag: np.ndarray, msd: np.ndarray) -> np.ndarray:
    """d log MSD / d log t, by central differences over neighbouring lags (NaN at t=0).

    Parameters
    ----------
    lag : numpy.ndarray
        Lag times (ps).
    msd : numpy.ndarray
        MSD at each lag (any unit).
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.gradient(np.log(msd), np.log(lag))


def diffusive_window(
    lag: np.ndarray, msd: np.ndarray, tolerance: float = 0.15, max_fraction: float = 0.5
) -> tuple[int, int, bool]:
    """(first, last) lag indices of the diffusive window and whether it is diffusive.

    The window ends at ``max_fraction`` of the trajectory (the tail averages few time
    origins) and starts at the earliest lag after which the log-log slope stays within
    1 +- tolerance. If no such lag leaves 5 points, the window is [end/5, end] and
    flagged non-diffusive.

    Parameters
    ----------
    lag : numpy.ndarray
        Lag times (ps).
    msd : numpy.ndarray
        MSD at each lag.
    tolerance : float
        Largest deviation of the log-log slope from 1.
    max_fraction : float
        Fraction of the trajectory where the window ends.
    """
    end = max(int(len(lag) * max_fraction), 3)
    slope = local_slope(lag[1 : end + 1], msd[1 : end + 1])
    bad = np.nonzero(~(np.abs(slope - 1.0) <= tolerance))[0]
    start = 1 + (bad[-1] + 1 if len(bad) else 0)
    if end - start >= 4:
        return start, end, True
    return max(1, end // 5), end, False


def fit_d(lag: np.ndarray, msd: np.ndarray, first: int, last: int, n_dims: int) -> float:
    """D (A^2/ps) from a straight-line fit MSD = 2 n D t + c over lags [first, last].

    Parameters
    ----------
    lag : numpy.ndarray
        Lag times (ps).
    msd : numpy.ndarray
        MSD (A^2).
    first, last : int
        Lag indices of the fit window.
    n_dims : int
        Dimensions of the MSD.
    """
    slope = np.polyfit(lag[first : last + 1], msd[first : last + 1], 1)[0]
    return slope / (2 * n_dims)


def origin_slopes(
    x: np.ndarray, lag: np.ndarray, first: int, last: int, chunk: int = 256
) -> np.ndarray:
    """Per-origin slope series s(t0) = sum_L c_L |x(t0 + t_L) - x(t0)|^2, averaged over
    particles, for t0 = 0 .. n - 1 - last (module docstring); its mean is the
    least-squares MSD slope over lags [first, last] from those origins.

    ``x`` (frames, particles, dims), any length unit; the result is in unit^2 / ps.
    Expanding the square, sum_L c_L |x(t0 + L)|^2 is a correlation of the per-frame sum
    of squares with the weights c, and x(t0) . sum_L c_L x(t0 + L) one per particle, all
    by FFT in O(n log n) per particle; sum_L c_L = 0 removes the |x(t0)|^2 term.

    Parameters
    ----------
    x : numpy.ndarray
        Unwrapped positions (frames, particles, dims), any length unit.
    lag : numpy.ndarray
        Lag times (ps).
    first, last : int
        Lag indices of the window.
    chunk : int
        Particles per FFT batch.
    """
    t = lag[first : last + 1]
    weights = np.zeros(last + 1)
    weights[first:] = (t - t.mean()) / np.sum((t - t.mean()) ** 2)
    n, n_particles = x.shape[0], x.shape[1]
    origins = n - last
    size = 1 << int(np.ceil(np.log2(n + last + 1)))
    kernel = np.conj(np.fft.rfft(weights, size))
    squares = np.zeros(n)
    cross = np.zeros(origins)
    for start in range(0, n_particles, chunk):
        part = np.asarray(x[:, start : start + chunk], dtype=np.float64)
        part = part - part[:1]  # MSD is per-particle translation invariant: small numbers
        squares += np.square(part).sum(axis=(1, 2))
        ahead = np.fft.irfft(np.fft.rfft(part, size, axis=0) * kernel[:, None, None], size, axis=0)
        cross += (part[:origins] * ahead[:origins]).sum(axis=(1, 2))
    ahead_squares = np.fft.irfft(np.fft.rfft(squares, size) * kernel, size)[:origins]
    return (ahead_squares - 2.0 * cross) / n_particles


def slope_estimate(x: np.ndarray, lag: np.ndarray, first: int, last: int) -> Estimate:
    """Standard error and effective origins of the MSD slope over [first, last] (unit^2
    per ps), from the statistical inefficiency of ``origin_slopes``; its mean is the
    slope from the origins that cover the whole window.

    Parameters
    ----------
    x : numpy.ndarray
        Unwrapped positions (frames, particles, dims), any length unit.
    lag : numpy.ndarray
        Lag times (ps).
    first, last : int
        Lag indices of the window.
    """
    return estimate(origin_slopes(x, lag, first, last), equilibration=False)


class Transport(Analysis):
    """MSD, diffusion and conductivity of molecular species.

    Parameters
    ----------
    universe : MDAnalysis.Universe
        Wrapped or unwrapped coordinates.
    species : dict of str to str
        Name -> selection; each residue of the selection is one molecule, followed by its
        centre of mass.
    charges : dict of str to float, optional
        Name -> charge per molecule (e), for conductivity.
    dimensions : str
        "xyz" (default), "xy" (in-plane, slabs), "x", "y" or "z".
    temperature : float
        Temperature (K).
    viscosity : float, optional
        Viscosity (Pa s) for the Yeh-Hummer correction (None: no correction).
    viscosity_source : str, optional
        What ``viscosity`` is (reported with the result).
    max_lag_fraction : float
        The fit window ends at most at this fraction of the trajectory (default 0.1: about
        ten effectively independent windows per trajectory).
    slope_tolerance : float
        Largest deviation of the MSD's log-log slope from 1 in the diffusive window.
    cation : str, optional
        Species name for the transference number (default: a name containing "zn", else the
        first positive species).
    remove_drift : bool
        Subtract the displacement of the system's centre of mass (default True).
    dt_ps : float, optional
        Time between stored frames (ps), if the trajectory does not carry it.
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "transport"

    def __init__(
        self,
        universe,
        species: dict[str, str],
        charges: dict[str, float] | None = None,
        dimensions: str = "xyz",
        temperature: float = 298.15,
        viscosity: float | None = None,
        viscosity_source: str | None = None,
        max_lag_fraction: float = 0.1,
        slope_tolerance: float = 0.15,
        cation: str | None = None,
        remove_drift: bool = True,
        dt_ps: float | None = None,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if dimensions not in DIMENSIONS:
            raise InputError(f"dimensions must be one of {list(DIMENSIONS)}, got {dimensions!r}")
        if not 0.0 < max_lag_fraction <= 0.5:
            raise InputError(f"max_lag_fraction must lie in (0, 0.5], got {max_lag_fraction}")
        if viscosity is not None and not viscosity > 0:
            raise InputError(f"the viscosity must be positive (Pa s), got {viscosity}")
        self.universe, self.dims, self.temperature = universe, dimensions, float(temperature)
        self.groups = {k: select(universe, v, f"species {k!r}") for k, v in species.items()}
        self.charges = dict(charges or {})
        unknown = set(self.charges) - set(species)
        if unknown:
            raise InputError(f"charges given for unknown species {sorted(unknown)}")
        self.viscosity = viscosity
        self.viscosity_source = viscosity_source or ("given" if viscosity else "none")
        self.max_fraction, self.tolerance = max_lag_fraction, slope_tolerance
        self.cation, self.remove_drift = cation, remove_drift
        self.dt_ps = dt_ps or universe.trajectory.dt
        if not self.dt_ps or self.dt_ps <= 0:
            raise InputError(
                "the trajectory carries no time step (dt = 0); give dt_ps "
                "(--dt-ps) for the time between frames"
            )

    def _prepare(self):
        atoms = self.universe.atoms
        try:
            self._masses = np.asarray(atoms.masses, dtype=np.float64)
        except AttributeError:  # no masses in the topology (NoDataError): geometric centres
            self._masses = np.ones(atoms.n_atoms)
        if not np.all(self._masses > 0):
            self._masses = np.where(self._masses > 0, self._masses, 1.0)
        self._com_index = {}
        for name, group in self.groups.items():
            res = group.resindices
            _, local = np.unique(res, return_inverse=True)
            m = self._masses[group.indices]
            self._com_index[name] = (group.indices, local, m, np.bincount(local, weights=m))
        self._prev = None
        self._unwrapped = None
        self._coms = {k: [] for k in self.groups}
        self._drift = []
        self._volumes = []

    def _whole(self, x: np.ndarray, h: np.ndarray) -> np.ndarray:
        """First frame: put every atom at the minimum image of its residue's first atom."""
        res = self.universe.atoms.resindices
        first_atom = np.unique(res, return_index=True)[1]
        anchor = x[first_atom[res]]
        return anchor + _minimum_image(x - anchor, h)

    def _single_frame(self):
        x = self._ts.positions.astype(np.float64)
        h = _box_matrix(self._ts.dimensions)
        if self._unwrapped is None:
            self._unwrapped = self._whole(x, h)
        else:
            self._unwrapped = self._unwrapped + _minimum_image(x - self._prev, h)
        self._prev = x
        u = self._unwrapped
        self._drift.append((u * self._masses[:, None]).sum(0) / self._masses.sum())
        for name, (idx, local, m, mtot) in self._com_index.items():
            com = np.stack([np.bincount(local, weights=u[idx, k] * m) for k in range(3)], 1)
            self._coms[name].append(com / mtot[:, None])
        self._volumes.append(self._ts.volume)

    def _series(self) -> dict[str, np.ndarray]:
        """Unwrapped centre-of-mass trajectories (frames, molecules, dims), drift removed."""
        drift = np.asarray(self._drift)
        drift = drift - drift[0] if self.remove_drift else np.zeros_like(drift)
        cols = DIMENSIONS[self.dims]
        return {k: (np.asarray(v) - drift[:, None, :])[:, :, cols] for k, v in self._coms.items()}

    def _diffusion(self, lag, x) -> tuple[np.ndarray, float, Estimate, tuple[int, int], bool]:
        """MSD, D (A^2/ps), the slope's estimate, fit window and whether it is diffusive."""
        msd = msd_fft(x)
        first, last, ok = diffusive_window(lag, msd, self.tolerance, self.max_fraction)
        d = fit_d(lag, msd, first, last, x.shape[2])
        slope = slope_estimate(x, lag, first, last)
        if not ok:
            slope = slope.flagged("the MSD is not diffusive in the fit window")
        return msd, d, slope, (first, last), ok

    def _correction_m2_per_s(self, length_m: float) -> float | None:
        """The Yeh-Hummer term (m^2/s) for a cubic box of edge ``length_m``; None without
        a viscosity or for in-plane diffusion."""
        if self.viscosity is None or self.dims != "xyz":
            return None
        kt = BOLTZMANN_J_PER_K * self.temperature
        return XI_CUBIC * kt / (6 * np.pi * self.viscosity * length_m)

    def _conclude(self):
        if self.n_frames < 10:
            raise InputError(f"{self.n_frames} frames are too few for an MSD; use at least 10")
        dt = self.dt_ps * (self.step or 1)
        lag = np.arange(self.n_frames) * dt
        volume_a3 = float(np.mean(self._volumes))
        length_m = volume_a3 ** (1 / 3) * 1e-10
        correction = self._correction_m2_per_s(length_m)
        series = self._series()
        species, msds = {}, {}
        for name, x in series.items():
            msd, d, slope, (first, last), ok = self._diffusion(lag, x)
            msds[name] = msd
            to_si = A2_PER_PS_TO_M2_PER_S / (2 * x.shape[2])
            d_si = d * A2_PER_PS_TO_M2_PER_S
            species[name] = Diffusion(
                x.shape[1],
                d_si,
                slope.err * to_si,
                d_si + correction if correction is not None else None,
                (float(lag[first]), float(lag[last])),
                ok,
                self.dims,
                slope.n_eff,
                slope.converged,
                slope.reason,
            )
        conductivity = self._conductivity(lag, series, species, volume_a3) if self.charges else {}
        self.results.transport = TransportResult(
            self.temperature,
            volume_a3 * 1e-30,
            length_m,
            self.viscosity,
            self.viscosity_source,
            lag,
            msds,
            species,
            conductivity,
        )

    def _conductivity(self, lag, series, species, volume_a3) -> dict:
        missing = set(self.groups) - set(self.charges)
        if missing:
            raise InputError(
                f"conductivity needs a charge for every species; missing {sorted(missing)}"
            )
        n_dims = len(DIMENSIONS[self.dims])
        volume = volume_a3 * 1e-30
        pref = ELEMENTARY_CHARGE_C**2 / (volume * BOLTZMANN_J_PER_K * self.temperature)
        z = self.charges
        ne_terms = {k: species[k].n_molecules * z[k] ** 2 * species[k].D_m2_per_s for k in z}
        sigma_ne = pref * sum(ne_terms.values())
        total = {k: x.sum(axis=1) for k, x in series.items()}  # (frames, dims) per species
        charge = sum(z[k] * total[k] for k in z)
        sigma, slope, window = self._collective(lag, charge, n_dims, pref)
        cation = self.cation or next(
            (k for k in z if "zn" in k.lower()), next((k for k in z if z[k] > 0), None)
        )
        out = {
            "sigma_S_per_m": sigma,
            "sigma_err_S_per_m": slope.err * pref * A2_PER_PS_TO_M2_PER_S / (2 * n_dims),
            "sigma_n_eff": slope.n_eff,
            "sigma_converged": slope.converged,
            "sigma_reason": slope.reason,
            "sigma_NE_S_per_m": sigma_ne,
            "haven_ratio": sigma_ne / sigma if sigma > 0 else float("nan"),
            "collective_fit_window_ps": list(window),
            "cation": cation,
        }
        if cation is not None:
            out["t_zn"] = ne_terms[cation] / sum(ne_terms.values())
            out["t_zn_onsager"] = self._onsager_t(lag, total, z, cation, n_dims)
        return out

    def _collective(self, lag, m, n_dims, pref) -> tuple[float, Estimate, tuple[float, float]]:
        """Einstein-Helfand conductivity (S/m) from M(t) = sum q r, with the estimate of
        the slope of <|M(t0 + t) - M(t0)|^2> (A^2 e^2 / ps) that gives its error."""
        msd = cross_msd_fft(m, m)
        first, last, ok = diffusive_window(lag, msd, self.tolerance, self.max_fraction)
        slope = np.polyfit(lag[first : last + 1], msd[first : last + 1], 1)[0]
        to_si = A2_PER_PS_TO_M2_PER_S / (2 * n_dims)
        estimate_ = slope_estimate(m[:, None, :], lag, first, last)
        if not ok:
            estimate_ = estimate_.flagged("the charge MSD is not diffusive in the fit window")
        return pref * slope * to_si, estimate_, (float(lag[first]), float(lag[last]))

    def _onsager_t(self, lag, total, z, cation, n_dims) -> float:
        """Transference number from collective (Onsager) coefficients L_ij ~ <dR_i . dR_j>."""
        names = list(z)
        charge = sum(z[k] * total[k] for k in names)
        msd = cross_msd_fft(charge, charge)
        first, last, _ = diffusive_window(lag, msd, self.tolerance, self.max_fraction)
        slope = lambda y: np.polyfit(lag[first : last + 1], y[first : last + 1], 1)[0]  # noqa: E731
        num = sum(z[cation] * z[j] * slope(cross_msd_fft(total[cation], total[j])) for j in names)
        den = slope(msd)
        return float(num / den) if den > 0 else float("nan")
