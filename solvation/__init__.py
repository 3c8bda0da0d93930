"""solvation: molecular dynamics of aqueous zinc-battery electrolytes with OpenMM.

Subpackages and modules load when first used (scientific Python SPEC 1,
``lazy_loader``): ``import solvation`` is cheap, and ``solvation.rundir`` or
``solvation.analysis`` load on first access.
"""

import lazy_loader as _lazy

__version__ = "0.1.0"

__getattr__, __dir__, __all__ = _lazy.attach(
    __name__,
    submodules=[
        "analysis",
        "campaigns",
        "citations",
        "cli",
        "console",
        "constants",
        "design",
        "engine",
        "errors",
        "forcefields",
        "formula",
        "jsonio",
        "locks",
        "provenance",
        "quantities",
        "rundir",
        "runs",
        "style",
        "systems",
        "validation",
    ],
)
