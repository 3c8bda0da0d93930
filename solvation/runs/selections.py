"""What a run holds, read from its records: the selections of its species (from
``build.json``) and its atoms' fixed charges (from ``system.xml``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solvation.forcefields import METAL_RESNAME
from solvation.forcefields.charges import fixed_charges
from solvation.rundir import BuildInfo, RunDir, load_system
from solvation.systems.formula import species_charge

ACCEPTOR_ELEMENTS = "element O N F Cl Br I"


@dataclass(frozen=True)
class RunSelections:
    """Selections of a run's species (MDAnalysis language).

    Attributes
    ----------
    centre : str or None
        The Zn2+ ions (None when the box has none).
    shells : dict of str to str
        Name -> coordinating atoms of each shell species (water O; acceptor atoms of anions
        and neutral molecules).
    molecules : dict of str to str
        Name -> whole molecules of every species except the metal.
    anion : str or None
        The first anion species (its contact pairs are the campaign's cip_fraction).
    additives : list of str
        The neutral species other than water (additives and co-solvents).
    """

    centre: str | None
    shells: dict[str, str]
    molecules: dict[str, str]
    anion: str | None
    additives: tuple[str, ...] = ()


def _charge(species: str) -> int:
    try:
        return species_charge(species)
    except KeyError:  # molecules from SMILES
        return 0


def run_selections(build: BuildInfo) -> RunSelections:
    """Selections from a build's species and residue names.

    Parameters
    ----------
    build : BuildInfo
        The run's ``build.json`` record.
    """
    resnames = {k: v for k, v in build.resnames.items() if v != METAL_RESNAME}
    centre = f"resname {resnames['Zn2+']}" if "Zn2+" in resnames else None
    shells = {"water": f"resname {resnames.get('water', 'HOH')} and name O*"}
    anion, additives = None, []
    for species, rn in resnames.items():
        if species in ("water", "Zn2+") or _charge(species) > 0:
            continue
        shells[species] = f"resname {rn} and ({ACCEPTOR_ELEMENTS})"
        if _charge(species) < 0 and anion is None:
            anion = species
        elif _charge(species) == 0:
            additives.append(species)
    molecules = {k: f"resname {rn}" for k, rn in resnames.items()}
    return RunSelections(centre, shells, molecules, anion, tuple(additives))


def run_directory_charges(path: str | Path) -> np.ndarray | None:
    """Per-atom fixed charges (e) from a build/run directory's system.xml, else None.

    Parameters
    ----------
    path : str or Path
        A build or run directory (anything else gives None).
    """
    if not Path(path).is_dir() or not RunDir(path).system_xml.exists():
        return None
    return np.array(fixed_charges(load_system(path)))
