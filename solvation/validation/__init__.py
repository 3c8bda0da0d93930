"""``solvation validate``: reference systems run and compared with experiment."""

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
