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

from .results import ResultMixin
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
