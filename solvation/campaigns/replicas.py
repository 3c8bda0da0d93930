"""Combine the replicas of each design into one value per descriptor.

Each catalog row (one job = one replica) carries a descriptor's value, standard error,
effective samples n_eff, convergence flag and reason, and the trajectory time behind it.
``combine_descriptors`` reduces the rows of a design and descriptor with
``solvation.analysis.stats.combine_replicas``: the mean of the replica values with the
standard error max(s_b / sqrt(R), sqrt(sum s_r^2) / R) (spread between replicas against
the pooled within-run error), n_eff summed, converged only when the replicas together
hold at least 10 effective samples and none is unconverged for a reason more data of the
same length cannot cure (shells that never exchanged, no fluctuation, unknown error).
The run-length factor shells need to exchange (``time_factor``) is the largest of the
replicas'; ``sampled`` is False when any replica never saw the descriptor's slow process
(no first-shell exchange), and ``problem`` joins the replicas' analysis errors.

Rows written before convergence was judged (``converged`` NULL) count as converged when
their error is known, with unlimited effective samples: the caller vouches for them, as
before. A row without an error never counts as converged.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from solvation.analysis.stats import Estimate, combine_replicas

COLUMNS = (
    "design",
    "name",
    "value",
    "err",
    "n_eff",
    "converged",
    "reason",
    "span_ps",
    "time_factor",
    "sampled",
    "problem",
    "replicas",
)


def _number(row, key: str) -> float:
    value = row.get(key)
    return float(value) if value is not None and not pd.isna(value) else float("nan")


def _false(row: dict, key: str) -> bool:
    """Whether ``row[key]`` is a known False (not missing)."""
    value = row.get(key)
    return value is not None and not pd.isna(value) and not bool(value)


def _text(row: dict, key: str) -> bool:
    """Whether ``row`` holds a non-empty text under ``key``."""
    value = row.get(key)
    return value is not None and not pd.isna(value) and str(value) != ""


def row_estimate(row: dict) -> Estimate:
    """One replica's descriptor as an Estimate (module docstring for old rows).

    Parameters
    ----------
    row : dict
        One per-replica descriptor row (value, err, n_eff, converged, reason).
    """
    err = _number(row, "err")
    flag = row.get("converged")
    converged = math.isfinite(err) if flag is None or pd.isna(flag) else bool(flag)
    n_eff = _number(row, "n_eff")
    if not math.isfinite(n_eff) and converged:
        n_eff = math.inf
    reason = row.get("reason")
    reason = None if reason is None or pd.isna(reason) else str(reason)
    if not converged and reason is None:
        reason = "no error estimate" if not math.isfinite(err) else "not converged"
    return Estimate(_number(row, "value"), err, n_eff, float("nan"), 0, 0, converged, reason)


def combine_descriptors(descriptors: pd.DataFrame) -> pd.DataFrame:
    """One row per design and descriptor (``COLUMNS``) from the per-replica rows (columns
    design, replica, name, value and optionally err, n_eff, converged, reason, span_ps).

    Parameters
    ----------
    descriptors : pandas.DataFrame
        Per-replica descriptor rows.
    """
    rows = []
    for (design, name), group in descriptors.groupby(["design", "name"], sort=True):
        records = group.to_dict("records")
        combined = combine_replicas([row_estimate(r) for r in records])
        spans = [_number(r, "span_ps") for r in records]
        finite = [s for s in spans if math.isfinite(s)]
        factors = [f for f in (_number(r, "time_factor") for r in records) if math.isfinite(f)]
        rows.append(
            {
                "design": design,
                "name": name,
                "value": combined.mean,
                "err": combined.err,
                "n_eff": combined.n_eff,
                "converged": combined.converged,
                "reason": combined.reason,
                "span_ps": float(np.mean(finite)) if finite else float("nan"),
                "time_factor": max(factors) if factors else float("nan"),
                "sampled": not any(_false(r, "sampled") for r in records),
                "problem": "; ".join(
                    sorted({str(r["problem"]) for r in records if _text(r, "problem")})
                )
                or None,
                "replicas": len(records),
            }
        )
    return pd.DataFrame(rows, columns=list(COLUMNS))
