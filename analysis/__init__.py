"""Trajectory analyses, streaming frames through MDAnalysis with one shared neighbour
search: RDF, coordination, speciation, pairing, residence, H-bond network, transport,
water activity, interface profiles and contact layers; and the recipes that apply them
to build/run directories (``solvation.analysis.recipes``). Every mean with an error is a
``stats.Estimate`` (standard error from the statistical inefficiency, effective samples,
convergence flag); viscosity by periodic perturbation lives in ``viscosity``.

Every analysis class follows MDAnalysis' lifecycle (``Analysis(...).run(start, stop,
step)``) and stores one frozen result dataclass at ``.results.<name>``, also reachable
as ``.result``; results have ``to_dict()`` (JSON-safe) and ``to_frame()`` where tabular.
"""

from .base import Analysis, one_pass
from .contact import ContactLayer, ContactResult, FaceLayer
from .coordination import (
    ExchangeCount,
    ShellsWithCutoffs,
    SolvationResult,
    SolvationShells,
    solvation_shells,
)
from .correlation import Correlation, presence_correlation
from .hbonds import HBondResult, HydrogenBonds, hydrogen_bonds, tetrahedral_q
from .interface import InterfaceProfiles, InterfaceResult, poisson_potential
from .rdf import RDF, PairRDF, RDFResult
from .shells import NoMinimumError, first_minimum, first_peak, shell_minima
from .stats import Estimate, combine_replicas, estimate
from .transport import Diffusion, Transport, TransportResult
from .universe import InputError, load_universe
from .viscosity import ViscosityResult, viscosity_of_run, yeh_hummer_viscosity
from .water_activity import (
    KBPoint,
    OsmoticPressure,
    WaterActivity,
    gibbs_duhem,
    kirkwood_buff,
)

__all__ = [
    "Analysis",
    "one_pass",
    "ShellsWithCutoffs",
    "ContactLayer",
    "ContactResult",
    "FaceLayer",
    "SolvationShells",
    "SolvationResult",
    "ExchangeCount",
    "solvation_shells",
    "Correlation",
    "presence_correlation",
    "HydrogenBonds",
    "HBondResult",
    "hydrogen_bonds",
    "tetrahedral_q",
    "InterfaceProfiles",
    "InterfaceResult",
    "poisson_potential",
    "RDF",
    "first_peak",
    "PairRDF",
    "RDFResult",
    "NoMinimumError",
    "first_minimum",
    "shell_minima",
    "Estimate",
    "estimate",
    "combine_replicas",
    "ViscosityResult",
    "viscosity_of_run",
    "yeh_hummer_viscosity",
    "Transport",
    "TransportResult",
    "Diffusion",
    "InputError",
    "load_universe",
    "OsmoticPressure",
    "WaterActivity",
    "KBPoint",
    "kirkwood_buff",
    "gibbs_duhem",
]
