"""Rank designs by a weighted sum of normalised descriptors, with what the data can tell.

score(design) = sum_k w_k (x_k - mean_k) / std_k, x_k the design's descriptor combined
over its replicas (``replicas.combine_descriptors``: standard error from the spread
between replicas and the within-run errors), mean_k and std_k over the designs.

Uncertainty, by drawing every design's descriptors ``n_draws`` times:

- a converged descriptor is drawn from a normal distribution around its value with its
  combined standard error;
- a descriptor that did not converge (fewer than 10 effective samples over the
  replicas, first shells that never exchanged, a series that never changed, no error
  estimate) is not trusted at all: each draw takes the value of a design picked at
  random among all designs for that descriptor. It widens every interval as far as the
  spread between designs, and when every weighted descriptor is unconverged all designs
  become exchangeable (P(first) = 1 / number of designs).

From the draws: the score's standard deviation (``score_err``), the probability of
ranking first (``p_first``, ties shared), and the 95% rank interval (``rank_low`` ..
``rank_high``). Designs next to each other in the ranking are *separable* when the upper
one scores higher in at least 95% of the draws. Otherwise the run length each replica
would need is estimated from the measured effective samples, n_eff growing in
proportion to the run length T:

- every unconverged weighted descriptor of the pair must reach 10 effective samples:
  T x 10 / n_eff; with no measurable fluctuation (n_eff unknown) at least T x 10 / R,
  as R replicas held at most one effective sample each; a shell quantity must also see
  2 exchange events per ion: T x 2 / (events per ion) (``time_factor`` of the
  descriptor). Where the descriptor's slow process never happened (no first-shell
  exchange at all, ``sampled`` False) no length is promised: the pair is reported as
  one plain MD of this length cannot settle (a free-energy route can);
- the score gap Delta must reach two standard errors of the converged part of the
  score difference, sigma_Delta shrinking as 1 / sqrt(T): T x (2 sigma_Delta / Delta)^2.

The larger of the two, minus the current T, is the "need ~N ns more (per replica)".

The table is ordered by P(first), so that its order and P(first) agree; designs whose
P(first) lie within three Monte Carlo standard errors of each other are a tie, ordered by
the score (and said so in the summary). Designs with an analysis error in a
weighted descriptor (a first shell beyond the cation's chemistry: ``problem``) are never
ranked: they are left out with that error. The Pareto front of two descriptors uses the
weights' signs for the direction (positive: larger is better).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.stats import rankdata

from solvation.analysis.stats import MIN_N_EFF
from solvation.errors import SolvationError

from .campaign import check_pareto, check_weights, load_campaign
from .catalog import Catalog
from .figures import write_ranking_figure
from .replicas import combine_descriptors

SEPARABLE_P = 0.95


class RankingError(SolvationError):
    """Descriptors missing for ranking."""


@dataclass(frozen=True)
class Separation:
    """Whether two designs next to each other in the ranking can be told apart.

    Attributes
    ----------
    upper, lower : str
        The higher- and lower-ranked design.
    p_order : float
        Fraction of draws in which ``upper`` scores above ``lower``.
    separable : bool
        Whether ``upper`` scores higher in at least 95% of the draws.
    more_ns : float or None
        Estimated extra run length per replica to separate them (ns; inf when their scores
        do not differ; None when separable, unsettled or the run length is unknown).
    at_least : bool
        ``more_ns`` is a lower bound (a descriptor showed no fluctuation at all).
    unsettled : str or None
        The weighted descriptors whose slow process never happened (no first-shell
        exchange): plain MD of this length cannot settle the pair.
    """

    upper: str
    lower: str
    p_order: float
    separable: bool
    more_ns: float | None
    at_least: bool
    unsettled: str | None = None

    def text(self) -> str:
        """One line saying whether the pair is separable and, if not, what would separate it."""
        if self.separable:
            return f"{self.upper} above {self.lower}: separable (P = {self.p_order:.2f})"
        head = f"{self.upper} and {self.lower}: not separable (P = {self.p_order:.2f})"
        if self.unsettled:
            return (
                f"{head}: {self.unsettled} never exchanged in the first shells, so plain MD "
                "of this length cannot settle them (use a free-energy route)"
            )
        if self.more_ns is None:
            return f"{head}, run length unknown: run longer or add replicas"
        if math.isinf(self.more_ns):
            return f"{head}: their scores do not differ"
        more = f"{'>= ' if self.at_least else '~'}{_ns(self.more_ns)} ns"
        return f"{head}, need {more} more per replica"


def _ns(value: float) -> str:
    return f"{value:.2g}" if value < 10 else f"{value:.0f}"


@dataclass(frozen=True)
class Ranking:
    """The ranking of a campaign's designs.

    Attributes
    ----------
    table : pandas.DataFrame
        rank, design, score, score_err, p_first, rank_low, rank_high, unconverged (weighted
        descriptors that did not converge) and per descriptor its combined value, _err,
        _n_eff and _converged.
    pareto : list of str
        Designs on the Pareto front of the two ``pareto`` descriptors.
    left_out : dict of str to str
        Design -> why it is not ranked.
    separations : list of Separation
        Adjacent pairs.
    ties : list of list of str
        Designs whose P(first) agree within the Monte Carlo error of the draws (ordered
        among themselves by score).
    """

    table: pd.DataFrame
    pareto: list[str]
    left_out: dict[str, str] = field(default_factory=dict)  # design -> why it is not ranked
    separations: list[Separation] = field(default_factory=list)
    ties: list[list[str]] = field(default_factory=list)

    def summary(self) -> list[str]:
        """One line per pair of neighbours that cannot be separated (none: all can), and
        the designs ordered by score because their P(first) tie."""
        if len(self.table) < 2:
            return ["only one design has results: nothing to rank it against"]
        lines = [s.text() for s in self.separations if not s.separable]
        lines += [
            f"P(first) of {', '.join(t)} agree within the Monte Carlo error: ordered by score"
            for t in self.ties
        ]
        return lines or ["every design is separable from its neighbours (P >= 0.95)"]


def complete_designs(
    descriptors: pd.DataFrame, weights: dict[str, float]
) -> tuple[pd.DataFrame, dict[str, str]]:
    """Rows of the designs that have every weighted descriptor (a finite replica mean),
    and the others with the descriptors they lack.

    Parameters
    ----------
    descriptors : pandas.DataFrame
        Per-replica descriptor rows (design, replica, name, value ...).
    weights : dict of str to float
        Ranking weight of each descriptor.
    """
    means = design_means(descriptors) if len(descriptors) else pd.DataFrame()
    left_out = {}
    for design in means.index:
        lacking = [k for k in weights if k not in means.columns or pd.isna(means.at[design, k])]
        if lacking:
            left_out[str(design)] = f"no value for {', '.join(lacking)}"
    for design, problem in _problems(descriptors, weights).items():
        left_out.setdefault(design, f"analysis error, never ranked: {problem}")
    return descriptors[~descriptors.design.isin(list(left_out))], left_out


def _problems(descriptors: pd.DataFrame, weights: dict[str, float]) -> dict[str, str]:
    """Design -> the analysis errors of its weighted descriptors."""
    if "problem" not in descriptors.columns or descriptors.empty:
        return {}
    rows = descriptors[descriptors.name.isin(list(weights)) & descriptors.problem.notna()]
    rows = rows[rows.problem.astype(str) != ""]
    return {
        str(d): "; ".join(sorted(set(g.problem.astype(str)))) for d, g in rows.groupby("design")
    }


def design_means(descriptors: pd.DataFrame) -> pd.DataFrame:
    """Design x descriptor table of replica means.

    Parameters
    ----------
    descriptors : pandas.DataFrame
        Per-replica descriptor rows (design, replica, name, value ...).
    """
    return descriptors.pivot_table(index="design", columns="name", values="value", aggfunc="mean")


def _matrices(combined: pd.DataFrame, designs, names) -> dict[str, np.ndarray]:
    """Design x descriptor arrays of the combined value, error, n_eff, trust, span."""

    def grid(column, fill):
        table = combined.pivot(index="design", columns="name", values=column)
        return table.reindex(index=designs, columns=names).to_numpy(dtype=float, na_value=fill)

    trusted = grid("converged", 0.0) > 0.5
    err = grid("err", np.nan)
    sampled = grid("sampled", 1.0) > 0.5 if "sampled" in combined else np.ones_like(trusted, bool)
    return {
        "sampled": sampled,
        "value": grid("value", np.nan),
        "err": np.where(trusted, np.nan_to_num(err), np.nan),
        "n_eff": grid("n_eff", np.nan),
        "trusted": trusted,
        "span_ps": grid("span_ps", np.nan),
        "time_factor": grid("time_factor", np.nan),
        "replicas": grid("replicas", 1.0),
    }


def _draws(m: dict, n_draws: int, rng: np.random.Generator) -> np.ndarray:
    """(draws, designs, descriptors) values: trusted ones normal around their value,
    the others a random design's value of the same descriptor."""
    value, trusted = m["value"], m["trusted"]
    n_d, n_k = value.shape
    noise = rng.normal(size=(n_draws, n_d, n_k)) * np.nan_to_num(m["err"])[None]
    draws = value[None] + noise
    pick = rng.integers(0, n_d, size=(n_draws, n_d, n_k))
    borrowed = value[pick, np.arange(n_k)[None, None, :]]
    return np.where(trusted[None], draws, borrowed)


def _scores(values: np.ndarray, weights: np.ndarray, centre, scale) -> np.ndarray:
    return (((values - centre) / scale) * weights).sum(axis=-1)


def _first_probability(scores: np.ndarray) -> np.ndarray:
    """P(first) per design from (draws, designs) scores, ties shared equally."""
    best = scores == scores.max(axis=1, keepdims=True)
    return (best / best.sum(axis=1, keepdims=True)).mean(axis=0)


def rank(
    descriptors: pd.DataFrame,
    weights: dict[str, float],
    n_boot: int = 4000,
    seed: int = 0,
    pareto: tuple[str, str] | None = None,
) -> Ranking:
    """Ranking of the designs in ``descriptors`` (columns design, replica, name, value, err
    and, from a catalog, n_eff, converged, reason, span_ps); see the module docstring.

    Parameters
    ----------
    descriptors : pandas.DataFrame
        Per-replica descriptor rows.
    weights : dict of str to float
        Ranking weight of each descriptor (sign: direction).
    n_boot : int
        Bootstrap draws.
    seed : int
        Random seed of the draws.
    pareto : tuple of (str, str), optional
        Two descriptors for the Pareto front.

    Raises
    ------
    RankingError
        Without weights or with nothing to rank.
    """
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
    names, designs = list(weights), list(means.index)
    combined = combine_descriptors(descriptors[descriptors.name.isin(names)])
    m = _matrices(combined, designs, names)
    m["names"] = names
    centre = m["value"].mean(axis=0)
    scale = m["value"].std(axis=0)
    scale = np.where(np.isfinite(scale) & (scale > 0), scale, 1.0)
    w = np.array([weights[k] for k in names], dtype=float)
    score = _scores(m["value"], w, centre, scale)
    if not np.all(np.isfinite(score)):
        raise RankingError(
            f"the scores are not finite (weights {weights}); check the weights and the "
            "descriptor values"
        )
    boot = _scores(_draws(m, n_boot, np.random.default_rng(seed)), w, centre, scale)
    ranks = rankdata(-boot, axis=1, method="average")
    table = pd.DataFrame(
        {
            "design": designs,
            "score": score,
            "score_err": boot.std(axis=0),
            "p_first": _first_probability(boot),
            "rank_low": np.floor(np.percentile(ranks, 2.5, axis=0)).astype(int),
            "rank_high": np.ceil(np.percentile(ranks, 97.5, axis=0)).astype(int),
            "unconverged": [
                ", ".join(k for j, k in enumerate(names) if not m["trusted"][i, j])
                for i in range(len(designs))
            ],
        }
    )
    table = table.join(_descriptor_columns(combined, designs, means))
    order, tied = _order(table["p_first"].to_numpy(), score, n_boot)
    table = table.iloc[order].reset_index(drop=True)
    table.insert(0, "rank", np.arange(1, len(table) + 1))
    separations = [
        _separation(i, j, boot, m, w, scale, designs)
        for i, j in zip(order[:-1], order[1:], strict=True)
    ]
    front = pareto_front(means, pareto, weights) if pareto else []
    ties = [[designs[k] for k in group] for group in tied]
    return Ranking(table, front, left_out, separations, ties)


def _order(p_first: np.ndarray, score: np.ndarray, n_draws: int) -> tuple[np.ndarray, list]:
    """Designs in ranking order: by P(first); designs whose P(first) lies within three
    Monte Carlo standard errors of the first of their group (sqrt(p (1 - p) / draws)
    each) are a tie, ordered by score. Returns the order and the tied groups."""
    se = np.sqrt(p_first * (1.0 - p_first) / n_draws)
    by_p = np.lexsort((-score, -p_first))
    groups, current = [], [by_p[0]]
    for k in by_p[1:]:
        lead = current[0]
        if p_first[lead] - p_first[k] <= 3.0 * np.hypot(se[lead], se[k]):
            current.append(k)
        else:
            groups.append(current)
            current = [k]
    groups.append(current)
    ordered = [sorted(g, key=lambda k: -score[k]) for g in groups]
    return np.array([k for g in ordered for k in g]), [g for g in ordered if len(g) > 1]


def _descriptor_columns(combined: pd.DataFrame, designs, means: pd.DataFrame) -> pd.DataFrame:
    """Per descriptor: the combined value (every descriptor, weighted or not) and, for the
    weighted ones, _err, _n_eff and _converged, one row per design in ``designs`` order."""
    out = means.reindex(designs).reset_index(drop=True)
    for name, group in combined.groupby("name"):
        g = group.set_index("design").reindex(designs)
        out[name] = g["value"].to_numpy()
        out[f"{name}_err"] = g["err"].to_numpy()
        out[f"{name}_n_eff"] = g["n_eff"].to_numpy()
        out[f"{name}_converged"] = g["converged"].to_numpy()
    out.columns.name = None
    return out


def _separation(i, j, boot, m, w, scale, designs) -> Separation:
    """Whether design i (above) and j (below) separate, and the run length they need."""
    diff = boot[:, i] - boot[:, j]
    p = float(np.mean(diff > 0) + 0.5 * np.mean(diff == 0))
    if p >= SEPARABLE_P:
        return Separation(designs[i], designs[j], p, True, None, False)
    spans = m["span_ps"][[i, j]]
    spans = spans[np.isfinite(spans)]
    span_ns = float(spans.mean()) / 1000.0 if spans.size else math.nan
    gap = abs(float(_scores(m["value"][i] - m["value"][j], w, 0.0, scale)))
    if gap == 0.0:
        return Separation(designs[i], designs[j], p, False, math.inf, False)
    if not math.isfinite(span_ns) or span_ns <= 0:
        return Separation(designs[i], designs[j], p, False, None, False)
    unsettled = [
        name
        for k, name in enumerate(m["names"])
        if w[k] != 0 and not (m["sampled"][i, k] and m["sampled"][j, k])
    ]
    if unsettled:
        return Separation(designs[i], designs[j], p, False, None, False, ", ".join(unsettled))
    factor, at_least = _convergence_factor(m, [i, j], w)
    trusted = m["trusted"][i] & m["trusted"][j]
    variance = (w / scale) ** 2 * (m["err"][i] ** 2 + m["err"][j] ** 2)
    sigma = math.sqrt(float(np.where(trusted, variance, 0.0).sum()))
    factor = max(factor, (2.0 * sigma / gap) ** 2)
    return Separation(designs[i], designs[j], p, False, max(factor - 1.0, 0.0) * span_ns, at_least)


def _convergence_factor(m: dict, rows: list[int], w: np.ndarray) -> tuple[float, bool]:
    """How many times longer the runs must be for every unconverged weighted descriptor
    of ``rows`` to reach MIN_N_EFF effective samples, and whether that is a lower bound."""
    factor, at_least = 1.0, False
    for i in rows:
        for k in np.nonzero((~m["trusted"][i]) & (w != 0))[0]:
            n_eff, shells = m["n_eff"][i, k], m["time_factor"][i, k]
            if math.isfinite(n_eff) and n_eff > 0:
                factor = max(factor, MIN_N_EFF / n_eff)
            else:  # no fluctuation seen: at most one sample per replica
                factor, at_least = max(factor, MIN_N_EFF / m["replicas"][i, k]), True
            if math.isfinite(shells):
                factor = max(factor, shells)
    return factor, at_least


def pareto_front(means: pd.DataFrame, names: tuple[str, str], weights: dict) -> list[str]:
    """Designs not dominated in the two descriptors ``names`` (direction from weights).

    Parameters
    ----------
    means : pandas.DataFrame
        Design x descriptor table of means.
    names : tuple of (str, str)
        The two descriptors.
    weights : dict of str to float
        Their direction (sign).
    """
    a, b = names
    missing = [n for n in names if n not in means.columns or means[n].isna().any()]
    if missing:
        raise RankingError(
            f"the Pareto front needs {', '.join(missing)} for every ranked design; run that "
            "analysis or choose other descriptors"
        )
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
    DIR/ranking.csv, DIR/separability.csv and the ranking figure (DIR/figures).

    Parameters
    ----------
    directory : str or Path
        The campaign directory.
    campaign : str or Path, optional
        The campaign file.
    weights : dict of str to float, optional
        Ranking weights, overriding the campaign's.
    pareto : tuple of (str, str), optional
        Pareto pair, overriding the campaign's.
    """
    directory = Path(directory)
    catalog = Catalog.existing(directory)
    merged, front = {}, None
    campaign = campaign if campaign is not None else _campaign_file(catalog, bool(weights))
    weights = check_weights(weights or {}, "--weight")
    pareto = check_pareto(pareto, "--pareto")
    if campaign is not None:
        loaded = load_campaign(campaign)
        merged, front = dict(loaded.weights), loaded.pareto
    merged.update(weights)
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
    write_ranking(result, directory)
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


def write_ranking(result: Ranking, directory: str | Path) -> None:
    """DIR/ranking.csv (the table) and DIR/separability.csv (one row per neighbour pair).

    Parameters
    ----------
    result : Ranking
    directory : str or Path
        The campaign directory.
    """
    directory = Path(directory)
    result.table.to_csv(directory / "ranking.csv", index=False)
    rows = [
        {
            "upper": s.upper,
            "lower": s.lower,
            "p_order": s.p_order,
            "separable": s.separable,
            "more_ns_per_replica": s.more_ns,
            "at_least": s.at_least,
            "unsettled": s.unsettled,
            "text": s.text(),
        }
        for s in result.separations
    ]
    columns = [
        "upper",
        "lower",
        "p_order",
        "separable",
        "more_ns_per_replica",
        "at_least",
        "unsettled",
        "text",
    ]
    pd.DataFrame(rows, columns=columns).to_csv(directory / "separability.csv", index=False)
