# Names of solvation.analysis, loaded lazily by __init__.py (lazy_loader.attach_stub).

from . import (
    pair_pmf,
    plots,
    rdf,
    results,
    threads,
    transport,
    universe,
    viscosity,
    water_activity,
)
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
from .viscosity import ViscosityResult
from .water_activity import (
    KBPoint,
    OsmoticPressure,
    WaterActivity,
    gibbs_duhem,
    kirkwood_buff,
)

__all__ = [
    "pair_pmf",
    "plots",
    "rdf",
    "results",
    "threads",
    "transport",
    "universe",
    "viscosity",
    "water_activity",
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
    "PairRDF",
    "RDFResult",
    "NoMinimumError",
    "first_minimum",
    "first_peak",
    "shell_minima",
    "Estimate",
    "estimate",
    "combine_replicas",
    "ViscosityResult",
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
