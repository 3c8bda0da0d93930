"""Pair potential of mean force W(r) of a cation and a partner from umbrella windows along
their distance, with the association constant and the contact / solvent-shared states.

Per window (``PairSeries``, one pass over its trajectory): the minimum-image distance r
between the two reference atoms, the cation's first-shell water count (water O within the
shell cutoff) and the number of the partner's acceptor atoms inside that cutoff.

Estimator (``pair_pmf_result``):

1. each window's series is cut after its equilibration and subsampled with the largest
   statistical inefficiency of r, the water count and the partner's shell count
   (``pmf.decorrelate``);
2. MBAR (``pmf.umbrella_profile``, pymbar 4 FES histogram) gives F_b = -kT ln p_b of each
   r bin; the radial Jacobian is removed exactly for a bin-wise constant W:
   W_b = F_b + kT ln[(r_hi^3 - r_lo^3) / 3] (a non-interacting pair gives a flat W);
3. the far end is matched to the Coulomb tail q1 q2 e^2 / (4 pi eps0 eps_r r), eps_r the
   static dielectric constant of the model's water (``water_dielectric.toml``) and q the
   species' net charges in the model (scaled charges included, so the tail carries the
   coupling the model really has: 0.85^2 / 58 for the scaled family), by the mean offset
   over the bins from ``tail_from_nm`` (default: 0.2 nm inside the boundary) to the end;
   a neutral partner is matched to W = 0 there;
4. states: the contact region (CIP) is where the partner's acceptors are in the cation's
   first shell (MBAR-reweighted shell count >= 0.5); the CIP minimum is the lowest W
   there, the solvent-shared minimum (SSIP) the first significant minimum of W beyond
   it (``scipy.signal.find_peaks`` with a prominence of 0.5 kT), the barrier the highest
   W between them; ``pairing_free_energy`` = W_CIP - W_SSIP;
5. K_A = 4 pi N_A int_0^R r^2 exp(-W/kT) dr up to the boundary R (``pairing``), and
   K_CIP the same integral up to the barrier; log10 of K c deg with c deg = 1 mol/L;
6. errors: a bootstrap over the decorrelated samples (each window resampled with
   replacement, steps 2-5 repeated ``n_bootstrap`` times): standard deviations of W per
   bin, of the state free energies and of log10 K.

Convergence (``warnings``; ``converged`` is false when any applies): the window checks of
the surface PMF (``pmf.window_warnings``), a path that ends before the boundary, no
contact region or no solvent-shared minimum sampled.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from MDAnalysis.lib.distances import calc_bonds
from scipy.signal import find_peaks
from scipy.special import logsumexp

from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K

from .base import Analysis
from .pairing import (
    association_constant_l_per_mol,
    coulomb_tail_kj_per_mol,
    standard_free_energy_kj_per_mol,
)
from .pmf import (
    bias_matrix,
    decorrelate,
    neighbour_overlap,
    sampled_order,
    umbrella_profile,
    window_warnings,
)
from .results import ResultMixin
from .universe import InputError, select

TAIL_INSIDE_NM = 0.2  # the tail match starts this far inside the boundary
PROMINENCE_KT = 0.5  # a minimum of W must be this deep to count
IN_SHELL = 0.5  # reweighted partner shell count marking the contact region
DEFAULT_BOOTSTRAP = 100
MIN_BINS = 4  # fewest histogram bins across the sampled distances


@dataclass(frozen=True)
class PairSeriesResult(ResultMixin):
    """Per-frame series of one pair window.

    Attributes
    ----------
    time_ps : numpy.ndarray
        Frame times (ps).
    r_nm : numpy.ndarray
        Minimum-image distance of the two reference atoms (nm).
    water_count : numpy.ndarray
        Water oxygens within the shell cutoff of the cation.
    partner_in_shell : numpy.ndarray
        Partner acceptor atoms within the shell cutoff of the cation.
    """

    time_ps: np.ndarray
    r_nm: np.ndarray
    water_count: np.ndarray
    partner_in_shell: np.ndarray

    def to_frame(self) -> pd.DataFrame:
        """The series as a table (units in the column names)."""
        return pd.DataFrame(
            {
                "time_ps": self.time_ps,
                "r_nm": self.r_nm,
                "water_count": self.water_count,
                "partner_in_shell": self.partner_in_shell,
            }
        )


class PairSeries(Analysis):
    """Distance of a cation to a partner atom, and what sits in the cation's first shell.

    Parameters
    ----------
    universe : MDAnalysis.Universe
        The window's universe.
    cation_index, partner_index : int
        Atom indices of the two reference atoms.
    water : str
        Selection of the water oxygens.
    cutoff_angstrom : float
        First-shell cutoff of the cation (A).
    partner_acceptors : list of int
        Atom indices of the partner's acceptors.
    **kwargs
        Passed to ``Analysis``.
    """

    result_name = "series"

    def __init__(
        self,
        universe,
        cation_index: int,
        partner_index: int,
        water: str,
        cutoff_angstrom: float,
        partner_acceptors: list[int],
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        self._cation = universe.atoms[[cation_index]]
        self._partner = universe.atoms[[partner_index]]
        self._water = select(universe, water, "water")
        self._acceptors = universe.atoms[list(partner_acceptors)]
        self._cutoff = cutoff_angstrom

    def _prepare(self):
        self._rows = []

    def _count(self, group) -> int:
        if len(group) == 0:
            return 0
        near, _, _ = self.neighbours().pairs(self._cation.indices, group.indices, self._cutoff)
        return len(near)

    def _single_frame(self):
        box = self._ts.dimensions
        r = calc_bonds(self._cation.positions, self._partner.positions, box=box)[0]
        water, partner = self._count(self._water), self._count(self._acceptors)
        self._rows.append((self._ts.time, r / 10.0, water, partner))

    def _conclude(self):
        rows = np.array(self._rows, dtype=float).reshape(-1, 4)
        self.results.series = PairSeriesResult(*rows.T)


@dataclass(frozen=True)
class PairModel:
    """What the analysis needs to know of the model and the path.

    Attributes
    ----------
    cation, partner : str
        Species labels.
    charges_e : tuple of float
        Net charges of the two species in the model (e).
    dielectric : float
        Static dielectric constant of the model's water.
    boundary_nm : float
        K_A boundary R (nm).
    temperature_k : float
        Temperature (K).
    dielectric_source, boundary_source, partner_atom : str
        Provenance, recorded in the result.
    dielectric_err : float
        Quoted uncertainty of ``dielectric``, propagated to log10 K_A as a separate
        (systematic) error; 0: none.
    """

    cation: str
    partner: str
    charges_e: tuple[float, float]
    dielectric: float
    boundary_nm: float
    temperature_k: float
    dielectric_source: str = ""
    boundary_source: str = ""
    partner_atom: str = ""
    dielectric_err: float = 0.0  # quoted uncertainty of eps_r (0: none)

    @property
    def kt(self) -> float:
        """kT (kJ/mol)."""
        return GAS_CONSTANT_KJ_PER_MOL_K * self.temperature_k

    def tail(self, r_nm) -> np.ndarray:
        """Coulomb tail in the model's dielectric (kJ/mol)."""
        return coulomb_tail_kj_per_mol(r_nm, *self.charges_e, self.dielectric)


def _jacobian_kj(edges_lo: np.ndarray, edges_hi: np.ndarray, kt: float) -> np.ndarray:
    """kT ln[(r_hi^3 - r_lo^3) / 3] per bin: F + this = W for a bin-wise constant W."""
    return kt * np.log((edges_hi**3 - edges_lo**3) / 3.0)


def tail_matched(r_nm, f_kj, lo, hi, model: PairModel, tail_from_nm: float) -> np.ndarray:
    """W(r): the histogram free energy ``f_kj`` of bins [lo, hi) less the radial Jacobian,
    shifted so that its mean over the bins at r >= ``tail_from_nm`` equals the Coulomb
    tail's there (kJ/mol).

    Parameters
    ----------
    r_nm, f_kj, lo, hi : numpy.ndarray
        Bin centres, -kT ln p per bin (any offset), bin edges (nm; kJ/mol).
    model : PairModel
    tail_from_nm : float
        Start of the matching region (nm); at least the last two bins are used.
    """
    w = f_kj + _jacobian_kj(lo, hi, model.kt)
    region = r_nm >= tail_from_nm
    if region.sum() < 2:
        region = np.arange(len(r_nm)) >= len(r_nm) - 2
    return w + float(np.nanmean(model.tail(r_nm[region]) - w[region]))


@dataclass(frozen=True)
class PairStates:
    """Bin indices of the contact minimum, the solvent-shared minimum and the barrier
    between them (None where not found), and the end of the contact region (nm).

    Attributes
    ----------
    cip, ssip, barrier : int or None
        Bin indices.
    contact_edge_nm : float or None
        Largest r of the contact region (nm).
    """

    cip: int | None
    ssip: int | None
    barrier: int | None
    contact_edge_nm: float | None


def pair_states(r_nm, w_kj, in_shell, prominence_kj: float) -> PairStates:
    """Contact region, CIP and SSIP minima and the barrier between them (module
    docstring, step 4).

    Parameters
    ----------
    r_nm, w_kj : numpy.ndarray
        Bin centres (nm) and W (kJ/mol).
    in_shell : numpy.ndarray
        Reweighted fraction of frames with a partner acceptor in the cation's shell.
    prominence_kj : float
        Depth a solvent-shared minimum must have (kJ/mol).
    """
    contact = np.flatnonzero(np.nan_to_num(in_shell) >= IN_SHELL)
    cip, edge, start = None, None, 0
    if len(contact):
        last = contact[0]
        while last + 1 < len(r_nm) and np.nan_to_num(in_shell[last + 1]) >= IN_SHELL:
            last += 1
        cip = contact[0] + int(np.argmin(w_kj[contact[0] : last + 1]))
        edge, start = float(r_nm[last]), last + 1
    peaks, _ = find_peaks(-w_kj[start:], prominence=prominence_kj)
    ssip = start + int(peaks[0]) if len(peaks) else None
    barrier = None
    if cip is not None and ssip is not None:
        barrier = cip + int(np.argmax(w_kj[cip : ssip + 1]))
    return PairStates(cip, ssip, barrier, edge)


def _bins(profile_r: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    return profile_r - 0.5 * width, profile_r + 0.5 * width


def _full_edges(lo: np.ndarray, hi: np.ndarray, w: np.ndarray):
    """Contiguous edges from the first to the last bin; W of a bin without samples inside
    the path interpolated linearly between its sampled neighbours (the empty bins are
    flagged in the warnings)."""
    width = float(np.min(hi - lo))
    edges = np.arange(lo[0], hi[-1] + 0.5 * width, width)
    full = np.full(len(edges) - 1, np.nan)
    full[np.clip(np.round((lo - lo[0]) / width).astype(int), 0, len(full) - 1)] = w
    known = np.isfinite(full)
    if known.sum() >= 2:
        x = np.arange(len(full))
        full[~known] = np.interp(x[~known], x[known], full[known])
    return edges, full


def association_constants(lo, hi, w, model: PairModel, cip_upper_nm: float | None):
    """(K_A, K_CIP) in L/mol of a W on bins [lo, hi): up to the boundary, and up to
    ``cip_upper_nm`` (the barrier; None: no contact state, K_CIP = NaN).

    Parameters
    ----------
    lo, hi : numpy.ndarray
        Bin edges (nm), equal widths, increasing (gaps allowed).
    w : numpy.ndarray
        W per bin (kJ/mol).
    model : PairModel
    cip_upper_nm : float or None
        Upper limit of the contact part (nm).
    """
    edges, full = _full_edges(lo, hi, w)
    t = model.temperature_k
    k_a = association_constant_l_per_mol(edges, full, t, model.boundary_nm)
    k_cip = float("nan")
    if cip_upper_nm is not None:
        k_cip = association_constant_l_per_mol(edges, full, t, cip_upper_nm)
    return k_a, k_cip


def histogram_free_energy(samples, centres, force_constants, kt, edges, f_k=None):
    """-kT ln p of each bin in the unbiased state (kJ/mol, any common offset; NaN for a
    bin without samples) by MBAR, and the windows' reduced free energies (a warm start
    for the next call). The histogram estimator of ``pmf.umbrella_profile`` without its
    analytical uncertainty, for the bootstrap.

    Parameters
    ----------
    samples : list of numpy.ndarray
        Per window, the samples (nm).
    centres, force_constants : list of float
        Restraint centres (nm) and force constants (kJ/mol/nm^2).
    kt : float
        kT (kJ/mol).
    edges : numpy.ndarray
        Bin edges (nm).
    f_k : numpy.ndarray, optional
        Starting reduced free energies of the windows.
    """
    from pymbar import MBAR  # here: .pmf quiets pymbar's import-time logging first

    x = np.concatenate(samples)
    n_k = np.array([len(s) for s in samples])
    u_kn = bias_matrix(x, centres, force_constants, kt)
    options = {"solver_protocol": "robust"} if f_k is None else {"initial_f_k": f_k}
    mbar = MBAR(u_kn, n_k, **options)
    log_w = -logsumexp(mbar.f_k[:, None] - u_kn + np.log(n_k)[:, None], axis=0)
    which = np.digitize(x, edges) - 1
    f = np.full(len(edges) - 1, np.nan)
    for b in np.unique(which[(which >= 0) & (which < len(f))]):
        f[b] = -kt * logsumexp(log_w[which == b])
    return f, mbar.f_k


def bootstrap_w(samples, centres, force_constants, edges, r_nm, model, tail_from_nm, n, seed):
    """Tail-matched W per bin (columns: the bins at ``r_nm``) of ``n`` bootstrap
    resamples of each window's uncorrelated samples; NaN where a resample left a bin
    without samples.

    Parameters
    ----------
    samples : list of numpy.ndarray
        Per window, the uncorrelated distances (nm).
    centres, force_constants : list of float
        Restraint centres (nm) and force constants (kJ/mol/nm^2).
    edges : numpy.ndarray
        Histogram bin edges (nm).
    r_nm : numpy.ndarray
        Centres of the bins of the central estimate (nm).
    model : PairModel
    tail_from_nm : float
        Start of the tail match (nm).
    n : int
        Resamples.
    seed : int
        Random seed.
    """
    rng = np.random.default_rng(seed)
    width = float(edges[1] - edges[0])
    columns = np.clip(np.round((r_nm - edges[0]) / width - 0.5).astype(int), 0, len(edges) - 2)
    lo, hi = _bins(r_nm, width)
    out = np.full((n, len(r_nm)), np.nan)
    f_k = None
    for b in range(n):
        resample = [s[rng.integers(0, len(s), len(s))] for s in samples]
        try:
            f, f_k = histogram_free_energy(resample, centres, force_constants, model.kt, edges, f_k)
        except Exception:  # a resample MBAR cannot solve: left out, counted as failed
            f_k = None
            continue
        out[b] = tail_matched(r_nm, f[columns], lo, hi, model, tail_from_nm)
    return out


STANDARD_STATE = (
    "K_A = 4 pi N_A int_0^R r^2 exp(-W(r)/kT) dr in L/mol, W -> Coulomb tail at large r; "
    "log10 K is that of K c deg with c deg = 1 mol/L; dG = -RT ln(K c deg); "
    "K_CIP: the same integral up to the CIP-SSIP barrier"
)


@dataclass(frozen=True)
class PairPMFResult(ResultMixin):
    """Pair PMF W(r) (kJ/mol, 0 at infinite separation), the cation's first shell along r,
    the contact (CIP) and solvent-shared (SSIP) states and the association constants
    (module docstring for every definition; NaN where a state was not found).

    Attributes
    ----------
    cation, partner, partner_atom : str
    temperature_k : float
    r_nm, w_kj_per_mol, w_err_kj_per_mol : numpy.ndarray
        Bin centres (nm), W and its bootstrap error (kJ/mol).
    samples : numpy.ndarray
        Uncorrelated samples per bin.
    water_count, water_count_err : numpy.ndarray
        First-shell water count of the cation per bin.
    partner_in_shell, partner_in_shell_err : numpy.ndarray
        Fraction of frames with a partner acceptor in the cation's first shell, per bin.
    charges_e : list of float
        Net charges of cation and partner in the model (e).
    dielectric : float
        eps_r of the Coulomb tail.
    boundary_nm, tail_from_nm : float
        K_A boundary and start of the tail match (nm).
    cip_r_nm, ssip_r_nm, barrier_r_nm : float
        Positions of the states (nm).
    cip_w_kj_per_mol, ssip_w_kj_per_mol, barrier_w_kj_per_mol : float
        W there (kJ/mol), each with ``_err``.
    pairing_free_energy_kj_per_mol : float
        W_CIP - W_SSIP (kJ/mol), with ``_err``.
    dissociation_barrier_kj_per_mol, association_barrier_kj_per_mol : float
        W_barrier - W_CIP and W_barrier - W_SSIP (kJ/mol), with ``_err``.
    k_a_l_per_mol, log10_k_a, log10_k_a_err : float
        Association constant up to the boundary, with its statistical (bootstrap) error.
    log10_k_a_dielectric_err : float
        Its systematic error from the quoted uncertainty of eps_r (tail match with
        eps_r -+ err; 0 when none is quoted).
    k_cip_l_per_mol, log10_k_cip, log10_k_cip_err : float
        Its contact part (up to the barrier).
    cip_fraction_of_pairs, cip_fraction_of_pairs_err : float
        K_CIP / K_A.
    association_free_energy_kj_per_mol, cip_free_energy_kj_per_mol : float
        -RT ln(K c deg) of the pair and of the contact pair (kJ/mol), with ``_err``.
    """

    cation: str
    partner: str
    partner_atom: str
    temperature_k: float
    r_nm: np.ndarray
    w_kj_per_mol: np.ndarray
    w_err_kj_per_mol: np.ndarray
    samples: np.ndarray
    water_count: np.ndarray
    water_count_err: np.ndarray
    partner_in_shell: np.ndarray
    partner_in_shell_err: np.ndarray
    charges_e: list[float]
    dielectric: float
    dielectric_source: str
    boundary_nm: float
    boundary_source: str
    tail_from_nm: float
    standard_state: str
    contact_edge_nm: float
    cip_r_nm: float
    cip_w_kj_per_mol: float
    cip_w_err_kj_per_mol: float
    ssip_r_nm: float
    ssip_w_kj_per_mol: float
    ssip_w_err_kj_per_mol: float
    barrier_r_nm: float
    barrier_w_kj_per_mol: float
    barrier_w_err_kj_per_mol: float
    pairing_free_energy_kj_per_mol: float
    pairing_free_energy_err_kj_per_mol: float
    dissociation_barrier_kj_per_mol: float
    dissociation_barrier_err_kj_per_mol: float
    association_barrier_kj_per_mol: float
    association_barrier_err_kj_per_mol: float
    k_a_l_per_mol: float
    log10_k_a: float
    log10_k_a_err: float
    log10_k_a_dielectric_err: float
    k_cip_l_per_mol: float
    log10_k_cip: float
    log10_k_cip_err: float
    cip_fraction_of_pairs: float
    cip_fraction_of_pairs_err: float
    association_free_energy_kj_per_mol: float
    association_free_energy_err_kj_per_mol: float
    cip_free_energy_kj_per_mol: float
    cip_free_energy_err_kj_per_mol: float
    n_bootstrap: int
    min_neighbour_overlap: float
    windows: list[dict]
    shell_cutoff_angstrom: float
    converged: bool
    warnings: list[str]

    def to_frame(self) -> pd.DataFrame:
        """One row per histogram bin."""
        return pd.DataFrame(
            {
                "r_nm": self.r_nm,
                "w_kj_per_mol": self.w_kj_per_mol,
                "w_err_kj_per_mol": self.w_err_kj_per_mol,
                "water_count": self.water_count,
                "water_count_err": self.water_count_err,
                "partner_in_shell": self.partner_in_shell,
                "partner_in_shell_err": self.partner_in_shell_err,
                "samples": self.samples,
            }
        )


def _at(values: np.ndarray, index: int | None) -> float:
    return float(values[index]) if index is not None else float("nan")


def _spread(draws) -> float:
    """Standard deviation of the finite bootstrap draws (NaN with fewer than 2)."""
    draws = np.asarray(draws, dtype=float)
    draws = draws[np.isfinite(draws)]
    return float(np.std(draws, ddof=1)) if len(draws) > 1 else float("nan")


def _log10(k: float) -> float:
    return math.log10(k) if k > 0 else float("nan")


def _state_values(w, draws, states: PairStates) -> dict:
    """W at each state and the differences between states, with bootstrap errors."""
    out = {}
    for name in ("cip", "ssip", "barrier"):
        index = getattr(states, name)
        out[f"{name}_w_kj_per_mol"] = _at(w, index)
        out[f"{name}_w_err_kj_per_mol"] = (
            _spread(draws[:, index]) if index is not None else math.nan
        )
    pairs = {
        "pairing_free_energy": ("cip", "ssip"),
        "dissociation_barrier": ("barrier", "cip"),
        "association_barrier": ("barrier", "ssip"),
    }
    for name, (a, b) in pairs.items():
        i, j = getattr(states, a), getattr(states, b)
        ok = i is not None and j is not None
        out[f"{name}_kj_per_mol"] = float(w[i] - w[j]) if ok else math.nan
        out[f"{name}_err_kj_per_mol"] = _spread(draws[:, i] - draws[:, j]) if ok else math.nan
    return out


def _constants(r_nm, w, draws, lo, hi, model: PairModel, states: PairStates) -> dict:
    """K_A, K_CIP, their log10 with bootstrap errors, the CIP share and dG deg."""
    upper = _at(r_nm, states.barrier) if states.barrier is not None else None
    k_a, k_cip = association_constants(lo, hi, w, model, upper)
    logs = []
    for row in draws:
        filled = np.where(np.isfinite(row), row, w)
        logs.append(association_constants(lo, hi, filled, model, upper))
    logs = np.array(logs, dtype=float).reshape(-1, 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        log_a, log_cip = np.log10(logs[:, 0]), np.log10(logs[:, 1])
        fraction = logs[:, 1] / logs[:, 0]
    rt_ln10 = model.kt * math.log(10.0)
    err_a, err_cip = _spread(log_a), _spread(log_cip)
    return {
        "k_a_l_per_mol": k_a,
        "log10_k_a": _log10(k_a),
        "log10_k_a_err": err_a,
        "k_cip_l_per_mol": k_cip,
        "log10_k_cip": _log10(k_cip),
        "log10_k_cip_err": err_cip,
        "cip_fraction_of_pairs": k_cip / k_a if k_a > 0 else math.nan,
        "cip_fraction_of_pairs_err": _spread(fraction),
        "association_free_energy_kj_per_mol": standard_free_energy_kj_per_mol(
            k_a, model.temperature_k
        ),
        "association_free_energy_err_kj_per_mol": rt_ln10 * err_a,
        "cip_free_energy_kj_per_mol": standard_free_energy_kj_per_mol(k_cip, model.temperature_k)
        if math.isfinite(k_cip)
        else math.nan,
        "cip_free_energy_err_kj_per_mol": rt_ln10 * err_cip,
    }


def _dielectric_err(r_nm, f_kj, lo, hi, model: PairModel, tail_from_nm: float) -> float:
    """Half the change of log10 K_A when the tail is matched with eps_r - err and + err."""
    if not model.dielectric_err:
        return 0.0
    logs = []
    for sign in (-1.0, 1.0):
        m = replace(model, dielectric=model.dielectric + sign * model.dielectric_err)
        w = tail_matched(r_nm, f_kj, lo, hi, m, tail_from_nm)
        logs.append(_log10(association_constants(lo, hi, w, model, None)[0]))
    return 0.5 * abs(logs[1] - logs[0])


def _window_rows(series, kept, samples, centres, force_constants) -> list[dict]:
    return [
        {
            "index": k,
            "centre_nm": float(centres[k]),
            "force_constant_kj_mol_nm2": float(force_constants[k]),
            "n_frames": d.n_frames,
            "equilibration_frames": d.t0,
            "statistical_inefficiency": d.g,
            "n_effective": d.n_effective,
            "mean_r_nm": float(np.mean(x)),
            "mean_water_count": float(np.mean(s.water_count[d.indices])),
            "mean_partner_in_shell": float(np.mean(s.partner_in_shell[d.indices])),
            "contact_fraction": float(np.mean(s.partner_in_shell[d.indices] > 0)),
        }
        for k, (s, d, x) in enumerate(zip(series, kept, samples, strict=True))
    ]


def _contact_wall(windows: list[dict]) -> set[int]:
    """Windows pressed against the contact pair's repulsive wall: in each set of windows
    (one force constant), from the innermost centre outward, each window that sits
    outward of its centre with the partner in the cation's first shell in at least half
    its frames, up to the first that does not. The restraint pushes a contact pair into
    its own core there; the stretch it cannot reach lies inside contact, where nothing
    binds closer and W rises steeply, so these are not windows pushed off their centres
    by a barrier (gaps between windows are still caught by the overlap and empty-bin
    checks). Their indices."""
    wall = set()
    for k in {w["force_constant_kj_mol_nm2"] for w in windows}:
        one_set = [w for w in windows if w["force_constant_kj_mol_nm2"] == k]
        for w in sorted(one_set, key=lambda w: w["centre_nm"]):
            if not (w["mean_r_nm"] > w["centre_nm"] and w["mean_partner_in_shell"] >= 0.5):
                break
            wall.add(w["index"])
    return wall


def _pair_warnings(r_nm, model: PairModel, states: PairStates, n_ok: int, n: int) -> list[str]:
    out = []
    if r_nm[-1] < model.boundary_nm:
        out.append(
            f"the path ends at {r_nm[-1]:.3f} nm, before the K_A boundary "
            f"{model.boundary_nm:.3f} nm: K_A misses the pairs beyond it and the tail match "
            "is not in the Coulomb regime"
        )
    if states.cip is None:
        out.append("no bin with the partner in the cation's first shell: no contact state")
    if states.ssip is None:
        out.append("no solvent-shared minimum of W beyond the contact region")
    if n_ok < n:
        out.append(f"{n - n_ok} of {n} bootstrap resamples failed")
    return out


JUMP_EXTREME = 0.05  # contact fraction of a window that never (or always) exchanged


def _contact_jump(windows: list[dict], overlap: np.ndarray) -> tuple[float, float, float] | None:
    """Neighbouring windows (in the order they sample) of which one has the partner in
    the cation's shell in all but ``JUMP_EXTREME`` of its frames and the other in at
    most that: no window between them saw the partner enter or leave, so the exchange
    (and its hidden first-shell water) was never sampled. (Mean r of each (nm), their
    MBAR overlap) of the first such pair; None."""
    order = sampled_order(windows, "mean_r_nm")
    for i, j in zip(order[:-1], order[1:], strict=True):
        a, b = windows[i]["contact_fraction"], windows[j]["contact_fraction"]
        if max(a, b) >= 1.0 - JUMP_EXTREME and min(a, b) <= JUMP_EXTREME:
            o = float(min(overlap[i, j], overlap[j, i]))
            return windows[i]["mean_r_nm"], windows[j]["mean_r_nm"], o
    return None


def _central(series, kept, centres, force_constants, model: PairModel, bin_width_nm: float):
    """Uncorrelated distances per window, the bin edges, the bin width used (nm) and the
    MBAR profile with the water and partner shell counts as observables. The width is
    ``bin_width_nm``, or narrower so that ``MIN_BINS`` bins span the samples when every
    window stayed close together (runs of a few ps that never left contact)."""
    samples = [s.r_nm[d.indices] for s, d in zip(series, kept, strict=True)]
    if any(len(x) == 0 for x in samples):
        raise InputError("a window has no frames; run it first")
    lo, hi = min(float(x.min()) for x in samples), max(float(x.max()) for x in samples)
    width = min(bin_width_nm, (hi - lo) / MIN_BINS) if hi > lo else bin_width_nm
    edges = np.arange(lo, hi + width, width)
    pairs = list(zip(series, kept, strict=True))
    counts = {
        "water": [s.water_count[d.indices] for s, d in pairs],
        "in_shell": [(s.partner_in_shell[d.indices] > 0) * 1.0 for s, d in pairs],
    }
    t = model.temperature_k
    profile = umbrella_profile(samples, centres, force_constants, t, edges, counts)
    return samples, edges, width, profile


def pair_pmf_result(
    series: list[PairSeriesResult],
    centres: list[float],
    force_constants: list[float],
    model: PairModel,
    bin_width_nm: float,
    shell_cutoff_angstrom: float = float("nan"),
    n_bootstrap: int = DEFAULT_BOOTSTRAP,
    seed: int = 0,
    tail_from_nm: float | None = None,
) -> PairPMFResult:
    """Pair PMF, states and association constants of the windows' series (module
    docstring).

    Parameters
    ----------
    series : list of PairSeriesResult
        One per window.
    centres, force_constants : list of float
        Restraint centre (nm) and force constant (kJ/mol/nm^2) of each window.
    model : PairModel
    bin_width_nm : float
        Histogram bin width (nm).
    shell_cutoff_angstrom : float
        First-shell cutoff of the counts (A), recorded.
    n_bootstrap : int
        Bootstrap resamples for the errors.
    seed : int
        Seed of the bootstrap.
    tail_from_nm : float, optional
        Start of the Coulomb-tail match (nm); default 0.2 nm inside the boundary.

    Raises
    ------
    InputError
        When a window has no frames or too few bins hold samples.
    """
    kept = [decorrelate(s.r_nm, s.water_count, s.partner_in_shell) for s in series]
    samples, edges, width, profile = _central(
        series, kept, centres, force_constants, model, bin_width_nm
    )
    r = profile.z_nm
    blo, bhi = _bins(r, width)
    tail_from = model.boundary_nm - TAIL_INSIDE_NM if tail_from_nm is None else tail_from_nm
    w = tail_matched(r, profile.free_energy_kj_per_mol, blo, bhi, model, tail_from)
    draws = bootstrap_w(
        samples, centres, force_constants, edges, r, model, tail_from, n_bootstrap, seed
    )
    err = np.array([_spread(draws[:, k]) for k in range(len(r))])
    noise = 2.0 * float(np.nanmedian(err)) if np.isfinite(err).any() else 0.0
    states = pair_states(
        r, w, profile.observables["in_shell"], max(PROMINENCE_KT * model.kt, noise)
    )
    windows = _window_rows(series, kept, samples, centres, force_constants)
    wall = _contact_wall(windows)
    for row in windows:
        row["at_contact_wall"] = row["index"] in wall
    n_ok = int(np.sum(np.isfinite(draws).any(axis=1)))
    warnings = window_warnings(profile, windows, "mean_r_nm", exempt=wall)
    warnings += _pair_warnings(r, model, states, n_ok, n_bootstrap)
    jump = _contact_jump(windows, profile.overlap)
    if jump:
        warnings.append(
            f"the partner enters the cation's shell between the windows sampling "
            f"{jump[0]:.3f} and {jump[1]:.3f} nm (overlap {jump[2]:.3f}) and neither saw it "
            "enter or leave: the exchange with a first-shell water, which the distance does "
            "not resolve, was never sampled, so W across it, K_CIP and the contact share "
            "are not determined; run the windows there until they exchange, or bias the "
            "exchange (solvation metad --cv exchange)"
        )
    if width < bin_width_nm:
        warnings.append(
            f"the windows sampled only {edges[-1] - edges[0]:.3f} nm of distance: bins "
            f"narrowed from {bin_width_nm:.3f} to {width:.4f} nm"
        )
    return PairPMFResult(
        cation=model.cation,
        partner=model.partner,
        partner_atom=model.partner_atom,
        temperature_k=model.temperature_k,
        r_nm=r,
        w_kj_per_mol=w,
        w_err_kj_per_mol=err,
        samples=profile.samples,
        water_count=profile.observables["water"],
        water_count_err=profile.observables_err["water"],
        partner_in_shell=profile.observables["in_shell"],
        partner_in_shell_err=profile.observables_err["in_shell"],
        charges_e=[float(c) for c in model.charges_e],
        dielectric=model.dielectric,
        dielectric_source=model.dielectric_source,
        boundary_nm=model.boundary_nm,
        boundary_source=model.boundary_source,
        tail_from_nm=tail_from,
        standard_state=STANDARD_STATE,
        contact_edge_nm=states.contact_edge_nm if states.contact_edge_nm is not None else math.nan,
        cip_r_nm=_at(r, states.cip),
        ssip_r_nm=_at(r, states.ssip),
        barrier_r_nm=_at(r, states.barrier),
        **_state_values(w, draws, states),
        **_constants(r, w, draws, blo, bhi, model, states),
        log10_k_a_dielectric_err=_dielectric_err(
            r, profile.free_energy_kj_per_mol, blo, bhi, model, tail_from
        ),
        n_bootstrap=n_ok,
        min_neighbour_overlap=neighbour_overlap(
            profile.overlap, sampled_order(windows, "mean_r_nm")
        ),
        windows=windows,
        shell_cutoff_angstrom=shell_cutoff_angstrom,
        converged=not warnings,
        warnings=warnings,
    )
