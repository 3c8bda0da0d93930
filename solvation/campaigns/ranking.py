"""Rank designs by a weighted sum of normalised descriptors, with uncertainty.

score(design) = sum_k w_k (x_k - mean_k) / std_k, where x_k is the design's mean over
replicas and mean/std run over the designs. Uncertainty: a bootstrap that resamples
replicas (and draws each replica value from its own reported error) gives the spread of
each score and the probability that each design ranks first. The Pareto front of two
descriptors uses the weights' signs for the direction (positive: larger is better).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from solvation.errors import SolvationError

from .campaign import DESCRIPTORS, load_campaign
from .catalog import Catalog
from .figures import write_ranking_figure


class RankingError(SolvationError):
    """Descriptors missing for ranking."""


@dataclass(frozen=True)
class Ranking:
    table: pd.DataFrame  # design, score, score_err, p_first, rank, descriptor means
    pareto: list[str]
    left_out: dict[str, str] = field(default_factory=dict)  # design -> why it is not ranked


def complete_designs(
    descriptors: pd.DataFrame, weights: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows of the designs that have every weighted descriptor (a finite replica mean),
    and the others with the descriptors they lack."""
    means = design_means(descriptors) if len(descriptors) else pd.DataFrame()
    left_out = {}
    for design in means.index:
        lacking = [k for k in weights if k not in means.columns or pd.isna(means.at[design, k])]
        if lacking:
            left_out[str(design)] = f"no value for {', '.join(lacking)}"
    return descriptors[~descriptors.design.isin(list(left_out))], left_out


def design_means(descriptors: pd.DataFrame) -> pd.DataFrame:
    """Design x descriptor table of replica means."""
    return descriptors.pivot_table(index="design", columns="name", values="value", aggfunc="mean")


def _scores(values: pd.DataFrame, weights: dict, centre: pd.Series, scale: pd.Series) -> pd.Series:
    z = (values[list(weights)] - centre[list(weights)]) / scale[list(weights)]
    return (z * pd.Series(weights)).sum(axis=1)


def rank(
    descriptors: pd.DataFrame,
    weights: dict[str, float],
    n_boot: int = 2000,
    seed: int = 0,
    pareto: tuple[str, str] | None = None,
) -> Ranking:
    """Ranking of the designs in ``descriptors`` (columns design, replica, name, value, err)."""
    if not weights:
        raise RankingError("no ranking weights given ([rank] weights in the campaign file)")
    descriptors, left_out = complete_designs(descriptors, weights)
    if descriptors.empty:
        why = "; ".join(f"{d}: {r}" for d, r in left_out.items()) or "no finished job"
        raise RankingError(f"no design can be ranked ({why})")
    means = design_means(descriptors)
    missing = [k for k in weights if k not in means.columns or means[k].isna().any()]
    if missing:
        raise RankingError(
            f"descriptors {missing} are missing for some designs; run those "
            "analyses or drop the weights"
        )
    centre = means.mean()
    scale = means.std(ddof=0).replace(0.0, 1.0).fillna(1.0)
    score = _scores(means, weights, centre, scale)
    rng = np.random.default_rng(seed)
    groups = {
        (d, n): g
        for (d, n), g in descriptors[descriptors.name.isin(list(weights))].groupby(
            ["design", "name"]
        )
    }
    boot = np.empty((n_boot, len(means)))
    for b in range(n_boot):
        sample = means.copy()
        for (d, n), g in groups.items():
            pick = g.sample(len(g), replace=True, random_state=rng.integers(1 << 31))
            noise = rng.normal(0.0, pick.err.fillna(0.0).to_numpy())
            sample.loc[d, n] = float((pick.value.to_numpy() + noise).mean())
        boot[b] = _scores(sample, weights, centre, scale).to_numpy()
    first = np.bincount(boot.argmax(axis=1), minlength=len(means)) / n_boot
    table = pd.DataFrame(
        {
            "design": means.index,
            "score": score.to_numpy(),
            "score_err": boot.std(axis=0),
            "p_first": first,
        }
    )
    table = table.join(means.reset_index(drop=True))
    table = table.sort_values("score", ascending=False).reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    front = pareto_front(means, pareto, weights) if pareto else []
    return Ranking(table, front, left_out)


def pareto_front(means: pd.DataFrame, names: tuple[str, str], weights: dict) -> list[str]:
    """Designs not dominated in the two descriptors ``names`` (direction from weights)."""
    a, b = names
    sign = np.array([np.sign(weights.get(a, 1.0)) or 1.0, np.sign(weights.get(b, 1.0)) or 1.0])
    pts = means[[a, b]].to_numpy() * sign
    front = []
    for i, p in enumerate(pts):
        dominated = np.any(np.all(pts >= p, axis=1) & np.any(pts > p, axis=1))
        if not dominated:
            front.append(means.index[i])
    return front


def rank_directory(
    directory: str | Path,
    campaign: str | Path | None = None,
    weights: dict[str, float] | None = None,
    pareto: tuple[str, str] | None = None,
) -> Ranking:
    """Rank the designs of a campaign directory: weights and Pareto pair from
    ``campaign`` (a campaign file) overridden by ``weights``/``pareto``; writes
    DIR/ranking.csv and the ranking figure (DIR/figures)."""
    directory = Path(directory)
    catalog = Catalog.existing(directory)
    merged, front = {}, None
    campaign = campaign if campaign is not None else _campaign_file(catalog, bool(weights))
    if campaign is not None:
        loaded = load_campaign(campaign)
        merged, front = dict(loaded.weights), loaded.pareto
    unknown = set(weights or {}) - set(DESCRIPTORS)
    if unknown:
        raise RankingError(
            f"unknown descriptors {sorted(unknown)}; known: {', '.join(DESCRIPTORS)}"
        )
    merged.update(weights or {})
    descriptors = catalog.descriptors()
    unfinished = _unfinished(catalog, set(descriptors.design))
    try:
        result = rank(descriptors, merged, pareto=pareto or front)
    except RankingError as err:
        if not unfinished:
            raise
        listed = "; ".join(f"{d}: {why}" for d, why in unfinished.items())
        raise RankingError(f"{err}; designs without a finished job: {listed}") from None
    result.left_out.update(unfinished)
    result.table.to_csv(directory / "ranking.csv", index=False)
    write_ranking_figure(directory)
    return result


def _campaign_file(catalog: Catalog, have_weights: bool) -> Path | None:
    """The campaign file the directory was made from (stored when it ran)."""
    stored = catalog.meta("campaign_file")
    if stored is None:
        if have_weights:
            return None
        raise RankingError(
            f"{catalog.path.parent} does not record its campaign file (made by an older "
            "version); give --campaign FILE or --weight NAME=W"
        )
    if not Path(stored).is_file():
        raise RankingError(
            f"the campaign file this directory was made from, {stored}, is gone; give "
            "--campaign FILE or --weight NAME=W"
        )
    return Path(stored)


def _unfinished(catalog: Catalog, with_results: set[str]) -> dict[str, str]:
    """Designs of the catalog without a finished job, with their jobs' states."""
    out = {}
    for design, group in catalog.jobs().groupby("design"):
        if design not in with_results:
            states = ", ".join(f"{n} {s}" for s, n in group.status.value_counts().items())
            out[str(design)] = f"no finished job ({states})"
    return out
