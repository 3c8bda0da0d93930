"""Trajectory analyses (RDF, coordination, speciation, pairing, residence), streaming
frames through MDAnalysis with one shared neighbour search."""

from .coordination import SolvationResult, SolvationShells, solvation_shells
from .correlation import Correlation, presence_correlation
from .rdf import RDF, RDFResult
from .shells import NoMinimumError, first_minimum, shell_minima
from .universe import InputError, load_universe

__all__ = [
    "RDF",
    "RDFResult",
    "SolvationShells",
    "SolvationResult",
    "solvation_shells",
    "Correlation",
    "presence_correlation",
    "NoMinimumError",
    "first_minimum",
    "shell_minima",
    "InputError",
    "load_universe",
]
