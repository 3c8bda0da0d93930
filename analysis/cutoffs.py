"""The first-shell definition, and shell cutoffs found in the same pass that uses them.

One first shell for every species and every caller. An atom of a coordinating species
is in a cation's first shell when it lies within that cation's first-shell radius for
its element (a *site*: one species, one element):

- the solvent's sites (water O, ...): the first minimum of the cation-site g(r)
  (``solvent_site``);
- any other site (an anion's O, an additive's O or N ...): where its g(r) has a contact
  peak, i.e. a first significant peak (``shells.first_peak``) closer than the reference
  radius, the minimum after that peak; otherwise the reference radius itself
  (``ligand_site``). The reference radius of an element is the solvent's radius for the
  same element (O: the cation-water O minimum), and for an element the solvent lacks,
  the solvent's O radius shifted by the difference of the Bondi van der Waals radii
  (``reference_radius``). A minimum after a solvent-shared peak is never a first-shell
  cutoff: it is the second shell (SSIP), reported as the site's second-shell cutoff.

Cutoffs found in the pass:
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

from dataclasses import dataclass

import numpy as np

from .neighbors import histogram_index
from .rdf import normalised_g
from .shells import NoMinimumError, first_peak, shell_minima

FALLBACK_CUTOFF_ANGSTROM = 3.0  # when g(r) has no clear first minimum (very short runs)
PAIRING_OFFSET_ANGSTROM = 2.0  # second-shell cutoff past the first when g(r) has no second
CONTACT_MARGIN_ANGSTROM = 0.5  # a contact minimum farther past the reference is not trusted
WARMUP_FRAMES = 20
KEEP_MARGIN_ANGSTROM = 1.0
# Bondi, J. Phys. Chem. 68 (1964) 441, Table I (A): reference radii of elements the
# solvent lacks, relative to its O
BONDI_RADIUS_ANGSTROM = {
    "H": 1.20,
    "C": 1.70,
    "N": 1.55,
    "O": 1.52,
    "F": 1.47,
    "P": 1.80,
    "S": 1.80,
    "CL": 1.75,
    "BR": 1.85,
    "I": 1.98,
}


@dataclass(frozen=True)
class SiteCutoff:
    """First- and second-shell cutoff of one site (species and element) and where they
    came from.

    Attributes
    ----------
    first_angstrom : float
        First-shell radius (A).
    second_angstrom : float or None
        Second-shell radius (A; None where not asked).
    source : str
        How they were found.
    contact_peak_angstrom : float or None
        The contact peak of the site's g(r) (A), None without one (or not assessed).
    """

    first_angstrom: float
    second_angstrom: float | None
    source: str
    contact_peak_angstrom: float | None = None


def solvent_site(r, g, fallback: float | None) -> SiteCutoff:
    """A solvent site's first-shell radius: the first minimum of its g(r) (``fallback``
    A without one; NoMinimumError when that is None).

    Parameters
    ----------
    r : numpy.ndarray
        Bin centres (A).
    g : numpy.ndarray
        Cation-site g(r).
    fallback : float or None
        Radius (A) where g(r) has no clear minimum.
    """
    first, _, source = auto_cutoffs(r, g, False, fallback)
    return SiteCutoff(float(first), None, source)


def reference_radius(element: str, solvent: dict[str, float]) -> tuple[float, str]:
    """(radius in A, what it is) of the first shell of a site without a contact peak:
    the solvent's radius for ``element``, else the solvent's O radius (else its first
    site's) shifted by the Bondi radius of ``element`` minus that of O.

    Parameters
    ----------
    element : str
        Element symbol (upper case).
    solvent : dict of str to float
        First-shell radius (A) of each solvent element.
    """
    if element in solvent:
        return solvent[element], f"the solvent's {element} radius"
    base_element = "O" if "O" in solvent else next(iter(solvent))
    base = solvent[base_element]
    shift = BONDI_RADIUS_ANGSTROM.get(element, 1.52) - BONDI_RADIUS_ANGSTROM.get(base_element, 1.52)
    return base + shift, (
        f"the solvent's {base_element} radius {base:.2f} A {shift:+.2f} A (Bondi radii of "
        f"{element} and {base_element})"
    )


def ligand_site(r, g, reference: float, reference_text: str, want_second: bool) -> SiteCutoff:
    """First- and second-shell radius of a site that is not the solvent (module
    docstring): the minimum after a contact peak, else the reference radius, with the
    g(r) minimum after the solvent-shared peak as the second shell.

    Parameters
    ----------
    r : numpy.ndarray
        Bin centres (A).
    g : numpy.ndarray
        Cation-site g(r).
    reference : float
        Reference radius (A) from ``reference_radius``.
    reference_text : str
        What the reference radius is.
    want_second : bool
        Also find the second-shell radius.
    """
    peak = first_peak(r, g)
    if peak is None or peak[0] >= reference:
        return _no_contact(r, g, reference, reference_text, peak, want_second)
    try:
        first = shell_minima(r, g, 1)[0]
        text = f"minimum after the contact peak at {peak[0]:.2f} A (g = {peak[1]:.2f})"
    except NoMinimumError:
        first, text = reference, f"contact peak at {peak[0]:.2f} A without a clear minimum"
    if first > reference + CONTACT_MARGIN_ANGSTROM:
        text += f"; that minimum ({first:.2f} A) lies past the reference, which is used"
        first = reference
    if first == reference:
        text += f": {reference_text}"
    second = None
    if want_second:
        try:
            second = max(shell_minima(r, g, 2)[1], first + 0.1)
            text += "; second shell: second minimum of g(r)"
        except NoMinimumError:
            second = first + PAIRING_OFFSET_ANGSTROM
            text += f"; second shell: first + {PAIRING_OFFSET_ANGSTROM:g} A"
    return SiteCutoff(float(first), second, text, peak[0])


def _no_contact(r, g, reference, reference_text, peak, want_second) -> SiteCutoff:
    """``ligand_site`` of a site whose g(r) has no peak closer than ``reference``."""
    where = "no peak" if peak is None else f"first peak at {peak[0]:.2f} A"
    text = f"no contact peak ({where}): {reference_text}"
    second = None
    if want_second:
        try:
            found = shell_minima(r, g, 1)[0]
        except NoMinimumError:
            found = 0.0
        if found > reference:
            second = found
            text += (
                f"; the g(r) minimum at {found:.2f} A (after the solvent-shared peak) is "
                "the second shell"
            )
        else:
            second = reference + PAIRING_OFFSET_ANGSTROM
            text += f"; second shell: first + {PAIRING_OFFSET_ANGSTROM:g} A"
    return SiteCutoff(float(reference), second, text, None)


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
