"""solvation: molecular dynamics of aqueous zinc-battery electrolytes with OpenMM."""

__version__ = "0.1.0"
