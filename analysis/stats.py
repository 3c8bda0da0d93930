"""Small statistics shared by the analyses: means with block standard errors."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .results import ResultMixin


@dataclass(frozen=True)
class Estimate(ResultMixin):
    """A mean over frames with its standard error over time blocks."""

    mean: float
    err: float


def block_estimate(series: np.ndarray, n_blocks: int) -> Estimate:
    """Mean of a per-frame series and the standard error of its block means."""
    series = np.asarray(series, dtype=float)
    if len(series) < 2 * n_blocks:
        return Estimate(float(series.mean()), float("nan"))
    blocks = [b.mean() for b in np.array_split(series, n_blocks)]
    return Estimate(float(series.mean()), float(np.std(blocks, ddof=1) / np.sqrt(n_blocks)))


def sample_estimate(values) -> Estimate:
    """Mean of independent samples (e.g. one value per time block) and its standard error."""
    values = np.asarray(values, dtype=float)
    err = np.std(values, ddof=1) / np.sqrt(len(values)) if len(values) > 1 else np.nan
    return Estimate(float(values.mean()), float(err))
