"""Reweighting of a well-tempered metadynamics run to the unbiased ensemble.

A well-tempered run (Barducci, Bussi & Parrinello, PRL 100 (2008) 020603) deposits
Gaussians of height h exp(-V(s,t) / (k dT)) with dT = T (gamma - 1), gamma the bias
factor. Frame t, at CV value s_t under the bias V(s, t), gets the weight of Tiwary &
Parrinello (J. Phys. Chem. B 119 (2015) 736):

    w_t = exp[(V(s_t, t) - c(t)) / kT],
    c(t) = kT ln[ int ds exp(gamma V(s,t) / ((gamma - 1) kT))
                / int ds exp(V(s,t) / ((gamma - 1) kT)) ],

which removes the time dependence of the bias, so that frames from the whole run (after
an optional transient) average to unbiased expectations:
<A> = sum_t w_t A_t / sum_t w_t.

Errors: for p = <h> of an observable h, z_t = w_t (h_t - p) / mean(w) has mean 0 and the
standard error of p is the standard error of mean(z) from its integrated
autocorrelation time (``stats.estimate``, no equilibration cut): correlation in time and
the spread of the weights both count. ``n_eff`` is that of z.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import logsumexp

from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K

from .results import ResultMixin, jsonable
from .stats import estimate


def well_tempered_c(bias_grid_kj, temperature_k: float, bias_factor: float) -> float:
    """c(t) of Tiwary & Parrinello (module docstring) of one bias on a uniform CV grid
    (kJ/mol).

    Parameters
    ----------
    bias_grid_kj : array_like
        V(s, t) on a uniform grid of s (kJ/mol).
    temperature_k : float
        Temperature (K).
    bias_factor : float
        gamma > 1.
    """
    v = np.asarray(bias_grid_kj, dtype=float) / (GAS_CONSTANT_KJ_PER_MOL_K * temperature_k)
    g = float(bias_factor)
    kt = GAS_CONSTANT_KJ_PER_MOL_K * temperature_k
    return float(kt * (logsumexp(g * v / (g - 1.0)) - logsumexp(v / (g - 1.0))))


def log_weights(bias_kj, c_kj, temperature_k: float) -> np.ndarray:
    """ln w_t = (V(s_t, t) - c(t)) / kT of every frame.

    Parameters
    ----------
    bias_kj, c_kj : array_like
        Per frame, the bias at its CV value and c(t) (kJ/mol).
    temperature_k : float
        Temperature (K).
    """
    kt = GAS_CONSTANT_KJ_PER_MOL_K * temperature_k
    return (np.asarray(bias_kj, float) - np.asarray(c_kj, float)) / kt


@dataclass(frozen=True)
class Reweighted:
    """An unbiased expectation from weighted frames, with its error.

    Attributes
    ----------
    mean : float
    err : float
        Standard error (autocorrelation of z_t, module docstring).
    n_eff : float
        Effective independent samples of z.
    converged : bool
        Whether ``stats.estimate`` judged z converged.
    """

    mean: float
    err: float
    n_eff: float
    converged: bool


def reweighted_mean(values, log_w) -> Reweighted:
    """Weighted mean of per-frame ``values`` with frame weights exp(``log_w``) and its
    autocorrelation-aware error (module docstring).

    Parameters
    ----------
    values : array_like
        Per-frame observable.
    log_w : array_like
        Per-frame log weights.
    """
    h = np.asarray(values, dtype=float)
    w = np.exp(np.asarray(log_w, dtype=float) - np.max(log_w))
    mean = float(np.sum(w * h) / np.sum(w))
    z = w * (h - mean) / np.mean(w)
    e = estimate(z, equilibration=False)
    return Reweighted(mean, float(e.err), float(e.n_eff), bool(e.converged))


@dataclass(frozen=True)
class ReweightedDistribution(ResultMixin):
    """Unbiased distribution of an integer observable (e.g. the number of contact pairs).

    Attributes
    ----------
    values : numpy.ndarray
        The integers.
    probability, probability_err : numpy.ndarray
        P(value) and its standard error.
    n_eff : numpy.ndarray
        Effective samples of each probability.
    mean, mean_err : float
        Unbiased mean of the observable and its error.
    n_frames : int
        Frames used.
    """

    values: np.ndarray
    probability: np.ndarray
    probability_err: np.ndarray
    n_eff: np.ndarray
    mean: float
    mean_err: float
    n_frames: int

    def to_frame(self) -> pd.DataFrame:
        """One row per value."""
        return pd.DataFrame(
            {
                "value": self.values,
                "probability": self.probability,
                "probability_err": self.probability_err,
                "n_eff": self.n_eff,
            }
        )


def reweighted_distribution(values, log_w, support: int | None = None) -> ReweightedDistribution:
    """P(n) of a non-negative integer observable for n = 0..max (or ``support``).

    Parameters
    ----------
    values : array_like of int
        Per-frame observable.
    log_w : array_like
        Per-frame log weights.
    support : int, optional
        Largest value listed (default: the largest seen).
    """
    n = np.asarray(values).astype(int)
    top = int(n.max()) if support is None else int(support)
    rows = [reweighted_mean(n == k, log_w) for k in range(top + 1)]
    mean = reweighted_mean(n, log_w)
    return ReweightedDistribution(
        np.arange(top + 1),
        np.array([r.mean for r in rows]),
        np.array([r.err for r in rows]),
        np.array([r.n_eff for r in rows]),
        mean.mean,
        mean.err,
        len(n),
    )


MIN_CHANGES = 10  # changes of the contact count needed before a fraction is trusted


@dataclass(frozen=True)
class ContactPairsResult(ResultMixin):
    """Unbiased contact pairs of a metadynamics stage (``solvation metad``).

    Attributes
    ----------
    n_cations : int
    temperature_k, bias_factor : float
    skip_ps : float
        Transient left out (ps).
    n_frames : int
        Frames reweighted.
    pairs : ReweightedDistribution
        P(number of cation - anion contact pairs).
    cip_fraction, cip_fraction_err, cip_fraction_n_eff : float
        Fraction of cations with an anion in their first shell (CIP + AGG), its error and
        effective samples.
    cv_min, cv_max : float
        Range of the contact CV the stage explored.
    changes : int
        Times the number of cations in contact changed (transitions seen).
    running : pandas.DataFrame
        time_ps, cip_fraction, cip_fraction_err of the frames up to each time.
    converged : bool
    warnings : list of str
    """

    n_cations: int
    temperature_k: float
    bias_factor: float
    skip_ps: float
    n_frames: int
    pairs: ReweightedDistribution
    cip_fraction: float
    cip_fraction_err: float
    cip_fraction_n_eff: float
    cv_min: float
    cv_max: float
    changes: int
    running: pd.DataFrame
    converged: bool
    warnings: list[str]

    def to_dict(self) -> dict:
        """JSON-able dict (the running estimates as lists)."""
        data = {k: v for k, v in vars(self).items() if k != "running"}
        data["pairs"] = self.pairs.to_dict()
        data["running"] = {c: self.running[c].tolist() for c in self.running.columns}
        return jsonable(data)

    def to_frame(self) -> pd.DataFrame:
        """The distribution of the number of contact pairs."""
        return self.pairs.to_frame()


def _running(t, fraction, lw, points: int) -> pd.DataFrame:
    ends = np.unique(np.linspace(len(t) // points, len(t), points).astype(int))
    rows = []
    for end in ends[ends > 2]:
        r = reweighted_mean(fraction[:end], lw[:end])
        rows.append((float(t[end - 1]), r.mean, r.err))
    return pd.DataFrame(rows, columns=["time_ps", "cip_fraction", "cip_fraction_err"])


def contact_pairs_result(
    table: pd.DataFrame,
    n_cations: int,
    temperature_k: float,
    bias_factor: float,
    skip_fraction: float = 0.2,
    points: int = 10,
) -> ContactPairsResult:
    """Reweighted contact pairs of a metad.csv table (module docstring); the first
    ``skip_fraction`` of the rows (the bias' build-up) is left out.

    Parameters
    ----------
    table : pandas.DataFrame
        metad.csv: time_ps, cv, bias_kj_per_mol, c_kj_per_mol, n_pairs,
        n_cations_in_contact.
    n_cations : int
        Cations in the box.
    temperature_k, bias_factor : float
    skip_fraction : float
        Leading fraction of the rows left out.
    points : int
        Running estimates reported.
    """
    rows = table.iloc[int(len(table) * skip_fraction) :]
    if len(rows) < 3:
        raise ValueError("fewer than three metadynamics rows after the skip; run longer")
    lw = log_weights(rows.bias_kj_per_mol, rows.c_kj_per_mol, temperature_k)
    fraction = rows.n_cations_in_contact.to_numpy() / n_cations
    cip = reweighted_mean(fraction, lw)
    changes = int(np.sum(np.diff(rows.n_cations_in_contact.to_numpy()) != 0))
    warnings = []
    if changes < MIN_CHANGES:
        warnings.append(
            f"the number of cations in contact changed {changes} times (< {MIN_CHANGES})"
        )
    if not cip.converged or cip.n_eff < MIN_CHANGES:
        warnings.append(f"{cip.n_eff:.1f} effective samples of the contact fraction")
    return ContactPairsResult(
        n_cations=n_cations,
        temperature_k=temperature_k,
        bias_factor=bias_factor,
        skip_ps=float(rows.time_ps.iloc[0] - table.time_ps.iloc[0]),
        n_frames=len(rows),
        pairs=reweighted_distribution(rows.n_pairs.to_numpy(), lw),
        cip_fraction=cip.mean,
        cip_fraction_err=cip.err,
        cip_fraction_n_eff=cip.n_eff,
        cv_min=float(rows.cv.min()),
        cv_max=float(rows.cv.max()),
        changes=changes,
        running=_running(rows.time_ps.to_numpy(), fraction, lw, points),
        converged=not warnings,
        warnings=warnings,
    )
