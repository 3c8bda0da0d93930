"""Shell cutoffs from g(r): the minimum after the first (and second) peak, and the first
peak itself (the first significant local maximum, not the highest).

Robust to noise: g(r) is smoothed with a Gaussian of 0.1 A (no ringing, so a tightly
bound shell's empty region stays flat at zero), peaks must pass a height and a
prominence check (``scipy.signal.find_peaks``), and the minimum between two peaks must
lie clearly below the first. When the bottom is flat (within 2% of the peak height), the
cutoff is the middle of the flat region: the first point of an empty gap would cut the
shell too tight. Without a clear minimum a NoMinimumError asks for an explicit cutoff.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d
from scipy.signal import find_peaks

from solvation.errors import SolvationError

SMOOTH_ANGSTROM = 0.1
FLAT_FRACTION = 0.02


class NoMinimumError(SolvationError):
    """g(r) has no clear minimum to use as a shell cutoff."""


def smooth(r: np.ndarray, g: np.ndarray, sigma_angstrom: float = SMOOTH_ANGSTROM) -> np.ndarray:
    """g(r) smoothed by a Gaussian of ``sigma_angstrom``.

    Parameters
    ----------
    r : numpy.ndarray
        Uniform bin centres (A).
    g : numpy.ndarray
        g(r).
    sigma_angstrom : float
        Width of the Gaussian (A).
    """
    dr = float(r[1] - r[0])
    return gaussian_filter1d(np.asarray(g, float), max(sigma_angstrom / dr, 0.5), mode="nearest")


def _flat_centre(gs: np.ndarray, k: int, lo: int, hi: int, tol: float) -> int:
    """Middle index of the region around ``k`` (within [lo, hi]) where gs <= gs[k] + tol."""
    a = b = k
    while a > lo and gs[a - 1] <= gs[k] + tol:
        a -= 1
    while b < hi and gs[b + 1] <= gs[k] + tol:
        b += 1
    return (a + b) // 2


def _peaks(r: np.ndarray, g: np.ndarray, min_peak: float, prominence: float):
    """(smoothed g, indices of its significant peaks, trough depth, height)."""
    gs = smooth(r, g)
    height = float(np.nanmax(gs)) if len(gs) else 0.0
    depth = prominence * max(1.0, height / 10)
    peaks, _ = find_peaks(gs, height=min_peak, prominence=depth)
    return gs, peaks, depth, height


def first_peak(
    r: np.ndarray, g: np.ndarray, min_peak: float = 1.2, prominence: float = 0.15
) -> tuple[float, float] | None:
    """(r in A, g) of the first significant local maximum of g(r) (smoothed as for
    ``shell_minima``; at least ``min_peak`` high and ``prominence`` x max(1, max g / 10)
    prominent), or None when g(r) has none. A contact peak comes before a taller
    solvent-shared one: this is the first peak, not the highest.

    Parameters
    ----------
    r : numpy.ndarray
        Uniform bin centres (A).
    g : numpy.ndarray
        g(r).
    min_peak : float
        Smallest g(r) height of a peak.
    prominence : float
        Smallest prominence, in units of max(1, max g / 10).
    """
    gs, peaks, _, _ = _peaks(np.asarray(r, float), np.asarray(g, float), min_peak, prominence)
    if len(peaks) == 0:
        return None
    k = int(peaks[0])
    return float(r[k]), float(np.asarray(g, float)[k])


def shell_minima(
    r: np.ndarray, g: np.ndarray, n: int = 1, min_peak: float = 1.2, prominence: float = 0.15
) -> list[float]:
    """Radii (A) of the minima after the first ``n`` peaks of g(r) (peaks above
    ``min_peak``, troughs at least ``prominence`` x max(1, peak/10) deep).

    Parameters
    ----------
    r : numpy.ndarray
        Uniform bin centres (A).
    g : numpy.ndarray
        g(r).
    n : int
        Number of shells (minima) wanted.
    min_peak : float
        Smallest g(r) height of a peak.
    prominence : float
        Smallest trough depth, in units of max(1, peak/10).

    Raises
    ------
    NoMinimumError
        When fewer than ``n`` minima are found.
    """
    gs, peaks, depth, height = _peaks(r, g, min_peak, prominence)
    if len(peaks) == 0:
        raise NoMinimumError(
            f"g(r) has no peak above {min_peak}; no solvation shell to cut. "
            "Give the cutoff explicitly (--cutoff NAME=ANGSTROM)"
        )
    radii = []
    for i in range(n):
        if i >= len(peaks):
            raise NoMinimumError(
                f"g(r) has fewer than {n} peaks with minima after them; give "
                "the cutoff explicitly (--cutoff NAME=ANGSTROM)"
            )
        lo = int(peaks[i])
        hi = int(peaks[i + 1]) if i + 1 < len(peaks) else len(gs) - 1
        k = lo + int(np.argmin(gs[lo : hi + 1]))
        if gs[lo] - gs[k] < depth or (i + 1 >= len(peaks) and k >= len(gs) - 2):
            raise NoMinimumError(
                f"no clear minimum after the peak at {r[lo]:.2f} A within rmax {r[-1]:.1f} A "
                "(too few frames, or rmax too small); give the cutoff explicitly"
            )
        radii.append(float(r[_flat_centre(gs, k, lo, hi, FLAT_FRACTION * height)]))
    return radii


def first_minimum(r: np.ndarray, g: np.ndarray, **kwargs) -> float:
    """Radius (A) of the first minimum after the first peak of g(r).

    Parameters
    ----------
    r : numpy.ndarray
        Uniform bin centres (A).
    g : numpy.ndarray
        g(r).
    **kwargs
        ``min_peak``, ``prominence`` as for ``shell_minima``.

    Raises
    ------
    NoMinimumError
        When g(r) has no clear first minimum.
    """
    return shell_minima(r, g, 1, **kwargs)[0]
