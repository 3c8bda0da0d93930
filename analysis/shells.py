"""Shell cutoffs from g(r): the first (and second) minimum after the first peak.

Robust to noise: g(r) is smoothed (Savitzky-Golay, window ~0.3 A) before peaks and
troughs are searched with ``scipy.signal.find_peaks``; a trough must lie below its peak
by a set prominence; a flat zero region (a tightly bound shell) is cut at its middle.
When no such minimum exists a clear error says so and asks for a
cutoff.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import find_peaks, savgol_filter

from solvation.errors import SolvationError


class NoMinimumError(SolvationError):
    """g(r) has no clear minimum to use as a shell cutoff."""


def smooth(r: np.ndarray, g: np.ndarray, window_angstrom: float = 0.3) -> np.ndarray:
    """Savitzky-Golay smoothed g(r) (cubic, window ~``window_angstrom``)."""
    dr = float(r[1] - r[0])
    win = max(5, int(round(window_angstrom / dr)) | 1)
    if win >= len(g):
        return g.copy()
    return savgol_filter(g, win, 3)


def shell_minima(
    r: np.ndarray, g: np.ndarray, n: int = 1, min_peak: float = 1.2, prominence: float = 0.15
) -> list[float]:
    """Radii (A) of the first ``n`` minima of g(r) that follow a peak above ``min_peak``.

    ``prominence``: how far (in g units, relative to the peak height for tall peaks) a
    trough must dip below the surrounding maxima to count.
    """
    gs = smooth(r, g)
    height = float(np.nanmax(gs)) if len(gs) else 0.0
    peaks, _ = find_peaks(gs, height=min_peak, prominence=prominence * max(1.0, height / 10))
    if len(peaks) == 0:
        raise NoMinimumError(
            f"g(r) has no peak above {min_peak}; no solvation shell to cut. "
            "Give the cutoff explicitly (--cutoff NAME=ANGSTROM)"
        )
    troughs, _ = find_peaks(-gs, prominence=prominence * max(1.0, height / 10) * 0.5)
    minima = []
    for trough in troughs:
        if trough > peaks[0] and (not minima or trough > minima[-1][0]):
            minima.append((trough, float(r[trough])))
        if len(minima) == n:
            break
    if len(minima) < n:
        raise NoMinimumError(
            f"g(r) has fewer than {n} clear minima after its first peak at "
            f"{r[peaks[0]]:.2f} A (rmax {r[-1]:.1f} A too small, or too few "
            "frames); give the cutoff explicitly (--cutoff NAME=ANGSTROM)"
        )
    raw = np.asarray(g, float)
    radii = [_plateau_centre(r, raw, k, float(np.nanmax(raw))) for k, _ in minima]
    if any(b <= a for a, b in zip(radii, radii[1:], strict=False)):
        raise NoMinimumError(
            f"g(r) minima {radii} are not separated (too few frames?); give the cutoffs explicitly"
        )
    return radii


def _plateau_centre(r: np.ndarray, g: np.ndarray, k: int, height: float) -> float:
    """Centre of the flat bottom of the raw g(r) around trough ``k`` (within 2% of the
    raw peak height): a strongly bound first shell leaves g(r) = 0 over a range, whose
    first point would cut the shell too tight."""
    tol = 0.02 * height
    floor = g[max(0, k - 2) : k + 3].min() + tol
    lo = hi = k
    while lo > 0 and g[lo - 1] <= floor:
        lo -= 1
    while hi < len(g) - 1 and g[hi + 1] <= floor:
        hi += 1
    return float(0.5 * (r[lo] + r[hi]))


def first_minimum(r: np.ndarray, g: np.ndarray, **kwargs) -> float:
    """Radius (A) of the first minimum after the first peak of g(r)."""
    return shell_minima(r, g, 1, **kwargs)[0]
