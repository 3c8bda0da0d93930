"""Means with honest standard errors: one estimator for every analysis.

A per-frame series x_1 .. x_T (a coordination number, an H-bond count, a wall pressure,
a flow amplitude ...) is reduced to an ``Estimate``:

1. Equilibration: the initial transient is detected and dropped by the method of
   Chodera (J. Chem. Theory Comput. 12 (2016) 1799): the start t0 that maximises the
   number of effectively independent samples (T - t0) / g(t0) (pymbar
   ``timeseries.detect_equilibration``, fast mode, about ``EQUILIBRATION_ORIGINS``
   candidate origins, so the cost stays O(T) per candidate).
2. Statistical inefficiency g = 1 + 2 tau of the retained samples, tau the integrated
   autocorrelation time in frames (pymbar ``timeseries.statistical_inefficiency``, the
   field's standard: the normalised autocorrelation summed with weights (1 - t/N) up to
   its first non-positive value past ``mintime`` = 3 frames).
3. n_eff = N / g effectively independent samples; the standard error of the mean is
   std(x) sqrt(g / N). Blocks are never assumed independent.
4. Convergence: fewer than ``MIN_N_EFF`` (10) effective samples, a series that never
   changed (no fluctuation seen: its error is unknown, reported as NaN) or no finite
   sample at all give ``converged = False`` with the reason. Analyses add their own
   reasons (e.g. solvation shells that never exchanged a molecule).

Replicas (independent runs of one design) are combined by ``combine_replicas``: the
grand mean of the replica means, with the standard error
SE = max(s_b / sqrt(R), sqrt(sum_r s_r^2) / R), s_b the standard deviation of the R
replica means and s_r their within-run standard errors. The first term measures the
spread between replicas directly (it includes any dependence on the starting structure
and does not rely on the correlation-time estimates); the second, the pooled within-run
error, guards against two or three replicas that agree by chance.

Throughout the package "+-" is a standard error of this kind; a spread over molecules or
ions is called a spread.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .results import ResultMixin

logging.getLogger("pymbar").setLevel(logging.ERROR)  # import-time notices (JAX, timeseries)
from pymbar import timeseries  # noqa: E402
from pymbar.utils import ParameterError  # noqa: E402

MIN_N_EFF = 10.0  # fewer effectively independent samples: not converged
EQUILIBRATION_ORIGINS = 100  # candidate starts tried by the equilibration detection
MIN_EQUILIBRATION_SAMPLES = 20  # shorter series are used whole


@dataclass(frozen=True)
class Estimate(ResultMixin):
    """Mean of a correlated series with its standard error.

    Attributes
    ----------
    mean : float
        Mean of the retained samples (after the dropped transient).
    err : float
        Standard error of the mean, std sqrt(g / n_samples); NaN when unknown.
    n_eff : float
        Effectively independent samples, n_samples / g (NaN when unknown).
    g : float
        Statistical inefficiency, 1 + 2 tau (samples per independent sample).
    n_samples : int
        Samples the mean is taken over.
    n_equilibration : int
        Leading samples dropped as the initial transient.
    converged : bool
        False when the estimate cannot be trusted; ``reason`` says why.
    reason : str or None
        Why it is not converged.
    """

    mean: float
    err: float
    n_eff: float
    g: float
    n_samples: int
    n_equilibration: int
    converged: bool
    reason: str | None = None

    def text(self, fmt: str = ".4g") -> str:
        """'mean +- err (n_eff N)' plus 'NOT CONVERGED: reason' where it applies."""
        err = "?" if not math.isfinite(self.err) else format(self.err, ".2g")
        n_eff = "?" if not math.isfinite(self.n_eff) else f"{self.n_eff:.0f}"
        out = f"{format(self.mean, fmt)} +- {err} (n_eff {n_eff})"
        return out if self.converged else f"{out}, NOT CONVERGED: {self.reason}"

    def columns(self, name: str) -> dict:
        """Flat table columns: NAME, NAME_err, NAME_n_eff, NAME_converged, NAME_reason."""
        return {
            name: self.mean,
            f"{name}_err": self.err,
            f"{name}_n_eff": self.n_eff,
            f"{name}_converged": self.converged,
            f"{name}_reason": self.reason,
        }

    def scaled(self, factor: float) -> Estimate:
        """The same estimate of ``factor`` times the quantity (units, per-area ...)."""
        return Estimate(
            self.mean * factor,
            self.err * abs(factor),
            self.n_eff,
            self.g,
            self.n_samples,
            self.n_equilibration,
            self.converged,
            self.reason,
        )

    def flagged(self, reason: str) -> Estimate:
        """This estimate marked as not converged for ``reason`` (added to any other)."""
        text = reason if self.converged or not self.reason else f"{self.reason}; {reason}"
        return Estimate(
            self.mean,
            self.err,
            self.n_eff,
            self.g,
            self.n_samples,
            self.n_equilibration,
            False,
            text,
        )


def statistical_inefficiency(series: np.ndarray) -> float:
    """g = 1 + 2 tau of a 1-D series (pymbar, ``fast=False``); NaN for a constant one.

    Parameters
    ----------
    series : numpy.ndarray
        1-D series.
    """
    x = np.asarray(series, dtype=np.float64)
    if len(x) < 2 or np.ptp(x) == 0.0:
        return float("nan")
    try:
        return float(timeseries.statistical_inefficiency(x, fast=False))
    except ParameterError:  # zero variance after rounding
        return float("nan")


def detect_equilibration(series: np.ndarray, origins: int = EQUILIBRATION_ORIGINS) -> int:
    """Number of leading samples to drop as the initial transient (Chodera 2016).

    Parameters
    ----------
    series : numpy.ndarray
        1-D series.
    origins : int
        Candidate cut points tried.
    """
    x = np.asarray(series, dtype=np.float64)
    if len(x) < MIN_EQUILIBRATION_SAMPLES or np.ptp(x) == 0.0:
        return 0
    nskip = max(1, len(x) // origins)
    t0, _, _ = timeseries.detect_equilibration(x, fast=True, nskip=nskip)
    return int(t0)


def few_samples_reason(n_eff: float, min_n_eff: float = MIN_N_EFF) -> str:
    """The reason ``estimate`` gives for too few effective samples.

    Parameters
    ----------
    n_eff : float
        Effective samples.
    min_n_eff : float
        Fewest effective samples accepted.
    """
    return f"{n_eff:.1f} effective samples (fewer than {min_n_eff:g})"


def only_few_samples(e: Estimate, min_n_eff: float = MIN_N_EFF) -> bool:
    """Whether ``e`` is unconverged for no other reason than too few effective samples
    (more data of the same kind would cure it).

    Parameters
    ----------
    e : Estimate
    min_n_eff : float
        Fewest effective samples accepted.
    """
    return (
        not e.converged
        and math.isfinite(e.err)
        and e.reason == few_samples_reason(e.n_eff, min_n_eff)
    )


def _unknown(mean: float, n: int, t0: int, reason: str) -> Estimate:
    nan = float("nan")
    return Estimate(float(mean), nan, nan, nan, int(n), int(t0), False, reason)


def estimate(series, equilibration: bool | int = True, min_n_eff: float = MIN_N_EFF) -> Estimate:
    """Mean and standard error of a per-frame series (see the module docstring).

    Parameters
    ----------
    series : 1-D array of samples in time order (any unit; the estimate keeps it)
    equilibration : True detects and drops the initial transient; an int drops that
        many leading samples; False keeps every sample
    min_n_eff : fewer effective samples than this mark the estimate not converged

    Returns
    -------
    Estimate. Non-finite samples are left out (and said so in ``reason``); a series that
    never changes has ``err = NaN`` and ``converged = False``.
    """
    x = np.asarray(series, dtype=np.float64).ravel()
    finite = np.isfinite(x)
    dropped_nan = int((~finite).sum())
    x = x[finite]
    if len(x) == 0:
        return _unknown(float("nan"), 0, 0, "no finite samples")
    if equilibration is True:
        t0 = detect_equilibration(x)
    else:
        t0 = min(int(equilibration or 0), len(x) - 1)
    y = x[t0:]
    g = statistical_inefficiency(y)
    if not math.isfinite(g):
        what = "a single sample" if len(y) < 2 else f"the series never changed over {len(y)}"
        return _unknown(y.mean(), len(y), t0, f"{what} samples: no fluctuation seen, error unknown")
    n_eff = len(y) / g
    err = float(np.std(y, ddof=1) * math.sqrt(g / len(y)))
    reasons = []
    if n_eff < min_n_eff:
        reasons.append(few_samples_reason(n_eff, min_n_eff))
    if dropped_nan:
        reasons.append(f"{dropped_nan} non-finite samples left out")
    converged = n_eff >= min_n_eff
    reason = "; ".join(reasons) or None
    return Estimate(float(y.mean()), err, float(n_eff), g, len(y), t0, converged, reason)


def combine_replicas(replicas: Sequence[Estimate], min_n_eff: float = MIN_N_EFF) -> Estimate:
    """One estimate from independent replicas (see the module docstring for the error).

    n_eff and the sample counts add up; the result is converged when the replicas
    together hold at least ``min_n_eff`` effective samples and every replica is either
    converged or short of effective samples only (a replica whose series never changed,
    whose shells never exchanged or whose error is unknown keeps the combination
    unconverged).

    Parameters
    ----------
    replicas : sequence of Estimate
        One per independent replica.
    min_n_eff : float
        Fewest effective samples accepted.
    """
    if not replicas:
        raise ValueError("combine_replicas needs at least one estimate")
    if len(replicas) == 1:
        return replicas[0]
    means = np.array([r.mean for r in replicas], dtype=np.float64)
    errs = np.array([r.err for r in replicas], dtype=np.float64)
    n_r = len(replicas)
    between = float(np.std(means, ddof=1) / math.sqrt(n_r))
    within = float(math.sqrt(np.sum(errs**2)) / n_r)
    err = max(between, within) if np.isfinite(errs).all() else float("nan")
    n_eff = float(sum(r.n_eff for r in replicas))
    samples = sum(r.n_samples for r in replicas)
    curable = all(r.converged or only_few_samples(r, min_n_eff) for r in replicas)
    converged = bool(curable and np.isfinite(errs).all() and n_eff >= min_n_eff)
    reasons = sorted(
        {r.reason for r in replicas if r.reason and not (r.converged or only_few_samples(r))}
    )
    if not converged and not (math.isfinite(n_eff) and n_eff >= min_n_eff):
        reasons.insert(0, f"{n_eff:.1f} effective samples over {n_r} replicas")
    return Estimate(
        float(means.mean()),
        err,
        n_eff,
        samples / n_eff if n_eff > 0 else float("nan"),
        samples,
        sum(r.n_equilibration for r in replicas),
        converged,
        None if converged else "; ".join(reasons) or "replica errors unknown",
    )
