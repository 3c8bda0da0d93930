"""Unbiased contact pairs of a run's metadynamics stage (``solvation metad``),
reweighted (``solvation.analysis.reweight``)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from solvation.analysis.reweight import ContactPairsResult, contact_pairs_result
from solvation.analysis.universe import InputError
from solvation.rundir import METAD_DIR, RunDir, temperature_of


def metad_of_directory(
    path: str | Path, skip_fraction: float = 0.2, points: int = 10
) -> ContactPairsResult:
    """Unbiased contact pairs of the metadynamics stage of a run directory
    (``RUN/metad``, ``solvation metad``), reweighted (``analysis.reweight``).

    Parameters
    ----------
    path : str or Path
        A run directory with a metadynamics stage.
    skip_fraction : float
        Leading fraction of the stage left out (the bias' build-up).
    points : int
        Running estimates reported.

    Raises
    ------
    InputError
        When the directory holds no metadynamics stage.
    """
    stage = RunDir(Path(path) / METAD_DIR)
    if not stage.metad_json.exists():
        raise InputError(f"{path} holds no metadynamics stage (run `solvation metad` first)")
    record = json.loads(stage.metad_json.read_text())
    table = pd.read_csv(stage.metad_csv).iloc[: record["rows"]]
    return contact_pairs_result(
        table,
        record["n_cations"],
        temperature_of(Path(path)),
        record["settings"]["bias_factor"],
        skip_fraction,
        points,
    )
