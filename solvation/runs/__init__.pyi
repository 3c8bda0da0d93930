# Names of solvation.runs, loaded lazily by __init__.py (lazy_loader.attach_stub).

from . import (
    analyses,
    interface,
    metad,
    pmf,
    selections,
    structure,
    transport,
    viscosity,
    water_activity,
)
from .analyses import AnalysesOfRun, analyses_of_run
from .interface import (
    InterfaceOfRun,
    electrode_sheets,
    electrode_summary,
    interface_of_run,
    slab_planes,
)
from .metad import metad_of_directory
from .pmf import pair_model, pair_pmf_of_directory, pmf_of_directory
from .selections import RunSelections, run_directory_charges, run_selections
from .structure import ShellsOfRun, hbonds_of_run, shells_of_run
from .transport import TransportOfRun, transport_analysis, transport_of_run
from .viscosity import viscosity_of_run, yeh_hummer_viscosity
from .water_activity import (
    WATER_ACTIVITY_METHODS,
    kb_from_run,
    osmotic_from_run,
    water_activity_method,
    water_activity_of_runs,
)

__all__ = [
    "analyses",
    "interface",
    "metad",
    "pmf",
    "selections",
    "structure",
    "transport",
    "viscosity",
    "water_activity",
    "AnalysesOfRun",
    "analyses_of_run",
    "InterfaceOfRun",
    "electrode_sheets",
    "electrode_summary",
    "interface_of_run",
    "slab_planes",
    "metad_of_directory",
    "pair_model",
    "pair_pmf_of_directory",
    "pmf_of_directory",
    "RunSelections",
    "run_directory_charges",
    "run_selections",
    "ShellsOfRun",
    "hbonds_of_run",
    "shells_of_run",
    "TransportOfRun",
    "transport_analysis",
    "transport_of_run",
    "viscosity_of_run",
    "yeh_hummer_viscosity",
    "WATER_ACTIVITY_METHODS",
    "kb_from_run",
    "osmotic_from_run",
    "water_activity_method",
    "water_activity_of_runs",
]
