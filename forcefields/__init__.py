"""Force-field library: water models, ion sets (Li-Merz, Joung-Cheatham, 12-6-4),
anions, molecules from SMILES (GAFF2/AM1-BCC), Zn metal, and System creation."""

from .amber import amber_bin, use_environment_ambertools
from .library import (
    METHOD_CITATIONS,
    WATER_MODELS,
    ZN_METAL,
    IonParameters,
    MoleculeSpecies,
    ParameterSetRow,
    UnknownName,
    canonical_ion,
    find_sets,
    ion_parameters,
    molecule,
    molecule_table,
    parameter_sets,
    water_model,
)
from .molecules import ParametrizationError, Parametrized, parametrize
from .system import (
    METAL_RESNAME,
    ForceFieldChoices,
    add_virtual_sites,
    build_forcefield,
    create_system,
    net_charge,
    scale_charges,
)

__all__ = [
    "METHOD_CITATIONS",
    "WATER_MODELS",
    "ZN_METAL",
    "IonParameters",
    "MoleculeSpecies",
    "ParameterSetRow",
    "UnknownName",
    "canonical_ion",
    "find_sets",
    "ion_parameters",
    "molecule",
    "molecule_table",
    "parameter_sets",
    "water_model",
    "ParametrizationError",
    "Parametrized",
    "parametrize",
    "METAL_RESNAME",
    "ForceFieldChoices",
    "create_system",
    "net_charge",
    "add_virtual_sites",
    "build_forcefield",
    "scale_charges",
    "amber_bin",
    "use_environment_ambertools",
]
