"""Means with honest standard errors: one estimator for every analysis.

A per-frame series x_1 .. x_T (a coordination number, an H-bond count, a wall pressure,
a flow amplitude ...) is reduced to an ``Estimate``:

1. Which samples: by default every sample the caller selected (the mean equals the
   plain mean of the frames the user chose, as MDAnalysis and solvation_analysis give).
   The initial transient is detected as a diagnostic by the method of Chodera (J. Chem.
   Theory Comput. 12 (2016) 1799): the start t0 that maximises the number of effectively
   independent samples (T - t0) / g(t0) (pymbar ``timeseries.detect_equilibration``,
   fast mode, about ``EQUILIBRATION_ORIGINS`` candidate origins). The estimate reports
   where it would cut (``detected_equilibration``) and the mean after that cut
   (``mean_after_detected``); the cut is applied only when asked (``equilibration=True``,
   the ``--discard auto`` of the command line, or a number of leading samples).
2. Statistical inefficiency g = 1 + 2 tau of the retained samples, tau the integrated
   autocorrelation time in frames (pymbar ``timeseries.statistical_inefficiency``, the
   field's standard: the normalised autocorrelation summed with weights (1 - t/N) up to
   its first non-positive value past ``mintime`` = 3 frames).
3. n_eff = N / g effectively independent samples; the standard error of the mean is
   std(x) sqrt(g / N). Blocks are never assumed independent.
4. Convergence: ``converged`` is True only when all of these hold, else ``reason`` says
   which failed:

   - at least ``MIN_N_EFF`` (10) effective samples;
   - no drift: the equilibration detection keeps more than half of the selected series
     (``MAX_DETECTED_FRACTION``), and the two halves of the retained samples agree within
     their combined standard error (each half's error from the series' g; the bound is
     Student's t at ``DRIFT_CONFIDENCE`` for the halves' effective samples);
   - the series fluctuated (a series that never changed has an unknown error, NaN) and
     has finite samples.

   Analyses add their own reasons (e.g. first shells that never exchanged a molecule).

Replicas (independent runs of one design) are combined by ``combine_replicas``: the
grand mean of the replica means, with the standard error
SE = max(s_b / sqrt(R), sqrt(sum_r s_r^2) / R), s_b the standard deviation of the R
replica means and s_r their within-run standard errors. The first term measures the
spread between replicas directly (it includes any dependence on the starting structure
and does not rely on the correlation-time estimates); the second, the pooled within-run
error, guards against two or three replicas that agree by chance. Replicas whose means
disagree beyond their errors (chi-squared of the means about their weighted mean, R - 1
degrees of freedom, p < ``REPLICA_AGREEMENT_P``) make the combination unconverged with
the reason "replicas disagree"; its error is then the spread between them.

Throughout the package "+-" is a standard error of this kind; a spread over molecules or
ions is called a spread.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from .results import ResultMixin

logging.getLogger("pymbar").setLevel(logging.ERROR)  # import-time notices (JAX, timeseries)
from pymbar import timeseries  # noqa: E402
from pymbar.utils import ParameterError  # noqa: E402
from scipy import stats as _scipy_stats  # noqa: E402

MIN_N_EFF = 10.0  # fewer effectively independent samples: not converged
EQUILIBRATION_ORIGINS = 100  # candidate starts tried by the equilibration detection
MIN_EQUILIBRATION_SAMPLES = 20  # shorter series are used whole
MAX_DETECTED_FRACTION = 0.5  # detection dropping more of the series than this: drift
DRIFT_CONFIDENCE = 0.999  # two-sided Student's t level of the halves test
TRANSIENT_CONFIDENCE = 0.95  # the same, where the detection finds a long transient
REPLICA_AGREEMENT_P = 0.01  # chi-squared p-value below which replicas disagree


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
    detected_equilibration : int
        Leading samples the equilibration detection would drop (a diagnostic; applied
        only when ``n_equilibration`` says so).
    mean_after_detected : float
        Mean of the samples after ``detected_equilibration`` (NaN when not assessed).
    """

    mean: float
    err: float
    n_eff: float
    g: float
    n_samples: int
    n_equilibration: int
    converged: bool
    reason: str | None = None
    detected_equilibration: int = 0
    mean_after_detected: float = float("nan")

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

    def equilibration_text(self) -> str:
        """Where the equilibration detection cut, or would cut, and the mean after it."""
        if self.n_equilibration:
            total = self.n_samples + self.n_equilibration
            return f"first {self.n_equilibration} of {total} samples discarded"
        if not self.detected_equilibration:
            return "no transient detected"
        return (
            f"equilibration detection would drop the first {self.detected_equilibration} of "
            f"{self.n_samples} samples (mean then {self.mean_after_detected:.6g}); not applied"
        )

    def scaled(self, factor: float) -> Estimate:
        """The same estimate of ``factor`` times the quantity (units, per-area ...)."""
        return dataclasses.replace(
            self,
            mean=self.mean * factor,
            err=self.err * abs(factor),
            mean_after_detected=self.mean_after_detected * factor,
        )

    def flagged(self, reason: str) -> Estimate:
        """This estimate marked as not converged for ``reason`` (added to any other)."""
        text = reason if self.converged or not self.reason else f"{self.reason}; {reason}"
        return dataclasses.replace(self, converged=False, reason=text)


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


def _unknown(mean: float, n: int, t0: int, reason: str, detected: int = 0) -> Estimate:
    nan = float("nan")
    return Estimate(float(mean), nan, nan, nan, int(n), int(t0), False, reason, int(detected))


def halves_gap(x: np.ndarray) -> tuple[float, float]:
    """(|mean of first half - mean of second half| in standard errors, effective
    samples of the less sampled half) of a series; each half's error from its own
    statistical inefficiency (a trend across the whole series would inflate a common one
    until it hid the trend). (0, 0) when a half is too short or never changed.

    Parameters
    ----------
    x : numpy.ndarray
        1-D series.
    """
    half = len(x) // 2
    a, b = x[:half], x[len(x) - half :]
    if half < 4:
        return 0.0, 0.0
    g_a, g_b = statistical_inefficiency(a), statistical_inefficiency(b)
    if not (math.isfinite(g_a) and math.isfinite(g_b)):
        return (math.inf, 1.0) if a.mean() != b.mean() else (0.0, 0.0)
    err = math.sqrt((np.var(a, ddof=1) * g_a + np.var(b, ddof=1) * g_b) / half)
    gap = abs(float(a.mean() - b.mean()))
    return (gap / err if err > 0 else math.inf), half / max(g_a, g_b)


def _t_bound(confidence: float, n_eff: float) -> float:
    """Two-sided Student's t quantile at ``confidence`` for ``n_eff`` samples."""
    return float(_scipy_stats.t.ppf(0.5 + confidence / 2.0, max(n_eff - 1.0, 1.0)))


def drift_reasons(
    kept: np.ndarray, detected: int, n_selected: int, applied: bool = False
) -> list[str]:
    """Why a series drifts, or []. Drift is either

    - the two halves of the ``kept`` samples differ beyond Student's t at
      ``DRIFT_CONFIDENCE`` (``halves_gap``), or
    - the equilibration detection drops more than ``MAX_DETECTED_FRACTION`` of the
      ``n_selected`` samples, and either that cut was asked for (``applied``: the
      transient then takes most of the run) or the halves differ beyond t at
      ``TRANSIENT_CONFIDENCE`` (on a short stationary series the detection alone picks
      a late origin by chance for 20-30% of AR(1) series with 20-50 effective samples;
      with the halves test as well for 0-2%, tests/test_stats.py).

    Parameters
    ----------
    kept : numpy.ndarray
        The samples the mean is taken over.
    detected : int
        Leading samples the equilibration detection would drop from the selection.
    n_selected : int
        Samples selected (kept plus any discarded).
    applied : bool
        Whether the detected transient was discarded.
    """
    gap, n_eff = halves_gap(kept)
    if n_eff <= 0:
        return []
    text = f"the two halves differ by {gap:.1f} standard errors"
    if gap > _t_bound(DRIFT_CONFIDENCE, n_eff):
        return [f"drift: {text}"]
    if detected <= MAX_DETECTED_FRACTION * n_selected:
        return []
    if applied:
        return [f"drift: the detected transient takes {detected} of {n_selected} samples"]
    if gap > _t_bound(TRANSIENT_CONFIDENCE, n_eff):
        return [
            f"drift: equilibration detection would drop {detected} of {n_selected} "
            f"samples and {text}"
        ]
    return []


def estimate(series, equilibration: bool | int = False, min_n_eff: float = MIN_N_EFF) -> Estimate:
    """Mean and standard error of a per-frame series (see the module docstring).

    Parameters
    ----------
    series : 1-D array of samples in time order (any unit; the estimate keeps it)
    equilibration : False (default) keeps every sample; True drops the transient the
        detection finds; an int drops that many leading samples. The detection runs in
        every case as a diagnostic (``detected_equilibration``, ``mean_after_detected``)
        and for the drift check.
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
    detected = detect_equilibration(x)
    if equilibration is True:
        t0 = detected
    else:
        t0 = min(max(int(equilibration or 0), 0), len(x) - 1)
    y = x[t0:]
    g = statistical_inefficiency(y)
    if not math.isfinite(g):
        what = "a single sample" if len(y) < 2 else f"the series never changed over {len(y)}"
        reason = f"{what} samples: no fluctuation seen, error unknown"
        return _unknown(y.mean(), len(y), t0, reason, detected)
    n_eff = len(y) / g
    err = float(np.std(y, ddof=1) * math.sqrt(g / len(y)))
    failures = [few_samples_reason(n_eff, min_n_eff)] if n_eff < min_n_eff else []
    failures += drift_reasons(y, detected, len(x), applied=equilibration is True)
    notes = [f"{dropped_nan} non-finite samples left out"] if dropped_nan else []
    reason = "; ".join(failures + notes) or None
    converged = not failures
    return Estimate(
        float(y.mean()),
        err,
        float(n_eff),
        g,
        len(y),
        t0,
        bool(converged),
        reason,
        int(detected),
        float(x[detected:].mean()),
    )


def replicas_disagree(replicas: Sequence[Estimate]) -> str | None:
    """Why the replica means disagree beyond their errors (chi-squared of the means about
    their inverse-variance weighted mean, R - 1 degrees of freedom, p below
    ``REPLICA_AGREEMENT_P``), or None when they agree or their errors are unknown.

    Parameters
    ----------
    replicas : sequence of Estimate
        One per independent replica.
    """
    means = np.array([r.mean for r in replicas], dtype=np.float64)
    errs = np.array([r.err for r in replicas], dtype=np.float64)
    if len(replicas) < 2 or not (np.isfinite(errs).all() and np.isfinite(means).all()):
        return None
    if (errs <= 0).any():
        return None if np.ptp(means) == 0 else "replicas disagree (zero errors, different means)"
    w = 1.0 / errs**2
    centre = float((w * means).sum() / w.sum())
    chi2 = float((w * (means - centre) ** 2).sum())
    p = float(_scipy_stats.chi2.sf(chi2, len(replicas) - 1))
    if p >= REPLICA_AGREEMENT_P:
        return None
    return (
        f"replicas disagree (chi-squared {chi2:.1f} for {len(replicas) - 1} degrees of "
        f"freedom, p = {p:.2g}): the error is their spread"
    )


def combine_replicas(replicas: Sequence[Estimate], min_n_eff: float = MIN_N_EFF) -> Estimate:
    """One estimate from independent replicas (see the module docstring for the error).

    n_eff and the sample counts add up; the result is converged when the replicas
    together hold at least ``min_n_eff`` effective samples, every replica is either
    converged or short of effective samples only (a replica whose series never changed,
    whose shells never exchanged, that drifted or whose error is unknown keeps the
    combination unconverged), and the replicas agree within their errors
    (``replicas_disagree``).

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
    disagree = replicas_disagree(replicas)
    if disagree:
        err = between
    else:
        err = max(between, within) if np.isfinite(errs).all() else float("nan")
    n_eff = float(sum(r.n_eff for r in replicas))
    samples = sum(r.n_samples for r in replicas)
    curable = all(r.converged or only_few_samples(r, min_n_eff) for r in replicas)
    converged = bool(
        curable and np.isfinite(errs).all() and n_eff >= min_n_eff and disagree is None
    )
    reasons = sorted(
        {r.reason for r in replicas if r.reason and not (r.converged or only_few_samples(r))}
    )
    if disagree:
        reasons.insert(0, disagree)
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
