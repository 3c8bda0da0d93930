"""Free-energy profile of an ion along its distance from a surface, from umbrella sampling.

Per window (``WindowSeries``, one pass over its trajectory): the ion's height above the
slab's top atomic plane in every frame (nm, the plane measured in the same frame), the
restraint centre relative to that plane, and the number of water oxygens within the
first-shell cutoff of the ion.

Estimator (``umbrella_profile``): each window's series is cut after its equilibration
(``pymbar.timeseries.detect_equilibration``) and subsampled with the larger statistical
inefficiency of the height and the water count (``subsample_correlated_data``), so that
what enters MBAR is uncorrelated; MBAR (pymbar 4, ``FES`` with histogram bins) gives
F(z) with its analytical uncertainty, relative to the bin farthest from the surface
(the bulk). The water count per bin is its MBAR-reweighted mean with an error from the
bin's effective sample size. ``pmf_result`` adds what a campaign ranks on:

- adsorbed state: the lowest F in the half of the path nearer the surface;
  ``adsorption_free_energy`` = F there (kJ/mol, bulk = 0);
- ``desolvation_barrier``: the highest F between the adsorbed state and the bulk
  (kJ/mol above the bulk): what a solvated ion crosses on its way to the surface.

Windows with fewer than ``MIN_EFFECTIVE`` uncorrelated samples or whose mean height is
more than half a spacing from their centre (the restraint is too soft for the slope
there; not counted where a stiffer window holds that centre), neighbours (in the order
the windows sample) that overlap less than ``MIN_OVERLAP`` and bins without samples are
listed in ``warnings`` and make ``converged`` false.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K

from .base import Analysis
from .results import ResultMixin
from .universe import InputError, select

# pymbar logs a 'JAX not found' banner and a general caveat about timeseries at import
# (to stderr, on every command); silence those two, keep its other warnings
_SOLVERS = logging.getLogger("pymbar.mbar_solvers")
_SOLVERS.setLevel(logging.ERROR)
logging.getLogger("pymbar.timeseries").setLevel(logging.ERROR)
from pymbar import FES, timeseries  # noqa: E402

_SOLVERS.setLevel(logging.NOTSET)

MIN_EFFECTIVE = 10  # uncorrelated samples per window
MIN_OVERLAP = 0.03  # MBAR overlap of neighbouring windows
MIN_BIN_SAMPLES = 3


@dataclass(frozen=True)
class WindowSeriesResult(ResultMixin):
    """Per-frame series of one window (nm; water count).

    Attributes
    ----------
    time_ps : numpy.ndarray
        Frame times (ps).
    height_nm : numpy.ndarray
        Ion height above the slab's top atomic plane (nm).
    centre_nm : numpy.ndarray
        Restraint minimum above the same plane (nm).
    water_count : numpy.ndarray
        Water oxygens within the first-shell cutoff of the ion.
    """

    time_ps: np.ndarray
    height_nm: np.ndarray  # ion above the slab's top atomic plane
    centre_nm: np.ndarray  # restraint minimum above the same plane
    water_count: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The series as a table (units in the column names)."""
        return pd.DataFrame(
            {
                "time_ps": self.time_ps,
                "height_nm": self.height_nm,
                "centre_nm": self.centre_nm,
                "water_count": self.water_count,
            }
        )


class WindowSeries(Analysis):
    """Height of one ion above a slab's top atomic plane, and its first-shell water.

    Parameters
    ----------
    universe : MDAnalysis.Universe
        The window's universe (wrapped frames are fine: heights are taken modulo the box
        length along z).
    ion_index : int
        Atom index of the ion.
    slab : str
        Selection of the slab atoms (the top plane is their largest z in each frame).
    water : str
        Selection of the water oxygens.
    cutoff_angstrom : float
        First-shell cutoff of ion - water O (A).
    restraint_z_nm : float, optional
        Absolute z of the restraint minimum (nm), or None.
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "series"

    def __init__(
        self,
        universe,
        ion_index: int,
        slab: str,
        water: str,
        cutoff_angstrom: float,
        restraint_z_nm: float | None = None,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        self._ion = universe.atoms[[ion_index]]
        self._slab = select(universe, slab, "slab")
        self._water = select(universe, water, "water")
        self._cutoff = cutoff_angstrom
        self._restraint = None if restraint_z_nm is None else restraint_z_nm * 10.0

    def _prepare(self):
        self._rows = []

    def _single_frame(self):
        lz = self._ts.dimensions[2]
        top = self._slab.positions[:, 2].max()
        height = (self._ion.positions[0, 2] - top) % lz
        centre = np.nan if self._restraint is None else (self._restraint - top) % lz
        near, _, _ = self.neighbours().pairs(self._ion.indices, self._water.indices, self._cutoff)
        self._rows.append((self._ts.time, height / 10.0, centre / 10.0, len(near)))

    def _conclude(self):
        rows = np.array(self._rows, dtype=float).reshape(-1, 4)
        self.results.series = WindowSeriesResult(*rows.T)


def _inefficiency(series: np.ndarray) -> float:
    """Statistical inefficiency (>= 1) of a series; 1 for a constant one."""
    series = np.asarray(series, dtype=float)
    if len(series) < 3 or np.ptp(series) == 0:
        return 1.0
    return max(1.0, float(timeseries.statistical_inefficiency(series)))


@dataclass(frozen=True)
class Decorrelated:
    """Uncorrelated samples of one window: the frame indices kept and why.

    Attributes
    ----------
    indices : numpy.ndarray
        Frame indices kept.
    t0 : int
        Frames dropped as equilibration.
    g : float
        Statistical inefficiency used for subsampling (frames).
    n_frames : int
        Frames before the cut.
    """

    indices: np.ndarray
    t0: int  # frames dropped as equilibration
    g: float  # statistical inefficiency used for subsampling
    n_frames: int

    @property
    def n_effective(self) -> int:
        """Number of uncorrelated samples kept."""
        return len(self.indices)


def decorrelate(height: np.ndarray, *others: np.ndarray) -> Decorrelated:
    """Equilibration cut (``detect_equilibration`` on the height) and subsampling with the
    largest statistical inefficiency of the height and ``others`` after the cut.

    Parameters
    ----------
    height : numpy.ndarray
        Ion height per frame (nm).
    *others : numpy.ndarray
        Further per-frame series (e.g. the water count).
    """
    height = np.asarray(height, dtype=float)
    t0 = 0
    if len(height) > 10 and np.ptp(height) > 0:
        t0 = int(timeseries.detect_equilibration(height)[0])
    g = max(_inefficiency(s[t0:]) for s in (height, *others))
    kept = timeseries.subsample_correlated_data(height[t0:], g=g)
    return Decorrelated(np.asarray(kept, dtype=int) + t0, t0, g, len(height))


@dataclass(frozen=True)
class UmbrellaProfile:
    """F(z) from MBAR on uncorrelated umbrella samples (kJ/mol, relative to the bin of
    ``reference_nm``) and MBAR-reweighted means of the observables per bin.

    Attributes
    ----------
    z_nm : numpy.ndarray
        Bin centres (nm).
    free_energy_kj_per_mol, free_energy_err_kj_per_mol : numpy.ndarray
        F(z) and its uncertainty (kJ/mol).
    samples : numpy.ndarray
        Samples per bin.
    observables, observables_err : dict of str to numpy.ndarray
        Reweighted mean of each observable per bin, and its error.
    reference_nm : float
        Centre of the reference bin, F = 0 (nm).
    overlap : numpy.ndarray
        MBAR overlap matrix of the windows.
    empty_bins : list of float
        Centres (nm) of bins without samples.
    """

    z_nm: np.ndarray
    free_energy_kj_per_mol: np.ndarray
    free_energy_err_kj_per_mol: np.ndarray
    samples: np.ndarray
    observables: dict[str, np.ndarray]
    observables_err: dict[str, np.ndarray]
    reference_nm: float
    overlap: np.ndarray  # MBAR overlap matrix of the windows
    empty_bins: list[float] = field(default_factory=list)


def bias_matrix(samples: np.ndarray, centres, k, kt: float) -> np.ndarray:
    """Reduced harmonic bias k/2 (x - centre)^2 / kT of every sample in every window,
    shape (K, N).

    Parameters
    ----------
    samples : numpy.ndarray
        All samples (nm), concatenated.
    centres, k : array_like
        Restraint centre (nm) and force constant (kJ/mol/nm^2) of each window.
    kt : float
        kT (kJ/mol).
    """
    centres, k = np.asarray(centres, float)[:, None], np.asarray(k, float)[:, None]
    return 0.5 * k * (samples[None, :] - centres) ** 2 / kt


def _bin_means(values, log_w, which, nbins):
    """MBAR-weighted mean and its error (from the effective sample size) per bin."""
    mean, err = np.full(nbins, np.nan), np.full(nbins, np.nan)
    for b in range(nbins):
        sel = which == b
        if not sel.any():
            continue
        w = np.exp(log_w[sel] - log_w[sel].max())
        w /= w.sum()
        mean[b] = float(np.sum(w * values[sel]))
        n_eff = 1.0 / np.sum(w**2)
        var = float(np.sum(w * (values[sel] - mean[b]) ** 2))
        err[b] = np.sqrt(var / n_eff) if n_eff > 1 else np.nan
    return mean, err


def umbrella_profile(
    samples: list[np.ndarray],
    centres: list[np.ndarray] | list[float],
    force_constants: list[float],
    temperature_k: float,
    bin_edges: np.ndarray,
    observables: dict[str, list[np.ndarray]] | None = None,
) -> UmbrellaProfile:
    """MBAR free-energy profile of uncorrelated umbrella samples.

    Parameters
    ----------
    samples : list of numpy.ndarray
        Per window, the reaction coordinate of each uncorrelated sample (nm).
    centres : list of numpy.ndarray or list of float
        Per window, the restraint centre (nm; a number, or one per sample when the reference
        plane is measured frame by frame; their mean is used).
    force_constants : list of float
        Per window (kJ/mol/nm^2); bias k/2 (x - centre)^2.
    temperature_k : float
        Temperature of every window (K).
    bin_edges : numpy.ndarray
        Histogram bin edges (nm).
    observables : dict of str to list of numpy.ndarray, optional
        Name -> per window, a value per sample (e.g. the water count).
    """
    kt = GAS_CONSTANT_KJ_PER_MOL_K * temperature_k
    x = np.concatenate(samples)
    n_k = np.array([len(s) for s in samples])
    c = [float(np.mean(ci)) for ci in centres]
    u_kn = bias_matrix(x, c, force_constants, kt)
    # pymbar's "robust" protocol (adaptive, then L-BFGS-B with a loose start) converges
    # where the default Newton steps leave the weights unnormalised: windows that barely
    # overlap, as in short runs; poor overlap is then flagged from the overlap matrix
    fes = FES(u_kn, n_k, verbose=False, mbar_options={"solver_protocol": "robust"})
    fes.generate_fes(
        np.zeros_like(x), x, fes_type="histogram", histogram_parameters={"bin_edges": [bin_edges]}
    )
    nbins = len(bin_edges) - 1
    which = np.clip(np.digitize(x, bin_edges) - 1, -1, nbins)
    counts = np.array([np.sum(which == b) for b in range(nbins)])
    mids = 0.5 * (bin_edges[1:] + bin_edges[:-1])
    good = counts >= MIN_BIN_SAMPLES
    if good.sum() < 2:
        raise InputError("fewer than two histogram bins hold samples; run longer windows")
    reference = float(mids[good][-1])
    result = fes.get_fes(
        mids[good],
        reference_point="from-specified",
        fes_reference=reference,
        uncertainty_method="analytical",
    )
    mbar = fes.get_mbar()
    log_w = -logsumexp(mbar.f_k[:, None] - u_kn + np.log(n_k)[:, None], axis=0)
    obs_mean, obs_err = {}, {}
    for name, values in (observables or {}).items():
        mean, err = _bin_means(np.concatenate(values), log_w, which, nbins)
        obs_mean[name], obs_err[name] = mean[good], err[good]
    return UmbrellaProfile(
        mids[good],
        np.asarray(result["f_i"]) * kt,
        np.asarray(result["df_i"]) * kt,
        counts[good],
        obs_mean,
        obs_err,
        reference,
        np.asarray(mbar.compute_overlap()["matrix"]),
        [float(m) for m in mids[~good]],
    )


@dataclass(frozen=True)
class PMFResult(ResultMixin):
    """Free-energy profile of an ion along its height above a surface (kJ/mol, bulk = 0),
    its first-shell water count, and the descriptors a campaign ranks on (see the module
    docstring for their definitions).

    Attributes
    ----------
    ion : str
        Ion label.
    temperature_k : float
        Temperature (K).
    z_nm : numpy.ndarray
        Height above the top atomic plane (nm).
    free_energy_kj_per_mol, free_energy_err_kj_per_mol : numpy.ndarray
        F(z) and its uncertainty (kJ/mol, bulk = 0).
    water_count, water_count_err : numpy.ndarray
        First-shell water count per bin and its error.
    samples : numpy.ndarray
        Samples per bin.
    reference_z_nm : float
        Height of the bulk reference bin (nm).
    adsorbed_z_nm : float
        Height of the adsorbed state (nm).
    adsorption_free_energy_kj_per_mol, adsorption_free_energy_err_kj_per_mol : float
        F at the adsorbed state and its error (kJ/mol).
    barrier_z_nm : float
        Height of the desolvation barrier (nm).
    desolvation_barrier_kj_per_mol, desolvation_barrier_err_kj_per_mol : float
        Barrier above the bulk and its error (kJ/mol).
    bulk_water_count : float
        First-shell water count in the bulk reference bin.
    min_neighbour_overlap : float
        Smallest MBAR overlap between neighbouring windows.
    windows : list of dict
        Per window: centre_nm, force_constant_kj_mol_nm2, frames, equilibration, samples.
    shell_cutoff_angstrom : float
        First-shell cutoff of the water count (A).
    converged : bool
        False when any of ``warnings`` applies.
    warnings : list of str
        Convergence problems found.
    """

    ion: str
    temperature_k: float
    z_nm: np.ndarray
    free_energy_kj_per_mol: np.ndarray
    free_energy_err_kj_per_mol: np.ndarray
    water_count: np.ndarray
    water_count_err: np.ndarray
    samples: np.ndarray
    reference_z_nm: float
    adsorbed_z_nm: float
    adsorption_free_energy_kj_per_mol: float
    adsorption_free_energy_err_kj_per_mol: float
    barrier_z_nm: float
    desolvation_barrier_kj_per_mol: float
    desolvation_barrier_err_kj_per_mol: float
    bulk_water_count: float
    min_neighbour_overlap: float
    windows: list[dict]
    shell_cutoff_angstrom: float
    converged: bool
    warnings: list[str]

    def to_frame(self) -> pd.DataFrame:
        """One row per histogram bin."""
        return pd.DataFrame(
            {
                "z_nm": self.z_nm,
                "free_energy_kj_per_mol": self.free_energy_kj_per_mol,
                "free_energy_err_kj_per_mol": self.free_energy_err_kj_per_mol,
                "water_count": self.water_count,
                "water_count_err": self.water_count_err,
                "samples": self.samples,
            }
        )


def neighbour_overlap(overlap: np.ndarray, order=None) -> float:
    """Smallest overlap between neighbouring windows (both directions).

    Parameters
    ----------
    overlap : numpy.ndarray
        MBAR overlap matrix of the windows.
    order : sequence of int, optional
        The windows in order along the path (``sampled_order``); default as given.
    """
    k = len(overlap)
    if k < 2:
        return float("nan")
    o = list(range(k)) if order is None else [int(i) for i in order]
    return float(min(min(overlap[o[i], o[i + 1]], overlap[o[i + 1], o[i]]) for i in range(k - 1)))


def sampled_order(windows: list[dict], mean_key: str) -> np.ndarray:
    """Window indices sorted by the mean coordinate each window sampled: the neighbours
    whose overlap matters (windows of two sets, or one held off its centre, are
    neighbours where they sample, not where their centres are).

    Parameters
    ----------
    windows : list of dict
        Per window: the mean coordinate under ``mean_key`` (nm).
    mean_key : str
    """
    return np.argsort([w[mean_key] for w in windows], kind="stable")


def _displaced(windows: list[dict], mean_key: str, exempt=()) -> list[dict]:
    """Windows whose mean coordinate is more than half their set's spacing from their
    centre (a set: the windows of one force constant), unless a stiffer window that held
    its own centre (or is exempt) sits within that distance of it (stiffer windows added
    where the first set was pushed off, ``solvation analyze pmf --with``); windows whose
    index is in ``exempt`` are not flagged."""
    ks = np.array([w["force_constant_kj_mol_nm2"] for w in windows], dtype=float)
    centres = np.array([w["centre_nm"] for w in windows])
    half = np.full(len(windows), np.inf)
    for k in np.unique(ks):
        gaps = np.diff(np.unique(centres[ks == k]))
        half[ks == k] = 0.5 * gaps.min() if len(gaps) else np.inf
    off = np.abs(np.array([w[mean_key] for w in windows]) - centres) > half
    flagged = [
        i
        for i in range(len(windows))
        if off[i]
        and windows[i]["index"] not in exempt
        and not any(
            ks[j] > ks[i]
            and (not off[j] or windows[j]["index"] in exempt)
            and abs(centres[j] - centres[i]) <= half[i]
            for j in range(len(windows))
        )
    ]
    return [windows[i] for i in flagged]


def window_warnings(
    profile: UmbrellaProfile, windows: list[dict], mean_key: str = "mean_height_nm", exempt=()
) -> list[str]:
    """Convergence problems of umbrella windows and their profile (module docstring).

    Parameters
    ----------
    profile : UmbrellaProfile
    windows : list of dict
        Per window: index, centre_nm, force_constant_kj_mol_nm2, n_effective and the
        mean coordinate (nm).
    mean_key : str
        Key of the window's mean coordinate (nm).
    exempt : collection of int
        Indices of windows off their centres for a known reason (a pair's contact wall).
    """
    out = [
        f"window {w['index']} ({w['centre_nm']:.3f} nm): {w['n_effective']} uncorrelated "
        f"samples (< {MIN_EFFECTIVE}); run it longer"
        for w in windows
        if w["n_effective"] < MIN_EFFECTIVE
    ]
    out += [
        f"window {w['index']} ({w['centre_nm']:.3f} nm) sits at {w[mean_key]:.3f} nm: "
        "the free energy there is steeper than the restraint; use a stiffer force_constant"
        for w in _displaced(windows, mean_key, exempt)
    ]
    overlap = neighbour_overlap(profile.overlap, sampled_order(windows, mean_key))
    if not overlap >= MIN_OVERLAP:
        out.append(
            f"neighbouring windows overlap {overlap:.3f} (< {MIN_OVERLAP}): use a smaller "
            "spacing or a softer force constant"
        )
    if profile.empty_bins:
        out.append(
            f"bins without samples at {', '.join(f'{z:.3f}' for z in profile.empty_bins)} nm"
        )
    return out


def _descriptors(profile: UmbrellaProfile) -> dict:
    """Adsorbed state (lowest F in the near half of the path) and the barrier (highest F
    between it and the bulk), with their uncertainties relative to the bulk bin."""
    z, f, df = profile.z_nm, profile.free_energy_kj_per_mol, profile.free_energy_err_kj_per_mol
    near = z <= 0.5 * (z[0] + z[-1]) + 1e-9
    a = int(np.argmin(np.where(near, f, np.inf)))
    b = a + int(np.argmax(f[a:]))
    return {
        "adsorbed_z_nm": float(z[a]),
        "adsorption_free_energy_kj_per_mol": float(f[a]),
        "adsorption_free_energy_err_kj_per_mol": float(df[a]),
        "barrier_z_nm": float(z[b]),
        "desolvation_barrier_kj_per_mol": float(f[b]),
        "desolvation_barrier_err_kj_per_mol": float(df[b]),
    }


def pmf_result(
    series: list[WindowSeriesResult],
    force_constants: list[float],
    temperature_k: float,
    bin_width_nm: float,
    ion: str = "Zn2+",
    shell_cutoff_angstrom: float = float("nan"),
) -> PMFResult:
    """PMF and water-count profile of the windows' series (see the module docstring).

    Parameters
    ----------
    series : list of WindowSeriesResult
        One per window.
    force_constants : list of float
        Restraint force constant of each window (kJ/mol/nm^2).
    temperature_k : float
        Temperature (K).
    bin_width_nm : float
        Histogram bin width (nm).
    ion : str
        Ion label.
    shell_cutoff_angstrom : float
        First-shell cutoff of the water count (A), recorded.

    Raises
    ------
    InputError
        When a window has no frames or too few bins hold samples.
    """
    kept = [decorrelate(s.height_nm, s.water_count) for s in series]
    heights = [s.height_nm[d.indices] for s, d in zip(series, kept, strict=True)]
    centres = [s.centre_nm[d.indices] for s, d in zip(series, kept, strict=True)]
    if any(len(h) == 0 for h in heights):
        raise InputError("a window has no frames; run it first")
    lo = min(float(np.min(h)) for h in heights)
    hi = max(float(np.max(h)) for h in heights)
    edges = np.arange(lo, hi + bin_width_nm, bin_width_nm)
    profile = umbrella_profile(
        heights,
        centres,
        force_constants,
        temperature_k,
        edges,
        {"water": [s.water_count[d.indices] for s, d in zip(series, kept, strict=True)]},
    )
    windows = [
        {
            "index": k,
            "centre_nm": float(np.mean(c)),
            "force_constant_kj_mol_nm2": force_constants[k],
            "n_frames": d.n_frames,
            "equilibration_frames": d.t0,
            "statistical_inefficiency": d.g,
            "n_effective": d.n_effective,
            "mean_height_nm": float(np.mean(h)),
            "mean_water_count": float(np.mean(s.water_count[d.indices])),
        }
        for k, (s, d, h, c) in enumerate(zip(series, kept, heights, centres, strict=True))
    ]
    warnings = window_warnings(profile, windows)
    return PMFResult(
        ion=ion,
        temperature_k=temperature_k,
        z_nm=profile.z_nm,
        free_energy_kj_per_mol=profile.free_energy_kj_per_mol,
        free_energy_err_kj_per_mol=profile.free_energy_err_kj_per_mol,
        water_count=profile.observables["water"],
        water_count_err=profile.observables_err["water"],
        samples=profile.samples,
        reference_z_nm=profile.reference_nm,
        **_descriptors(profile),
        bulk_water_count=float(profile.observables["water"][-1]),
        min_neighbour_overlap=neighbour_overlap(
            profile.overlap, sampled_order(windows, "mean_height_nm")
        ),
        windows=windows,
        shell_cutoff_angstrom=shell_cutoff_angstrom,
        converged=not warnings,
        warnings=warnings,
    )
