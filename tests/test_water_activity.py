"""Water activity: KB integrals on analytic and ideal cases, Gibbs-Duhem on an ideal series,
the osmotic two-compartment build, its wall force in OpenMM and the pressure bookkeeping."""

from __future__ import annotations

import json

import MDAnalysis as mda
import numpy as np
import openmm
import openmm.app as app
import pytest
from MDAnalysis.coordinates.memory import MemoryReader
from typer.testing import CliRunner

from solvation.analysis.stats import Estimate
from solvation.analysis.water_activity import (
    KJ_MOL_NM3_TO_BAR,
    KBPoint,
    OsmoticPressure,
    gibbs_duhem,
    kb_integral,
    kirkwood_buff,
)
from solvation.cli import app as cli_app
from solvation.constants import GAS_CONSTANT_KJ_PER_MOL_K as R_GAS
from solvation.constants import WATER_MOLAR_MASS_KG_PER_MOL as M_WATER
from solvation.design import DesignError, parse_design
from solvation.runs.water_activity import osmotic_from_run
from solvation.systems import build

OSMOTIC_DESIGN = {
    "name": "nacl-osmotic",
    "box": {"n_water": 300},
    "salts": [{"formula": "NaCl", "concentration": "1 m"}],
    "forcefield": {"family": "full", "ions": {"Na+": "jc", "Cl-": "jc"}},
    "osmotic": {"reservoir": 1.0},
}


def test_kb_integral_of_a_hard_sphere_step():
    """g = 0 inside sigma, 1 outside: G = -4/3 pi sigma^3 after the finite-volume
    extrapolation."""
    r = np.arange(0.025, 20.0, 0.05)
    sigma = 3.0
    g = (r > sigma).astype(float)
    assert kb_integral(r, g) == pytest.approx(-4.0 / 3.0 * np.pi * sigma**3, rel=0.02)


def ideal_universe(n_frames=60, seed=0):
    """Ideal gas of 30 'cations', 30 'anions' and 400 'waters' (single atoms), 30 A box."""
    rng = np.random.default_rng(seed)
    names = ["NA"] * 30 + ["CL"] * 30 + ["O"] * 400
    n = len(names)
    u = mda.Universe.empty(n, n_residues=n, atom_resindex=np.arange(n), trajectory=True)
    u.add_TopologyAttr("names", names)
    u.add_TopologyAttr("resnames", ["NA"] * 30 + ["CL"] * 30 + ["HOH"] * 400)
    coords = rng.uniform(0, 30, (n_frames, n, 3)).astype(np.float32)
    u.load_new(coords, format=MemoryReader, dimensions=np.array([30, 30, 30, 90, 90, 90.0]))
    return u


def test_kb_integrals_of_an_ideal_mixture_vanish():
    """No correlations: every G_ij is zero within its block error (and a tiny fraction of
    the box volume), so a_cc = 1."""
    u = ideal_universe()
    point = kirkwood_buff(u, {"na": "resname NA", "cl": "resname CL"}, "resname HOH", nbins=150)
    volume_cm3_mol = 30.0**3 * 0.6022
    for name, g in point.G_cm3_per_mol.items():
        assert abs(g.mean) < max(4 * g.err, 0.01 * volume_cm3_mol), name
    assert point.a_cc.mean == pytest.approx(1.0, abs=0.1)
    # 60 frames in 40 segments: uncorrelated frames, so about 40 effective samples
    assert point.a_cc.n_samples + point.a_cc.n_equilibration == 40
    assert 15 < point.a_cc.n_eff <= 45 and point.a_cc.err > 0
    assert point.nu == 2
    assert point.molality_mol_per_kg == pytest.approx(30 / (400 * M_WATER))


def test_gibbs_duhem_of_an_ideal_series_is_raoult():
    """a_cc = 1 and rho proportional to m: phi = 1 and a_w = exp(-nu M_w m) exactly."""
    points = [
        KBPoint({}, Estimate(1.0, 0.01, 50.0, 2.0, 100, 0, True), m, 3, 0.6022 * 3 * m * 0.99)
        for m in (0.5, 1.0, 2.0)
    ]
    out = gibbs_duhem(points)
    for r in out:
        assert r.osmotic_coefficient == pytest.approx(1.0, abs=1e-12)
        assert r.a_w == pytest.approx(np.exp(-3 * M_WATER * r.molality_mol_per_kg), rel=1e-12)
        assert r.a_w_err > 0
    assert [r.molality_mol_per_kg for r in out] == [0.5, 1.0, 2.0]


def test_a_kb_series_that_scatters_beyond_its_errors_is_not_converged():
    """a_cc 0.61 at 1.94 m and 1.13 at 2.00 m with errors of 0.005 (70 sigma apart): no
    smooth curve joins them, so neither water activity is converged; the same points with
    errors of 0.4 are consistent."""

    def series(err):
        return [
            KBPoint({}, Estimate(a, err, 50.0, 2.0, 100, 0, True), m, 2, 0.6022 * 2 * m * 0.95)
            for m, a in ((1.94, 0.61), (2.00, 1.13))
        ]

    for r in gibbs_duhem(series(0.005)):
        assert not r.converged and "scatter beyond their errors" in r.reason
    assert all(r.converged for r in gibbs_duhem(series(0.4)))


def test_osmotic_design_is_validated():
    with pytest.raises(DesignError, match="needs solutes"):
        parse_design({"name": "w", "osmotic": {}})
    with pytest.raises(DesignError, match="force constant"):
        parse_design({**OSMOTIC_DESIGN, "osmotic": {"force_constant": "3 kJ/mol"}})


@pytest.fixture(scope="module")
def osmotic_build(tmp_path_factory):
    return build(parse_design(OSMOTIC_DESIGN), tmp_path_factory.mktemp("osm") / "nacl")


def test_osmotic_build_confines_solutes_between_walls(osmotic_build):
    info = osmotic_build.info.osmotic
    lo, hi = info.walls_nm
    box = osmotic_build.info.box_nm
    assert 0 < lo < hi < box[2]
    assert box[2] == pytest.approx(2.0 * box[0])
    u = mda.Universe(str(osmotic_build.topology_pdb))
    ions = u.select_atoms("resname NA CL")
    assert ions.n_atoms == 2 * osmotic_build.info.counts["Na+"]
    assert (ions.positions[:, 2] >= lo * 10 - 1e-3).all()
    assert (ions.positions[:, 2] <= hi * 10 + 1e-3).all()
    water_o = u.select_atoms("resname HOH and name O").positions[:, 2]
    outside = np.count_nonzero((water_o < lo * 10) | (water_o > hi * 10))
    assert info.n_reservoir_water == info.n_solution_water == 300
    assert abs(outside - 300) <= 3  # packmol places water at the walls to within ~0.1 A


def test_wall_force_energy_in_openmm(osmotic_build):
    """One Na+ moved 0.1 nm beyond the upper wall adds k/2 (0.1 nm)^2 to the wall energy."""
    system = openmm.XmlSerializer.deserialize(osmotic_build.system_xml.read_text())
    walls = next(f for f in system.getForces() if f.getName() == "osmotic walls")
    n_confined = 2 * osmotic_build.info.counts["Na+"]
    assert walls.getNumParticles() == n_confined
    for f in system.getForces():
        f.setForceGroup(1 if f.getName() == "osmotic walls" else 0)
    pdb = app.PDBFile(str(osmotic_build.topology_pdb))
    ctx = openmm.Context(
        system, openmm.VerletIntegrator(0.001), openmm.Platform.getPlatformByName("Reference")
    )
    pos = np.array(pdb.positions.value_in_unit(openmm.unit.nanometer))
    na = next(a.index for a in pdb.topology.atoms() if a.residue.name == "NA")
    info = osmotic_build.info.osmotic
    pos[na, 2] = info.walls_nm[1] + 0.1
    ctx.setPositions(pos)
    energy = ctx.getState(getEnergy=True, groups={1}).getPotentialEnergy()
    expected = 0.5 * info.force_constant_kj_mol_nm2 * 0.1**2
    assert energy.value_in_unit(openmm.unit.kilojoule_per_mole) == pytest.approx(expected)


def test_osmotic_pressure_from_a_known_force(osmotic_build):
    """Every confined atom 0.05 nm beyond a wall (half above, half below): the analysis
    returns Pi = N k dz / (2 A) and a_w = exp(-Pi V_w / RT) with its own V_w."""
    u = mda.Universe(str(osmotic_build.topology_pdb))
    info = osmotic_build.info.osmotic
    lo, hi = (10 * z for z in info.walls_nm)
    pos = u.atoms.positions.copy()
    ions = u.select_atoms("resname NA CL").indices
    pos[ions[::2], 2] = hi + 0.5
    pos[ions[1::2], 2] = lo - 0.5
    dims = u.dimensions.copy()
    u.load_new(np.repeat(pos[None], 10, axis=0), format=MemoryReader, dimensions=dims)
    res = OsmoticPressure(u, info.walls_nm, info.force_constant_kj_mol_nm2, "resname NA CL")
    out = res.run().results.water_activity
    area_nm2 = dims[0] * dims[1] / 100
    force = len(ions) * info.force_constant_kj_mol_nm2 * 0.05  # kJ/mol/nm
    pi_bar = force / (2 * area_nm2) * KJ_MOL_NM3_TO_BAR
    assert out.details["osmotic_pressure_bar"] == pytest.approx(pi_bar, rel=1e-4)
    vw = out.details["water_molar_volume_cm3_per_mol"]
    assert 10 < vw < 40  # packed water, a loose estimate of 18 cm^3/mol
    assert out.a_w == pytest.approx(np.exp(-pi_bar * vw * 1e-4 / (R_GAS * 298.15)), rel=1e-5)
    assert out.method == "osmotic"


def test_osmotic_run_and_cli(osmotic_build, tmp_path):
    """The engine runs the walled box (CPU, a few ps); the CLI reports a_w with an error."""
    from solvation.engine import run

    run(
        osmotic_build.path,
        platform="CPU",
        production="1 ps",
        equilibration="0.4 ps",
        report_every="0.05 ps",
    )
    direct = osmotic_from_run(osmotic_build.path)
    assert 0.0 < direct.a_w <= 1.5
    # an error, unless 1 ps was too short for any wall force to fluctuate (then flagged;
    # CPU threads make the trajectory, and so which case occurs, vary between runs)
    assert np.isfinite(direct.a_w_err) or (not direct.converged and direct.reason)
    out = tmp_path / "aw.json"
    res = CliRunner().invoke(
        cli_app, ["analyze", "water-activity", str(osmotic_build.path), "--json", str(out)]
    )
    assert res.exit_code == 0, res.output
    data = json.loads(out.read_text())
    assert {"a_w", "a_w_err", "osmotic_coefficient", "method"} <= set(data)
    assert data["method"] == "osmotic"
    assert data["a_w"] == pytest.approx(direct.a_w)


def test_water_activity_cli_refuses_a_single_plain_run(tiny_run):
    res = CliRunner().invoke(cli_app, ["analyze", "water-activity", str(tiny_run)])
    assert res.exit_code != 0
    message = res.output + str(res.exception)
    assert "free-water" in message and "kb" in message
    res = CliRunner().invoke(
        cli_app, ["analyze", "water-activity", str(tiny_run), "--method", "free-water"]
    )
    assert res.exit_code == 0, res.output
    assert "not an activity" in res.output


def test_campaign_descriptors(osmotic_build, tiny_run):
    """The opt-in campaign analysis: a_w and phi for the osmotic run (run by the test
    above), a KB a_cc for a salt + water box, with its G_ij written beside it."""
    from solvation.campaigns.descriptors import water_activity_descriptors
    from solvation.rundir import read_build

    osm = water_activity_descriptors(osmotic_build.info, osmotic_build.path)
    assert set(osm) == {"a_w", "osmotic_coefficient"}
    kb = water_activity_descriptors(read_build(tiny_run), tiny_run)
    assert np.isfinite(kb["kb_a_cc"].value) and kb["kb_a_cc"].value > 0
    stored = json.loads((tiny_run / "kb.json").read_text())
    assert stored["nu"] == 3 and "Zn2+-Cl-" in stored["G_cm3_per_mol"]
