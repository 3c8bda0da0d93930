# Names of solvation.validation, loaded lazily by __init__.py (lazy_loader.attach_stub).

from .references import Comparison, Reference, ReferenceError_, compare, load_references
from .suite import run_case, validate

__all__ = [
    "Comparison",
    "Reference",
    "ReferenceError_",
    "compare",
    "load_references",
    "run_case",
    "validate",
]
