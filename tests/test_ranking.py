"""Ranking with honest uncertainty: identical designs are a coin toss, unconverged
descriptors are never trusted, replicas combine, and the separability summary estimates
the run length needed from the measured effective samples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from solvation.campaigns.ranking import rank
from solvation.campaigns.replicas import combine_descriptors

WEIGHTS = {"zn_water_cn": -1.0, "free_water_fraction": -1.0, "D_zn": 0.5}


def rows(design, values, err, n_eff=40.0, converged=True, reason=None, span_ps=1000.0):
    """Per-replica catalog rows of one design: ``values`` {descriptor: [replica values]}."""
    out = []
    for name, replica_values in values.items():
        for r, v in enumerate(replica_values):
            out.append(
                {
                    "design": design,
                    "replica": r,
                    "name": name,
                    "value": v,
                    "err": err,
                    "n_eff": n_eff,
                    "converged": converged,
                    "reason": reason,
                    "span_ps": span_ps,
                }
            )
    return out


def test_identical_designs_are_a_coin_toss():
    """Two designs whose replicas come from one distribution (3 replicas, errors that
    match the scatter): P(first) averages 0.5 over realisations and exceeds 0.95 about
    as rarely as a calibrated 5% tail."""
    rng = np.random.default_rng(0)
    p_first = []
    for _ in range(100):
        table = []
        for design in ("a", "b"):
            values = {k: list(rng.normal(1.0, 0.1, 3)) for k in WEIGHTS}
            table += rows(design, values, err=0.1)
        ranking = rank(pd.DataFrame(table), WEIGHTS, n_boot=800)
        p_first.append(ranking.table.set_index("design").p_first["a"])
    p_first = np.asarray(p_first)
    assert p_first.mean() == pytest.approx(0.5, abs=0.06)
    assert np.mean(p_first > 0.95) < 0.10


def test_unconverged_single_replicas_never_claim_a_winner():
    """One replica per design and every descriptor unconverged (shells that never
    exchanged, few effective samples): however far apart the values and however small the
    reported errors, no design reaches P(first) > 0.95."""
    rng = np.random.default_rng(1)
    for trial in range(40):
        n_designs = int(rng.integers(2, 5))
        table = []
        for d in range(n_designs):
            values = {k: [float(rng.normal(0, 5))] for k in WEIGHTS}
            reason = "no water entered or left a first shell" if trial % 2 else "3.0 effective"
            table += rows(f"d{d}", values, err=1e-4, n_eff=3.0, converged=False, reason=reason)
        ranking = rank(pd.DataFrame(table), WEIGHTS, n_boot=1000)
        assert ranking.table.p_first.max() <= 0.95, ranking.table
        assert ranking.table.unconverged.str.len().gt(0).all()
        assert not any(s.separable for s in ranking.separations)


def test_clear_winner_with_converged_descriptors():
    table = rows("good", {k: [0.0, 0.01, -0.01] for k in WEIGHTS}, err=0.01)
    table += rows(
        "bad",
        {"zn_water_cn": [5.0] * 3, "free_water_fraction": [5.0] * 3, "D_zn": [-5.0] * 3},
        err=0.01,
    )
    ranking = rank(pd.DataFrame(table), WEIGHTS, n_boot=1000)
    top = ranking.table.iloc[0]
    assert top.design == "good" and top.p_first == 1.0 and (top.rank_low, top.rank_high) == (1, 1)
    assert ranking.separations[0].separable
    assert ranking.summary() == ["every design is separable from its neighbours (P >= 0.95)"]


def test_replicas_combine_with_between_and_within_errors():
    table = rows("x", {"D_zn": [1.0, 2.0, 3.0]}, err=0.6, n_eff=5.0, converged=False)
    for row in table:
        row["reason"] = "5.0 effective samples (fewer than 10)"
    combined = combine_descriptors(pd.DataFrame(table)).iloc[0]
    assert combined.value == pytest.approx(2.0)
    assert combined.err == pytest.approx(1.0 / np.sqrt(3))  # the spread between replicas
    assert combined.n_eff == 15.0 and combined.converged and combined.replicas == 3
    apart = rows("x", {"D_zn": [1.0, 2.0, 3.0]}, err=0.01, n_eff=50.0)
    disagree = combine_descriptors(pd.DataFrame(apart)).iloc[0]
    assert not disagree.converged and "replicas disagree" in disagree.reason
    assert disagree.err == pytest.approx(1.0 / np.sqrt(3))
    stuck = rows("y", {"D_zn": [1.0, 1.0]}, err=float("nan"), n_eff=float("nan"), converged=False)
    assert not combine_descriptors(pd.DataFrame(stuck)).iloc[0].converged


def test_separability_estimates_the_run_length_needed():
    """Two designs at 0 and 1 with unit errors from 1 ns runs normalise to a score gap of 2
    with a difference error of 2 sqrt 2: two standard errors need (2 sigma / gap)^2 = 8
    times the length, 7 ns more per replica. An unconverged descriptor with 2.5 effective
    samples in 2 ns needs 10 / 2.5 = 4 times the length: 6 ns more."""
    base = {"zn_water_cn": [0.0], "free_water_fraction": [0.0], "D_zn": [0.0]}
    a = rows("a", {**base, "D_zn": [0.0]}, err=1.0, span_ps=1000.0)
    b = rows("b", {**base, "D_zn": [1.0]}, err=1.0, span_ps=1000.0)
    ranking = rank(pd.DataFrame(a + b), {"D_zn": 1.0}, n_boot=4000)
    (pair,) = ranking.separations
    assert not pair.separable and pair.upper == "b"
    assert pair.more_ns == pytest.approx((2 * 2 * np.sqrt(2) / 2) ** 2 - 1, rel=1e-9)
    assert "need ~" in pair.text() and "ns more per replica" in pair.text()
    a = rows("a", {"D_zn": [0.0]}, err=0.01, n_eff=2.5, converged=False, span_ps=2000.0)
    b = rows("b", {"D_zn": [1.0]}, err=0.01, n_eff=2.5, converged=False, span_ps=2000.0)
    for row in a + b:
        row["reason"] = "2.5 effective samples (fewer than 10)"
    (pair,) = rank(pd.DataFrame(a + b), {"D_zn": 1.0}, n_boot=2000).separations
    assert pair.more_ns == pytest.approx(2.0 * (10 / 2.5 - 1))  # 4x of 2 ns, minus 2 ns
    # shells that exchanged 1/14 of the events they need in 8 ps: 28 times as long
    a = rows("a", {"zn_water_cn": [6.0]}, float("nan"), float("nan"), False, "stuck", 8.0)
    b = rows("b", {"zn_water_cn": [5.0]}, float("nan"), float("nan"), False, "stuck", 8.0)
    for row in a + b:
        row["time_factor"] = 28.0
    (pair,) = rank(pd.DataFrame(a + b), {"zn_water_cn": 1.0}, n_boot=500).separations
    assert pair.at_least and pair.more_ns == pytest.approx(27 * 0.008)
    assert "need >= 0.22 ns more per replica" in pair.text()
    # shells that never exchanged: no run length is promised, never a number of ns
    for row in a + b:
        row["time_factor"], row["sampled"] = None, False
    (pair,) = rank(pd.DataFrame(a + b), {"zn_water_cn": 1.0}, n_boot=500).separations
    assert pair.unsettled == "zn_water_cn" and pair.more_ns is None
    assert "cannot settle" in pair.text() and "ns more" not in pair.text()
    same = rows("a", {"D_zn": [1.0]}, err=0.1) + rows("b", {"D_zn": [1.0]}, err=0.1)
    (pair,) = rank(pd.DataFrame(same), {"D_zn": 1.0}, n_boot=500).separations
    assert "do not differ" in pair.text()


def test_order_agrees_with_p_first_and_analysis_errors_are_never_ranked():
    """Three designs, one with an unconverged weighted descriptor whose random draws
    give it the best P(first) now and then: the table's order follows P(first). A
    design whose first shell broke the cation's chemistry is left out with the error."""
    rng = np.random.default_rng(3)
    table = []
    for design, value in (("a", 1.0), ("b", 0.9), ("c", 0.0)):
        table += rows(design, {"D_zn": list(value + rng.normal(0, 0.05, 3))}, err=0.05)
        table += rows(design, {"zn_water_cn": [6.0, 6.0, 6.0]}, float("nan"), float("nan"), False)
    for row in table:
        if row["name"] == "zn_water_cn" and row["design"] == "c":
            row["value"] = 5.0
    ranking = rank(pd.DataFrame(table), {"D_zn": 1.0, "zn_water_cn": -1.0}, n_boot=2000)
    p_first = ranking.table.p_first.to_numpy()
    mc = 3.0 * np.sqrt(2.0 * 0.25 / 2000)  # three Monte Carlo errors of a difference, at most
    assert np.all(np.diff(p_first) <= mc)  # rises only within a tie, never beyond the noise
    # every weighted descriptor untrusted: P(first) ties, the order within it by score
    stuck = [dict(r, converged=False, reason="stuck") for r in table]
    tied = rank(pd.DataFrame(stuck), {"D_zn": 1.0, "zn_water_cn": -1.0}, n_boot=2000)
    assert tied.ties == [list(tied.table.design)]
    assert np.all(np.diff(tied.table.score.to_numpy()) <= 0)
    assert any("agree within the Monte Carlo error" in line for line in tied.summary())
    broken = rows("d", {"D_zn": [5.0]}, err=0.05) + rows("d", {"zn_water_cn": [9.0]}, 0.1)
    broken[-1]["problem"] = "first shell holds up to 9 ligands"
    ranked = rank(pd.DataFrame(table + broken), {"D_zn": 1.0, "zn_water_cn": -1.0}, n_boot=500)
    assert "d" not in set(ranked.table.design)
    assert ranked.left_out["d"].startswith("analysis error, never ranked: first shell holds")
