# Names of solvation.systems, loaded lazily by __init__.py (lazy_loader.attach_stub).

from .build import BuildError, BuiltSystem, build
from .check import check_design
from .composition import Composition, CompositionError, compose, size_box
from .formula import FormulaError, parse_salt
from .packing import PackingError
from .slab import zn_slab
from .substrates import substrate_slab

__all__ = [
    "BuildError",
    "BuiltSystem",
    "build",
    "check_design",
    "Composition",
    "CompositionError",
    "compose",
    "size_box",
    "FormulaError",
    "parse_salt",
    "PackingError",
    "zn_slab",
    "substrate_slab",
]
