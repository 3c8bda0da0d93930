"""Transport: analytic random walks and ballistic motion, unwrapping (also with a
fluctuating box), FFT MSD against MDAnalysis EinsteinMSD, conductivity of uncorrelated
ions against Nernst-Einstein, the CLI."""

from __future__ import annotations

import json
import subprocess
import sys

import MDAnalysis as mda
import numpy as np
import pytest
from MDAnalysis.analysis.msd import EinsteinMSD
from MDAnalysis.coordinates.memory import MemoryReader

from solvation.analysis.transport import (
    Transport,
    diffusive_window,
    fit_d,
    msd_fft,
    origin_slopes,
    slope_estimate,
)


def walkers(n_frames, n, box, d_a2_ps=0.05, dt=1.0, seed=0, resnames=None, boxes=None):
    """Universe of independent random walkers (one atom per residue), wrapped into the box
    of each frame; returns the universe and the true unwrapped positions."""
    rng = np.random.default_rng(seed)
    steps = rng.normal(0.0, np.sqrt(2 * d_a2_ps * dt), (n_frames, n, 3))
    steps[0] = rng.random((n, 3)) * box
    truth = np.cumsum(steps, axis=0)
    lengths = np.full((n_frames, 3), box) if boxes is None else boxes
    wrapped = truth - lengths[:, None, :] * np.floor(truth / lengths[:, None, :])
    u = mda.Universe.empty(n, n_residues=n, atom_resindex=np.arange(n), trajectory=True)
    u.add_TopologyAttr("resnames", resnames or ["A"] * n)
    u.add_TopologyAttr("masses", np.ones(n))
    dims = np.hstack([lengths, np.full((n_frames, 3), 90.0)]).astype(np.float32)
    u.load_new(wrapped.astype(np.float32), format=MemoryReader, dimensions=dims, dt=dt)
    return u, truth


def test_random_walk_gives_known_d_within_reported_error():
    u, _ = walkers(600, 300, 30.0, d_a2_ps=0.05, seed=11)
    d = Transport(u, {"a": "all"}).run().results.transport.species["a"]
    assert d.diffusive and d.converged and d.reason is None
    assert abs(d.D_m2_per_s - 5e-10) < 3 * d.D_err_m2_per_s
    assert 0 < d.D_err_m2_per_s < 0.1 * d.D_m2_per_s
    assert 10 <= d.D_n_eff < 60  # about the trajectory over the fit window


def test_origin_slopes_average_to_the_fitted_slope():
    """The per-origin series is exact: its mean equals the least-squares slope of the MSD
    taken over the same origins, computed by brute force."""
    rng = np.random.default_rng(7)
    x = np.cumsum(rng.normal(0, 0.3, (120, 7, 3)), axis=0)
    lag = np.arange(120) * 0.5
    first, last = 2, 11
    origins = 120 - last
    msd = [
        np.mean(np.sum((x[k : k + origins] - x[:origins]) ** 2, axis=2)) for k in range(last + 1)
    ]
    slope = np.polyfit(lag[first : last + 1], msd[first : last + 1], 1)[0]
    assert np.mean(origin_slopes(x, lag, first, last)) == pytest.approx(slope, rel=1e-9)


def test_diffusion_errors_are_calibrated_over_seeds():
    """z = (D - D_true) / err over 120 seeded random walks has a standard deviation near 1:
    the error accounts for the correlation of overlapping MSD windows (blocks assumed
    independent, or the spread of lags, would not). Measured: 1.1 at about 16 effective
    origins (the error of an error from few samples), see analysis/transport.py."""
    z, n_eff = [], []
    lag = np.arange(600) * 1.0
    for seed in range(120):
        steps = np.random.default_rng(100 + seed).normal(0, np.sqrt(2 * 0.05), (600, 40, 3))
        x = np.cumsum(steps, axis=0)
        msd = msd_fft(x)
        first, last, ok = diffusive_window(lag, msd, 0.15, 0.1)
        e = slope_estimate(x, lag, first, last)
        z.append((fit_d(lag, msd, first, last, 3) - 0.05) / (e.err / 6))
        n_eff.append(e.n_eff)
    assert 0.8 < np.std(z) < 1.3
    assert abs(np.mean(z)) < 0.3
    assert 10 < np.median(n_eff) < 30


def test_constant_velocity_gives_ballistic_msd():
    n, frames, v = 20, 50, np.array([0.3, -0.2, 0.1])
    start = np.random.default_rng(1).random((n, 3)) * 20
    x = start[None] + v[None, None, :] * np.arange(frames)[:, None, None]
    u = mda.Universe.empty(n, n_residues=n, atom_resindex=np.arange(n), trajectory=True)
    u.add_TopologyAttr("masses", np.ones(n))
    u.load_new(
        np.mod(x, 20.0).astype(np.float32),
        format=MemoryReader,
        dt=1.0,
        dimensions=np.tile([20, 20, 20, 90, 90, 90], (frames, 1)).astype(np.float32),
    )
    res = Transport(u, {"a": "all"}, remove_drift=False).run().results.transport
    t = res.lag_ps
    assert np.allclose(res.msd_angstrom2["a"], (v @ v) * t**2, rtol=1e-4, atol=1e-4)
    drift_removed = Transport(u, {"a": "all"}).run().results.transport
    assert np.allclose(drift_removed.msd_angstrom2["a"], 0.0, atol=1e-6)


def test_wrapped_walk_gives_the_unwrapped_msd():
    u, truth = walkers(300, 50, 12.0, d_a2_ps=0.3, seed=2)
    res = Transport(u, {"a": "all"}, remove_drift=False).run().results.transport
    expected = msd_fft(truth)
    assert np.allclose(res.msd_angstrom2["a"][1:], expected[1:], rtol=1e-4)


def test_fluctuating_box_walk_keeps_d():
    frames = 600
    boxes = 30.0 * (1 + 0.01 * np.sin(np.arange(frames) / 7.0))[:, None] * np.ones(3)
    u, _ = walkers(frames, 300, 30.0, d_a2_ps=0.05, seed=3, boxes=boxes)
    d = Transport(u, {"a": "all"}).run().results.transport.species["a"]
    assert abs(d.D_m2_per_s - 5e-10) < 3 * d.D_err_m2_per_s


def test_fft_msd_equals_mdanalysis_einstein_msd():
    u, truth = walkers(200, 40, 25.0, seed=4)
    unwrapped = mda.Universe.empty(40, n_residues=40, atom_resindex=np.arange(40), trajectory=True)
    unwrapped.load_new(
        truth.astype(np.float32),
        format=MemoryReader,
        dt=1.0,
        dimensions=np.tile([25, 25, 25, 90, 90, 90], (200, 1)).astype(np.float32),
    )
    ref = EinsteinMSD(unwrapped, select="all", msd_type="xyz", fft=True).run()
    ours = msd_fft(unwrapped.trajectory.coordinate_array.astype(np.float64))
    assert np.allclose(ours[1:], ref.results.timeseries[1:], rtol=1e-8, atol=0)
    via_analysis = Transport(unwrapped, {"a": "all"}, remove_drift=False).run().results.transport
    assert np.allclose(via_analysis.msd_angstrom2["a"][1:], ref.results.timeseries[1:], rtol=1e-6)


def test_uncorrelated_ions_conduct_as_nernst_einstein():
    n = 300  # 100 cations, 100 anions, 100 neutral solvent particles
    resnames = ["CAT"] * 100 + ["ANI"] * 100 + ["SOL"] * 100
    u, _ = walkers(1000, n, 30.0, d_a2_ps=0.05, seed=5, resnames=resnames)
    res = (
        Transport(u, {"cat": "resname CAT", "ani": "resname ANI"}, charges={"cat": 1, "ani": -1})
        .run()
        .results.transport
    )
    c = res.conductivity
    assert abs(c["sigma_S_per_m"] - c["sigma_NE_S_per_m"]) < 3 * c["sigma_err_S_per_m"]
    assert c["t_zn"] == pytest.approx(0.5, abs=0.1) and c["cation"] == "cat"
    # sigma_NE = e^2 / (V kB T) sum N z^2 D, by hand
    d_sum = sum(100 * s.D_m2_per_s for s in res.species.values())
    by_hand = 1.602176634e-19**2 / (30e-10**3 * 1.380649e-23 * 298.15) * d_sum
    assert c["sigma_NE_S_per_m"] == pytest.approx(by_hand, rel=1e-9)


def test_yeh_hummer_correction():
    u, _ = walkers(200, 50, 30.0, seed=6)
    res = Transport(u, {"a": "all"}, viscosity=1.0e-3, temperature=300.0).run()
    d = res.results.transport.species["a"]
    expected = 2.837297 * 1.380649e-23 * 300.0 / (6 * np.pi * 1.0e-3 * 30e-10)
    assert d.D_corrected_m2_per_s - d.D_m2_per_s == pytest.approx(expected, rel=1e-9)
    assert res.results.transport.viscosity_source == "given"
    none = Transport(u, {"a": "all"}).run().results.transport
    assert none.species["a"].D_corrected_m2_per_s is None and none.viscosity_source == "none"


def test_diffusion_and_conductivity_cli(tiny_run, tmp_path):
    js = tmp_path / "d.json"
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "diffusion",
            str(tiny_run),
            "--species",
            "zn=resname ZN",
            "--species",
            "water=resname HOH",
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    assert set(data["species"]["zn"]) >= {
        "D_m2_per_s",
        "D_err_m2_per_s",
        "D_n_eff",
        "converged",
        "reason",
        "D_corrected_m2_per_s",
        "fit_window_ps",
    }
    assert data["species"]["water"]["D_m2_per_s"] > 0
    # no viscosity measured in this ZnCl2 solution: D is left uncorrected, and says so
    # (pure water's viscosity is never used for a solution)
    assert data["viscosity_source"].startswith("none: D is NOT corrected")
    assert data["viscosity_Pa_s"] is None
    assert data["species"]["zn"]["D_corrected_m2_per_s"] is None
    assert "Yeh-Hummer viscosity: none" in run.stdout and "n_eff" in run.stdout
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "solvation.cli",
            "analyze",
            "conductivity",
            str(tiny_run),
            "--species",
            "zn=resname ZN",
            "--species",
            "cl=resname CL",
            "--json",
            str(js),
        ],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(js.read_text())
    assert {"sigma_S_per_m", "sigma_NE_S_per_m", "haven_ratio", "t_zn", "sigma_n_eff"} <= set(data)
    assert data["sigma_NE_S_per_m"] > 0
