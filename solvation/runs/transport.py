"""Transport of a run: self-diffusion of every molecular species and, with two or more
ionic species, the conductivity from the same centre-of-mass series, one pass; the
Yeh-Hummer correction with the viscosity ``yeh_hummer_viscosity`` picks for the run.
``transport_analysis`` is the one place a ``Transport`` is set up with that correction
(the recipes, the command line and the validation suite call it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from solvation.analysis.transport import Transport, TransportResult
from solvation.analysis.universe import species_charges
from solvation.rundir import BuildInfo

from .selections import run_selections
from .viscosity import yeh_hummer_viscosity


def transport_analysis(
    universe,
    species: dict[str, str],
    temperature_k: float,
    directory: str | Path | None,
    viscosity_pa_s: float | None = None,
    **options,
) -> Transport:
    """A ``Transport`` of ``species`` (not yet run) with the Yeh-Hummer correction for the
    viscosity ``yeh_hummer_viscosity`` picks: ``viscosity_pa_s`` if given, else the run's
    measured one, else pure water's published one, else none (uncorrected, said so).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    species : dict of str to str
        Name -> selection of each species' molecules.
    temperature_k : float
        Temperature (K).
    directory : str or Path or None
        The run directory (its measured viscosity, its water model); None: not a run.
    viscosity_pa_s : float, optional
        Viscosity given by the user (Pa s).
    **options
        Passed to ``Transport``: charges, dimensions, dt_ps, verbose ...
    """
    eta, source = yeh_hummer_viscosity(viscosity_pa_s, directory)
    return Transport(
        universe,
        species,
        temperature=temperature_k,
        viscosity=eta,
        viscosity_source=source,
        **options,
    )


@dataclass(frozen=True)
class TransportOfRun:
    """Diffusion of every species, and the conductivity of the ions (empty without two
    charged species).

    Attributes
    ----------
    transport : TransportResult
    conductivity : dict
        Conductivity (``sigma_S_per_m`` with its error, Nernst-Einstein value ...); empty
        without two charged species.
    """

    transport: TransportResult
    conductivity: dict


def transport_analysis_of_run(
    universe,
    build: BuildInfo,
    temperature_k: float,
    charges: np.ndarray | None,
    directory: str | Path | None = None,
) -> Transport:
    """The ``Transport`` ``transport_of_run`` runs, not yet run: diffusion of every
    molecular species and, with two or more ionic species, the conductivity (neutral
    species carry charge 0 and add nothing); Yeh-Hummer with the viscosity
    ``yeh_hummer_viscosity`` picks for ``directory``.

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    temperature_k : float
        Temperature (K).
    charges : numpy.ndarray or None
        Per-atom charges (e); None: the topology's.
    directory : str or Path, optional
        The run directory.
    """
    species = run_selections(build).molecules
    z = species_charges(universe, species, charges)
    ions = [k for k, v in z.items() if abs(v) > 1e-6]
    return transport_analysis(
        universe,
        species,
        temperature_k,
        directory,
        charges={k: z[k] if k in ions else 0.0 for k in species} if len(ions) >= 2 else None,
    )


def transport_of_analysis(analysis: Transport) -> TransportOfRun:
    """The ``TransportOfRun`` of a ``Transport`` after its pass over the frames.

    Parameters
    ----------
    analysis : Transport
        A finished transport analysis.
    """
    result = analysis.results.transport
    return TransportOfRun(result, dict(result.conductivity))


def transport_of_run(
    universe,
    build: BuildInfo,
    temperature_k: float,
    charges: np.ndarray | None,
    directory: str | Path | None = None,
) -> TransportOfRun:
    """Self-diffusion of every molecular species and the ions' conductivity, one pass; the
    Yeh-Hummer correction uses the viscosity ``yeh_hummer_viscosity`` picks for
    ``directory`` (measured there, else the water model's published one).

    Parameters
    ----------
    universe : MDAnalysis.Universe
    build : BuildInfo
        The run's ``build.json`` record.
    temperature_k : float
        Temperature (K).
    charges : numpy.ndarray or None
        Per-atom charges (e) for the conductivity.
    directory : str or Path, optional
        The run directory (its measured viscosity for the Yeh-Hummer correction).
    """
    analysis = transport_analysis_of_run(universe, build, temperature_k, charges, directory)
    return transport_of_analysis(analysis.run())
