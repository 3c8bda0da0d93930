"""Well-tempered metadynamics and its reweighting: the populations of an asymmetric 1-D
double well recovered within their errors from a real OpenMM ``Metadynamics`` run; c(t)
against its definition."""

from __future__ import annotations

import json
import math
import shutil

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.app as mmapp
import openmm.unit as u
import pytest
from MDAnalysis.lib.distances import distance_array
from scipy.integrate import quad

from solvation.analysis.coordination import MAX_FIRST_SHELL
from solvation.analysis.reweight import (
    log_weights,
    reweighted_distribution,
    reweighted_mean,
    well_tempered_c,
)
from solvation.cli import app, run_cli
from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K
from solvation.engine.metadynamics import (
    MetadError,
    MetadSettings,
    _cv_range,
    contact_counts,
    contact_cv,
    contact_sites,
)
from solvation.rundir import read_build

T = 298.15
KT = GAS_CONSTANT_KJ_PER_MOL_K * T
A, B, TILT = 6.0 * KT, 0.1, 1.0 * KT  # U(x) = A ((x/B)^2 - 1)^2 + TILT x / B


def _u(x: float) -> float:
    return A * ((x / B) ** 2 - 1.0) ** 2 + TILT * x / B


def _metad_run(records=3000, every=100, gamma=6.0, seed=11):
    """One particle in the double well along x, biased on x by OpenMM's well-tempered
    Metadynamics (Reference platform); per record the CV, the bias at it and c(t)."""
    system = openmm.System()
    system.addParticle(10.0)
    well = openmm.CustomExternalForce("A*((x/B)^2-1)^2 + TILT*x/B + 500*(y^2+z^2)")
    for name, value in (("A", A), ("B", B), ("TILT", TILT)):
        well.addGlobalParameter(name, value)
    well.addParticle(0, [])
    system.addForce(well)
    cv = openmm.CustomExternalForce("x")
    cv.addParticle(0, [])
    lo, hi, grid = -0.25, 0.25, 201
    variable = mmapp.BiasVariable(cv, lo, hi, 0.01, gridWidth=grid)
    meta = mmapp.Metadynamics(system, [variable], T, gamma, 0.5 * KT, every)
    topology = mmapp.Topology()
    topology.addAtom(
        "X", mmapp.Element.getBySymbol("Ar"), topology.addResidue("X", topology.addChain())
    )
    integrator = openmm.LangevinMiddleIntegrator(T, 10.0, 0.002)
    integrator.setRandomNumberSeed(seed)
    sim = mmapp.Simulation(
        topology, system, integrator, openmm.Platform.getPlatformByName("Reference")
    )
    sim.context.setPositions([openmm.Vec3(-B, 0, 0)] * u.nanometer)
    sim.context.setVelocitiesToTemperature(T, seed)
    s_grid = np.linspace(lo, hi, grid)
    rows = []
    for _ in range(records):
        meta.step(sim, every)
        s = float(meta.getCollectiveVariables(sim)[0])
        bias = -meta.getFreeEnergy().value_in_unit(u.kilojoule_per_mole) * (gamma - 1) / gamma
        rows.append((s, float(np.interp(s, s_grid, bias)), well_tempered_c(bias, T, gamma)))
    return np.array(rows)


def test_reweighting_recovers_double_well_populations():
    """P(left well) of U(x) = A((x/B)^2 - 1)^2 + TILT x / B (barrier 6 kT, wells 2 kT
    apart) from the reweighted well-tempered run equals the Boltzmann integral within 3
    of its errors; the run crossed the barrier many times (else the test is empty)."""
    data = _metad_run()
    skip = len(data) // 10  # the bias' first build-up
    s, bias, c = data[skip:].T
    crossings = int(np.sum(np.diff(np.sign(s)) != 0))
    assert crossings >= 20
    lw = log_weights(bias, c, T)
    left = reweighted_mean(s < 0, lw)
    z = [
        quad(lambda x: math.exp(-_u(x) / KT), a, b, points=[-B, 0, B])[0]
        for a, b in ((-1, 0), (0, 1))
    ]
    exact = z[0] / (z[0] + z[1])
    assert exact > 0.8  # the tilt makes the left well the likely one
    assert abs(left.mean - exact) <= 3.0 * left.err + 0.01, (left, exact)
    assert 0 < left.err < 0.1 and left.n_eff > 10
    # without reweighting the biased run would say otherwise: near 1/2
    assert abs(np.mean(s < 0) - exact) > abs(left.mean - exact)


def test_c_of_t_and_distribution():
    """c(t) is 0 for a flat bias and kT ln(mean e^{gamma V/((gamma-1)kT)} / mean
    e^{V/((gamma-1)kT)}) otherwise; the distribution of an integer observable sums to 1."""
    assert well_tempered_c(np.zeros(50), T, 10.0) == pytest.approx(0.0, abs=1e-12)
    v = np.linspace(0.0, 20.0, 101)
    g = 10.0
    expected = KT * math.log(
        np.mean(np.exp(g * v / ((g - 1) * KT))) / np.mean(np.exp(v / ((g - 1) * KT)))
    )
    assert well_tempered_c(v, T, g) == pytest.approx(expected, rel=1e-10)
    rng = np.random.default_rng(0)
    n = rng.integers(0, 4, 2000)
    dist = reweighted_distribution(n, np.zeros(2000))
    assert dist.probability.sum() == pytest.approx(1.0)
    assert dist.mean == pytest.approx(np.mean(n)) and np.all(dist.probability_err > 0)


def test_metad_stage_resumes_extends_and_reports(tiny_run, tmp_path):
    """`solvation metad` on a copy of the session's 1 m ZnCl2 run (Zn-Cl contacts): 2 ps,
    then extended to 3 ps by the same command (the bias of the first part is loaded,
    rows continue); `analyze metad` flags 3 ps as not converged and writes its figure;
    other settings in the same directory are refused."""
    run = tmp_path / "run"
    shutil.copytree(tiny_run, run, ignore=shutil.ignore_patterns(".lock"))
    args = ["metad", str(run), "--anion", "Cl-", "--deposit", "0.2ps", "--checkpoint", "1ps"]
    run_cli(app, [*args, "--time", "2ps", "--platform", "CPU"])
    first = (run / "metad" / "metad.csv").read_text().splitlines()
    run_cli(app, [*args, "--time", "3ps", "--platform", "CPU"])
    rows = (run / "metad" / "metad.csv").read_text().splitlines()
    assert len(first) == 11 and len(rows) == 16 and rows[:11] == first
    assert len(list((run / "metad" / "bias").glob("bias_*.npy"))) == 2
    times = [float(r.split(",")[0]) for r in rows[1:]]
    assert np.allclose(np.diff(times), 0.2)
    bias = [float(r.split(",")[2]) for r in rows[1:]]
    assert bias[10] > bias[9] * 0.5  # the bias carried over: no restart from zero
    figure = tmp_path / "m.png"
    run_cli(app, ["analyze", "metad", str(run), "--json", str(tmp_path / "m.json"),
                  "--plot", str(figure)])  # fmt: skip
    assert figure.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"  # the figure is written
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["converged"] is False and data["n_cations"] >= 1
    assert abs(sum(data["pairs"]["probability"]) - 1.0) < 1e-9
    with pytest.raises(SystemExit) as exit_info:
        run_cli(app, [*args, "--time", "3ps", "--bias-factor", "5", "--platform", "CPU"])
    assert exit_info.value.code == 2


def test_contact_cv_and_counts_against_mdanalysis(tiny_run):
    """On the session run's last frame: the CV OpenMM computes (CustomCVForce over the
    periodic CustomBondForce) equals sum 1 / (1 + (r / r0)^12) over MDAnalysis'
    minimum-image Zn-Cl distances, and the contact counts equal MDAnalysis' count of Zn2+
    with a Cl- within 3 A."""
    settings = MetadSettings(anion="Cl-")
    u = mda.Universe(str(tiny_run / "topology.pdb"), str(tiny_run / "trajectory.xtc"))
    u.trajectory[-1]
    topology = mmapp.PDBFile(str(tiny_run / "topology.pdb")).topology
    sites = contact_sites(topology, read_build(tiny_run).resnames, settings)
    d = distance_array(u.atoms[sites.cations].positions, u.atoms[sites.acceptors].positions,
                       box=u.dimensions) / 10.0  # fmt: skip
    expected = float(np.sum(1.0 / (1.0 + (d / settings.switch_nm) ** settings.exponent)))
    box = u.dimensions[:3] / 10.0
    assert _cv_value(contact_cv(sites, settings), u, box) == pytest.approx(expected, rel=1e-5)
    pairs, cations = contact_counts(u.atoms.positions / 10.0, np.diag(box), sites, 0.3)
    close = d < 0.3
    assert cations == int(close.any(axis=1).sum()) and pairs == int(close.sum())  # Cl: 1 atom


def _cv_value(system_force, u, box) -> float:
    """The value OpenMM computes for ``system_force`` inside a CustomCVForce at the
    universe's current frame."""
    system = openmm.System()
    for _ in range(len(u.atoms)):
        system.addParticle(1.0)
    system.setDefaultPeriodicBoxVectors(*(openmm.Vec3(*row) for row in np.diag(box)))
    cv = openmm.CustomCVForce("n")
    cv.addCollectiveVariable("n", system_force)
    system.addForce(cv)
    context = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    context.setPositions(u.atoms.positions / 10.0)
    return cv.getCollectiveVariableValues(context)[0]


def test_exchange_cv_subtracts_the_first_shell_water(tiny_run):
    """The exchange CV (contacts minus the cations' smooth water count) equals, on the
    session run's last frame, sum s(Zn-Cl) - sum s(Zn-O water) over MDAnalysis'
    minimum-image distances; with six waters around each Zn2+ it lies near -6 per Zn2+
    and inside the bias grid; a box without water is refused for it."""
    settings = MetadSettings(anion="Cl-", cv="exchange")
    u = mda.Universe(str(tiny_run / "topology.pdb"), str(tiny_run / "trajectory.xtc"))
    u.trajectory[-1]
    topology = mmapp.PDBFile(str(tiny_run / "topology.pdb")).topology
    resnames = read_build(tiny_run).resnames
    sites = contact_sites(topology, resnames, settings)
    zn, box = u.atoms[sites.cations], u.dimensions[:3] / 10.0

    def smooth(indices) -> float:
        d = distance_array(zn.positions, u.atoms[list(indices)].positions, box=u.dimensions)
        return float(np.sum(1.0 / (1.0 + (d / 10.0 / settings.switch_nm) ** settings.exponent)))

    waters = u.select_atoms(f"resname {resnames['water']} and name O*")
    assert sorted(sites.waters) == sorted(waters.indices.tolist())
    expected = smooth(sites.acceptors) - smooth(sites.waters)
    value = _cv_value(contact_cv(sites, settings), u, box)
    assert value == pytest.approx(expected, rel=1e-5)
    n = len(sites.cations)
    assert -6.5 * n < value < -5.0 * n  # six first-shell waters, each s ~ 0.93
    low, high = _cv_range(sites)
    assert low < value < high and low == -1.0 - MAX_FIRST_SHELL["ZN"] * n
    plain = contact_sites(topology, resnames, MetadSettings(anion="Cl-"))
    assert plain.waters == () and _cv_range(plain)[0] == -1.0
    with pytest.raises(MetadError, match="needs water"):
        contact_sites(topology, {k: v for k, v in resnames.items() if k != "water"}, settings)
