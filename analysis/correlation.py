"""Time correlation of presence: residence times of shell members (and H-bond lifetimes).

Given presence h_k(t) (0/1) of each tracked pair k (centre and member) over frames:

- intermittent: C_I(t) = <h(0) h(t)> / <h(0)>, the member may leave and return;
- continuous: C_C(t) = fraction of pairs present at t0 that stayed present at every
  frame through t0 + t.

Both are averaged over all time origins. tau at 1/e (linear interpolation) and from an
exponential fit exp(-t/tau) are reported.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
from scipy.optimize import OptimizeWarning, curve_fit

from .results import ResultMixin


@dataclass(frozen=True)
class Correlation(ResultMixin):
    """C(t) at lag times (ps) and the lifetimes (ps) derived from it.

    Attributes
    ----------
    lag_ps : numpy.ndarray
        Lag times (ps).
    intermittent, continuous : numpy.ndarray
        Intermittent and continuous presence correlation C(t) at each lag.
    tau_intermittent_1e_ps, tau_continuous_1e_ps : float
        Lag (ps) where C(t) falls to 1/e.
    tau_intermittent_fit_ps, tau_continuous_fit_ps : float
        Lifetime (ps) of a fitted exponential decay.
    """

    lag_ps: np.ndarray
    intermittent: np.ndarray
    continuous: np.ndarray
    tau_intermittent_1e_ps: float
    tau_continuous_1e_ps: float
    tau_intermittent_fit_ps: float
    tau_continuous_fit_ps: float


def _autocorr_sum(h: np.ndarray, max_lag: int, chunk: int = 512) -> np.ndarray:
    """sum_k sum_t0 h_k(t0) h_k(t0+t) for t = 0..max_lag-1 (FFT, O(K F log F)), in chunks
    of pairs so that memory stays bounded."""
    n = h.shape[1]
    size = 1 << int(np.ceil(np.log2(2 * n)))
    total = np.zeros(max_lag)
    for start in range(0, h.shape[0], chunk):
        spec = np.fft.rfft(h[start : start + chunk].astype(np.float64), size, axis=1)
        total += np.fft.irfft(spec * spec.conj(), size, axis=1)[:, :max_lag].sum(axis=0)
    return np.rint(total)


def _continuous_sum(h: np.ndarray, max_lag: int) -> np.ndarray:
    """sum over origins of pairs present continuously from t0 to t0+t: each run of length
    L contributes max(0, L - t), summed through the histogram of run lengths."""
    padded = np.zeros((h.shape[0], h.shape[1] + 2), dtype=np.int8)
    padded[:, 1:-1] = h
    change = np.diff(padded, axis=1)
    lengths = np.nonzero(change.ravel() == -1)[0] - np.nonzero(change.ravel() == 1)[0]
    count = np.bincount(lengths, minlength=h.shape[1] + 1).astype(float)
    lens = np.arange(len(count))
    above_n = np.cumsum(count[::-1])[::-1]  # runs with length >= L
    above_len = np.cumsum((count * lens)[::-1])[::-1]
    lags = np.arange(max_lag)
    # runs longer than t: sum (L - t) = sum_{L >= t+1} L - t * #{L >= t+1}
    return above_len[lags + 1] - lags * above_n[lags + 1]


def _tau_1e(lag: np.ndarray, c: np.ndarray) -> float:
    below = np.nonzero(c < np.exp(-1))[0]
    if len(below) == 0 or below[0] == 0:
        return float("nan")
    k = below[0]
    return float(np.interp(np.exp(-1), [c[k], c[k - 1]], [lag[k], lag[k - 1]]))


def _tau_fit(lag: np.ndarray, c: np.ndarray) -> float:
    mask = np.isfinite(c) & (c > 0.05)
    if mask.sum() < 3:
        return float("nan")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", OptimizeWarning)
            (tau,), _ = curve_fit(
                lambda t, tau: np.exp(-t / tau),
                lag[mask],
                c[mask],
                p0=[max(lag[mask][-1], 1e-3)],
                maxfev=2000,
            )
        return float(tau)
    except RuntimeError:
        return float("nan")


def presence_matrix(frames: list[np.ndarray]) -> np.ndarray:
    """Presence (pairs x frames, bool) from the sorted integer keys present in each frame.

    Parameters
    ----------
    frames : list of numpy.ndarray
        Per frame, the sorted integer keys (e.g. pair ids) present.
    """
    keys = np.unique(np.concatenate(frames)) if frames else np.zeros(0, np.int64)
    h = np.zeros((len(keys), len(frames)), dtype=bool)
    for f, present in enumerate(frames):
        h[np.searchsorted(keys, present), f] = True
    return h


def presence_correlation(h: np.ndarray, dt_ps: float, max_lag: int | None = None) -> Correlation:
    """Correlations of a presence matrix ``h`` (pairs x frames, bool) sampled every ``dt_ps``.

    Parameters
    ----------
    h : numpy.ndarray
        Presence matrix (pairs x frames, bool).
    dt_ps : float
        Time between frames (ps).
    max_lag : int, optional
        Largest lag (frames); default half the frames.
    """
    n_frames = h.shape[1]
    max_lag = max(2, min(max_lag or n_frames // 2, n_frames))
    origins = n_frames - np.arange(max_lag)  # number of time origins at each lag
    if h.size == 0 or not h.any():
        nan = np.full(max_lag, np.nan)
        return Correlation(np.arange(max_lag) * dt_ps, nan, nan, *(float("nan"),) * 4)
    inter = _autocorr_sum(h, max_lag) / origins
    cont = _continuous_sum(h, max_lag) / origins
    inter, cont = inter / inter[0], cont / cont[0]
    lag = np.arange(max_lag) * dt_ps
    return Correlation(
        lag,
        inter,
        cont,
        _tau_1e(lag, inter),
        _tau_1e(lag, cont),
        _tau_fit(lag, inter),
        _tau_fit(lag, cont),
    )
