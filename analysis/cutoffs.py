"""Shell cutoffs found in the same pass over the trajectory that uses them.

A cutoff not given is the first minimum of the centre-shell g(r) (``shells.shell_minima``)
of the frames analysed. Instead of a g(r) pass before the counting pass, the counting
pass accumulates that g(r) itself and keeps, per frame, the centre-shell pairs it will
need: after ``WARMUP_FRAMES`` frames the g(r) so far gives a provisional cutoff, and from
then on only pairs within it + ``KEEP_MARGIN_ANGSTROM`` are kept (all pairs of the search
until then). At the end the cutoff from the whole pass decides which kept pairs count,
so the statistics equal those of a separate g(r) pass followed by a counting pass with
that cutoff. Should the final cutoff lie beyond what was kept (a g(r) that changes its
mind after the warm-up by more than the margin), the caller makes a second pass with it.

What is kept is the first shell plus the margin: ~8 pairs per centre and frame, the same
order as the shell membership that residence times record anyway. Shells that also need
a second-shell (pairing) cutoff keep every pair of the search: they are the anions, few
atoms, and their g(r) is the noisy one (a pre-hydrated start has no contact peak, so a
warm-up minimum would move and force the second pass).
"""

from __future__ import annotations

import numpy as np

from .neighbors import histogram_index
from .rdf import normalised_g
from .shells import NoMinimumError, shell_minima

FALLBACK_CUTOFF_ANGSTROM = 3.0  # when g(r) has no clear first minimum (very short runs)
PAIRING_OFFSET_ANGSTROM = 2.0  # second-shell cutoff past the first when g(r) has no second
WARMUP_FRAMES = 20
KEEP_MARGIN_ANGSTROM = 1.0


def auto_cutoffs(r, g, want_second: bool, fallback: float | None):
    """(first cutoff, second cutoff or None, source text) from one g(r). Without a clear
    minimum: ``fallback`` (A) for the first cutoff, or NoMinimumError when it is None; a
    missing second minimum puts the second cutoff PAIRING_OFFSET_ANGSTROM past the first.

    Parameters
    ----------
    r : numpy.ndarray
        Bin centres (A).
    g : numpy.ndarray
        g(r).
    want_second : bool
        Also find the second cutoff (pairing).
    fallback : float or None
        First cutoff (A) where g(r) has no clear minimum; None raises NoMinimumError.

    Returns
    -------
    tuple of (float, float or None, str)
        First cutoff (A), second cutoff (A) or None, and where they came from.

    Raises
    ------
    NoMinimumError
        When g(r) has no clear first minimum and ``fallback`` is None.
    """
    try:
        first = shell_minima(r, g, 1)[0]
        source = "first minimum of g(r)"
    except NoMinimumError:
        if fallback is None:
            raise
        first, source = float(fallback), f"fallback {fallback:g} A (g(r) has no clear minimum)"
    if not want_second:
        return first, None, source
    try:
        second = shell_minima(r, g, 2)[1]
        source += "; second shell: second minimum of g(r)"
    except NoMinimumError:
        second = first + PAIRING_OFFSET_ANGSTROM
        source += f"; second shell: first cutoff + {PAIRING_OFFSET_ANGSTROM:g} A"
    return first, second, source


class CutoffHistogram:
    """The centre-shell pair histogram of one pass, and how far out the pass must keep
    pairs (``keep``, A) for the cutoff still to come.

    Parameters
    ----------
    edges : numpy.ndarray
        Bin edges (A) of the g(r), uniform from 0 to its rmax.
    n_pairs : int
        Ordered centre-shell pairs that count (``rdf.pair_count``).
    want_second : bool
        Also find the second minimum (pairing).
    fallback : float or None
        First cutoff (A) where g(r) has no clear minimum; None raises NoMinimumError.
    """

    def __init__(self, edges, n_pairs: int, want_second: bool, fallback: float | None):
        self.edges = np.asarray(edges, float)
        self.n_pairs, self.want_second, self.fallback = n_pairs, want_second, fallback
        self.raw = np.zeros(len(self.edges) - 1)
        self.weighted = np.zeros(len(self.edges) - 1)
        self.volume = 0.0
        self.frames = 0
        self.keep = np.inf

    def add(self, d: np.ndarray, volume: float) -> bool:
        """Count one frame's pair distances (A); True when ``keep`` has just shrunk (the
        caller then drops the pairs it kept beyond it)."""
        idx = histogram_index(d, self.edges)
        counts = np.bincount(idx[idx >= 0], minlength=len(self.raw))
        self.raw += counts
        self.weighted += counts * volume
        self.volume += volume
        self.frames += 1
        if self.want_second or np.isfinite(self.keep) or self.frames % WARMUP_FRAMES:
            return False
        try:
            first = shell_minima(self.r, self.g_r, 1)[0]
        except NoMinimumError:
            return False  # no estimate yet: keep everything, try again later
        self.keep = first + KEEP_MARGIN_ANGSTROM
        return True

    @property
    def r(self) -> np.ndarray:
        """Bin centres (A)."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])

    @property
    def g_r(self) -> np.ndarray:
        """g(r) of the pairs accumulated so far."""
        return normalised_g(self.weighted, self.frames, self.n_pairs, self.edges)

    def cutoffs(self):
        """``auto_cutoffs`` of the g(r) of every frame counted so far."""
        return auto_cutoffs(self.r, self.g_r, self.want_second, self.fallback)

    def __add__(self, other: CutoffHistogram) -> CutoffHistogram:
        """The histogram of two parts of a trajectory (parallel backends)."""
        out = CutoffHistogram(self.edges, self.n_pairs, self.want_second, self.fallback)
        out.raw, out.weighted = self.raw + other.raw, self.weighted + other.weighted
        out.volume, out.frames = self.volume + other.volume, self.frames + other.frames
        out.keep = min(self.keep, other.keep)
        return out
