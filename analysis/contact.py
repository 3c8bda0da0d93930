"""The contact layer of the electrolyte on a surface, face by face.

A molecule is in the contact layer of a face when any of its atoms lies within
``thickness`` (A) of the face's atomic plane on the electrolyte side (the top face looks
along +z, the bottom face along -z, through the periodic boundary). Per face and per
species: molecules in the layer per nm^2 and the layer's composition (fractions of the
molecules in it); water oxygens in direct contact per nm^2; the projected area fraction
the species covers (lateral grid points within ``cover_radius`` of one of its atoms in
the layer, in the plane); and the residence time of molecules in the layer (presence
correlation, as for solvation shells). Means carry standard errors from the statistical
inefficiency of their per-frame series (``solvation.analysis.stats``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from MDAnalysis.lib.mdamath import triclinic_vectors

from .base import Analysis
from .correlation import Correlation, presence_correlation, presence_matrix
from .neighbors import cross_pairs
from .results import ResultMixin
from .shells import NoMinimumError, first_minimum
from .stats import Estimate
from .universe import InputError, select

FACES = ("top", "bottom")
DEFAULT_THICKNESS = 3.5  # A, when the water profile has no clear first minimum
SEARCH_ANGSTROM = 10.0


@dataclass(frozen=True)
class FaceLayer(ResultMixin):
    """Contact-layer numbers of one face.

    Attributes
    ----------
    molecules_per_nm2 : dict of str to Estimate
        Molecules of each species in the layer per nm^2 of face.
    composition : dict of str to float
        Fraction of the layer's molecules of each species.
    water_contact_per_nm2 : Estimate or None
        Water oxygens in direct contact per nm^2 (None without a water selection).
    coverage_fraction : dict of str to Estimate
        Projected area fraction each species covers.
    residence : dict of str to Correlation or None
        Presence correlation of each species in the layer (None: too few frames).
    """

    molecules_per_nm2: dict[str, Estimate]
    composition: dict[str, float]
    water_contact_per_nm2: Estimate | None
    coverage_fraction: dict[str, Estimate]
    residence: dict[str, Correlation | None]


@dataclass(frozen=True)
class ContactResult(ResultMixin):
    """The contact layer of the electrolyte on each face of a slab.

    Attributes
    ----------
    thickness_angstrom : float
        Layer thickness (A).
    planes_angstrom : dict of str to float
        z of each face's atomic plane (A).
    n_frames : int
        Frames analysed.
    faces : dict of str to FaceLayer
        'top' and 'bottom'.
    """

    thickness_angstrom: float
    planes_angstrom: dict[str, float]
    n_frames: int
    faces: dict[str, FaceLayer]


class ContactLayer(Analysis):
    """Contact-layer composition, water contact, coverage and residence (module docstring).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    species : dict of str to str
        Name -> selection of electrolyte species (molecules = residues).
    planes : dict of str to float
        Face ("top" / "bottom") -> z of its outermost atomic plane (A).
    thickness : float
        Contact-layer width from the plane (A).
    water_oxygen : str or None
        Selection of water O for the direct-contact count (None: skip).
    cover_radius : float
        In-plane radius (A) an atom covers, default 1.5.
    grid : float
        Lateral grid spacing (A) for the coverage, default 0.25 (area within ~2%).
    **kwargs
        Passed to ``Analysis`` (MDAnalysis ``AnalysisBase``).
    """

    result_name = "contact"

    def __init__(
        self,
        universe,
        species: dict[str, str],
        planes: dict[str, float],
        thickness: float,
        water_oxygen: str | None = "resname HOH and name O*",
        cover_radius: float = 1.5,
        grid: float = 0.25,
        **kwargs,
    ):
        super().__init__(universe.trajectory, **kwargs)
        if set(planes) - set(FACES) or not planes:
            raise InputError(f"planes must name faces among {FACES}")
        if thickness <= 0:
            raise InputError("the contact-layer thickness must be positive (A)")
        self.universe, self.planes, self.thickness = universe, dict(planes), float(thickness)
        self.groups = {k: select(universe, v, f"species {k!r}") for k, v in species.items()}
        self.water_o = select(universe, water_oxygen, "water oxygen") if water_oxygen else None
        self.cover_radius, self.grid = cover_radius, grid

    def _prepare(self):
        self._count = {f: {k: [] for k in self.groups} for f in self.planes}
        self._cover = {f: {k: [] for k in self.groups} for f in self.planes}
        self._water = {f: [] for f in self.planes}
        self._keys = {f: {k: [] for k in self.groups} for f in self.planes}
        self._times = []
        self._grid_key, self._points = None, None

    def _in_layer(self, z: np.ndarray, face: str, lz: float) -> np.ndarray:
        plane = self.planes[face]
        d = np.mod(z - plane, lz) if face == "top" else np.mod(plane - z, lz)
        return (d > 0) & (d < self.thickness)

    def _grid_points(self, box: np.ndarray) -> np.ndarray:
        """Lateral grid over the cell (A), z = 0, for any cell shape."""
        vectors = triclinic_vectors(box)
        na = max(1, int(np.linalg.norm(vectors[0]) / self.grid))
        nb = max(1, int(np.linalg.norm(vectors[1]) / self.grid))
        fa, fb = np.meshgrid((np.arange(na) + 0.5) / na, (np.arange(nb) + 0.5) / nb)
        pts = fa.reshape(-1, 1) * vectors[0] + fb.reshape(-1, 1) * vectors[1]
        pts[:, 2] = 0.0
        return pts.astype(np.float32)

    def _coverage(self, xy: np.ndarray, box: np.ndarray, points: np.ndarray) -> float:
        if len(xy) == 0:
            return 0.0
        flat = xy.copy()
        flat[:, 2] = 0.0
        rows, _, _ = cross_pairs(points, flat, box, self.cover_radius, method=None)
        return len(np.unique(rows)) / len(points)

    def _single_frame(self):
        ts = self._ts
        lz, area_nm2 = float(ts.dimensions[2]), ts.volume / float(ts.dimensions[2]) / 100.0
        key = tuple(np.round(ts.dimensions, 3))
        if key != self._grid_key:  # the lateral grid changes only with the box
            self._grid_key, self._points = key, self._grid_points(ts.dimensions)
        points = self._points
        pos = ts.positions
        for face in self.planes:
            for name, group in self.groups.items():
                inside = self._in_layer(pos[group.indices, 2], face, lz)
                residues = np.unique(group.resindices[inside])
                self._count[face][name].append(len(residues) / area_nm2)
                self._cover[face][name].append(
                    self._coverage(pos[group.indices[inside]], ts.dimensions, points)
                )
                self._keys[face][name].append(residues.astype(np.int64))
            if self.water_o is not None:
                inside = self._in_layer(pos[self.water_o.indices, 2], face, lz)
                self._water[face].append(np.count_nonzero(inside) / area_nm2)
        self._times.append(ts.time)

    def _conclude(self):
        dt = float(np.median(np.diff(self._times))) if len(self._times) > 1 else 0.0
        faces = {}
        for face in self.planes:
            counts = {k: self._estimate(v) for k, v in self._count[face].items()}
            total = sum(e.mean for e in counts.values())
            faces[face] = FaceLayer(
                counts,
                {k: (e.mean / total if total else 0.0) for k, e in counts.items()},
                self._estimate(self._water[face]) if self.water_o else None,
                {k: self._estimate(v) for k, v in self._cover[face].items()},
                {
                    k: presence_correlation(presence_matrix(v), dt)
                    if dt > 0 and self.n_frames > 2 and any(len(x) for x in v)
                    else None
                    for k, v in self._keys[face].items()
                },
            )
        self.results.contact = ContactResult(self.thickness, self.planes, self.n_frames, faces)


def contact_thickness(distance: np.ndarray, water_o_density: np.ndarray) -> float:
    """First minimum (A) of the water-oxygen density profile within 10 A of a face (the
    end of the first water layer), scaled by its median; 3.5 A when it has none.

    Parameters
    ----------
    distance : numpy.ndarray
        Distance from the face (A) of each profile bin.
    water_o_density : numpy.ndarray
        Water-oxygen density per bin.

    Returns
    -------
    float
        Layer thickness (A).
    """
    near = np.asarray(distance, float) < SEARCH_ANGSTROM  # the first layers only
    distance = np.asarray(distance, float)[near]
    dens = np.nan_to_num(np.asarray(water_o_density, float))[near]
    bulk = np.median(dens[dens > 0]) if (dens > 0).any() else 0.0
    if bulk <= 0:
        return DEFAULT_THICKNESS
    try:
        return first_minimum(np.asarray(distance, float), dens / bulk)
    except NoMinimumError:
        return DEFAULT_THICKNESS
